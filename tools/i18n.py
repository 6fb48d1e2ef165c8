"""Keep the message catalogues in step with the code: extract, update, fill zh, compile.

Usage: .venv/bin/python tools/i18n.py
Chinese is the source language (msgids are Simplified Chinese), so the zh catalogue copies
each msgid; the en catalogue (portal/translations/en/LC_MESSAGES/messages.po) is translated
by hand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "portal" / "translations"
POT = TRANSLATIONS / "messages.pot"
LOCALES = ("zh", "en")


def pybabel(*args: str) -> None:
    """Run pybabel from this virtual environment."""
    subprocess.run(
        [str(Path(sys.executable).parent / "pybabel"), "-q", *args], check=True, cwd=ROOT
    )


def extract() -> None:
    """Collect every translatable string of templates and Python code into the template."""
    pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "-k",
        "_lp:1c,2",
        "--no-location",
        "--sort-output",
        "-o",
        str(POT),
        ".",
    )


def update(locale: str) -> Path:
    """Create or update one locale's catalogue from the template."""
    po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    command = "update" if po.exists() else "init"
    extra = ["--no-fuzzy-matching"] if command == "update" else []
    pybabel(command, "-i", str(POT), "-d", str(TRANSLATIONS), "-l", locale, *extra)
    return po


def fill_source_language(po: Path) -> None:
    """zh is the source language: every message translates to itself."""
    with po.open("rb") as f:
        catalogue = read_po(f)
    for message in catalogue:
        if message.id and not message.string:
            message.string = message.id
    with po.open("wb") as f:
        write_po(f, catalogue, sort_output=True, omit_header=False, width=100)


def main() -> None:
    """Extract, update both catalogues, fill zh, compile .mo files."""
    extract()
    for locale in LOCALES:
        po = update(locale)
        if locale == "zh":
            fill_source_language(po)
    pybabel("compile", "-d", str(TRANSLATIONS))


if __name__ == "__main__":
    main()
