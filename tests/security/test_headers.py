"""Security headers (issue 6, item 13): a CSP without unsafe-inline or unsafe-eval (and
templates that need neither: no inline script, handlers, styles or hx-on; htmx configured not
to inject styles, evaluate code or keep page snapshots), HSTS, nosniff, no framing, a
Referrer-Policy that Flask-WTF's HTTPS referrer check works with, and `no-store` on everything
behind the login while static files stay cacheable and the public page may be cached briefly.

Every GET route of every blueprint is fetched (as a permitted user, as a refused one and as
a visitor; as a page and as an htmx request) and each answer checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

import portal
from portal import create_app
from portal.security import REFERRER_POLICY, add_security_headers
from services.settings import Settings
from tests.conftest import CHEAP_HASHER, PASSWORD
from tests.security.support_routes import (
    ANONYMOUS,
    ROUTES,
    SEES,
    SIGNED_IN,
    World,
    routed_rules,
    sign_in,
    token_of,
    world,
)

__all__ = ["world"]  # the module-scoped fixture, imported for pytest

HX = {"HX-Request": "true"}
ONE_YEAR = 365 * 24 * 3600
PUBLIC_MAX_AGE = 600  # "cached briefly": ten minutes at most
TEMPLATES = Path(portal.__file__).parent / "templates"
SCRIPTS = Path(portal.__file__).parent / "static" / "js"
# Markup a strict CSP would block (or that would need unsafe-inline / unsafe-eval to work).
FORBIDDEN_MARKUP = {
    "inline script": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I),
    "event handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "hx-on": re.compile(r"\shx-on", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "js: value": re.compile(r"""hx-(?:vals|headers)\s*=\s*['"]\s*(?:js|javascript):""", re.I),
}
HTMX_CONFIG = re.compile(r"<meta name=\"htmx-config\" content='([^']*)'>")
HTMX_SCRIPT = re.compile(r'<script src="/static/js/htmx-[^"]+\.js"')


# -- the headers -------------------------------------------------------------------------------
def csp_directives(header: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: sources}."""
    found = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            found[words[0].lower()] = words[1:]
    return found


def header_problems(response: TestResponse, endpoint: str) -> list[str]:
    """What is missing or wrong in one response's security headers."""
    h, problems = response.headers, []
    csp = csp_directives(h.get("Content-Security-Policy", ""))
    for directive, sources in {
        "default-src": ["'self'"], "script-src": ["'self'"], "style-src": ["'self'"],
        "frame-ancestors": ["'none'"], "object-src": ["'none'"], "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }.items():  # fmt: skip
        if csp.get(directive) != sources:
            problems.append(f"CSP {directive} is {csp.get(directive)}")
    if unsafe := [s for v in csp.values() for s in v if "unsafe" in s or s == "*"]:
        problems.append(f"CSP allows {unsafe}")
    hsts = h.get("Strict-Transport-Security", "")
    max_age = re.search(r"max-age=(\d+)", hsts)
    if not max_age or int(max_age.group(1)) < ONE_YEAR or "includesubdomains" not in hsts.lower():
        problems.append(f"HSTS is {hsts!r}")
    expected = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}
    problems += [f"{k} is {h.get(k)!r}" for k, v in expected.items() if h.get(k) != v]
    if h.get("Referrer-Policy") not in ("same-origin", "strict-origin-when-cross-origin"):
        problems.append(f"Referrer-Policy is {h.get('Referrer-Policy')!r}")
    return problems + cache_problems(response, endpoint)


def cache_problems(response: TestResponse, endpoint: str) -> list[str]:
    """Static files revalidate; the public page is public for minutes and sets no cookie;
    everything else (pages, fragments, files, redirects, errors) is never stored."""
    control = response.cache_control
    if endpoint == "static" and response.status_code == 200:
        kept = not control.no_store and bool(response.headers.get("ETag"))
        return [] if kept else [f"static file not cacheable: {control}"]
    if endpoint == "public.progress" and response.status_code == 200:
        brief = control.public and 0 < (control.max_age or 0) <= PUBLIC_MAX_AGE
        cookie = "Set-Cookie" in response.headers
        return [] if brief and not cookie else [f"public page: {control}, cookie {cookie}"]
    if not control.no_store or control.public or control.max_age is not None:
        return [f"Cache-Control is {control!s}, expected no-store"]
    return []


