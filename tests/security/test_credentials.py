"""Credentials (issue 6, item 12): argon2id, the password policy with its shipped list of
common passwords, login throttling shared by every web worker through the database, and a
log of every login attempt that never holds a password."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from events.clock import frozen_at
from events.roles import Role
from portal import create_app
from services.accounts import AccountService
from services.login_guard import LoginThrottled, login_attempts
from services.password_policy import WeakPassword, common_passwords, weakness
from services.settings import Settings
from services.tables import accounts
from tests.conftest import CHEAP_HASHER, PASSWORD, csrf_token_of

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
MOBILE = "13712345678"


def of_length(n: int) -> str:
    """A password of exactly n characters that breaks no other rule."""
    return ("tea-Garden-7" * 20)[:n]


def register(client: FlaskClient, password: str, mobile: str = MOBILE):  # type: ignore[no-untyped-def]
    token = csrf_token_of(client, "/register")
    return client.post(
        "/register",
        data={
            "mobile": mobile,
            "display_name": "王建国",
            "password": password,
            "confirm": password,
            "csrf_token": token,
        },
    )


def from_address(app: Flask, ip: str) -> FlaskClient:
    """A browser at another network address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def attempt(client: FlaskClient, login: str, password: str):  # type: ignore[no-untyped-def]
    token = csrf_token_of(client, "/login")
    return client.post("/login", data={"login": login, "password": password, "csrf_token": token})


def attempts(rt, login: str) -> list:  # type: ignore[no-untyped-def]
    with rt.engine.connect() as conn:
        return conn.execute(
            select(login_attempts)
            .where(login_attempts.c.login == login)
            .order_by(login_attempts.c.attempt_id)
        ).all()


def account_exists(rt, login: str) -> bool:  # type: ignore[no-untyped-def]
    with rt.engine.connect() as conn:
        return conn.execute(select(accounts).where(accounts.c.login == login)).first() is not None


# --- the policy --------------------------------------------------------------------------------


def test_argon2id_hashes_are_stored(app_rt, make_user):
    family = make_user(Role.FAMILY)
    with app_rt.engine.connect() as conn:
        stored = conn.execute(
            select(accounts.c.password_hash).where(accounts.c.login == family.login)
        ).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(
    ("length", "accepted"), [(7, False), (8, True), (64, True), (128, True), (129, False)]
)
def test_length_boundaries_at_the_service(app_rt, length, accepted):
    password = of_length(length)
    if accepted:
        user_id = app_rt.accounts.register_family(
            mobile=MOBILE, password=password, display_name="家属"
        )
        assert app_rt.accounts.authenticate(MOBILE, password).user_id == user_id
    else:
        with pytest.raises(WeakPassword):
            app_rt.accounts.register_family(mobile=MOBILE, password=password, display_name="家属")
        assert not account_exists(app_rt, MOBILE)


def test_seven_characters_are_refused_with_a_message_and_eight_accepted(client):
    refused = register(client, of_length(7))
    assert refused.status_code == 422
    assert "密码至少需要8位" in refused.get_data(as_text=True)
    assert register(client, of_length(8)).status_code == 303


def test_a_64_character_passphrase_is_accepted_and_signs_in(app, client):
    assert register(client, of_length(64)).status_code == 303
    assert attempt(app.test_client(), MOBILE, of_length(64)).status_code == 303


def test_an_overlong_password_is_refused_with_a_message(client):
    response = register(client, of_length(129))
    assert response.status_code == 422
    assert "密码最多128位" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "password",
    [
        "password",
        "Password123",
        "12345678",
        "qwertyuiop",
        "woaini1314",
        "5201314520",
        "a1234567",
        "iloveyou",
        "1qaz2wsx",
        "zhangwei123",
        "88888888",
        "wo-ai-jia-2026",
    ],
)
def test_common_passwords_are_refused(password):
    assert weakness(password) == "common"


@pytest.mark.parametrize(
    "password",
    [
        "aaaaaaaaaa",
        "abababababab",
        "23456789",
        "98765432",
        "lmnopqrstu",
        "lkjhgfdsa",
        "19491001",
        "20260101",
    ],
)
def test_repeated_sequential_and_date_passwords_are_refused(password):
    assert weakness(password) in ("pattern", "common")


