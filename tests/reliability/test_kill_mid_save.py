"""A process killed with SIGKILL at a random moment, while it saves several aggregates in one
call or while it projects: every save is all or nothing, and the read models, once caught up,
equal a rebuild from the log (each event's effect counted exactly once).

The children build their own runtimes and loop until killed; the kill gives them no chance to
roll back or close anything, so what survives is what the databases guarantee."""

from __future__ import annotations

import os
import random
from collections import defaultdict
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from events.fund import Fund, Movement
from events.retrofit import RetrofitCase, Step
from events.subsidy_claims import ElderSubsidies, claims_id_for
from portal.runtime import Runtime
from projections.tables import positions
from services.ledger_history import verify
from services.settings import Settings
from tests.reliability.support_processes import kill_after, looping_child, wait_until
from tests.reliability.support_tailing import all_notifications
from tests.reliability.support_writers import (
    EVENTS_PER_CASE,
    accepted,
    batch_case_id,
    catch_up_until_killed,
    commit_and_pay_until_killed,
    new_cases,
    save_batches_until_killed,
)
from tests.support.actors import CASEWORKER, FINANCE, OTHER_FAMILY, table_rows, walk
from tests.support.ledger_scenarios import funded
from tests.support.scenario import apply, version

pytestmark = pytest.mark.slow
ROUNDS = 4
BATCH = 4  # new cases in one save call
SEED_EVENTS = 1500  # the log the first projection worker starts on
LOAD_PAUSE = 0.005  # between the writer's saves, so the log grows but the workers keep up


@pytest.fixture
def rng() -> random.Random:
    """Random kill moments; the seed is in the test's output if it fails."""
    seed = int.from_bytes(os.urandom(4), "big")
    print(f"kill moments drawn with random.Random({seed})")
    return random.Random(seed)


def stored(rt: Runtime, aggregate_id: UUID, after: int = 0) -> bool:
    """Whether the aggregate has any event stored after that version."""
    return bool(rt.retrofit.recorder.select_events(aggregate_id, gt=after or None, limit=1))


def head(rt: Runtime) -> int:
    """The highest notification id in the log."""
    return rt.retrofit.recorder.max_notification_id() or 0


def whole_batches(tag: str, by_case: dict[UUID, list[int]]) -> int:
    """How many batches a killed child saved: each whole (every case, every event, in one run
    of the log), then none of any later batch."""
    saved = 0
    while True:
        ids = [by_case.get(batch_case_id(tag, saved, i), []) for i in range(BATCH)]
        if not any(ids):
            break
        assert all(len(i) == EVENTS_PER_CASE for i in ids), f"batch {tag}/{saved} is partial"
        flat = sorted(n for i in ids for n in i)
        assert flat == list(range(flat[0], flat[0] + len(flat))), "a batch's events interleaved"
        saved += 1
    later = [batch_case_id(tag, b, i) for b in range(saved + 1, saved + 4) for i in range(BATCH)]
    assert not any(by_case.get(c) for c in later), f"{tag}: a batch after a missing one exists"
    return saved


def test_killed_while_saving_several_new_cases_in_one_call_each_call_is_whole_or_absent(
    rt: Runtime, settings: Settings, rng: random.Random
) -> None:
    """A child saves batches of four new cases (three events each) in one call each, and is
    killed at a random moment once it has begun; four times."""
    tags = [f"kill-{r}" for r in range(ROUNDS)]
    for tag in tags:
        with looping_child(settings, save_batches_until_killed, tag, BATCH) as child:
            first = batch_case_id(tag, 0, 0)
            wait_until(lambda c=first: stored(rt, c), "the child's first save")
            kill_after(child, rng, 0.0, 1.0)

    by_case: dict[UUID, list[int]] = defaultdict(list)
    for n in all_notifications(rt):
        by_case[n.originator_id].append(n.id)
    saved = {tag: whole_batches(tag, by_case) for tag in tags}
    assert sum(saved.values()) * BATCH * EVENTS_PER_CASE == sum(map(len, by_case.values()))

    # The store is not left locked or damaged: the next save goes through.
    rt.retrofit.save(*new_cases("after", 0, BATCH))
    case: RetrofitCase = rt.retrofit.repository.get(batch_case_id("after", 0, BATCH - 1))
    assert case.step == Step.ASSESSED


