"""Many threads in several processes write the same case and the same fund at once: no update is
lost or applied twice, losers are told (StaleCase, FundBusy, a refusal) and nothing of theirs is
written, and the final state is exactly the sum of what was acknowledged.

Each process builds its own runtime from the same Settings, as web workers do."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from events.fund import Fund, Movement
from events.retrofit import RetrofitCase, Step
from events.roles import Role
from portal.runtime import Runtime
from projections.tables import retrofit_timeline
from services.ledger_history import verify
from services.settings import Settings
from tests.conftest import PASSWORD, User, csrf_token_of
from tests.reliability.support_processes import (
    SPAWN,
    Workers,
    in_threads,
    run_in_processes,
    started,
)
from tests.reliability.support_writers import (
    ALLOCATION,
    COMMIT,
    NEXT_STEP,
    accepted,
    log_visits,
    move_money,
    race_the_next_step,
)
from tests.support.actors import FAMILY, INSPECTOR, walk
from tests.support.ledger_scenarios import SUBSIDY, funded
from tests.support.scenario import apply, version
from tests.support.staff_helpers import make_team, step_data

PROCESSES = 3
THREADS = 3
WORKERS = PROCESSES * THREADS


@pytest.mark.slow
def test_workers_starting_at_the_same_moment_on_one_database_all_start(
    rt: Runtime, settings: Settings
) -> None:
    """Web workers and the projection worker start together after a deploy: each one's
    services check the tables at once (on PostgreSQL the library replaces a function then,
    which two sessions must not do at the same moment)."""
    children = 4
    outcomes = Workers(settings, [(started, ())] * children, start_together=True).results()
    assert outcomes == list(range(children))


def stored_events(rt: Runtime, aggregate_id: UUID, after: int = 0) -> list[Any]:
    """An aggregate's stored events after a version, read from the store (no snapshot)."""
    return list(rt.retrofit.events.get(aggregate_id, gt=after or None))


@pytest.mark.slow
def test_every_worker_takes_the_next_step_at_the_version_it_read_and_each_step_happens_once(
    rt: Runtime, settings: Settings
) -> None:
    """Nine workers read the case, then all take its next step from that version at once,
    round after round until the case is closed: in each round exactly one wins."""
    case_id = apply(rt, FAMILY)
    barrier = SPAWN.Barrier(WORKERS)
    found = run_in_processes(
        settings, race_the_next_step, [(barrier, case_id, THREADS)] * PROCESSES
    )
    attempts = [a for per_process in found for a in per_process]

    stored = stored_events(rt, case_id)
    path = ["Applied", *(name for name, _ in NEXT_STEP.values())]
    assert [type(e).__name__ for e in stored] == path
    assert [e.originator_version for e in stored] == list(range(1, len(path) + 1))
    rounds = len(path) - 1
    assert len(attempts) == rounds * WORKERS  # nobody stopped early or tried a step twice
    won = sorted((read, name, after) for name, read, outcome, after in attempts if outcome == "won")
    assert won == [(v, path[v], v + 1) for v in range(1, rounds + 1)]
    stale = [(name, read, after) for name, read, outcome, after in attempts if outcome == "stale"]
    assert len(stale) == rounds * (WORKERS - 1)
    assert all(after == read + 1 for _, read, after in stale)  # told the version that beat them
    assert Counter(name for name, _, _ in stale) == dict.fromkeys(path[1:], WORKERS - 1)

    case: RetrofitCase = rt.retrofit.repository.get(case_id)
    assert (case.step, case.version) == (Step.CLOSED, len(path))
    rt.catch_up()
    with rt.engine.connect() as conn:
        kinds = conn.execute(
            select(retrofit_timeline.c.kind)
            .where(retrofit_timeline.c.case_id == case_id)
            .order_by(retrofit_timeline.c.version)
        ).scalars()
        assert list(kinds) == path


BROWSERS = 6