# -- the markup ----------------------------------------------------------------------------------
def markup_problems(html: str) -> list[str]:
    """Markup a strict CSP would block, and an htmx left free to inject or evaluate."""
    problems = [what for what, pattern in FORBIDDEN_MARKUP.items() if pattern.search(html)]
    if HTMX_SCRIPT.search(html):
        found = HTMX_CONFIG.search(html)
        config = json.loads(found.group(1)) if found else {}
        wanted = {"includeIndicatorStyles": False, "allowEval": False, "historyCacheSize": 0,
                  "allowScriptTags": False, "selfRequestsOnly": True}  # fmt: skip
        if wrong := {k: config.get(k) for k, v in wanted.items() if config.get(k) != v}:
            problems.append(f"htmx config {wrong}")
    return problems


def _check(response: TestResponse, endpoint: str, where: str) -> list[str]:
    with response:
        html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        problems = header_problems(response, endpoint) + markup_problems(html)
    return [f"{where}: {p}" for p in problems]


# -- every page of every blueprint ---------------------------------------------------------------
def _clients(world: World) -> dict[str, FlaskClient]:
    clients = {}
    for user in (*SIGNED_IN, ANONYMOUS):
        clients[user] = world.app.test_client()
        sign_in(world, clients[user], user)
    return clients


def test_every_answer_of_every_get_route_carries_the_headers(world: World) -> None:
    clients, wrong = _clients(world), []
    blueprints = set()
    for rule in routed_rules(world.app):
        if "GET" not in rule.methods:
            continue
        route = ROUTES[rule.endpoint]
        slot = next(iter(SEES[route.kind]))
        allowed = [u for u in SIGNED_IN if route.allows(u, slot)]
        refused = [u for u in SIGNED_IN if not route.allows(u, slot)]
        for user in {allowed[0], *refused[:1], ANONYMOUS}:
            url = world.url(rule, slot, user)
            for headers in ({}, HX):
                response = clients[user].get(url, headers=headers)
                wrong += _check(response, rule.endpoint, f"GET {url} {headers} as {user}")
        blueprints.add(rule.endpoint.partition(".")[0])
    assert not wrong, "\n".join(wrong)
    assert blueprints >= {"auth", "home", "family", "staff", "provider", "facilities", "ledger",
                          "supervision", "public", "static"}  # fmt: skip


def test_answers_to_changes_carry_the_headers_too(world: World) -> None:
    """Redirects after a form, refused forms and the CSRF page: the same headers, no-store."""
    client = world.app.test_client()
    token = sign_in(world, client, "family")
    answers = {
        "a refused form (422)": client.post("/apply/start", data={"csrf_token": token}),
        "a redirect (303)": client.post("/language", data={"csrf_token": token, "lang": "zh"}),
        "the CSRF page (400)": client.post("/apply/start"),
        "not found (404)": client.get("/nowhere"),
    }
    wrong = [p for what, r in answers.items() for p in _check(r, "", what)]
    assert not wrong, "\n".join(wrong)


def test_the_checks_can_fail(world: World) -> None:
    """A page without the headers, with inline script or a permissive htmx fails them."""
    client = world.app.test_client()
    with client.get("/login") as response:
        response.headers.remove("Strict-Transport-Security")
        response.headers["Cache-Control"] = "private, max-age=60"
        response.headers["Content-Security-Policy"] = "script-src 'self' 'unsafe-inline'"
        problems = header_problems(response, "auth.login")
    assert any("HSTS" in p for p in problems) and any("no-store" in p for p in problems)
    assert any("unsafe" in p for p in problems)
    html = '<script src="/static/js/htmx-2.0.11.min.js"></script><div style="x" onclick="y">'
    assert {"style attribute", "event handler attribute"} <= set(markup_problems(html))
    assert any("htmx config" in p for p in markup_problems(html))
    assert "inline script" in markup_problems("<script>alert(1)</script>")


# -- the sources ---------------------------------------------------------------------------------
def test_templates_need_neither_unsafe_inline_nor_unsafe_eval() -> None:
    found = {
        f"{path.relative_to(TEMPLATES)}: {what}"
        for path in TEMPLATES.rglob("*.html")
        for what in markup_problems(path.read_text(encoding="utf-8"))
        if not what.startswith("htmx config")  # judged on rendered pages (Jinja in the meta)
    }
    assert not found, sorted(found)
    assert len(list(TEMPLATES.rglob("*.html"))) > 50


