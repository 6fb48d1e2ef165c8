"""A canteen's daily meal record on real databases: once, then only corrections; its own provider."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from events.clock import frozen_at
from events.errors import InvalidApplication, ReasonRequired
from events.facility import Kind
from events.meal import CanteenUnavailable
from events.meal_day import (
    MAX_WALK_INS,
    CanteenDay,
    DayAlreadyRecorded,
    InvalidMealRecord,
    canteen_day_id,
)
from events.roles import Actor
from portal.runtime import Runtime
from projections.meal_queries import canteen_day, canteen_days
from services.errors import CaseNotFound, NotPermitted, StaleCase
from tests.support.actors import (
    ADMIN,
    AUDITOR,
    CASEWORKER,
    CASEWORKER_D02,
    FAMILY,
    OTHER_FAMILY,
    PROVIDER,
    SUPERVISOR,
    WORKER,
)
from tests.support.meals import apply_meal, at_noon, days_ago, enrol, open_canteen, provider_of
from tests.support.scenario import apply


@pytest.fixture
def canteen(rt: Runtime) -> UUID:
    """An open canteen in 安康区."""
    return open_canteen(rt)


@pytest.fixture
def provider(canteen: UUID) -> Actor:
    """The canteen's own provider account."""
    return provider_of(canteen)


@pytest.fixture
def elders(rt: Runtime, canteen: UUID) -> list[str]:
    """Three elders enrolled at the canteen for the last month."""
    return sorted(str(enrol(rt, canteen, on=days_ago(30))) for _ in range(3))


def day_record(rt: Runtime, canteen: UUID, day: date) -> CanteenDay:
    found = rt.meals.repository.get(canteen_day_id(canteen, day))
    assert isinstance(found, CanteenDay)
    return found


def day_events(rt: Runtime, canteen: UUID, day: date) -> list[Any]:
    return list(rt.meals.repository.event_store.get(canteen_day_id(canteen, day)))


# -- recording and correcting -------------------------------------------------------------------
def test_the_provider_records_a_day_once(
    rt: Runtime, canteen: UUID, provider: Actor, elders: list[str]
) -> None:
    yesterday = days_ago(1)
    assert rt.meals.record_day(provider, canteen, yesterday, elders[::-1], 12) == 1
    record = day_record(rt, canteen, yesterday)
    assert (record.served, record.walk_in_count, record.total) == (elders, 12, 15)
    assert (record.day, record.district, record.canteen_id) == (
        yesterday.isoformat(),
        "D01",
        canteen,
    )
    assert day_events(rt, canteen, yesterday)[0].actor_id == provider.user_id

    with pytest.raises(DayAlreadyRecorded) as refused:
        rt.meals.record_day(provider, canteen, yesterday.isoformat(), elders[:1], 3)
    assert refused.value.params == {"version": 1}
    assert day_record(rt, canteen, yesterday).walk_in_count == 12  # never overwritten
    assert len(day_events(rt, canteen, yesterday)) == 1


def test_a_correction_replaces_the_figures_and_keeps_the_history(
    rt: Runtime, canteen: UUID, provider: Actor, elders: list[str]
) -> None:
    day = days_ago(2)
    rt.meals.record_day(provider, canteen, day, elders[:2], 5)
    v = rt.meals.correct_day(
        provider, canteen, day, 1, elders[1:], 7, reason="漏记了一位老人,堂食多来了两位"
    )
    assert v == 2
    record = day_record(rt, canteen, day)
    assert (record.served, record.walk_in_count, record.corrections) == (elders[1:], 7, 1)
    recorded, corrected = day_events(rt, canteen, day)
    assert (recorded.served, recorded.walk_in_count) == (elders[:2], 5)
    assert (corrected.reason, corrected.actor_id) == (
        "漏记了一位老人,堂食多来了两位",
        provider.user_id,
    )
    assert rt.meals.correct_day(provider, canteen, day, 2, [], 0, reason="当天停电未开餐") == 3


def test_a_correction_must_change_something_say_why_and_be_current(
    rt: Runtime, canteen: UUID, provider: Actor, elders: list[str]
) -> None:
    day = days_ago(1)
    rt.meals.record_day(provider, canteen, day, elders, 4)
    with pytest.raises(InvalidMealRecord) as unchanged:
        rt.meals.correct_day(provider, canteen, day, 1, elders[::-1], 4, reason="核对")
    assert unchanged.value.detail == "unchanged"
    with pytest.raises(ReasonRequired):
        rt.meals.correct_day(provider, canteen, day, 1, elders, 5, reason="  ")
    with pytest.raises(InvalidApplication):
        rt.meals.correct_day(provider, canteen, day, 1, elders, 5, reason="多" * 1001)
    rt.meals.correct_day(provider, canteen, day, 1, elders, 5, reason="多来一位")
    with pytest.raises(StaleCase) as stale:
        rt.meals.correct_day(provider, canteen, day, 1, elders, 6, reason="又多一位")
    assert (stale.value.expected, stale.value.current) == (1, 2)
    with pytest.raises(CaseNotFound):  # a day never recorded is recorded, not corrected
        rt.meals.correct_day(provider, canteen, days_ago(3), 1, elders, 6, reason="补")
    assert day_record(rt, canteen, day).walk_in_count == 5


