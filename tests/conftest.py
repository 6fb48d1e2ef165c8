"""Fixtures: a real database (SQLite file, or a fresh PostgreSQL schema), the app, users, CSRF."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from flask import Flask
from flask.testing import FlaskClient

from events.roles import Actor, Role
from portal import create_app
from portal.runtime import Runtime, build_runtime
from services.settings import Settings

POSTGRES_URL = os.environ.get("ANLAO_TEST_POSTGRES_URL", "")
CHEAP_HASHER = PasswordHasher.from_parameters(CHEAPEST)
PASSWORD = "correct-horse-9"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: an SQLite file, or a new schema in the test PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'anlao.sqlite3'}"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need ANLAO_TEST_POSTGRES_URL (set by .ci/run)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{POSTGRES_URL}?schema={schema}"
    with psycopg.connect(
        POSTGRES_URL.replace("postgresql+psycopg", "postgresql"), autocommit=True
    ) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own instance folder and database."""
    return Settings(
        instance_path=tmp_path / "instance", database_url=database_url, secret_key="test-secret"
    )


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    """Services and projections without the web layer."""
    runtime = build_runtime(settings, CHEAP_HASHER)
    yield runtime
    runtime.dispose()


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    """The portal on the test database, CSRF on."""
    application = create_app(
        {"ANLAO_SETTINGS": settings, "PASSWORD_HASHER": CHEAP_HASHER, "TESTING": True}
    )
    yield application
    application.extensions["anlao"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A browser-like client with cookies."""
    return app.test_client()


@pytest.fixture
def app_rt(app: Flask) -> Runtime:
    """The runtime inside the app (to arrange state through services)."""
    return app.extensions["anlao"]


@dataclass(frozen=True)
class User:
    """A test account: how to sign in, and the actor services take."""

    login: str
    actor: Actor


@pytest.fixture
def make_user(app_rt: Runtime) -> Callable[..., User]:
    """Create an account of any role; families register with a mobile number."""
    counter = iter(range(10_000))

    def make(
        role: str,
        district: str = "D01",
        community: str = "春晖社区",
        name: str = "",
        facility_id: str = "",
    ) -> User:
        n = next(counter)
        if role == Role.FAMILY:
            login = f"139{n:08d}"
            user_id = app_rt.accounts.register_family(
                mobile=login, password=PASSWORD, display_name=name or "家属"
            )
            return User(login, Actor(user_id, role))
        login = f"{role}{n}"
        community = community if role == Role.COMMUNITY_WORKER else ""
        user_id = app_rt.accounts.create_staff(
            login=login,
            password=PASSWORD,
            display_name=name or login,
            role=role,
            district=district,
            community=community,
            facility_id=facility_id,
        )
        return User(login, Actor(user_id, role, district, community, facility_id))

    return make


def csrf_token_of(client: FlaskClient, path: str = "/") -> str:
    """The session's CSRF token, read from a rendered page as a browser would."""
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


@pytest.fixture
def login(client: FlaskClient) -> Callable[[User], str]:
    """Sign a user in through the real login form; returns the new session's CSRF token."""

    def sign_in(user: User) -> str:
        token = csrf_token_of(client, "/login")
        response = client.post(
            "/login", data={"login": user.login, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return csrf_token_of(client)

    return sign_in


# -- Issue 6, item 15: no log record of the whole suite may hold a national ID or mobile number.
def pytest_sessionstart(session: pytest.Session) -> None:
    """Start scanning every log record the suite writes (see tests/security/support_log_scan)."""
    from tests.security import support_log_scan

    support_log_scan.start(session.config)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """Under pytest-xdist: gather what each worker's scan found (the controller reports)."""
    from tests.security import support_log_scan

    support_log_scan.collect(getattr(node, "workeroutput", {}))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fail the run, naming the tests, if any log record held personal numbers."""
    from tests.security import support_log_scan

    support_log_scan.finish(session)
