"""The `anlao` command and the demo city, against real databases."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from events.facility import MILESTONES
from events.retrofit import Step
from events.roles import Actor, Role
from portal.cli import main
from projections import facility_queries, home_care_queries, meal_queries
from projections.retrofit_queries import count_by_step
from projections.tables import retrofit_cases
from services.demo import DEMO_PASSWORD, Programmes, seed_demo
from tests.support.scenario import apply

SUPERVISOR_VIEW = dict(user_id="s", role=Role.SUPERVISOR)


@pytest.fixture
def cli_env(settings, monkeypatch):
    """Point the CLI at the test database through its environment variables."""
    monkeypatch.setenv("ANLAO_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ANLAO_INSTANCE_PATH", str(settings.instance_path))
    monkeypatch.setenv("ANLAO_SECRET_KEY", settings.secret_key)
    return settings


def test_demo_city_populates_every_step_and_every_role(rt):
    logins = seed_demo(rt.accounts, rt.retrofit, rt.photos, cases=120)
    rt.catch_up()
    counts = count_by_step(rt.engine, Actor(**SUPERVISOR_VIEW))
    assert sum(counts.values()) == 120
    assert set(counts) == set(Step.ALL), f"steps without demo cases: {set(Step.ALL) - set(counts)}"
    assert {login.role for login in logins} >= {
        Role.FAMILY,
        Role.COMMUNITY_WORKER,
        Role.CASEWORKER,
        Role.ASSESSOR,
        Role.INSPECTOR,
        Role.SUPERVISOR,
        Role.AUDITOR,
        Role.ADMIN,
    }
    assert rt.accounts.authenticate("caseworker-d01", DEMO_PASSWORD) is not None
    with rt.engine.connect() as conn:
        oldest = conn.execute(select(func.min(retrofit_cases.c.applied_at))).scalar_one()
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    assert (datetime.now(UTC) - oldest).days > 30  # a realistic history, not all created today


def test_users_create_makes_an_account_that_can_sign_in(cli_env, rt):
    result = CliRunner().invoke(
        main,
        [
            "users",
            "create",
            "--login",
            "cw-new",
            "--name",
            "新审核员",
            "--role",
            "caseworker",
            "--district",
            "D02",
        ],
        input="long-password-1\nlong-password-1\n",
    )
    assert result.exit_code == 0, result.output
    account = rt.accounts.authenticate("cw-new", "long-password-1")
    assert account is not None and account.role == Role.CASEWORKER and account.district == "D02"


def test_users_create_refuses_a_short_password_with_a_message(cli_env, rt):
    result = CliRunner().invoke(
        main,
        ["users", "create", "--login", "cw-x", "--name", "X", "--role", "caseworker"],
        input="short\nshort\n",
    )
    assert result.exit_code != 0
    assert "invalid_account" in result.output
    assert rt.accounts.authenticate("cw-x", "short") is None


def test_projections_rebuild_command_replays_the_log(cli_env, rt):
    from events.roles import Actor

    for _ in range(3):
        apply(rt, Actor("fam-1", Role.FAMILY))
    rt.catch_up()
    result = CliRunner().invoke(main, ["projections", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "from the 3 events of the log" in result.output
    with rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(retrofit_cases)).scalar_one() == 3


def test_persons_erase_blanks_personal_data_and_keeps_the_case(cli_env, rt):
    case_id = apply(rt, Actor("fam-1", Role.FAMILY))
    rt.catch_up()
    person_id = rt.retrofit.repository.get(case_id).person_id
    result = CliRunner().invoke(main, ["persons", "erase", str(person_id), "--yes"])
    assert result.exit_code == 0, result.output
    record = rt.persons.get(person_id)
    assert record.erased and record.name is None and record.national_id is None
    assert rt.retrofit.repository.get(case_id).step == Step.SUBMITTED


def test_projection_worker_follows_new_events(rt):
    stop = threading.Event()
    worker = threading.Thread(target=rt.projector.follow, args=(stop, 0.05))
    worker.start()
    try:
        case_id = apply(rt, Actor("fam-1", Role.FAMILY))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with rt.engine.connect() as conn:
                found = conn.execute(
                    select(retrofit_cases.c.case_id).where(retrofit_cases.c.case_id == case_id)
                ).first()
            if found:
                break
            time.sleep(0.05)
        assert found, "the follower did not project the new case within 10 s"
    finally:
        stop.set()
        worker.join(timeout=5)


def test_demo_city_includes_facilities_meals_and_home_care(rt):
    programmes = Programmes(rt.facilities, rt.meals, rt.home_care)
    logins = seed_demo(rt.accounts, rt.retrofit, rt.photos, cases=8, programmes=programmes)
    rt.catch_up()
    everyone = Actor(**SUPERVISOR_VIEW)
    milestones = facility_queries.count_by_milestone(rt.engine, everyone)
    assert set(milestones) == set(MILESTONES)
    assert sum(meal_queries.count_enrolments_by_step(rt.engine, everyone).values()) > 10
    assert sum(home_care_queries.count_by_step(rt.engine, everyone).values()) > 10
    providers = [login for login in logins if login.role == Role.PROVIDER]
    assert providers and all(
        rt.accounts.authenticate(p.login, DEMO_PASSWORD).facility_id for p in providers[:2]
    )
