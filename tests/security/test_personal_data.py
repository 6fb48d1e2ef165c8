"""Personal data (issue 6, item 15, PIPL): no national ID or mobile number in logs (a scan of the
whole suite's log records, wired in tests/conftest.py), URLs, error pages or browser storage;
masked on screen unless the role needs the full value, and every full showing logged; no
plaintext name, ID or phone in the event store with encryption on; and erasing a person leaves
their data nowhere (events, snapshots, read models, exports, the database files) while fund
totals and case counts replay unchanged."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import subprocess
import sys
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from click.testing import CliRunner
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select

from events import clock
from events.national_id import mask_national_id, mask_phone
from events.retrofit import Step
from events.roles import Role
from portal.cli import main
from portal.runtime import Runtime, build_runtime
from projections.ledger_tables import funds as rm_funds
from services import ledger_export
from services.evidence_pack import evidence_pack
from services.ledger_history import verify
from services.settings import Settings
from tests.conftest import CHEAP_HASHER
from tests.security import support_log_scan
from tests.security.support_log_scan import PersonalDataScanner, personal_numbers, record_text
from tests.security.support_personal import (
    ADDRESS,
    CARE_NEEDS,
    DIET,
    ID_NUMBER,
    NAME,
    NEEDS,
    PERSONAL,
    PHONE,
    copy_without_person_store,
    hits_in,
    hits_in_database,
    hits_in_files,
    zip_contents,
)
from tests.security.support_uploads import solid
from tests.security.support_world import LOGINS, crawl, demo_world, sign_in
from tests.support import home_care, meals
from tests.support.actors import CASEWORKER, FAMILY, FINANCE, INSPECTOR, walk
from tests.support.ledger_scenarios import funded
from tests.support.scenario import ASSESSED_LINES, apply, elder, national_id, version
from tests.support.staff_helpers import make_team

REPO = Path(__file__).resolve().parents[2]
THE_ELDER = elder(name=NAME, national_id=ID_NUMBER, phone=PHONE, address=ADDRESS)


# -- logs: the scan itself -----------------------------------------------------------------------
def test_the_log_scan_watches_this_whole_session() -> None:
    scanner = support_log_scan.installed()
    assert isinstance(scanner, PersonalDataScanner)
    assert scanner in logging.getLogger().handlers
    for name in ("anlao", "portal", "services", "projections", "werkzeug"):
        assert logging.getLogger(name).getEffectiveLevel() <= logging.INFO, name


def test_the_scan_finds_id_and_mobile_numbers_however_they_are_written() -> None:
    with_x = next(n for s in range(1000) if (n := national_id(seq=f"{s:03d}")).endswith("X"))
    cases = {
        f"looked up {ID_NUMBER} today": [mask_national_id(ID_NUMBER)],
        f"id={with_x.lower()}": [mask_national_id(with_x)],
        f"申请人身份证{ID_NUMBER}已核对": [mask_national_id(ID_NUMBER)],
        f"手机{PHONE}号": [mask_phone(PHONE)],
        "call +86 139-8765-4321 now": [mask_phone(PHONE)],
        "tel:8613987654321": [mask_phone(PHONE)],
        "sms 139 8765 4321": [mask_phone(PHONE)],
    }
    for text, expected in cases.items():
        assert personal_numbers(text) == expected, text


def test_the_scan_ignores_ids_hashes_masks_and_other_numbers() -> None:
    quiet = [
        f"uuid 3f2b1c4d-1101-0519-4503-071234567890 hash a{ID_NUMBER}b",
        f"{ID_NUMBER[:17]}{'0' if ID_NUMBER[17] != '0' else '1'}",  # wrong check character
        "110105199913321234",  # check digit aside, the 13th month does not exist
        mask_national_id(ID_NUMBER) + " " + mask_phone(PHONE),
        f"{PHONE}0 and 1{PHONE} and {PHONE[:10]}",  # 12, 12 and 10 digits
        "amount 12345678901234567890 notification 1739876543210",
        "sha256 a3f1c2d4e5b6a7980123456789012345678901234567890abcdefabcdefabcd",
    ]
    for text in quiet:
        assert personal_numbers(text) == [], text


@settings(max_examples=200, deadline=None, database=None)
@given(
    data=st.one_of(
        st.uuids().map(str),
        st.uuids().map(lambda u: u.hex),
        st.binary().map(lambda b: __import__("hashlib").sha256(b).hexdigest()),
    )
)
def test_uuids_and_hashes_never_look_like_personal_numbers(data: str) -> None:
    assert personal_numbers(data) == []
    assert personal_numbers(f"case {data} seen") == []


def test_the_scan_reads_arguments_exceptions_and_extra_fields() -> None:
    try:
        raise ValueError(f"bad row {ID_NUMBER}")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "portal.x", logging.ERROR, __file__, 1, "user %s", (PHONE,), exc_info
    )
    record.elder = NAME
    record.reference = f"person {ID_NUMBER}"
    text = record_text(record)
    assert PHONE in text and f"bad row {ID_NUMBER}" in text and f"person {ID_NUMBER}" in text
    scanner = PersonalDataScanner()  # a scanner of its own: this record must not fail the session
    scanner.handle(record)
    assert [sorted(f.numbers) for f in scanner.findings] == [
        sorted([mask_phone(PHONE), mask_national_id(ID_NUMBER), mask_national_id(ID_NUMBER)])
    ]


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_a_leaking_test_fails_the_session_with_the_numbers_masked(
    tmp_path: Path, workers: list[str]
) -> None:
    (tmp_path / "conftest.py").write_text(
        "import pytest\n"
        "from tests.security import support_log_scan\n"
        "def pytest_sessionstart(session):\n    support_log_scan.start(session.config)\n"
        "def pytest_sessionfinish(session):\n    support_log_scan.finish(session)\n"
        "@pytest.hookimpl(optionalhook=True)\n"
        "def pytest_testnodedown(node, error):\n"
        "    support_log_scan.collect(getattr(node, 'workeroutput', {}))\n"
    )
    (tmp_path / "test_leak.py").write_text(
        "import logging\n"
        "def test_quiet():\n    logging.getLogger('portal.x').info('case seen')\n"
        "def test_leak():\n"
        f"    logging.getLogger('anlao.x').info('sms to %s', '{PHONE}')\n"
    )
    env = os.environ | {"PYTHONPATH": str(REPO)}
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:playwright",
         *workers, "-c", os.devnull, "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "2 passed" in ran.stdout and "personal data in logs" in ran.stdout
    assert "test_leak.py::test_leak" in ran.stdout and mask_phone(PHONE) in ran.stdout
    assert PHONE not in ran.stdout + ran.stderr


# -- URLs, forms, error pages, browser storage -------------------------------------------------
# Every piece a route's path may carry, and what it is. Personal data is never one of them.
PATH_ARGUMENTS = {
    "case_id": "uuid", "facility_id": "uuid", "fund_id": "uuid", "target_id": "uuid",
    "visit_id": "uuid", "seq": "int", "sha256": "hex digest", "draft_id": "opaque draft id",
    "name": "a wizard page's name", "programme": "programme slug", "code": "district code",
    "action": "movement kind", "filename": "static file",
}  # fmt: skip
PERSONAL_NAMES = re.compile(r"national|id_?number|identity|phone|mobile|tel|login|elder|person")


def test_no_route_takes_personal_data_in_its_path(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        for argument in rule.arguments:
            assert argument in PATH_ARGUMENTS, f"{rule.rule}: what is <{argument}>?"
            assert not PERSONAL_NAMES.search(argument), rule.rule


def test_a_url_with_an_id_or_phone_in_it_is_not_found_and_not_echoed(
    client, login, make_user
) -> None:
    login(make_user(Role.FAMILY))
    for path in (f"/cases/{ID_NUMBER}", f"/my/cases/{PHONE}", f"/static/{ID_NUMBER}.js",
                 f"/provider/cases/{PHONE}"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 404, path
        assert personal_numbers(shown(response.get_data(as_text=True))) == [], path


def test_a_denied_url_naming_a_phone_does_not_log_it(client, login, make_user, caplog) -> None:
    token = login(make_user(Role.FAMILY))
    started = client.post("/apply/start", data={"csrf_token": token})
    base = started.headers["Location"].rsplit("/", 1)[0]
    caplog.set_level(logging.INFO)
    for path in (f"/apply/{PHONE}/elder", f"{base}/{ID_NUMBER}", f"/ledger/districts/{PHONE}"):
        response = client.get(path)
        assert response.status_code in (403, 404), path
        assert not personal_numbers(shown(response.get_data(as_text=True))), path
    leaks = [personal_numbers(record_text(r)) for r in caplog.records]
    assert [numbers for numbers in leaks if numbers] == []


def shown(html: str) -> str:
    """A page without the hidden "back" fields of the language and elder-mode switches: they
    carry the requester's own address back to them, so the switch returns to the same page."""
    return re.sub(r'<input type="hidden" name="back" value="[^"]*">', "", html)


