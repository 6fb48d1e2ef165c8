"""A whole demo city behind the portal, for tests that walk every page as every role: the
module-scoped app on a real database, sign-in as a demo login, and a crawler that reads each
page's links and forms the way a browser would."""

from __future__ import annotations

import re
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import HTTPException

from events import clock
from events.home_care import CareStep
from events.retrofit import Step
from events.roles import Actor, Role
from portal import create_app
from portal.runtime import Runtime
from services.demo import DEMO_PASSWORD, Programmes, seed_demo
from services.settings import Settings
from tests.conftest import CHEAP_HASHER, POSTGRES_URL
from tests.support import home_care, meals
from tests.support.scenario import ASSESSED_LINES, apply, version, walk_to

# One demo login of each kind of user, in the district (D01) whose pages are walked.
LOGINS = {
    "family": "13800000001",
    "community_worker": "communityworker-d01",
    "caseworker": "caseworker-d01",
    "assessor": "assessor-d01",
    "inspector": "inspector-d01",
    "canteen": "canteen-1",
    "homecare": "homecare-1",
    "institution": "institution-3",
    "finance": "finance",
    "finance_d01": "finance-d01",
    "auditor": "auditor",
    "supervisor": "supervisor",
    "admin": "admin",
}
# Not pages: downloads and photos are fetched but not parsed; logout would end the session.
NOT_CRAWLED = re.compile(r"(\.csv|\.xlsx|\.zip|/photos/[0-9a-f]+|/logout|/static/.*)$")


@dataclass
class World:
    """The portal on a seeded database."""

    app: Flask
    rt: Runtime
    backend: str


@contextmanager
def demo_world(backend: str, folder: Path, cases: int = 40) -> Iterator[World]:
    """A demo city (every programme, every role) on a fresh SQLite file or PostgreSQL schema."""
    if backend == "postgres" and not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need ANLAO_TEST_POSTGRES_URL (set by .ci/run)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = (
        f"sqlite:///{folder / 'anlao.sqlite3'}"
        if backend == "sqlite"
        else f"{POSTGRES_URL}?schema={schema}"
    )
    settings = Settings(instance_path=folder / "instance", database_url=url, secret_key="fuzz")
    app = create_app({"ANLAO_SETTINGS": settings, "PASSWORD_HASHER": CHEAP_HASHER, "TESTING": True})
    rt: Runtime = app.extensions["anlao"]
    try:
        programmes = Programmes(rt.facilities, rt.meals, rt.home_care, rt.ledger, rt.targets)
        seed_demo(rt.accounts, rt.retrofit, rt.photos, cases=cases, programmes=programmes)
        cases_at_every_step(rt)
        rt.catch_up()
        yield World(app, rt, backend)
    finally:
        rt.dispose()
        if backend == "postgres":
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def actor_of(rt: Runtime, login: str) -> Actor:
    """The demo account of a login, as services take it."""
    account = rt.accounts.authenticate(login, DEMO_PASSWORD)
    assert account is not None, login
    return Actor(
        account.user_id, account.role, account.district, account.community, account.facility_id
    )


def cases_at_every_step(rt: Runtime) -> None:
    """Family 1's cases in D01 at every step of each programme, so every step's forms are
    on some page (the demo spreads its cases over four districts at random)."""
    rt.accounts.create_staff(  # the demo's finance officer is city-wide and sees no facility
        login="finance-d01", password=DEMO_PASSWORD, display_name="安康区财务",
        role=Role.FINANCE, district="D01", community="", facility_id="",
    )  # fmt: skip
    family = actor_of(rt, LOGINS["family"])
    team = {r: actor_of(rt, LOGINS[r]) for r in ("caseworker", "assessor", "inspector")}
    for step in (s for s in Step.ALL if s not in (Step.RETURNED, Step.RECTIFICATION)):
        case_id = walk_to(rt, step if step not in Step.FINISHED else Step.SUBMITTED,
                          family=family, **team)  # fmt: skip
        _finish(rt, step, case_id, family, team["caseworker"])
    returned = apply(rt, family)
    rt.retrofit.return_for_information(
        team["caseworker"], returned, 1, request="请补充房屋产权证明"
    )
    failed = walk_to(rt, Step.WORKS_COMPLETED, family=family, **team)
    rt.retrofit.inspect_acceptance(
        team["inspector"], failed, version(rt, team["inspector"], failed),
        results=[{"code": line["code"], "installed": True, "works": True, "safe": False}
                 for line in ASSESSED_LINES],
        photos=[{"sha256": "a" * 64, "media_type": "image/jpeg"}],
    )  # fmt: skip
    _care_and_meals(rt, family, team)


def _finish(rt: Runtime, step: str, case_id: uuid.UUID, family: Actor, caseworker: Actor) -> None:
    if step == Step.REJECTED:
        rt.retrofit.reject(caseworker, case_id, 1, reason="不符合条件")
    elif step == Step.WITHDRAWN:
        rt.retrofit.withdraw(family, case_id, 1, reason="不需要了")