def signed_in(app: Flask, user: User) -> tuple[FlaskClient, str]:
    """A browser of its own, signed in through the login form; its CSRF token."""
    browser = app.test_client()
    token = csrf_token_of(browser, "/login")
    response = browser.post(
        "/login", data={"login": user.login, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return browser, csrf_token_of(browser)


def test_caseworkers_deciding_one_case_at_once_in_the_portal_one_wins_the_rest_are_told(
    app: Flask, app_rt: Runtime, make_user: Callable[..., User]
) -> None:
    """Six caseworkers, each in a browser of their own with the case open at version 1, press
    approve or reject at the same moment: one decision is recorded; every other one gets the
    form again with 409 and a plain message, and overwrites nothing."""
    team = make_team(make_user)
    case_id = team.walk(app_rt, Step.SUBMITTED)
    browsers = [signed_in(app, make_user(Role.CASEWORKER)) for _ in range(BROWSERS)]
    together = threading.Barrier(BROWSERS)

    def press(i: int) -> tuple[int, str]:
        browser, token = browsers[i]
        action, fields = (
            ("reject", {"reason": f"第{i}位:不符合"})
            if i % 2
            else ("approve", {"assessor_id": team.assessor.actor.user_id})
        )
        data = step_data(token, action, 1, **fields)
        together.wait(timeout=30)
        response = browser.post(f"/cases/{case_id}/{action}", data=data)
        return response.status_code, response.get_data(as_text=True)

    answers = in_threads(BROWSERS, press)
    assert sorted(status for status, _ in answers) == [303] + [409] * (BROWSERS - 1)
    assert all("有人更新了这个案件" in html for status, html in answers if status == 409)
    winner = next(i for i, (status, _) in enumerate(answers) if status == 303)
    stored = stored_events(app_rt, case_id)
    assert [e.originator_version for e in stored] == [1, 2]
    assert type(stored[1]).__name__ == (
        "EligibilityRejected" if winner % 2 else "EligibilityApproved"
    )


VISITS = 6  # per thread
TRIES = 4  # a visit refused this many times in a row is given up


@pytest.mark.slow
def test_visits_logged_at_once_from_every_worker_are_each_stored_once_or_cleanly_given_up(
    rt: Runtime, settings: Settings
) -> None:
    """No pacing at all: each worker reads and writes as fast as it can, retrying a refused
    save from a fresh read; every visit ends saved exactly once or given up and absent."""
    case_id = walk(rt, Step.WORKS_STARTED)
    base = version(rt, INSPECTOR, case_id)
    found = run_in_processes(settings, log_visits, [(case_id, THREADS, VISITS, TRIES)] * PROCESSES)
    threads = [t for per_process in found for t in per_process]
    saved = [s for t in threads for s in t["saved"]]
    given_up = [g for t in threads for g in t["given_up"]]
    assert len(saved) + len(given_up) == WORKERS * VISITS
    assert saved, "no visit was saved at all"

    stored = stored_events(rt, case_id, after=base)
    assert all(type(e).__name__ == "SiteInspectionLogged" for e in stored)
    assert [e.originator_version for e in stored] == list(range(base + 1, base + 1 + len(saved)))
    # Each acknowledged visit is stored once, at the very version its save returned.
    assert sorted((e.findings, e.originator_version) for e in stored) == sorted(saved)
    assert not {e.findings for e in stored} & set(given_up)
    assert rt.retrofit.repository.get(case_id).version == base + len(saved)


CASES = 3  # accepted cases whose subsidies every worker tries to commit at once


@pytest.mark.slow
def test_money_moved_on_one_fund_from_every_worker_at_once_adds_up_exactly(
    rt: Runtime, settings: Settings
) -> None:
    """Receipts, allocations and commitments race on one fund (and commitments on the same
    cases): the fund holds each acknowledged movement once, at the version it was given, and
    nothing refused; its totals are the sums of what was acknowledged; the chain verifies."""
    fund_id = funded(rt)  # 100,000 received, 50,000 allocated to 安康区 (versions 2 and 3)
    cases = [accepted(rt, f"{301 + i}") for i in range(CASES)]
    barrier = SPAWN.Barrier(WORKERS)
    found = run_in_processes(settings, move_money, [(barrier, fund_id, cases, THREADS)] * PROCESSES)
    moves = [m for per_process in found for m in per_process]
    acked = [m for m in moves if m[4] is not None]
    refused = [m for m in moves if m[4] is None]
    assert {why for *_, why in refused} <= {"FundBusy", "SubsidyNotDue"}
    assert all(kind == "committed" for kind, *_, why in refused if why == "SubsidyNotDue")

    stored = [e for e in rt.ledger.events.get(fund_id) if isinstance(e, Fund.MovementRecorded)]
    assert [e.originator_version for e in stored] == list(range(2, 2 + len(stored)))
    assert sorted(
        (e.originator_version, e.kind, e.document, e.amount) for e in stored[2:]
    ) == sorted((seq, kind, document, amount) for kind, document, amount, _, seq, _ in acked)

    fund = rt.ledger.fund(fund_id)

    def acknowledged(kind: str) -> Decimal:
        return sum((m[2] for m in acked if m[0] == kind), Decimal("0"))

    expected = {
        Movement.RECEIVED: Decimal("100000") + acknowledged("received"),
        Movement.ALLOCATED: Decimal("50000") + acknowledged("allocated"),
        Movement.COMMITTED: acknowledged("committed"),
    }
    assert {k: fund.totals[k] for k in expected} == expected
    local = fund.district_totals("D01")
    assert (local[Movement.ALLOCATED], local[Movement.COMMITTED]) == (
        expected[Movement.ALLOCATED],
        expected[Movement.COMMITTED],
    )
    t = fund.totals
    net = t[Movement.RECEIVED] - t[Movement.RETURNED]
    assert t[Movement.DISBURSED] <= t[Movement.COMMITTED] <= t[Movement.ALLOCATED] <= net
    assert len([m for m in acked if m[0] == "allocated"]) * ALLOCATION == acknowledged("allocated")

    for case_id in cases:
        mine = [m for m in moves if m[0] == "committed" and m[3] == str(case_id)]
        won = [m for m in mine if m[4] is not None]
        case: RetrofitCase = rt.retrofit.repository.get(case_id)
        assert case.subsidy_committed == len(won) * COMMIT <= SUBSIDY
        recorded = [e for e in stored_events(rt, case_id) if type(e).__name__ == "SubsidyRecorded"]
        # The fund and the case were saved together: the same movements on both sides.
        assert sorted(e.movement for e in recorded) == sorted(m[4] for m in won)
        if not any(m[5] == "FundBusy" for m in mine):
            assert len(won) == int(SUBSIDY // COMMIT)  # two of nine fit under the cap

    check = verify(rt.ledger, fund_id)
    assert check.intact, check