def forms_on(html: str) -> list[tuple[str, list[str]]]:
    """(method, field names) of each form on a page."""
    found = []
    for form in re.findall(r"<form\b.*?</form>", html, flags=re.S):
        method = re.search(r'method="(\w+)"', form)
        names = re.findall(r'name="([^"]+)"', form)
        found.append(((method.group(1) if method else "get").lower(), names))
    return found


def test_forms_that_ask_for_personal_data_post_it(client, login, make_user) -> None:
    pages = ["/login", "/register"]
    token = login(make_user(Role.FAMILY))
    for start in ("/apply/start", "/apply/meal/start", "/apply/home-care/start"):
        base = client.post(start, data={"csrf_token": token}).headers["Location"].rsplit("/", 1)[0]
        pages += [f"{base}/{name}" for name in ("elder", "phone", "address", "address_detail")]
    asked = 0
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        for method, names in forms_on(html):
            if any(PERSONAL_NAMES.search(n) or n in ("name", "password") for n in names):
                asked += 1
                assert method == "post", (path, names)
    assert asked >= 6  # login, register and the wizards' identity and phone pages


def test_error_pages_never_show_an_id_or_phone_sent_with_the_request(
    app: Flask, client, login, make_user
) -> None:
    app.add_url_rule("/h14-boom", "h14_boom", lambda: 1 / 0)  # an unexpected error, on purpose
    personal = {"national_id": ID_NUMBER, "phone": PHONE, "q": f"{NAME}{ID_NUMBER}"}
    answers = [
        client.get(f"/cases/{ID_NUMBER}", query_string=personal),  # 404
        client.get("/logout", query_string=personal),  # 405
        client.post("/apply/start", data=personal),  # 400: no CSRF token
        client.get("/h14-boom", query_string=personal),  # 500
        client.post("/login", data=personal | {"password": "x" * (31 * 1024 * 1024)}),  # 413
    ]
    login(make_user(Role.FAMILY))
    answers.append(client.get("/cases", query_string=personal))  # 403
    assert [a.status_code for a in answers] == [404, 405, 400, 500, 413, 403]
    for answer in answers:
        html = shown(answer.get_data(as_text=True))
        assert personal_numbers(html) == [] and NAME not in html, answer.status
        assert "ZeroDivisionError" not in html and "Traceback" not in html


