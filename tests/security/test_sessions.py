"""Sessions and cookies (issue 6, item 11): a new session at sign-in, sessions that end on the
server (sign-out, password change, idle and absolute timeouts), cookie flags, remember-me
only for families and only for 14 days. Time is moved with `events.clock.frozen_at`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from events.clock import frozen_at
from events.roles import Role
from portal import create_app
from services.sessions import user_sessions
from services.settings import Settings
from tests.conftest import CHEAP_HASHER, PASSWORD, csrf_token_of

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
COOKIE = "__Host-anlao"


def sign_in(client: FlaskClient, login: str, remember: bool = False, password: str = PASSWORD):
    """Post the real login form; returns the response (303 on success)."""
    data = {"login": login, "password": password, "csrf_token": csrf_token_of(client, "/login")}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data)


def signed_in(client: FlaskClient) -> bool:
    """The front door sends a signed-in user on to their room and shows visitors the landing."""
    return client.get("/").status_code == 302


def cookie_value(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def set_cookie_header(response) -> str:  # type: ignore[no-untyped-def]
    """The session cookie's Set-Cookie header (exactly one is expected)."""
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}=")]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    return headers[0]


def replay(app: Flask, value: str) -> FlaskClient:
    """A fresh browser (an attacker's) carrying a copied session cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, value)
    return other


def session_rows(app_rt, user_id: str) -> list:  # type: ignore[no-untyped-def]
    with app_rt.engine.connect() as conn:
        return conn.execute(select(user_sessions).where(user_sessions.c.user_id == user_id)).all()


# --- a new session at sign-in, ended on the server at sign-out ----------------------------------


def test_signing_in_replaces_the_session_cookie_and_records_one_session(client, app_rt, make_user):
    worker = make_user(Role.CASEWORKER)
    csrf_token_of(client, "/login")
    before = cookie_value(client)
    assert before  # a visitor already has a cookie (the CSRF token): it must not carry over
    assert sign_in(client, worker.login).status_code == 303
    after = cookie_value(client)
    assert after and after != before
    assert len(session_rows(app_rt, worker.actor.user_id)) == 1
    assert replay(client.application, before).get("/cases").status_code == 302


def test_a_planted_cookie_does_not_survive_sign_in(app, client, app_rt, make_user):
    """Session fixation: the attacker's pre-login cookie is not the victim's session after."""
    family = make_user(Role.FAMILY)
    attacker = app.test_client()
    csrf_token_of(attacker, "/login")
    planted = cookie_value(attacker)
    client.set_cookie(COOKIE, planted)
    assert sign_in(client, family.login).status_code == 303
    assert cookie_value(client) != planted
    assert not signed_in(replay(app, planted))


def test_the_cookie_holds_no_token_the_database_would_recognise_as_stored(app, client, make_user):
    """Only a digest of the session token is stored: reading the table gives no live session."""
    worker = make_user(Role.CASEWORKER)
    sign_in(client, worker.login)
    serializer = app.session_interface.get_signing_serializer(app)
    token = serializer.loads(cookie_value(client))["sid"]
    rows = session_rows(app.extensions["anlao"], worker.actor.user_id)
    assert len(token) >= 40  # 256 random bits
    assert [r.token_digest for r in rows] == [hashlib.sha256(token.encode()).hexdigest()]


def test_after_sign_out_the_old_cookie_no_longer_works(app, client, app_rt, make_user):
    worker = make_user(Role.CASEWORKER)
    sign_in(client, worker.login)
    stolen = cookie_value(client)
    assert replay(app, stolen).get("/cases").status_code == 200  # the copy works while signed in
    token = csrf_token_of(client, "/cases")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    assert session_rows(app_rt, worker.actor.user_id) == []
    thief = replay(app, stolen)
    assert thief.get("/cases").status_code == 302
    htmx = replay(app, stolen).get("/cases", headers={"HX-Request": "true"})
    assert htmx.status_code == 401
    assert htmx.headers["HX-Redirect"].startswith("/login")


# --- a password change ends the other sessions ---------------------------------------------------


def change_password(client: FlaskClient, current: str, new: str):  # type: ignore[no-untyped-def]
    token = csrf_token_of(client, "/password")
    return client.post(
        "/password",
        data={"current": current, "password": new, "confirm": new, "csrf_token": token},
    )


def test_changing_the_password_ends_every_other_session(app, client, app_rt, make_user):
    family = make_user(Role.FAMILY)
    phone = app.test_client()
    sign_in(phone, family.login)
    sign_in(client, family.login)
    old_here = cookie_value(client)
    assert len(session_rows(app_rt, family.actor.user_id)) == 2

    response = change_password(client, PASSWORD, "new-river-stone-42")

    assert response.status_code == 303
    landing = phone.get("/")  # the other device is signed out, and told why
    assert landing.status_code == 200 and "登录已经结束" in landing.get_data(as_text=True)
    assert signed_in(client)  # this browser carries on, with a new session id
    assert cookie_value(client) != old_here
    assert not signed_in(replay(app, old_here))
    assert len(session_rows(app_rt, family.actor.user_id)) == 1
    assert app_rt.accounts.authenticate(family.login, PASSWORD) is None
    assert app_rt.accounts.authenticate(family.login, "new-river-stone-42") is not None


def test_a_wrong_current_password_changes_nothing(app, client, app_rt, make_user):
    worker = make_user(Role.INSPECTOR)
    other = app.test_client()
    sign_in(other, worker.login)
    sign_in(client, worker.login)
    response = change_password(client, "not-my-password", "new-river-stone-42")
    assert response.status_code == 422
    assert "当前密码不对" in response.get_data(as_text=True)
    assert signed_in(other)
    assert app_rt.accounts.authenticate(worker.login, PASSWORD) is not None


def test_the_password_page_needs_sign_in(client):
    assert client.get("/password").status_code == 302
    response = client.get("/password", headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")


# --- idle and absolute timeouts, enforced on the server --------------------------------------


def test_staff_are_signed_out_after_30_idle_minutes(client, make_user):
    worker = make_user(Role.CASEWORKER)
    with frozen_at(T0):
        sign_in(client, worker.login)
    with frozen_at(T0 + timedelta(minutes=29)):
        assert client.get("/cases").status_code == 200  # activity restarts the idle clock
    with frozen_at(T0 + timedelta(minutes=58)):
        assert client.get("/cases").status_code == 200
    with frozen_at(T0 + timedelta(minutes=88, seconds=1)):
        response = client.get("/cases", headers={"HX-Request": "true"})
        assert response.status_code == 401
        assert response.headers["HX-Redirect"].startswith("/login")
        assert client.get("/cases").status_code == 302  # and it stays ended


def test_families_are_signed_out_after_two_idle_hours(client, make_user):
    family = make_user(Role.FAMILY)
    with frozen_at(T0):
        sign_in(client, family.login)
    with frozen_at(T0 + timedelta(hours=1, minutes=59)):
        assert client.get("/my/cases").status_code == 200
    with frozen_at(T0 + timedelta(hours=3, minutes=59)):
        assert client.get("/my/cases").status_code == 302
        html = client.get("/login").get_data(as_text=True)
        assert "登录已经结束" in html  # the user is told why


def test_no_session_outlives_twelve_hours_however_busy(client, make_user):
    worker = make_user(Role.ASSESSOR)
    with frozen_at(T0):
        sign_in(client, worker.login)
    for minutes in range(25, 12 * 60, 25):  # busy every 25 minutes, up to 11:55
        with frozen_at(T0 + timedelta(minutes=minutes)):
            assert signed_in(client), minutes
    with frozen_at(T0 + timedelta(hours=12)):
        assert not signed_in(client)


# --- cookie flags and remember-me -------------------------------------------------------------


def test_the_session_cookie_is_secure_httponly_samesite_lax_and_ends_with_the_browser(
    client, make_user
):
    worker = make_user(Role.SUPERVISOR)
    header = set_cookie_header(sign_in(client, worker.login))
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert {"secure", "httponly", "path"} <= attributes
    assert "SameSite=Lax" in header
    assert "expires" not in attributes and "max-age" not in attributes
    assert "domain" not in attributes  # required by the __Host- prefix


def test_the_elder_mode_cookie_is_secure_too(client):
    token = csrf_token_of(client)
    response = client.post("/elder-mode", data={"on": "1", "csrf_token": token})
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("elder_mode="))
    assert "Secure" in header and "HttpOnly" in header


def test_a_family_can_be_remembered_for_fourteen_days_and_no_longer(client, app_rt, make_user):
    family = make_user(Role.FAMILY)
    with frozen_at(T0):
        header = set_cookie_header(sign_in(client, family.login, remember=True))
    morsel = SimpleCookie(header)[COOKIE]
    assert morsel["expires"]  # a persistent cookie: survives closing the browser ...
    lifetime = int(morsel["max-age"]) if morsel["max-age"] else None
    assert lifetime is None or lifetime <= 14 * 24 * 3600  # ... for 14 days at most
    assert session_rows(app_rt, family.actor.user_id)[0].kind == "family_remembered"
    with frozen_at(T0 + timedelta(days=6)):  # a week away: still signed in
        assert signed_in(client)
    with frozen_at(T0 + timedelta(days=13, hours=23)):
        assert signed_in(client)
    with frozen_at(T0 + timedelta(days=14)):
        assert not signed_in(client)


def test_staff_are_never_remembered(client, app_rt, make_user):
    worker = make_user(Role.FINANCE)
    with frozen_at(T0):
        header = set_cookie_header(sign_in(client, worker.login, remember=True))
    assert "Expires" not in header and "Max-Age" not in header
    assert session_rows(app_rt, worker.actor.user_id)[0].kind == "staff"
    with frozen_at(T0 + timedelta(minutes=31)):
        assert not signed_in(client)


@pytest.fixture
def plain_http_app(settings: Settings, tmp_path: Path) -> Iterator[Flask]:
    """A deployment that said ANLAO_INSECURE_COOKIES=1 (plain http on a local network)."""
    env = {
        "ANLAO_INSTANCE_PATH": str(tmp_path / "plain"),
        "ANLAO_DATABASE_URL": settings.database_url,
        "ANLAO_SECRET_KEY": "plain",
        "ANLAO_INSECURE_COOKIES": "1",
    }
    application = create_app(
        {"ANLAO_SETTINGS": Settings.from_env(env), "PASSWORD_HASHER": CHEAP_HASHER}
    )
    yield application
    application.extensions["anlao"].dispose()


def test_plain_http_must_be_asked_for_and_keeps_the_other_flags(plain_http_app, make_user):
    assert Settings.from_env({"ANLAO_SECRET_KEY": "x"}).insecure_cookies is False
    worker = make_user(Role.CASEWORKER)
    client = plain_http_app.test_client()
    response = sign_in(client, worker.login)
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("anlao="))
    assert "Secure" not in header
    assert "HttpOnly" in header and "SameSite=Lax" in header
