"""Behind a reverse proxy the login throttle must key on the real client address: the address is
taken from X-Forwarded-For only for as many hops as ANLAO_TRUSTED_PROXIES says, never by default
(or anyone could send a new made-up address with every guess)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from events.roles import Role
from portal import create_app
from services.settings import Settings
from tests.conftest import CHEAP_HASHER
from tests.security.test_credentials import attempt, attempts


def portal(settings: Settings, proxies: int) -> Iterator[Flask]:
    app = create_app(
        {
            "ANLAO_SETTINGS": Settings(**{**vars(settings), "trusted_proxies": proxies}),
            "PASSWORD_HASHER": CHEAP_HASHER,
            "TESTING": True,
        }
    )
    yield app
    app.extensions["anlao"].dispose()


@pytest.fixture
def behind_one_proxy(settings: Settings) -> Iterator[Flask]:
    yield from portal(settings, 1)


@pytest.fixture
def exposed(settings: Settings) -> Iterator[Flask]:
    yield from portal(settings, 0)


def test_behind_a_trusted_proxy_the_forwarded_client_address_is_logged_and_throttled(
    behind_one_proxy, make_user
) -> None:
    family = make_user(Role.FAMILY)
    client = behind_one_proxy.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.2"  # the proxy
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.9"
    client.environ_base["HTTP_X_FORWARDED_PROTO"] = "https"
    client.environ_base["HTTP_REFERER"] = "https://localhost/login"  # CSRF's same-origin check
    attempt(client, family.login, "not-the-password")
    rt = behind_one_proxy.extensions["anlao"]
    assert [(r.ip, r.outcome) for r in attempts(rt, family.login)] == [("198.51.100.9", "failure")]


def test_without_trusted_proxies_a_forwarded_address_is_ignored(exposed, make_user) -> None:
    family = make_user(Role.FAMILY)
    rt = exposed.extensions["anlao"]
    for n in range(6):  # a different made-up address with every guess changes nothing
        client = exposed.test_client()
        client.environ_base["REMOTE_ADDR"] = "203.0.113.5"
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{n}"
        attempt(client, family.login, "not-the-password")
    rows = attempts(rt, family.login)
    assert {r.ip for r in rows} == {"203.0.113.5"}
    assert [r.outcome for r in rows][-1] == "throttled"
