"""Many people acting on the same case at the same moment: one wins, nothing is lost or doubled."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import func, select

from events.retrofit import Step
from events.roles import Actor, Role
from portal.runtime import Runtime
from projections.tables import retrofit_cases, retrofit_timeline
from services.errors import StaleCase
from tests.support.actors import ASSESSOR, FAMILY
from tests.support.scenario import apply

THREADS = 8
T = TypeVar("T")


def all_at_once(work: list[Callable[[], T]]) -> list[T | BaseException]:
    """Run each callable in its own thread, released together; collect results or errors."""
    barrier = threading.Barrier(len(work))

    def run(job: Callable[[], T]) -> T | BaseException:
        barrier.wait(timeout=30)
        try:
            return job()
        except Exception as error:
            return error

    with ThreadPoolExecutor(max_workers=len(work)) as pool:
        return list(pool.map(run, work))


def caseworkers(n: int) -> list[Actor]:
    """Several caseworkers of the same district, each with the case's form open at version 1."""
    return [Actor(f"caseworker-d01-{i}", Role.CASEWORKER, "D01") for i in range(n)]


def decide(rt: Runtime, actor: Actor, case_id: UUID, i: int) -> Callable[[], int]:
    """Half approve, half reject, all from the version the form was rendered at."""
    if i % 2:
        return lambda: rt.retrofit.reject(actor, case_id, 1, reason=f"第{i}位审核员:不符合条件")
    return lambda: rt.retrofit.approve(actor, case_id, 1, assessor_id=ASSESSOR.user_id)


def test_simultaneous_decisions_on_one_case_exactly_one_wins(rt: Runtime) -> None:
    case_id = apply(rt, FAMILY)
    outcomes = all_at_once(
        [decide(rt, actor, case_id, i) for i, actor in enumerate(caseworkers(THREADS))]
    )

    wins = [o for o in outcomes if o == 2]
    stale = [o for o in outcomes if isinstance(o, StaleCase)]
    assert len(wins) == 1, outcomes
    assert len(stale) == THREADS - 1, outcomes
    assert all((s.expected, s.current) == (1, 2) for s in stale)

    stored = list(rt.retrofit.repository.event_store.get(case_id))
    assert [e.originator_version for e in stored] == [1, 2]
    decision = stored[1]
    winner = outcomes.index(2)
    assert decision.actor_id == f"caseworker-d01-{winner}"
    expected = "EligibilityRejected" if winner % 2 else "EligibilityApproved"
    assert type(decision).__name__ == expected
    assert rt.retrofit.repository.get(case_id).step in (Step.APPROVED, Step.REJECTED)

    rt.catch_up()
    with rt.engine.connect() as conn:
        rows = conn.execute(select(retrofit_timeline.c.kind)).scalars().all()
    assert sorted(rows) == sorted(["Applied", expected])


def test_simultaneous_decisions_repeated_rounds_never_double_write(rt: Runtime) -> None:
    """Several rounds, so a lucky schedule cannot hide a lost update."""
    for _ in range(5):
        case_id = apply(rt, FAMILY)
        outcomes = all_at_once(
            [decide(rt, actor, case_id, i) for i, actor in enumerate(caseworkers(THREADS))]
        )
        assert sum(1 for o in outcomes if o == 2) == 1, outcomes
        assert all(o == 2 or isinstance(o, StaleCase) for o in outcomes), outcomes
        assert len(rt.retrofit.recorder.select_events(case_id)) == 2


def test_same_application_posted_at_once_is_one_case(rt: Runtime) -> None:
    def submit() -> UUID:
        return apply(rt, FAMILY, key="draft-double-click")

    outcomes = all_at_once([submit] * THREADS)
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert errors == [], errors
    assert len(set(outcomes)) == 1
    case_id: Any = outcomes[0]

    notifications = rt.retrofit.recorder.select_notifications(start=1, limit=100)
    assert [(n.originator_id, n.originator_version) for n in notifications] == [(case_id, 1)]
    rt.catch_up()
    with rt.engine.connect() as conn:
        cases = conn.execute(select(func.count()).select_from(retrofit_cases)).scalar()
        entries = conn.execute(select(func.count()).select_from(retrofit_timeline)).scalar()
    assert (cases, entries) == (1, 1)
    person = rt.persons.get(rt.retrofit.repository.get(case_id).person_id)
    assert person is not None and person.name == "张秀英"


def test_different_families_applying_for_the_same_elder_at_once(rt: Runtime) -> None:
    """Eight families at once for one elder: eight cases, one person record."""
    families = [Actor(f"family-{i}", Role.FAMILY) for i in range(THREADS)]
    outcomes = all_at_once([lambda f=f: apply(rt, f) for f in families])
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert errors == [], errors
    assert len(set(outcomes)) == THREADS
    people = {rt.retrofit.repository.get(c).person_id for c in outcomes}  # type: ignore[arg-type]
    assert len(people) == 1
