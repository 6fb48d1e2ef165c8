"""Meal-service read models: live equals rebuilt, hand-computed figures, who lists what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from events.clock import frozen_at
from events.meal import EnrolmentStep
from events.meal_access import may_see_enrolment
from events.roles import Actor
from portal.runtime import Runtime
from projections import meals as meal_projections
from projections import runner
from projections.meal_days import meal_days
from projections.meal_enrolments import meal_enrolments
from projections.meal_queries import (
    DistrictMealDay,
    MealDay,
    canteen_day,
    canteen_days,
    count_enrolments_by_step,
    enrolled_elders,
    enrolment_detail,
    enrolment_timeline,
    list_enrolments,
    meals_of_enrolment,
    meals_per_day_by_canteen,
    meals_per_day_by_district,
)
from projections.runner import Projector
from projections.tables import positions
from tests.support.actors import (
    ADMIN,
    ASSESSOR,
    AUDITOR,
    CASEWORKER,
    CASEWORKER_D02,
    FAMILY,
    FINANCE,
    OTHER_FAMILY,
    PROVIDER,
    SUPERVISOR,
    WORKER,
    WORKER_D02,
    WORKER_SONGHE,
)
from tests.support.meals import (
    apply_meal,
    at_noon,
    days_ago,
    enrol,
    meal_read_models,
    open_canteen,
    provider_of,
)

PROJECTION_NAMES = ("meal_enrolments", "meal_timeline", "meal_days")


@dataclass
class Town:
    """Three canteens (A and B in 安康区, C in 永宁区) and their enrolled elders."""

    a: UUID
    b: UUID
    c: UUID
    e1: UUID
    e2: UUID
    e3: UUID
    e4: UUID
    e5: UUID


def build_town(rt: Runtime) -> Town:
    """The hand-computed scenario: meals on three days, one of them corrected."""
    a = open_canteen(rt)
    b = open_canteen(rt, name="松鹤社区老年食堂")
    c = open_canteen(rt, district="D02", name="南湖社区老年食堂")
    town = Town(
        a, b, c,
        e1=enrol(rt, a, on=days_ago(10)),
        e2=enrol(rt, a, on=days_ago(10), family=OTHER_FAMILY),
        e3=enrol(rt, a, on=days_ago(10), mode="delivery"),
        e4=enrol(rt, b, on=days_ago(10)),
        e5=enrol(rt, c, on=days_ago(10), district="D02"),
    )  # fmt: skip
    pa, m = provider_of(a), rt.meals
    m.record_day(pa, a, days_ago(3), [str(town.e1), str(town.e2)], 5)  # 2 + 5 = 7
    m.record_day(pa, a, days_ago(2), [str(town.e1), str(town.e2), str(town.e3)], 4)  # 7
    m.record_day(pa, a, days_ago(1), [str(town.e3)], 0)  # 1
    m.record_day(provider_of(b), b, days_ago(2), [str(town.e4)], 10)  # 11
    m.record_day(provider_of(c, "D02"), c, days_ago(2), [str(town.e5)], 2)  # 3
    rt.catch_up()  # the correction lands in a later batch than the record it corrects
    m.correct_day(
        pa, a, days_ago(2), 1, [str(town.e1), str(town.e3)], 6, reason="核对签到表"
    )  # 2 + 6 = 8
    return town


def test_meals_per_day_match_a_hand_computed_scenario(rt: Runtime) -> None:
    town = build_town(rt)
    rt.catch_up()
    start, end = days_ago(3), days_ago(1)
    d3, d2, d1 = days_ago(3), days_ago(2), days_ago(1)

    assert canteen_days(rt.engine, AUDITOR, town.a, start=start, end=end) == (
        MealDay(town.a, d3, "D01", 2, 5, 7, False, 1),
        MealDay(town.a, d2, "D01", 2, 6, 8, True, 2),
        MealDay(town.a, d1, "D01", 1, 0, 1, False, 1),
    )
    assert meals_per_day_by_district(rt.engine, AUDITOR, start=start, end=end) == (
        DistrictMealDay("D01", d3, 1, 2, 5, 7),
        DistrictMealDay("D01", d2, 2, 3, 16, 19),
        DistrictMealDay("D02", d2, 1, 1, 2, 3),
        DistrictMealDay("D01", d1, 1, 1, 0, 1),
    )
    by_canteen = meals_per_day_by_canteen(rt.engine, AUDITOR, start=d2, end=d2)
    assert {(r.canteen_id, r.total) for r in by_canteen} == {(town.a, 8), (town.b, 11), (town.c, 3)}
    assert meals_per_day_by_canteen(rt.engine, AUDITOR, start=d1, end=d1, district="D02") == ()

    # Per elder: the correction took e2's meal away on day -2.
    assert meals_of_enrolment(rt.engine, town.e1) == (d3, d2)
    assert meals_of_enrolment(rt.engine, town.e2) == (d3,)
    assert meals_of_enrolment(rt.engine, town.e3) == (d2, d1)
    assert meals_of_enrolment(rt.engine, town.e3, start=d1) == (d1,)
    assert meals_of_enrolment(rt.engine, town.e3, end=d3) == ()


def test_each_reader_sees_only_its_canteens_figures(rt: Runtime) -> None:
    town = build_town(rt)
    rt.catch_up()
    start, end = days_ago(3), days_ago(1)

    def canteens(actor: Actor) -> set[UUID]:
        rows = meals_per_day_by_canteen(rt.engine, actor, start=start, end=end)
        return {r.canteen_id for r in rows}

    assert canteens(provider_of(town.a)) == {town.a}
    assert canteens(provider_of(town.b)) == {town.b}
    assert canteens(CASEWORKER) == {town.a, town.b}
    assert canteens(CASEWORKER_D02) == {town.c}
    assert canteens(SUPERVISOR) == canteens(ADMIN) == {town.a, town.b, town.c}
    for nobody in (FAMILY, WORKER, ASSESSOR, FINANCE, PROVIDER):
        assert canteens(nobody) == set()
    assert meals_per_day_by_district(rt.engine, provider_of(town.b), start=start, end=end) == (
        DistrictMealDay("D01", days_ago(2), 1, 1, 10, 11),
    )
    assert canteen_days(rt.engine, provider_of(town.b), town.a, start=start, end=end) == ()
    assert canteen_day(rt.engine, CASEWORKER_D02, town.a, days_ago(2)) is None
    assert canteen_day(rt.engine, CASEWORKER, town.a, days_ago(2)) is not None


def test_todays_elders_for_a_canteen(rt: Runtime) -> None:
    town = build_town(rt)
    joined_today = enrol(rt, town.a)
    waiting = apply_meal(rt, FAMILY, town.a)
    left = enrol(rt, town.a, on=days_ago(5))
    with frozen_at(at_noon(days_ago(1))):
        rt.meals.end_enrolment(CASEWORKER, left, 2, reason="老人随子女搬走")
    rt.catch_up()
    pa = provider_of(town.a)

    yesterday = enrolled_elders(rt.engine, pa, town.a, days_ago(1))
    assert {e.case_id: e.served for e in yesterday} == {
        town.e1: False, town.e2: False, town.e3: True, left: False,
    }  # fmt: skip
    assert [e.reference for e in yesterday] == sorted(e.reference for e in yesterday)
    today = enrolled_elders(rt.engine, pa, town.a, rt.meals.today())
    assert {e.case_id for e in today} == {town.e1, town.e2, town.e3, joined_today}
    assert waiting not in {e.case_id for e in today}
    assert {e.mode for e in today if e.case_id == town.e3} == {"delivery"}
    assert enrolled_elders(rt.engine, pa, town.a, days_ago(11)) == ()
    assert enrolled_elders(rt.engine, provider_of(town.b), town.a, rt.meals.today()) == ()
    assert len(enrolled_elders(rt.engine, CASEWORKER, town.a, rt.meals.today())) == 4


# -- rebuild == live --------------------------------------------------------------------------
def varied_history(rt: Runtime) -> Town:
    """The town plus enrolments at every step and a record and correction in one batch."""
    town = build_town(rt)
    m = rt.meals
    returned = apply_meal(rt, FAMILY, town.a)
    m.return_for_information(CASEWORKER, returned, 1, request="请补充低保证明")
    answered = apply_meal(rt, WORKER, town.a)
    v = m.return_for_information(CASEWORKER, answered, 1, request="请补充")
    m.supply_information(WORKER, answered, v, reply="已补充")
    m.reject(CASEWORKER, apply_meal(rt, OTHER_FAMILY, town.b), 1, reason="不在服务范围")
    m.withdraw(FAMILY, apply_meal(rt, FAMILY, town.b), 1, reason="不需要了")
    enrolled = enrol(rt, town.b, on=days_ago(20))
    m.withdraw(FAMILY, enrolled, 2, reason="家里请了保姆")
    m.end_enrolment(CASEWORKER, town.e2, 2, reason="老人住院")
    pb = provider_of(town.b)
    m.record_day(pb, town.b, days_ago(4), [str(town.e4)], 3)
    m.correct_day(pb, town.b, days_ago(4), 1, [], 3, reason="老人当天没来")
    m.correct_day(pb, town.b, days_ago(4), 2, [str(town.e4)], 1, reason="再次核对")
    m.correct_day(provider_of(town.a), town.a, days_ago(2), 2, [], 9, reason="签到表丢失")
    return town


def test_live_projection_equals_a_rebuild(rt: Runtime) -> None:
    varied_history(rt)
    rt.catch_up()
    live = meal_read_models(rt.engine)
    assert len(live["rm_meal_enrolments"]) == 5 + 5
    assert len(live["rm_meal_days"]) == 6
    assert set(count_enrolments_by_step(rt.engine, AUDITOR)) == set(EnrolmentStep.ALL)
    rt.projector.rebuild()
    assert meal_read_models(rt.engine) == live
    head = rt.meals.recorder.max_notification_id()
    assert {n: rt.projector.position(n) for n in PROJECTION_NAMES} == dict.fromkeys(
        PROJECTION_NAMES, head
    )


def test_rebuild_in_small_batches_equals_live(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    varied_history(rt)
    rt.catch_up()
    live = meal_read_models(rt.engine)
    monkeypatch.setattr(runner, "BATCH_SIZE", 3)  # corrections fall in every kind of batch
    rt.projector.rebuild()
    assert meal_read_models(rt.engine) == live


def test_projected_rows_match_the_aggregates(rt: Runtime) -> None:
    varied_history(rt)
    rt.catch_up()
    with rt.engine.connect() as conn:
        enrolments = conn.execute(select(meal_enrolments)).all()
        days = conn.execute(select(meal_days)).all()
    for row in enrolments:
        found = rt.meals.repository.get(row.case_id)
        assert (row.step, row.version, row.canteen_id) == (
            found.step,
            found.version,
            found.canteen_id,
        )
        assert (str(row.enrolled_on) if row.enrolled_on else None) == found.enrolled_on
        assert (str(row.left_on) if row.left_on else None) == found.left_on
        assert [e.version for e in enrolment_timeline(rt.engine, row.case_id)] == list(
            range(1, found.version + 1)
        )
    for row in days:
        found = rt.meals.repository.get(row.day_id)
        assert (row.enrolled_served, row.walk_ins, row.total, row.version) == (
            len(found.served), found.walk_in_count, found.total, found.version,
        )  # fmt: skip
        assert row.corrected == (found.corrections > 0)


# -- enrolment lists, detail, timeline ----------------------------------------------------------
VIEWERS = [
    FAMILY, OTHER_FAMILY, WORKER, WORKER_SONGHE, WORKER_D02, CASEWORKER, CASEWORKER_D02,
    ASSESSOR, AUDITOR, SUPERVISOR, ADMIN, PROVIDER, FINANCE,
]  # fmt: skip


def everything(rt: Runtime, actor: Actor, **filters: Any) -> list[UUID]:
    page = list_enrolments(rt.engine, actor, now=datetime.now(UTC), limit=1000, **filters)
    return [row.case_id for row in page.rows]


def test_each_role_lists_exactly_the_enrolments_it_may_see(rt: Runtime) -> None:
    town = varied_history(rt)
    rt.catch_up()
    with rt.engine.connect() as conn:
        rows = conn.execute(select(meal_enrolments)).all()
    viewers = [*VIEWERS, provider_of(town.a), provider_of(town.b), provider_of(town.c, "D02")]
    for viewer in viewers:
        allowed = {r.case_id for r in rows if may_see_enrolment(viewer, r)}
        assert set(everything(rt, viewer)) == allowed, viewer
        assert all(
            enrolment_detail(rt.engine, viewer, r.case_id) is None
            for r in rows
            if r.case_id not in allowed
        )
    assert set(everything(rt, provider_of(town.c, "D02"))) == {town.e5}
    assert set(everything(rt, CASEWORKER_D02)) == {town.e5}
    family, other = set(everything(rt, FAMILY)), set(everything(rt, OTHER_FAMILY))
    assert family and other and not family & other
    assert everything(rt, PROVIDER) == everything(rt, FINANCE) == []
    assert set(everything(rt, AUDITOR, canteen_id=town.b)) == {
        r.case_id for r in rows if r.canteen_id == town.b
    }
    assert everything(rt, CASEWORKER, district="D02") == []  # a filter never widens the scope
    approved = everything(rt, CASEWORKER, step=EnrolmentStep.APPROVED)
    assert set(approved) == {town.e1, town.e3, town.e4}
    counts = count_enrolments_by_step(rt.engine, AUDITOR)
    assert sum(counts.values()) == len(rows) and counts[EnrolmentStep.ENDED] == 1
    assert count_enrolments_by_step(rt.engine, AUDITOR, district="D02") == {"approved": 1}


def test_keyset_pagination_walks_every_row_once(rt: Runtime) -> None:
    canteen = open_canteen(rt)
    same_moment = datetime.now(UTC) - timedelta(days=3)
    with frozen_at(same_moment):  # ties on step_since: the cursor must break them by id
        made = [apply_meal(rt, FAMILY, canteen) for _ in range(9)]
    made += [apply_meal(rt, FAMILY, canteen) for _ in range(4)]
    rt.catch_up()
    expected = everything(rt, CASEWORKER)
    assert sorted(expected) == sorted(made)
    pages, cursor = [], None
    while True:
        page = list_enrolments(rt.engine, CASEWORKER, now=datetime.now(UTC), limit=4, cursor=cursor)
        pages.append([r.case_id for r in page.rows])
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [len(p) for p in pages] == [4, 4, 4, 1]
    assert [c for p in pages for c in p] == expected
    first = list_enrolments(rt.engine, CASEWORKER, now=datetime.now(UTC), limit=13)
    assert first.next_cursor is None
    assert {row.days_in_step for row in first.rows} == {0, 3}
    with pytest.raises(ValueError):
        list_enrolments(rt.engine, CASEWORKER, now=datetime.now(UTC), cursor="not-a-cursor")


def test_detail_and_timeline_of_an_enrolment(rt: Runtime) -> None:
    canteen = open_canteen(rt)
    case_id = apply_meal(rt, WORKER, canteen, mode="delivery", subsidy_category="tekun")
    v = rt.meals.return_for_information(CASEWORKER, case_id, 1, request="请补充特困证明")
    v = rt.meals.supply_information(WORKER, case_id, v, reply="已补充")
    v = rt.meals.approve(CASEWORKER, case_id, v, note="符合特困条件")
    rt.meals.end_enrolment(CASEWORKER, case_id, v, reason="老人住进敬老院")
    rt.catch_up()

    detail = enrolment_detail(rt.engine, WORKER, case_id)
    assert detail is not None
    assert (detail.step, detail.version, detail.mode, detail.subsidy_category) == (
        EnrolmentStep.ENDED, 5, "delivery", "tekun",
    )  # fmt: skip
    assert (detail.channel, detail.canteen_id, detail.relation) == ("proxy", canteen, "child")
    assert detail.enrolled_on == detail.left_on == rt.meals.today()
    assert detail.reference.startswith("ZC-")
    entries = enrolment_timeline(rt.engine, case_id)
    assert [e.kind for e in entries] == [
        "Applied",
        "ReturnedForInformation",
        "InformationSupplied",
        "EnrolmentApproved",
        "EnrolmentEnded",
    ]
    assert [e.actor_id for e in entries] == [
        WORKER.user_id, CASEWORKER.user_id, WORKER.user_id, CASEWORKER.user_id, CASEWORKER.user_id,
    ]  # fmt: skip
    assert entries[0].details == {
        "reference": detail.reference,
        "channel": "proxy",
        "relation": "child",
        "canteen_id": str(canteen),
        "mode": "delivery",
        "subsidy_category": "tekun",
    }
    assert entries[3].details == {
        "enrolled_on": rt.meals.today().isoformat(),
        "note": "符合特困条件",
    }
    assert entries[4].details["reason"] == "老人住进敬老院"
    assert "糖尿病" not in repr(entries)  # the dietary needs stay in the person store


@pytest.mark.parametrize("projection", meal_projections.PROJECTIONS, ids=lambda p: p.name)
def test_positions_guard_against_applying_an_event_twice(rt: Runtime, projection: Any) -> None:
    varied_history(rt)
    rt.catch_up()
    before = meal_read_models(rt.engine)
    with rt.engine.begin() as conn:  # position lost, rows kept: replaying must not double them
        conn.execute(
            positions.update().where(positions.c.name == projection.name).values(position=0)
        )
    with pytest.raises(IntegrityError):
        Projector(rt.engine, rt.meals, [projection]).catch_up()
    assert meal_read_models(rt.engine) == before
    rt.projector.rebuild()
    assert meal_read_models(rt.engine) == before
