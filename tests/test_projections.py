"""Read models: live equals rebuilt, exactly once under failure and concurrency, list queries."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import Connection, Table, select
from sqlalchemy.exc import IntegrityError

from events.access import may_see
from events.clock import frozen_at
from events.retrofit import Step
from events.roles import Actor, Role
from portal.runtime import Runtime
from projections import runner
from projections.retrofit_cases import RetrofitCaseList
from projections.retrofit_queries import (
    case_detail,
    count_by_step,
    list_cases,
    timeline,
)
from projections.retrofit_timeline import RetrofitTimeline
from projections.runner import Projector
from projections.tables import positions, retrofit_cases, retrofit_timeline
from services.database import make_engine
from tests.support.actors import (
    ADMIN,
    ASSESSOR,
    AUDITOR,
    CASEWORKER,
    CASEWORKER_D02,
    FAMILY,
    FINANCE,
    INSPECTOR,
    OTHER_ASSESSOR,
    OTHER_FAMILY,
    OTHER_INSPECTOR,
    PROVIDER,
    SUPERVISOR,
    WORKER,
    WORKER_D02,
    WORKER_SONGHE,
    read_models,
    table_rows,
    walk,
)
from tests.support.scenario import ASSESSED_LINES, apply, version, walk_to

PHOTOS = [{"sha256": "c" * 64, "media_type": "image/jpeg"}]
D02_ASSESSOR = Actor("assessor-d02", Role.ASSESSOR, "D02")
D02_INSPECTOR = Actor("inspector-d02", Role.INSPECTOR, "D02")
PROJECTION_NAMES = ("retrofit_cases", "retrofit_timeline")


@pytest.fixture(autouse=True)
def retrofit_models_only(rt: Runtime) -> None:
    """These tests count each event's applications per read model: only the two retrofit
    models take part (other areas' models read some of the same events)."""
    rt.projector = Projector(rt.engine, rt.retrofit, [RetrofitCaseList(), RetrofitTimeline()])


def apply_d02(rt: Runtime, family: Actor = FAMILY) -> UUID:
    """An application in 永宁区 南湖街道 南湖社区."""
    return apply(rt, family, district="D02", street="南湖街道", community="南湖社区")


def walk_d02(rt: Runtime, step: str, family: Actor = OTHER_FAMILY) -> UUID:
    return walk_to(
        rt,
        step,
        family=family,
        caseworker=CASEWORKER_D02,
        assessor=D02_ASSESSOR,
        inspector=D02_INSPECTOR,
        case_id=apply_d02(rt, family),
    )


def results(passed: bool) -> list[dict[str, Any]]:
    checked = [
        {"code": line["code"], "installed": True, "works": True, "safe": True}
        for line in ASSESSED_LINES
    ]
    checked[-1]["works"] = passed
    return checked


def fail_then_rectify(rt: Runtime, case_id: UUID, *, passes_after: int | None) -> None:
    """From works completed: fail acceptance, rectify, and pass after `passes_after` fails."""
    r, fails = rt.retrofit, 0
    while True:
        passed = passes_after is not None and fails == passes_after
        r.inspect_acceptance(
            INSPECTOR,
            case_id,
            version(rt, INSPECTOR, case_id),
            results=results(passed),
            photos=PHOTOS,
        )
        if passed or passes_after is None:
            return
        fails += 1
        r.log_site_inspection(
            INSPECTOR,
            case_id,
            version(rt, INSPECTOR, case_id),
            findings="整改中",
            follow_up_required=True,
            photos=PHOTOS,
        )
        r.complete_rectification(
            CASEWORKER, case_id, version(rt, CASEWORKER, case_id), note="护栏已加固"
        )


def mixed_scenario(rt: Runtime, *, catch_up: bool = True) -> list[UUID]:
    """About thirty cases through every kind of path, catching up now and then as the portal does."""
    r, cases = rt.retrofit, []

    def later() -> None:
        if catch_up:
            rt.catch_up()

    for step in (Step.SUBMITTED, Step.APPROVED, Step.ASSESSED, Step.PLAN_CONFIRMED):
        cases += [walk(rt, step), walk(rt, step, family=OTHER_FAMILY)]
    later()
    for step in (
        Step.CONTRACTOR_ASSIGNED,
        Step.WORKS_STARTED,
        Step.WORKS_COMPLETED,
        Step.ACCEPTED,
        Step.SURVEYED,
    ):
        cases += [walk(rt, step), walk(rt, step, family=OTHER_FAMILY)]
    cases += [walk(rt, Step.CLOSED), walk_d02(rt, Step.CLOSED), walk_d02(rt, Step.ASSESSED)]
    later()
    for _ in range(3):  # rejected
        case_id = apply(rt, FAMILY)
        r.reject(CASEWORKER, case_id, 1, reason="不属于困难老年人家庭")
        cases.append(case_id)
    for supplied in (False, True, True):  # returned, some answered and approved
        case_id = apply(rt, OTHER_FAMILY)
        v = r.return_for_information(CASEWORKER, case_id, 1, request="请补充残疾证")
        if supplied:
            v = r.supply_information(OTHER_FAMILY, case_id, v, reply="已补充")
            r.approve(CASEWORKER, case_id, v, assessor_id=OTHER_ASSESSOR.user_id)
        cases.append(case_id)
    later()
    for step in (Step.SUBMITTED, Step.ASSESSED, Step.CONTRACTOR_ASSIGNED):  # withdrawn
        case_id = walk(rt, step)
        r.withdraw(FAMILY, case_id, version(rt, FAMILY, case_id), reason="老人去养老院了")
        cases.append(case_id)
    for passes_after in (None, 1, 2):  # rectification, passed at round 2 and round 3
        case_id = walk(rt, Step.WORKS_COMPLETED)
        fail_then_rectify(rt, case_id, passes_after=passes_after)
        cases.append(case_id)
    case_id = walk(rt, Step.SURVEYED)
    for still in (True, False):
        r.record_follow_up(
            WORKER, case_id, version(rt, WORKER, case_id), note="回访", still_in_use=still
        )
    cases.append(case_id)
    case_id = walk(rt, Step.ASSESSED)
    r.assess(
        ASSESSOR,
        case_id,
        version(rt, ASSESSOR, case_id),
        lines=ASSESSED_LINES[:1],
        note="复评:只装扶手",
    )
    cases.append(case_id)
    return cases


def positions_now(rt: Runtime) -> dict[str, int]:
    return {name: rt.projector.position(name) for name in PROJECTION_NAMES}


def head(rt: Runtime) -> int:
    return rt.retrofit.recorder.max_notification_id() or 0


def rebuilt(rt: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """The read models as a full replay of the log makes them."""
    rt.projector.rebuild()
    return read_models(rt.engine)


def test_live_projection_equals_a_rebuild(rt: Runtime) -> None:
    cases = mixed_scenario(rt)
    assert len(cases) >= 30
    rt.catch_up()
    live = read_models(rt.engine)
    assert len(live["rm_retrofit_cases"]) == len(cases)
    assert len(live["rm_retrofit_timeline"]) == head(rt)

    assert rt.projector.rebuild() == 2 * head(rt)
    assert read_models(rt.engine) == live
    assert positions_now(rt) == dict.fromkeys(PROJECTION_NAMES, head(rt))


def test_projected_rows_match_the_aggregates(rt: Runtime) -> None:
    cases = mixed_scenario(rt, catch_up=False)
    rt.catch_up()
    with rt.engine.connect() as conn:
        rows = {r.case_id: r for r in conn.execute(select(retrofit_cases))}
    steps: dict[str, int] = {}
    for case_id in cases:
        case = rt.retrofit.repository.get(case_id)
        row = rows[case_id]
        assert (row.step, row.version, row.acceptance_rounds) == (
            case.step,
            case.version,
            case.acceptance_rounds,
        )
        assert (row.assessor_id, row.inspector_id) == (case.assessor_id, case.inspector_id)
        steps[case.step] = steps.get(case.step, 0) + 1
        assert [e.version for e in timeline(rt.engine, case_id)] == list(range(1, case.version + 1))
    assert set(steps) == set(Step.ALL)
    assert count_by_step(rt.engine, AUDITOR) == steps


def test_catch_up_is_idempotent_and_reaches_the_head(rt: Runtime) -> None:
    assert rt.projector.catch_up() == 0
    assert positions_now(rt) == dict.fromkeys(PROJECTION_NAMES, 0)
    walk(rt, Step.ASSESSED)
    assert rt.projector.catch_up() == 2 * 3
    assert rt.projector.catch_up() == 0
    assert positions_now(rt) == dict.fromkeys(PROJECTION_NAMES, head(rt))
    before = read_models(rt.engine)
    assert rt.projector.catch_up() == 0
    assert read_models(rt.engine) == before


def test_catch_up_runs_in_batches(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "BATCH_SIZE", 4)
    walk(rt, Step.CLOSED)
    walk(rt, Step.ACCEPTED)  # 10 + 8 events: four full batches and one of two
    assert rt.projector.catch_up() == 2 * 18
    assert positions_now(rt) == dict.fromkeys(PROJECTION_NAMES, head(rt))
    live = read_models(rt.engine)
    monkeypatch.setattr(runner, "BATCH_SIZE", 1000)
    assert rebuilt(rt) == live


class FailingOn:
    """A projection that crashes on its Nth event (a bug, a lost connection, a bad row)."""

    def __init__(self, inner: Any, fail_at: int) -> None:
        self.inner, self.fail_at, self.seen = inner, fail_at, 0
        self.name: str = inner.name
        self.tables: Sequence[Table] = inner.tables
        self.topics: Sequence[str] = inner.topics

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        for event in events:  # one at a time, so the crash comes after earlier writes
            self.seen += 1
            if self.seen == self.fail_at:
                raise RuntimeError(f"projection crashed on event {self.seen}")
            self.inner.apply(conn, [event])


def test_a_crash_mid_batch_leaves_rows_and_position_untouched(rt: Runtime) -> None:
    mixed_scenario(rt)
    rt.catch_up()
    walk(rt, Step.WORKS_STARTED)
    walk(rt, Step.SUBMITTED)
    before, at = read_models(rt.engine), positions_now(rt)
    assert head(rt) == at["retrofit_cases"] + 7

    crashing = Projector(rt.engine, rt.retrofit, [FailingOn(RetrofitCaseList(), fail_at=4)])
    with pytest.raises(RuntimeError, match="event 4"):
        crashing.catch_up()
    assert read_models(rt.engine) == before
    assert positions_now(rt) == at

    # The other projection is independent: it commits while the broken one stays behind.
    half = Projector(
        rt.engine, rt.retrofit, [RetrofitCaseList(), FailingOn(RetrofitTimeline(), fail_at=7)]
    )
    with pytest.raises(RuntimeError, match="event 7"):
        half.catch_up()
    assert positions_now(rt) == {
        "retrofit_cases": head(rt),
        "retrofit_timeline": at["retrofit_timeline"],
    }
    assert table_rows(rt.engine, retrofit_timeline) == before["rm_retrofit_timeline"]

    assert rt.projector.catch_up() == 7
    live = read_models(rt.engine)
    assert rebuilt(rt) == live


def test_a_crash_in_a_later_batch_keeps_the_committed_batches(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    walk(rt, Step.PLAN_CONFIRMED)
    rt.catch_up()
    at = positions_now(rt)["retrofit_timeline"]
    walk(rt, Step.CLOSED)
    new = rt.retrofit.recorder.select_notifications(start=at, limit=100, inclusive_of_start=False)
    assert len(new) == 10

    monkeypatch.setattr(runner, "BATCH_SIZE", 4)
    crashing = Projector(rt.engine, rt.retrofit, [FailingOn(RetrofitTimeline(), fail_at=10)])
    with pytest.raises(RuntimeError):
        crashing.catch_up()
    # Batches 1-4 and 5-8 committed with their positions; 9-10 rolled back together.
    assert rt.projector.position("retrofit_timeline") == new[7].id
    with rt.engine.connect() as conn:
        entries = set(
            conn.execute(select(retrofit_timeline.c.case_id, retrofit_timeline.c.version))
        )
    assert {(n.originator_id, n.originator_version) for n in new[:8]} <= entries
    assert not {(n.originator_id, n.originator_version) for n in new[8:]} & entries

    assert rt.projector.catch_up() == 2 + 10  # the timeline's last two, the case list's ten
    live = read_models(rt.engine)
    monkeypatch.setattr(runner, "BATCH_SIZE", 1000)
    assert rebuilt(rt) == live


def catch_up_together(projectors: list[Projector]) -> tuple[list[int], list[BaseException]]:
    """Start every projector's catch-up at the same moment; how many each applied, and errors."""
    barrier = threading.Barrier(len(projectors))
    applied: list[int] = []
    errors: list[BaseException] = []

    def run(projector: Projector) -> None:
        barrier.wait(timeout=30)
        try:
            applied.append(projector.catch_up())
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(p,)) for p in projectors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return applied, errors


def test_two_projectors_catching_up_at_once_apply_each_event_once(rt: Runtime) -> None:
    """Two workers (their own engines, as two processes would have) on one database."""
    other_engine = make_engine(rt.settings)
    other = Projector(other_engine, rt.retrofit, [RetrofitCaseList(), RetrofitTimeline()])
    try:
        # First round: no position recorded yet (a fresh database, or just after a rebuild).
        mixed_scenario(rt, catch_up=False)
        applied, errors = catch_up_together([rt.projector, other])
        assert errors == []
        assert sum(applied) == 2 * head(rt)
        for _ in range(3):
            walk(rt, Step.SURVEYED)
            applied, errors = catch_up_together([rt.projector, other])
            assert (errors, sum(applied)) == ([], 2 * 9)
            assert positions_now(rt) == dict.fromkeys(PROJECTION_NAMES, head(rt))
        live = read_models(rt.engine)
        assert len(live["rm_retrofit_timeline"]) == head(rt)
        assert rebuilt(rt) == live
    finally:
        other_engine.dispose()


# -- the case list ----------------------------------------------------------------------------
NOW = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=40)
RECENTLY = NOW - timedelta(days=10)
YESTERDAY = NOW - timedelta(days=1, hours=2)


def seed_queue(rt: Runtime) -> dict[str, list[UUID]]:
    """Cases with known ages: 12 old and 8 recent in D01, 5 in D02, some approved yesterday."""
    made: dict[str, list[UUID]] = {"old": [], "recent": [], "d02": [], "approved": []}
    with frozen_at(LONG_AGO):  # the same instant: the list must break ties by case id
        made["old"] = [apply(rt, FAMILY if i % 3 else OTHER_FAMILY) for i in range(12)]
        made["d02"] = [apply_d02(rt) for _ in range(5)]
    with frozen_at(RECENTLY):
        made["recent"] = [
            apply(rt, WORKER, community="春晖社区")
            if i % 2
            else apply(rt, WORKER_SONGHE, community="松鹤社区")
            for i in range(8)
        ]
    with frozen_at(YESTERDAY):
        for case_id in made["old"][:4]:
            rt.retrofit.approve(CASEWORKER, case_id, 1, assessor_id=ASSESSOR.user_id)
        made["approved"] = made["old"][:4]
    rt.catch_up()
    return made


def ids(page: Any) -> list[UUID]:
    return [row.case_id for row in page.rows]


def everything(rt: Runtime, actor: Actor, **filters: Any) -> list[UUID]:
    return ids(list_cases(rt.engine, actor, now=NOW, limit=1000, **filters))


def test_filters_by_step_days_waiting_and_district(rt: Runtime) -> None:
    made = seed_queue(rt)
    still_old = set(made["old"]) - set(made["approved"])

    assert set(everything(rt, CASEWORKER)) == set(made["old"] + made["recent"])
    assert set(everything(rt, CASEWORKER, step=Step.APPROVED)) == set(made["approved"])
    assert set(everything(rt, CASEWORKER, min_days_in_step=30)) == still_old
    assert set(everything(rt, CASEWORKER, min_days_in_step=10)) == still_old | set(made["recent"])
    assert set(everything(rt, CASEWORKER, min_days_in_step=11)) == still_old
    assert set(everything(rt, CASEWORKER, step=Step.APPROVED, min_days_in_step=2)) == set()
    assert set(everything(rt, AUDITOR, district="D02")) == set(made["d02"])
    assert everything(rt, CASEWORKER, district="D02") == []  # a filter never widens the scope
    assert set(everything(rt, CASEWORKER, worklist=True)) == set(
        made["old"] + made["recent"]
    ) - set(made["approved"])
    assert set(everything(rt, ASSESSOR, worklist=True)) == set(made["approved"])

    page = list_cases(rt.engine, CASEWORKER, now=NOW, limit=1000)
    days = {row.case_id: row.days_in_step for row in page.rows}
    assert {days[c] for c in still_old} == {40}
    assert {days[c] for c in made["recent"]} == {10}
    assert {days[c] for c in made["approved"]} == {1}
    # Longest-waiting first.
    assert [row.step_since for row in page.rows] == sorted(row.step_since for row in page.rows)
    assert count_by_step(rt.engine, CASEWORKER) == {Step.SUBMITTED: 16, Step.APPROVED: 4}
    assert count_by_step(rt.engine, AUDITOR, district="D02") == {Step.SUBMITTED: 5}


def test_keyset_pagination_walks_every_row_once(rt: Runtime) -> None:
    made = seed_queue(rt)
    expected = everything(rt, CASEWORKER)
    assert len(expected) == 20

    pages, cursor = [], None
    while True:
        page = list_cases(rt.engine, CASEWORKER, now=NOW, limit=7, cursor=cursor)
        pages.append(ids(page))
        cursor = page.next_cursor
        if cursor is None:
            break
        assert len(pages) < 10, "pagination does not end"
    assert [len(p) for p in pages] == [7, 7, 6]
    walked = [c for p in pages for c in p]
    assert walked == expected
    assert len(set(walked)) == 20

    # Eight old, unapproved rows share one step_since: pages of 3 cut through the tie.
    old_only, cursor = [], None
    for _ in range(3):
        page = list_cases(
            rt.engine, CASEWORKER, now=NOW, limit=3, step=Step.SUBMITTED, min_days_in_step=30,
            cursor=cursor,
        )  # fmt: skip
        old_only += ids(page)
        cursor = page.next_cursor
    assert cursor is None
    assert len(old_only) == len(set(old_only)) == 8
    assert set(old_only) == set(made["old"]) - set(made["approved"])


def test_exact_page_size_has_no_empty_next_page(rt: Runtime) -> None:
    seed_queue(rt)
    page = list_cases(rt.engine, AUDITOR, now=NOW, limit=25)
    assert len(page.rows) == 25
    assert page.next_cursor is None


def test_malformed_cursor_is_a_value_error(rt: Runtime) -> None:
    with pytest.raises(ValueError):
        list_cases(rt.engine, CASEWORKER, now=NOW, cursor="not-a-cursor")


VIEWERS = [
    FAMILY,
    OTHER_FAMILY,
    WORKER,
    WORKER_SONGHE,
    WORKER_D02,
    CASEWORKER,
    CASEWORKER_D02,
    ASSESSOR,
    OTHER_ASSESSOR,
    INSPECTOR,
    OTHER_INSPECTOR,
    AUDITOR,
    SUPERVISOR,
    ADMIN,
    PROVIDER,
    FINANCE,
]


def test_each_role_lists_exactly_the_cases_it_may_see(rt: Runtime) -> None:
    cases = mixed_scenario(rt, catch_up=False)
    songhe = apply(rt, WORKER_SONGHE, community="松鹤社区")
    rt.catch_up()
    with rt.engine.connect() as conn:
        rows = conn.execute(select(retrofit_cases)).all()
    assert len(rows) == len(cases) + 1

    for viewer in VIEWERS:
        allowed = {r.case_id for r in rows if may_see(viewer, r)}
        assert set(everything(rt, viewer)) == allowed, viewer
        assert all(
            case_detail(rt.engine, viewer, r.case_id) is None
            for r in rows
            if r.case_id not in allowed
        )

    listed = {v.user_id: set(everything(rt, v)) for v in VIEWERS}
    d02 = {r.case_id for r in rows if r.district == "D02"}
    assert len(d02) == 2
    assert listed[AUDITOR.user_id] == listed[SUPERVISOR.user_id] == {r.case_id for r in rows}
    assert listed[PROVIDER.user_id] == listed[FINANCE.user_id] == set()
    assert listed[CASEWORKER_D02.user_id] == d02
    assert listed[WORKER_SONGHE.user_id] == {songhe}
    assert listed[FAMILY.user_id] | listed[OTHER_FAMILY.user_id] == {r.case_id for r in rows} - {
        songhe
    }
    assert not listed[FAMILY.user_id] & listed[OTHER_FAMILY.user_id]
    assert listed[ASSESSOR.user_id] and listed[OTHER_ASSESSOR.user_id]
    assert not listed[INSPECTOR.user_id] & listed[OTHER_INSPECTOR.user_id]
    assert listed[OTHER_INSPECTOR.user_id] == set()


def test_case_detail_and_timeline_read_back_the_assessment(rt: Runtime) -> None:
    case_id = walk(rt, Step.PLAN_CONFIRMED)
    rt.catch_up()
    detail = case_detail(rt.engine, FAMILY, case_id)
    assert detail is not None
    assert (detail.step, detail.version, detail.checklist_version) == (
        Step.PLAN_CONFIRMED,
        4,
        "MCA-2020",
    )
    assert [i["code"] for i in detail.assessment_items] == ["T01", "F01", "B01"]
    assert (detail.total_cost, detail.subsidy, detail.household_share) == (3700, 1200, 2500)
    kinds = [e.kind for e in timeline(rt.engine, case_id)]
    assert kinds == ["Applied", "EligibilityApproved", "HomeAssessed", "PlanConfirmed"]
    assert all(e.actor_id for e in timeline(rt.engine, case_id))
    assessed = timeline(rt.engine, case_id)[2].details
    assert (assessed["subsidy_cap"], assessed["household_share"]) == ("3000", "2500.00")


def test_positions_guard_against_applying_an_event_twice(rt: Runtime) -> None:
    walk(rt, Step.APPROVED)
    rt.catch_up()
    before = read_models(rt.engine)
    with rt.engine.begin() as conn:  # positions lost, rows kept: replaying must not double them
        conn.execute(positions.update().values(position=0))
    with pytest.raises(IntegrityError):
        rt.projector.catch_up()
    assert read_models(rt.engine) == before
    assert rt.projector.rebuild() == 2 * 2  # rebuild starts from empty tables
    assert read_models(rt.engine) == before
