"""Both catalogues are complete, compiled, and actually used by the pages."""

from __future__ import annotations

import gettext
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tests.conftest import csrf_token_of

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "portal" / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def _catalogue(locale: str):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def source_messages(tmp_path_factory) -> set[str]:
    """Every translatable string in the code and templates right now."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "_l", "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
    )
    with pot.open("rb") as f:
        return {m.id for m in read_po(f) if m.id}


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_ui_string_has_a_translation(source_messages, locale):
    translated = {m.id for m in _catalogue(locale) if m.id and m.string and "fuzzy" not in m.flags}
    missing = sorted(source_messages - translated)
    assert not missing, (
        f"{len(missing)} strings lack a {locale} translation (run tools/i18n.py): {missing[:10]}"
    )


def test_english_keeps_every_placeholder():
    wrong = [
        m.id
        for m in _catalogue("en")
        if m.id
        and m.string
        and set(PLACEHOLDER.findall(m.id)) != set(PLACEHOLDER.findall(m.string))
    ]
    assert not wrong


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_compiled_catalogue_matches_its_source(locale):
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = [
        m.id for m in _catalogue(locale) if m.id and m.string and _compiled(compiled, m) != m.string
    ]
    assert not stale, f"messages.mo is older than messages.po for {locale}: run tools/i18n.py"


def _compiled(compiled: gettext.GNUTranslations, message) -> str:
    if message.context:
        return compiled.pgettext(message.context, message.id)
    return compiled.gettext(message.id)


def test_the_landing_page_is_served_in_english_when_chosen(client):
    english = {m.id: m.string for m in _catalogue("en") if m.id}
    chinese_heading = "困难老年人家庭适老化改造"
    assert chinese_heading in client.get("/").get_data(as_text=True)
    client.post("/language", data={"lang": "en", "csrf_token": csrf_token_of(client)})
    html = client.get("/").get_data(as_text=True)
    assert english[chinese_heading] in html
    assert chinese_heading not in html