def test_killed_while_committing_and_paying_a_subsidy_fund_and_case_stay_in_step(
    rt: Runtime, settings: Settings, rng: random.Random
) -> None:
    """Each commitment and each payment saves the fund and the case in one call: after any
    number of kills, both hold exactly the same movements."""
    fund_id = funded(rt)
    case_id = accepted(rt, "401")
    for r in range(ROUNDS):
        before = rt.ledger.fund(fund_id).version
        with looping_child(settings, commit_and_pay_until_killed, fund_id, case_id, f"r{r}") as c:
            wait_until(lambda v=before: stored(rt, fund_id, after=v), "the first commitment")
            kill_after(c, rng, 0.0, 1.2)

    fund_side = {
        (e.kind, e.originator_version, e.amount)
        for e in rt.ledger.events.get(fund_id)
        if isinstance(e, Fund.MovementRecorded) and e.target_id == str(case_id)
    }
    case_side = {
        (e.kind, e.movement, e.amount)
        for e in rt.retrofit.events.get(case_id)
        if type(e).__name__ == "SubsidyRecorded"
    }
    assert case_side == fund_side

    def total(kind: str) -> Decimal:
        return sum((amount for k, _, amount in fund_side if k == kind), Decimal("0.00"))

    case: RetrofitCase = rt.retrofit.repository.get(case_id)
    assert (case.subsidy_committed, case.subsidy_paid) == (
        total(Movement.COMMITTED),
        total(Movement.DISBURSED),
    )
    fund = rt.ledger.fund(fund_id)
    assert fund.totals[Movement.COMMITTED] == total(Movement.COMMITTED)
    assert fund.totals[Movement.DISBURSED] == total(Movement.DISBURSED)
    claims: ElderSubsidies = rt.ledger.repository.get(claims_id_for(case.person_id))
    assert {c["target_id"] for c in claims.claims.values()} == {str(case_id)}
    check = verify(rt.ledger, fund_id)  # links, balances and every snapshot replayed
    assert check.intact, check

    seq = rt.ledger.commit_retrofit_subsidy(
        FINANCE, fund_id, case_id, amount="0.01", document="核定-after"
    )
    assert rt.ledger.fund(fund_id).version == seq


def read_models(rt: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every read model's rows, and each projection's tracked position."""
    tables = {t.name: t for p in rt.projector.projections for t in p.tables}
    found = {name: table_rows(rt.engine, t) for name, t in sorted(tables.items())}
    found["positions"] = table_rows(rt.engine, positions)
    return found


def varied_history(rt: Runtime) -> None:
    """Cases at many steps, a withdrawal, money in and out: most projections get work."""
    for step in (Step.SUBMITTED, Step.ASSESSED, Step.WORKS_STARTED, Step.CLOSED):
        walk(rt, step)
    withdrawn = apply(rt, OTHER_FAMILY)
    rt.retrofit.withdraw(OTHER_FAMILY, withdrawn, 1, reason="老人去养老院了")
    rejected = apply(rt, OTHER_FAMILY)
    rt.retrofit.reject(CASEWORKER, rejected, version(rt, CASEWORKER, rejected), reason="不符合")
    fund_id = funded(rt)
    case_id = accepted(rt, "501")
    seq = rt.ledger.commit_retrofit_subsidy(FINANCE, fund_id, case_id, amount="800",
                                            document="核定")  # fmt: skip
    rt.ledger.disburse(FINANCE, fund_id, seq, amount="300", payee="安居装修公司", voucher="V1")


def test_killed_while_projecting_the_read_models_catch_up_to_exactly_a_rebuild(
    rt: Runtime, settings: Settings, rng: random.Random
) -> None:
    """A projection worker killed again and again in the middle of its batches, while a writer
    keeps appending (and is killed too): caught up afterwards, every read model and position
    equals a rebuild from the whole log."""
    varied_history(rt)
    with looping_child(settings, save_batches_until_killed, "load", BATCH, LOAD_PAUSE) as writer:
        wait_until(lambda: head(rt) >= SEED_EVENTS, "a log to kill the first worker inside")
        for _ in range(ROUNDS):
            with looping_child(settings, catch_up_until_killed, rng.randrange(1000)) as worker:
                kill_after(worker, rng, 0.05, 0.8)
            reached = [rt.projector.position(p.name) for p in rt.projector.projections]
            assert max(reached) <= head(rt)
        kill_after(writer, rng, 0.0, 0.1)

    rt.projector.catch_up()
    live = read_models(rt)
    rt.projector.rebuild()
    assert read_models(rt) == live