def test_no_script_of_ours_touches_browser_storage() -> None:
    static = REPO / "portal" / "static" / "js"
    ours = [p for p in static.glob("*.js") if not p.name.startswith("htmx-")]
    assert ours, "no scripts found: the check would prove nothing"
    storage = re.compile(
        r"localStorage|sessionStorage|indexedDB|openDatabase|document\.cookie|caches\."
    )
    for script in ours:
        assert not storage.search(script.read_text()), script.name
    for template in (REPO / "portal" / "templates").rglob("*.html"):
        text = template.read_text()
        assert not storage.search(text), template.name
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), (
            f"inline script in {template.name}"
        )
    base = (REPO / "portal" / "templates" / "base.html").read_text()
    config = json.loads(re.search(r"name=\"htmx-config\" content='([^']+)'", base).group(1))  # type: ignore[union-attr]
    assert config["historyCacheSize"] == 0 and config["refreshOnHistoryMiss"] is True


def session_data(app: Flask, client) -> str:
    """The session cookie as anyone holding it can read it (signed, not encrypted)."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    if cookie is None:
        return ""
    payload = cookie.value.split(".")[1 if cookie.value.startswith(".") else 0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return (zlib.decompress(raw) if cookie.value.startswith(".") else raw).decode()


WIZARD_ANSWERS = {
    "elder": {"name": NAME, "national_id": ID_NUMBER},
    "phone": {"phone": PHONE},
}


def test_the_application_wizard_keeps_answers_off_the_browser(
    app: Flask, client, login, make_user
) -> None:
    token = login(make_user(Role.FAMILY))
    first = client.post("/apply/start", data={"csrf_token": token}).headers["Location"]
    base = first.rsplit("/", 1)[0]
    for page, answers in WIZARD_ANSWERS.items():
        response = client.post(f"{base}/{page}", data={"csrf_token": token} | answers)
        assert response.status_code == 303, response.get_data(as_text=True)[:300]
        assert personal_numbers(response.headers["Location"]) == []
        data = session_data(app, client)
        assert data and personal_numbers(data) == [] and NAME not in data
        assert not [
            c for c in response.headers.getlist("Set-Cookie") if PHONE in c or ID_NUMBER in c
        ]
    check = client.get(f"{base}/check").get_data(as_text=True)
    assert ID_NUMBER in check  # the answers are kept, server-side, for the family to check


# -- links across a whole demo city -------------------------------------------------------------
URL_ATTRIBUTES = re.compile(
    r'\b(?:href|src|action|hx-get|hx-post|hx-push-url|formaction)="([^"]*)"'
)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    with demo_world("sqlite", tmp_path_factory.mktemp("city"), cases=24) as world:
        yield world


def test_no_link_on_any_page_of_the_demo_city_carries_an_id_or_phone(city) -> None:
    """Every page every kind of user reaches (the demo's families sign in with their mobile
    numbers; its elders have ID numbers and phones): no link, form target or htmx URL holds
    one, and only roles that need them see full values."""
    seen = 0
    for label, login in LOGINS.items():
        client = city.app.test_client()
        sign_in(client, login)
        for page in crawl(city.app, client, per_endpoint=2, per_detail=3, limit=60):
            urls = URL_ATTRIBUTES.findall(page.html)
            seen += len(urls)
            leaks = [u for u in urls if personal_numbers(u)]
            assert leaks == [], f"{page.url} as {label}: {leaks[:3]}"
    assert seen > 1000


# -- masked on screen, every full showing logged ------------------------------------------------
def reveals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", "") == "personal_data_revealed"]


def test_full_values_only_for_roles_that_need_them_and_each_showing_is_logged(
    client, login, app_rt, make_user, caplog
) -> None:
    team = make_team(make_user)
    case_id = apply(app_rt, team.family.actor, elder=THE_ELDER)
    case_id = team.walk(app_rt, Step.WORKS_COMPLETED, case_id=case_id)
    person_id = app_rt.retrofit.repository.get(case_id).person_id
    viewers = {
        Role.CASEWORKER: team.caseworker,
        Role.ASSESSOR: team.assessor,
        Role.INSPECTOR: team.inspector,
        Role.COMMUNITY_WORKER: make_user(Role.COMMUNITY_WORKER),
        Role.AUDITOR: make_user(Role.AUDITOR),
        Role.SUPERVISOR: make_user(Role.SUPERVISOR),
        Role.FAMILY: team.family,
    }
    caplog.set_level(logging.INFO, logger="anlao.security")
    shown = {}
    for role, user in viewers.items():
        login(user)
        caplog.clear()
        path = f"/my/cases/{case_id}" if role == Role.FAMILY else f"/cases/{case_id}"
        response = client.get(path)
        assert response.status_code == 200, (role, response.status_code)
        html = response.get_data(as_text=True)
        full_id, full_phone = ID_NUMBER in html, PHONE in html
        assert full_id is (role in Role.SEES_FULL_ID_NUMBER), role
        assert full_phone is (role in Role.SEES_FULL_PHONE), role
        assert full_id or mask_national_id(ID_NUMBER) in html
        assert full_phone or mask_phone(PHONE) in html
        logged = reveals(caplog)
        expected = [f for f, on in (("national_id", full_id), ("phone", full_phone)) if on]
        if expected:
            [record] = logged
            assert (record.fields, record.person_id, record.user_id) == (
                expected,
                str(person_id),
                user.actor.user_id,
            )
            assert record.role == role and record.route in ("staff.case", "family.case")
            assert datetime.fromisoformat(record.at) > datetime.now(UTC) - timedelta(minutes=5)
            assert personal_numbers(record_text(record)) == []  # ids and fields, never values
        else:
            assert logged == []
        shown[role] = expected
    assert shown[Role.CASEWORKER] == ["national_id", "phone"] and shown[Role.FAMILY] == []


def test_a_provider_sees_the_phone_of_its_own_elder_and_that_is_logged(
    client, login, app_rt, make_user, caplog
) -> None:
    provider_id = home_care.register_provider(app_rt)
    case_id = home_care.walk_care(
        app_rt, "in_service", provider_id=provider_id,
        case_id=home_care.apply_care(app_rt, FAMILY, elder=home_care.care_elder(**THE_ELDER)),
    )  # fmt: skip
    app_rt.catch_up()
    provider = make_user(Role.PROVIDER, facility_id=str(provider_id))
    login(provider)
    caplog.set_level(logging.INFO, logger="anlao.security")
    html = client.get(f"/provider/cases/{case_id}").get_data(as_text=True)
    assert PHONE in html and ID_NUMBER not in html
    [record] = reveals(caplog)
    assert record.fields == ["phone"] and record.user_id == provider.actor.user_id


# -- the event store with encryption on -----------------------------------------------------------
def encrypted_runtime(settings: Settings, key: str) -> Runtime:
    """A runtime configured the way an operator does it: from ANLAO_* variables."""
    env = {
        "ANLAO_INSTANCE_PATH": str(settings.instance_path),
        "ANLAO_DATABASE_URL": settings.database_url,
        "ANLAO_SECRET_KEY": settings.secret_key,
        "ANLAO_EVENT_CIPHER_KEY": key,
    }
    return build_runtime(Settings.from_env(env), CHEAP_HASHER)


def one_elder_everywhere(rt: Runtime) -> UUID:
    """THE_ELDER applies for all three programmes; the retrofit case is accepted with photos
    and its subsidy committed and paid. Returns the retrofit case."""
    fund = funded(rt, received="100000")
    case_id = apply(rt, FAMILY, elder=THE_ELDER, needs=NEEDS)
    walk(rt, Step.WORKS_COMPLETED, case_id=case_id)
    photos = [
        rt.photos.store(solid("JPEG", (200, 30, 30))),
        rt.photos.store(solid("PNG", (1, 2, 3))),
    ]
    rt.retrofit.inspect_acceptance(
        INSPECTOR, case_id, version(rt, INSPECTOR, case_id),
        results=[{"code": line["code"], "installed": True, "works": True, "safe": True}
                 for line in ASSESSED_LINES],
        photos=photos,
    )  # fmt: skip
    seq = rt.ledger.commit_retrofit_subsidy(FINANCE, fund, case_id, amount="800", document="d")
    rt.ledger.disburse(FINANCE, fund, seq, amount="800", payee="安居装修", voucher="V-1")
    canteen = meals.open_canteen(rt)
    meal = meals.apply_meal(rt, FAMILY, canteen, elder=THE_ELDER, dietary_needs=DIET)
    rt.meals.approve(CASEWORKER, meal, 1)
    care = home_care.care_elder(**THE_ELDER)
    home_care.apply_care(rt, FAMILY, elder=care, needs=CARE_NEEDS)
    rt.ledger.take_snapshot(case_id)  # a snapshot of the case, stored like the funds' ones
    rt.catch_up()
    return case_id


def event_tables(rt: Runtime) -> set[str]:
    names = inspect(rt.engine).get_table_names()
    return {t for t in names if t.endswith(("events", "snapshots"))}


def test_with_encryption_on_no_event_or_snapshot_holds_a_name_id_or_phone(
    settings: Settings, tmp_path: Path
) -> None:
    from eventsourcing.cipher import AESCipher

    rt = encrypted_runtime(settings, AESCipher.create_key(16))
    try:
        one_elder_everywhere(rt)
        stored = hits_in_database(rt.engine, (*PERSONAL, "春晖社区", "安居装修"))
        tables = event_tables(rt)
        assert len(tables) == 2, tables
        # Personal data never enters an event; with the cipher on, nothing else is readable
        # either (the community and the payee are plain fields of the events).
        assert {t: hits for t, hits in stored.items() if t in tables} == {}
        assert stored["persons"] >= {NAME, ID_NUMBER, PHONE, ADDRESS}  # the grep sees text
        if settings.is_sqlite:  # the file itself: nothing outside the person store
            copy = copy_without_person_store(settings.database_url, tmp_path / "copy.sqlite3")
            assert hits_in(copy.read_bytes()) == set()
    finally:
        rt.dispose()


# -- erasure ---------------------------------------------------------------------------------------
def read_model_rows(rt: Runtime) -> dict[str, list[tuple]]:
    """Every read model's rows, in a stable order: what a rebuild must give back."""
    found = {}
    with rt.engine.connect() as conn:
        for projection in rt.projector.projections:
            for table in projection.tables:
                rows = conn.execute(select(table)).all()
                found[table.name] = sorted(tuple(map(str, r)) for r in rows)
    return found