def test_a_password_containing_the_login_is_refused():
    assert weakness(f"{MOBILE}ab", MOBILE) == "contains_login"
    assert weakness("caseworker-d01!", "caseworker-d01") == "contains_login"


def test_the_demo_and_test_passwords_pass_the_policy():
    assert weakness("anlao-demo-2026", "caseworker-d01") == ""
    assert weakness(PASSWORD, "13900000001") == ""


def test_the_list_ships_with_the_package_and_is_substantial():
    listed = common_passwords()
    assert len(listed) > 10_000
    assert all(len(p) >= 8 and p == p.lower() for p in listed)


def test_a_common_password_is_refused_on_the_form_with_a_message(client, app_rt):
    response = register(client, "woaini1314")
    assert response.status_code == 422
    assert "这个密码太常见" in response.get_data(as_text=True)
    assert not account_exists(app_rt, MOBILE)


def test_a_password_change_obeys_the_same_policy(client, make_user, app_rt):
    worker = make_user(Role.CASEWORKER)
    attempt(client, worker.login, PASSWORD)
    token = csrf_token_of(client, "/password")
    response = client.post(
        "/password",
        data={
            "current": PASSWORD,
            "password": "lmnopqrstu",
            "confirm": "lmnopqrstu",
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    assert "连续的字符" in response.get_data(as_text=True)
    assert app_rt.accounts.authenticate(worker.login, PASSWORD) is not None


# --- throttling across workers ---------------------------------------------------------------


@pytest.fixture
def second_worker(settings: Settings) -> Iterator[Flask]:
    """Another web worker on the same database: a second create_app, its own process state."""
    application = create_app(
        {"ANLAO_SETTINGS": settings, "PASSWORD_HASHER": CHEAP_HASHER, "TESTING": True}
    )
    yield application
    application.extensions["anlao"].dispose()


def test_five_failures_spread_over_two_workers_lock_the_login_for_15_minutes(
    app, second_worker, make_user
):
    family = make_user(Role.FAMILY)
    one, two = app.test_client(), second_worker.test_client()
    with frozen_at(T0):
        for client in (one, two, one, two, one):
            assert attempt(client, family.login, "not-the-password").status_code == 422
    with frozen_at(T0 + timedelta(minutes=14)):
        for client in (one, two):  # even the right password is refused, on either worker
            refused = attempt(client, family.login, PASSWORD)
            assert refused.status_code == 429
            assert "登录失败的次数太多" in refused.get_data(as_text=True)
            assert "1分钟后再试" in refused.get_data(as_text=True)
    with frozen_at(T0 + timedelta(minutes=15, seconds=1)):
        assert attempt(two, family.login, PASSWORD).status_code == 303


def test_failures_outside_15_minutes_do_not_lock_and_a_success_resets(app, make_user):
    family = make_user(Role.FAMILY)
    client = app.test_client()
    for minute in (0, 4, 8, 12, 16):  # five failures, but never five within 15 minutes
        with frozen_at(T0 + timedelta(minutes=minute)):
            assert attempt(client, family.login, "not-the-password").status_code == 422
    with frozen_at(T0 + timedelta(minutes=17)):
        assert attempt(client, family.login, PASSWORD).status_code == 303
    for minute in (18, 19, 20, 21):  # a success wipes the slate: four more are only four
        with frozen_at(T0 + timedelta(minutes=minute)):
            attempt(app.test_client(), family.login, "not-the-password")
    with frozen_at(T0 + timedelta(minutes=22)):
        assert attempt(app.test_client(), family.login, PASSWORD).status_code == 303


def test_unknown_logins_are_throttled_alike(app):
    client = app.test_client()
    with frozen_at(T0):
        for _ in range(5):
            assert attempt(client, "nobody-here", "whatever-123").status_code == 422
        assert attempt(client, "nobody-here", "whatever-123").status_code == 429


def test_one_address_spraying_many_logins_is_locked_out_but_others_are_not(app, make_user):
    victim = make_user(Role.FAMILY)
    sprayer = from_address(app, "203.0.113.9")
    with frozen_at(T0):
        for n in range(20):  # one guess each at twenty logins: no login reaches its limit
            assert attempt(sprayer, f"1390000{n:04d}", "woaini-1314-x").status_code == 422
        assert attempt(sprayer, victim.login, PASSWORD).status_code == 429
        neighbour = from_address(app, "198.51.100.4")
        assert attempt(neighbour, victim.login, PASSWORD).status_code == 303


def test_racing_attempts_on_two_workers_verify_no_more_than_five_passwords(
    app, second_worker, settings
):
    """Each attempt is booked under the table's write lock before its (slow) hash check, so
    twelve guesses fired at once through two workers still test at most five passwords."""
    real_cost = AccountService(app.extensions["anlao"].engine, PasswordHasher())
    real_cost.create_staff(
        login="target-1", password=PASSWORD, display_name="目标", role=Role.ADMIN
    )
    services = [app.extensions["anlao"].accounts, second_worker.extensions["anlao"].accounts]
    outcomes: list[str] = []
    start = threading.Barrier(12)

    def guess(n: int) -> None:
        start.wait()
        try:
            services[n % 2].sign_in("target-1", f"guess-number-{n}", f"10.0.0.{n}")
            outcomes.append("checked")
        except LoginThrottled:
            outcomes.append("throttled")

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["checked"] * 5 + ["throttled"] * 7
    rows = attempts(app.extensions["anlao"], "target-1")
    assert sorted(r.outcome for r in rows) == ["failure"] * 5 + ["throttled"] * 7


# --- the login log -----------------------------------------------------------------------------


def test_every_attempt_is_logged_with_who_when_where_and_outcome(app, app_rt, make_user, caplog):
    family = make_user(Role.FAMILY)
    client = from_address(app, "192.0.2.7")
    caplog.set_level(logging.INFO, logger="anlao.security")
    with frozen_at(T0):
        attempt(client, family.login, PASSWORD)
        for _ in range(5):
            attempt(client, family.login, "wrong-password-1")
        attempt(client, family.login, PASSWORD)
    rows = attempts(app_rt, family.login)
    assert [r.outcome for r in rows] == ["success"] + ["failure"] * 5 + ["throttled"]
    assert {r.ip for r in rows} == {"192.0.2.7"}
    assert rows[0].user_id == family.actor.user_id
    assert all((r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC)) == T0 for r in rows)
    lines = [r.getMessage() for r in caplog.records if r.name == "anlao.security"]
    assert [line.split()[1] for line in lines] == ["success"] + ["failure"] * 5 + ["throttled"]
    assert all("ip=192.0.2.7" in line for line in lines)
    assert all(family.login not in line for line in lines)  # the mobile number is masked
    assert all(f"{family.login[:3]}****{family.login[-4:]}" in line for line in lines)


def test_no_password_reaches_any_log_or_the_attempts_table(app, app_rt, make_user, caplog):
    caplog.set_level(logging.DEBUG)
    family = make_user(Role.FAMILY)
    client = app.test_client()
    wrong, new = "Secret-Wrong-Guess-77", "Brand-New-Secret-88"
    attempt(client, family.login, wrong)
    attempt(client, family.login, PASSWORD)
    token = csrf_token_of(client, "/password")
    client.post(
        "/password",
        data={"current": PASSWORD, "password": new, "confirm": new, "csrf_token": token},
    )
    register(app.test_client(), "Registering-Secret-99", mobile="13611112222")
    assert app_rt.accounts.authenticate(family.login, new) is not None  # the change happened
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    with app_rt.engine.connect() as conn:
        stored = " ".join(str(tuple(r)) for r in conn.execute(select(login_attempts)))
    for secret in (wrong, PASSWORD, new, "Registering-Secret-99"):
        assert secret not in logged
        assert secret not in stored
    assert "login success" in caplog.text  # the log was on and captured


def test_a_login_cannot_forge_log_lines(app, caplog):
    caplog.set_level(logging.INFO, logger="anlao.security")
    attempt(app.test_client(), "x\nlogin success login='admin'", "whatever-123")
    messages = [r.getMessage() for r in caplog.records if r.name == "anlao.security"]
    assert len(messages) == 1 and "\n" not in messages[0]


@pytest.mark.parametrize(
    "target",
    ["//evil.example", "/\t/evil.example", "/\\evil.example", "https://evil.example/", "/\n/evil"],
)
def test_sign_in_never_sends_anyone_off_site(client, make_user, target) -> None:
    user = make_user(Role.CASEWORKER)
    token = csrf_token_of(client, "/login")
    response = client.post(
        "/login", query_string={"next": target},
        data={"login": user.login, "password": PASSWORD, "csrf_token": token},
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