def _care_and_meals(rt: Runtime, family: Actor, team: dict[str, Actor]) -> None:
    provider = actor_of(rt, LOGINS["homecare"])
    for step in (CareStep.SUBMITTED, *home_care.HAPPY_PATH):
        with clock.frozen_at(clock.now() - timedelta(days=3)):  # visits logged since
            case_id = home_care.walk_care(
                rt, step, provider_id=uuid.UUID(provider.facility_id), family=family,
                caseworker=team["caseworker"], assessor=team["assessor"],
            )  # fmt: skip
    yesterday = (clock.today() - timedelta(days=1)).isoformat()
    home_care.log(rt, provider, case_id, yesterday, "09:00", "10:00")
    returned = home_care.apply_care(rt, family)
    rt.home_care.return_for_information(team["caseworker"], returned, 1, request="请补充病历")
    canteen = uuid.UUID(actor_of(rt, LOGINS["canteen"]).facility_id)
    for n in range(3):
        meal = meals.apply_meal(rt, family, canteen)
        if n == 1:
            rt.meals.return_for_information(team["caseworker"], meal, 1, request="请补充低保证明")
        elif n == 2:
            rt.meals.approve(team["caseworker"], meal, 1)


def sign_in(client: FlaskClient, login: str) -> str:
    """Sign a fresh client in with a demo login through the real form; returns the session's
    CSRF token."""
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"login": login, "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303, f"{login} could not sign in ({response.status_code})"
    return csrf_token(client.get("/", follow_redirects=True).get_data(as_text=True))


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert found, "no CSRF token on the page"
    return found.group(1)


# -- reading pages -------------------------------------------------------------------------------
@dataclass
class Form:
    """A form as the browser would submit it: where, how, and its fields with their values."""

    action: str
    method: str
    multipart: bool
    htmx_action: str = ""  # where htmx posts the same fields (a live preview), if anywhere
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (name, kind, value)
    choices: dict[str, list[str]] = field(default_factory=dict)  # selects and radios

    def names(self) -> list[str]:
        return list(dict.fromkeys(name for name, _, _ in self.fields))


@dataclass
class Page:
    """What a crawled page links to and lets the user submit."""

    url: str
    status: int
    html: str
    links: list[str]
    forms: list[Form]
    hx_urls: list[str]


class _PageParser(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.links: list[str] = []
        self.forms: list[Form] = []
        self.hx_urls: list[str] = []
        self._form: Form | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for hx in ("hx-get", "hx-post"):
            if a.get(hx):
                self.hx_urls.append(a[hx])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = Form(
                action=a.get("action") or self.base,
                method=(a.get("method") or "get").lower(),
                multipart="multipart" in a.get("enctype", ""),
                htmx_action=a.get("hx-post", ""),
            )
            self.forms.append(self._form)
        elif self._form is not None:
            self._field(tag, a)

    def _field(self, tag: str, a: dict[str, str]) -> None:
        assert self._form is not None
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("radio", "checkbox"):
                self._form.choices.setdefault(name, []).append(a.get("value", "on"))
                if "checked" not in a and kind == "radio":
                    return
                if "checked" not in a:
                    kind = "unchecked-" + kind
            self._form.fields.append((name, kind, a.get("value", "")))
        elif tag == "textarea" and name:
            self._form.fields.append((name, "textarea", ""))
        elif tag == "select" and name:
            self._select = name
            self._form.fields.append((name, "select", ""))
        elif tag == "option" and self._select:
            self._form.choices.setdefault(self._select, []).append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def read_page(url: str, status: int, html: str) -> Page:
    parser = _PageParser(url)
    parser.feed(html)
    return Page(url, status, html, parser.links, parser.forms, parser.hx_urls)


def fetch_page(client: FlaskClient, url: str) -> Page:
    """GET one page and read it (downloads are closed unread)."""
    with client.get(url) as response:
        html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        return read_page(url, response.status_code, html)


def local(url: str) -> str | None:
    """The path and query of a link inside the portal, or None for other sites and anchors."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def endpoint_of(app: Flask, url: str, method: str = "GET") -> str | None:
    """Which view a path reaches, as the URL map sees it."""
    adapter = app.url_map.bind("localhost")
    try:
        name, _ = adapter.match(urlsplit(url).path, method=method)
    except HTTPException:
        return None
    return name


# Pages of one case, facility or fund: each step offers other forms, so more of them are read.
DETAIL_PAGES = {
    "staff.case", "staff.care_case", "staff.meal_case", "facilities.facility", "family.case",
    "family.care_case", "family.meal_case", "provider.case", "ledger.fund", "ledger.case",
    "ledger.facility",
}  # fmt: skip


def crawl(
    app: Flask,
    client: FlaskClient,
    per_endpoint: int = 2,
    per_detail: int = 8,
    limit: int = 120,
    seeds: tuple[str, ...] = (),
) -> list[Page]:
    """Every page reachable by links from the home page and `seeds` (at most `per_endpoint`
    URLs of each view, `per_detail` of a case or facility, `limit` pages in all), read as this
    client's user sees them."""
    queue, seen, pages = deque(["/", *seeds]), {"/", *seeds}, []
    per: dict[str, int] = {}
    while queue and len(pages) < limit:
        page = fetch_page(client, queue.popleft())
        pages.append(page)
        bonus = 1 if page.url in seeds else 0  # a seed's first case is what it was chosen for
        for link in page.links + page.hx_urls:
            target = local(link)
            if target is None or target in seen or NOT_CRAWLED.search(urlsplit(target).path):
                continue
            name = endpoint_of(app, target) or "?"
            allowed = per_detail if name in DETAIL_PAGES else per_endpoint
            if per.get(name, 0) >= allowed and not (bonus and name in DETAIL_PAGES):
                continue
            if per.get(name, 0) >= allowed:
                bonus = 0
            per[name] = per.get(name, 0) + 1
            seen.add(target)
            queue.append(target)
    return pages