def test_erasing_a_person_leaves_their_data_nowhere_and_totals_unchanged(
    settings: Settings, app_rt: Runtime, client, login, make_user, monkeypatch
) -> None:
    rt = app_rt
    case_id = one_elder_everywhere(rt)
    apply(rt, FAMILY, elder=elder(national_id=national_id(seq="222")))  # someone who stays
    rt.catch_up()
    token = login(make_user(Role.FAMILY))  # a relative starts another application, unfinished
    base = client.post("/apply/start", data={"csrf_token": token}).headers["Location"]
    draft = base.rsplit("/", 1)[0]
    for page, answers in WIZARD_ANSWERS.items():
        assert (
            client.post(f"{draft}/{page}", data={"csrf_token": token} | answers).status_code == 303
        )
    person_id = rt.retrofit.repository.get(case_id).person_id
    with rt.engine.connect() as conn:
        funds = sorted(conn.execute(select(rm_funds.c.fund_id)).scalars(), key=str)
    before = read_model_rows(rt)
    totals = {f: dict(rt.ledger.fund(f).totals) for f in funds}
    heads = {f: verify(rt.ledger, f).head for f in funds}
    found = hits_in_database(rt.engine)
    assert found["persons"] == {NAME, ID_NUMBER, PHONE, ADDRESS}
    assert found["application_drafts"] == {NAME, ID_NUMBER, PHONE}
    if settings.is_sqlite:
        assert set().union(*hits_in_files(settings.database_url).values()) >= {NAME, ID_NUMBER}

    for name, value in (("ANLAO_DATABASE_URL", settings.database_url),
                        ("ANLAO_INSTANCE_PATH", str(settings.instance_path)),
                        ("ANLAO_SECRET_KEY", settings.secret_key)):  # fmt: skip
        monkeypatch.setenv(name, value)
    erased = CliRunner().invoke(main, ["persons", "erase", str(person_id), "--yes"])
    assert erased.exit_code == 0, erased.output

    assert hits_in_database(rt.engine) == {}  # persons, details, events, snapshots, read models
    if settings.is_sqlite:  # and a forensic read of the files, free pages and the log included
        assert hits_in_files(settings.database_url) == {}
    exports = [
        ledger_export.export_csv(rt.ledger, None, None),
        zip_contents(ledger_export.export_xlsx(rt.ledger, None, None)),
        zip_contents(evidence_pack(rt.ledger, rt.photos, case_id, clock.now())),
    ]
    assert [hits_in(e) for e in exports] == [set(), set(), set()]
    login(make_user(Role.CASEWORKER))
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "(个人信息已删除)" in page and not hits_in(page.encode())

    rt.projector.rebuild()
    assert read_model_rows(rt) == before  # every count, step and balance replays the same
    assert {f: dict(rt.ledger.fund(f).totals) for f in funds} == totals
    assert {f: verify(rt.ledger, f).head for f in funds} == heads
    assert all(verify(rt.ledger, f).intact for f in funds)