def test_a_correction_lost_to_a_concurrent_one_is_stale(
    rt: Runtime,
    canteen: UUID,
    provider: Actor,
    elders: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    day = days_ago(1)
    rt.meals.record_day(provider, canteen, day, elders, 4)
    save = rt.meals.save

    def save_after_someone_else(*aggregates: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(rt.meals, "save", save)
        rival = rt.meals.repository.get(canteen_day_id(canteen, day))
        rival._corrected(served=elders, walk_in_count=9, reason="另一台电脑", actor_id="x")
        save(rival)
        return save(*aggregates, **kwargs)

    monkeypatch.setattr(rt.meals, "save", save_after_someone_else)
    with pytest.raises(StaleCase) as stale:
        rt.meals.correct_day(provider, canteen, day, 1, elders[:1], 4, reason="少一位")
    assert (stale.value.expected, stale.value.current) == (1, 2)
    assert day_record(rt, canteen, day).walk_in_count == 9


def test_two_first_records_at_once_leave_one(
    rt: Runtime,
    canteen: UUID,
    provider: Actor,
    elders: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two screens record the same day; the other lands between our check and our save."""
    day = days_ago(1)
    save = rt.meals.save

    def save_after_someone_else(*aggregates: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(rt.meals, "save", save)
        rt.meals.record_day(provider, canteen, day, elders[:1], 1)
        return save(*aggregates, **kwargs)

    monkeypatch.setattr(rt.meals, "save", save_after_someone_else)
    with pytest.raises(DayAlreadyRecorded):
        rt.meals.record_day(provider, canteen, day, elders, 8)
    assert (day_record(rt, canteen, day).walk_in_count, len(day_events(rt, canteen, day))) == (1, 1)


# -- what a day may hold ------------------------------------------------------------------------
def test_today_may_be_recorded_but_not_tomorrow(
    rt: Runtime, canteen: UUID, provider: Actor, elders: list[str]
) -> None:
    tomorrow = rt.meals.today() + timedelta(days=1)
    with pytest.raises(InvalidMealRecord) as refused:
        rt.meals.record_day(provider, canteen, tomorrow, [], 3)
    assert refused.value.detail == "future_date"
    assert rt.meals.record_day(provider, canteen, rt.meals.today(), elders, 0) == 1


def test_the_day_is_the_citys_calendar_day(rt: Runtime, canteen: UUID, provider: Actor) -> None:
    # 23:30 UTC on 1 March is 07:30 on 2 March in the city: breakfast of the 2nd is not future.
    with frozen_at(datetime(2026, 3, 1, 23, 30, tzinfo=UTC)):
        assert rt.meals.record_day(provider, canteen, "2026-03-02", [], 6) == 1
        with pytest.raises(InvalidMealRecord):
            rt.meals.record_day(provider, canteen, "2026-03-03", [], 6)


@pytest.mark.parametrize(
    ("day", "detail"),
    [
        ("2026-13-01", "date"),
        ("yesterday", "date"),
        (datetime(2026, 3, 1, 12, tzinfo=UTC), "date"),
    ],
    ids=["month-13", "word", "datetime"],
)
def test_a_day_must_be_a_date(
    rt: Runtime, canteen: UUID, provider: Actor, day: Any, detail: str
) -> None:
    with pytest.raises(InvalidMealRecord) as refused:
        rt.meals.record_day(provider, canteen, day, [], 1)
    assert refused.value.detail == detail


@pytest.mark.parametrize("walk_ins", [-1, True, False, 2.0, "3", None, MAX_WALK_INS + 1])
def test_walk_ins_are_a_whole_number_from_zero(
    rt: Runtime, canteen: UUID, provider: Actor, walk_ins: Any
) -> None:
    with pytest.raises(InvalidMealRecord) as refused:
        rt.meals.record_day(provider, canteen, days_ago(1), [], walk_ins)
    assert refused.value.detail == "walk_in_count"
    assert rt.meals.record_day(provider, canteen, days_ago(1), [], MAX_WALK_INS) == 1


def test_served_elders_are_distinct_well_formed_ids(
    rt: Runtime, canteen: UUID, provider: Actor, elders: list[str]
) -> None:
    day = days_ago(1)
    for served, detail in (
        ([elders[0], elders[1], elders[0]], "duplicate"),
        ([elders[0], elders[0].upper()], "duplicate"),  # the same id, written differently
        (["not-an-id"], "served"),
        (elders[0], "served"),  # one id, not a list of them
        (None, "served"),
    ):
        with pytest.raises(InvalidMealRecord) as refused:
            rt.meals.record_day(provider, canteen, day, served, 1)
        assert refused.value.detail == detail
    assert rt.meals.record_day(provider, canteen, day, [UUID(e) for e in elders], 1) == 1
    assert day_record(rt, canteen, day).served == elders


def test_only_elders_enrolled_here_on_that_day_count(
    rt: Runtime, canteen: UUID, provider: Actor, elders: list[str]
) -> None:
    other = open_canteen(rt, name="松鹤社区老年食堂")
    elsewhere = str(enrol(rt, other, on=days_ago(30)))
    submitted = str(apply_meal(rt, FAMILY, canteen))
    rejected = apply_meal(rt, FAMILY, canteen)
    rt.meals.reject(CASEWORKER, rejected, 1, reason="不符合条件")
    recent = str(enrol(rt, canteen, on=days_ago(5)))
    ended = enrol(rt, canteen, on=days_ago(30))
    with frozen_at(at_noon(days_ago(10))):
        rt.meals.end_enrolment(CASEWORKER, ended, 2, reason="老人住院")
    day = days_ago(7)
    for stranger in (elsewhere, submitted, str(rejected), recent, str(ended), str(uuid4())):
        with pytest.raises(InvalidMealRecord) as refused:
            rt.meals.record_day(provider, canteen, day, [*elders, stranger], 2)
        assert (refused.value.detail, refused.value.params) == (
            "not_enrolled",
            {"enrolment_id": stranger},
        )
    assert day_events(rt, canteen, day) == []
    with pytest.raises(InvalidMealRecord):  # a retrofit case is not an enrolment
        rt.meals.record_day(provider, canteen, day, [str(apply(rt, FAMILY))], 2)

    # The ended elder's last days still count, and can still be corrected after the end.
    assert rt.meals.record_day(provider, canteen, days_ago(10), [str(ended)], 0) == 1
    rt.meals.record_day(provider, canteen, days_ago(12), [], 2)
    v = rt.meals.correct_day(provider, canteen, days_ago(12), 1, [str(ended)], 2, reason="补记")
    assert v == 2
    assert rt.meals.record_day(provider, canteen, days_ago(5), [recent, *elders], 0) == 1


# -- which canteen --------------------------------------------------------------------------------
def test_the_canteen_must_be_an_open_canteen(rt: Runtime) -> None:
    centre = open_canteen(rt, kind=Kind.CARE_CENTRE, name="春晖社区养老服务中心")
    unopened = open_canteen(rt, up_to="completed")
    for facility, detail in (
        (centre, "not_canteen"),
        (unopened, "not_in_operation"),
        (uuid4(), "unknown"),
    ):
        with pytest.raises(CanteenUnavailable) as refused:
            rt.meals.record_day(provider_of(facility), facility, days_ago(1), [], 4)
        assert refused.value.detail == detail


def test_another_canteens_provider_can_neither_record_nor_read(
    rt: Runtime, canteen: UUID, provider: Actor, elders: list[str]
) -> None:
    other = open_canteen(rt, name="松鹤社区老年食堂")
    intruder = provider_of(other)
    day = days_ago(1)
    with pytest.raises(NotPermitted):
        rt.meals.record_day(intruder, canteen, day, elders, 3)
    rt.meals.record_day(provider, canteen, day, elders, 3)
    with pytest.raises(NotPermitted):
        rt.meals.correct_day(intruder, canteen, day, 1, [], 3, reason="改")
    with pytest.raises(CaseNotFound):
        rt.meals.day_for(intruder, canteen, day)
    rt.catch_up()
    assert canteen_day(rt.engine, intruder, canteen, day) is None
    assert canteen_days(rt.engine, intruder, canteen, start=days_ago(9), end=day) == ()
    assert canteen_day(rt.engine, provider, canteen, day) is not None
    # Its own (empty) canteen stays its own.
    assert rt.meals.record_day(intruder, other, day, [], 8) == 1


@pytest.mark.parametrize(
    "actor",
    [FAMILY, WORKER, CASEWORKER, AUDITOR, ADMIN, PROVIDER],
    ids=lambda a: a.user_id,
)
def test_only_the_canteens_provider_records(rt: Runtime, canteen: UUID, actor: Actor) -> None:
    with pytest.raises(NotPermitted):
        rt.meals.record_day(actor, canteen, days_ago(1), [], 3)
    assert day_events(rt, canteen, days_ago(1)) == []


def test_who_may_read_a_canteens_day(rt: Runtime, canteen: UUID, provider: Actor) -> None:
    day = days_ago(1)
    rt.meals.record_day(provider, canteen, day, [], 3)
    for reader in (provider, CASEWORKER, AUDITOR, SUPERVISOR, ADMIN):
        assert rt.meals.day_for(reader, canteen, day).walk_in_count == 3
    for outsider in (CASEWORKER_D02, FAMILY, OTHER_FAMILY, WORKER, PROVIDER):
        with pytest.raises(CaseNotFound):
            rt.meals.day_for(outsider, canteen, day)
    with pytest.raises(CaseNotFound):
        rt.meals.day_for(provider, canteen, days_ago(2))