def test_our_scripts_evaluate_no_strings() -> None:
    ours = [p for p in SCRIPTS.glob("*.js") if not p.name.startswith("htmx-")]
    assert ours
    for path in ours:
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"\beval\(|new Function\(|setTimeout\(\s*['\"]|innerHTML", source)


def test_the_htmx_config_is_the_one_base_renders() -> None:
    base = (TEMPLATES / "base.html").read_text(encoding="utf-8")
    config = json.loads(HTMX_CONFIG.search(base).group(1))
    assert config["includeIndicatorStyles"] is False and config["allowEval"] is False
    assert config["historyCacheSize"] == 0 and config["refreshOnHistoryMiss"] is True


# -- the referrer policy and Flask-WTF's HTTPS check ---------------------------------------------
def referrer_sent(policy: str, page: str, target: str) -> str | None:
    """The Referer a browser sends from `page` to `target` under `policy` (W3C Referrer
    Policy, for the policies a portal might choose)."""
    a, b = urlsplit(page), urlsplit(target)
    same_origin = (a.scheme, a.netloc) == (b.scheme, b.netloc)
    origin = f"{a.scheme}://{a.netloc}/"
    downgrade = a.scheme == "https" and b.scheme != "https"
    return {
        "no-referrer": None,
        "same-origin": page if same_origin else None,
        "origin": origin,
        "strict-origin": None if downgrade else origin,
        "strict-origin-when-cross-origin": page if same_origin else (None if downgrade else origin),
    }[policy]


@pytest.fixture
def strict_app(tmp_path: Path) -> Iterator[Flask]:
    """The portal with Flask-WTF's HTTPS referrer check on (its default)."""
    settings = Settings(
        instance_path=tmp_path / "instance",
        database_url=f"sqlite:///{tmp_path / 'anlao.sqlite3'}",
        secret_key="strict",
    )
    app = create_app({"ANLAO_SETTINGS": settings, "PASSWORD_HASHER": CHEAP_HASHER,
                      "TESTING": True, "WTF_CSRF_SSL_STRICT": True})  # fmt: skip
    yield app
    app.extensions["anlao"].dispose()


def test_the_referrer_policy_lets_flask_wtf_check_the_referrer_over_https(
    strict_app: Flask,
) -> None:
    """Over HTTPS Flask-WTF refuses a POST whose Referer is missing or of another origin.
    Under our policy a browser sends the full same-origin URL, so the portal's own forms
    pass; under no-referrer they would all fail."""
    strict_app.extensions["anlao"].accounts.create_staff(
        login="caseworker-x", password=PASSWORD, display_name="x", role="caseworker",
        district="D01",
    )  # fmt: skip
    base = "https://anlao.example"
    login_page = f"{base}/login"
    client = strict_app.test_client()
    token = token_of(client, login_page)
    form = {"csrf_token": token, "login": "caseworker-x", "password": PASSWORD}

    def post(referer: str | None) -> int:
        headers = {"Referer": referer} if referer else {}
        with client.post(login_page, data=form, headers=headers) as response:
            return response.status_code

    assert post(referrer_sent("no-referrer", login_page, login_page)) == 400
    assert post("https://evil.example/page") == 400
    assert post(referrer_sent(REFERRER_POLICY, login_page, login_page)) == 303
    # A page of ours never leaks its address (and so a case id) to another site.
    case_page = f"{base}/cases/5b0a3c1e-0000-4000-8000-000000000000"
    assert referrer_sent(REFERRER_POLICY, case_page, "https://cdn.example/x.js") is None


def test_a_public_page_that_sets_a_cookie_is_not_kept_by_shared_caches(world: World) -> None:
    """Were the progress page ever to set a cookie (a session, a preference), a shared cache
    would hand it to the next visitor: such an answer is no-store instead."""
    with world.app.test_request_context("/progress"):
        response = Response("figures")
        response.cache_control.public, response.cache_control.max_age = True, 300
        response.set_cookie("elder_mode", "1")
        add_security_headers(response)
    assert response.cache_control.no_store and not response.cache_control.public
    assert response.cache_control.max_age is None
