"""Staffing reports on real databases: one report per facility and month, corrections instead of
overwrites, providers kept to their own facility, and the derived ratio and turnover figures."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import AggregateNotFoundError

from events.clock import frozen_at
from events.errors import ReasonRequired
from events.facility import Kind, WrongFacilityKind
from events.workforce import (
    AlreadyReported,
    InvalidStaffingReport,
    StaffingReport,
    period_index,
    period_of,
    report_id,
)
from portal.runtime import Runtime
from projections.workforce import staffing_reports
from projections.workforce_queries import (
    district_workforce,
    facility_workforce,
    staffing_history,
    staffing_report,
    workforce_by_district,
)
from services.errors import CaseNotFound, NotPermitted, StaleCase
from tests.support.actors import table_rows
from tests.support.facilities import (
    ADMIN,
    AUDITOR,
    CASEWORKER,
    CASEWORKER_D02,
    D02,
    FAMILY,
    INSPECTOR,
    NOW,
    SUPERVISOR,
    figures,
    provider_of,
    register,
    register_provider,
)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    """Reports are sent on 2025-07-15: July may be reported, August not yet."""
    with frozen_at(NOW):
        yield


def report(rt: Runtime, org: UUID, period: str, actor: Any = None, **kw: int) -> UUID:
    return rt.facilities.report_staffing(
        actor or provider_of(org), organisation_id=org, period=period, **figures(**kw)
    )


def exists(rt: Runtime, aggregate_id: UUID) -> bool:
    try:
        rt.facilities.repository.get(aggregate_id)
    except AggregateNotFoundError:
        return False
    return True


def report_version(rt: Runtime, org: UUID, period: str) -> int:
    return rt.facilities.repository.get(report_id(org, period)).version


# -- reporting ------------------------------------------------------------------------------------------
def test_a_provider_reports_its_own_facilitys_month(rt: Runtime) -> None:
    centre = register(rt, Kind.CARE_CENTRE)
    me = provider_of(centre)
    made = report(rt, centre, "2025-06", me, caregivers=12, trained=9)
    assert made == report_id(centre, "2025-06")
    stored = rt.facilities.repository.get(made)
    assert isinstance(stored, StaffingReport)
    assert (stored.organisation_id, stored.period, stored.district, stored.kind) == (
        centre, "2025-06", "D01", Kind.CARE_CENTRE,
    )  # fmt: skip
    assert stored.figures == figures(caregivers=12, trained=9)
    [reported] = rt.facilities.repository.event_store.get(made)
    assert (type(reported).__name__, reported.actor_id) == ("Reported", me.user_id)
    assert rt.facilities.staffing_for(me, centre, "2025-06").version == 1

    report(rt, centre, "2025-07", me)  # the month under way may be reported
    report(rt, centre, "2025-05", ADMIN)  # an admin may report for any facility


def test_institutions_centres_and_provider_organisations_report_but_canteens_do_not(
    rt: Runtime,
) -> None:
    for org in (
        register(rt, Kind.INSTITUTION),
        register(rt, Kind.CARE_CENTRE),
        register_provider(rt),
    ):
        report(rt, org, "2025-06")
    canteen = register(rt, Kind.CANTEEN)
    with pytest.raises(WrongFacilityKind) as caught:
        report(rt, canteen, "2025-06")
    assert (caught.value.action, caught.value.kind) == ("report_staffing", Kind.CANTEEN)


def test_a_second_report_for_the_same_month_is_refused(rt: Runtime) -> None:
    centre = register(rt, Kind.CARE_CENTRE)
    report(rt, centre, "2025-06", caregivers=10)
    for actor in (provider_of(centre), ADMIN):
        with pytest.raises(AlreadyReported) as caught:
            report(rt, centre, "2025-06", actor, caregivers=11)
        assert caught.value.params == {"period": "2025-06"}
    assert report_version(rt, centre, "2025-06") == 1
    assert rt.facilities.repository.get(report_id(centre, "2025-06")).figures["caregivers"] == 10


def test_a_correction_replaces_the_figures_and_keeps_the_history(rt: Runtime) -> None:
    centre = register(rt, Kind.CARE_CENTRE)
    me = provider_of(centre)
    report(rt, centre, "2025-06", caregivers=10, departures=4)
    v = rt.facilities.correct_staffing(
        me,
        centre,
        "2025-06",
        1,
        **figures(caregivers=9, departures=3),
        reason="有一名护理员重复统计。",
    )
    assert v == 2
    stored = rt.facilities.repository.get(report_id(centre, "2025-06"))
    assert (stored.figures["caregivers"], stored.figures["departures"], stored.corrections) == (
        9,
        3,
        1,
    )
    reported, corrected = rt.facilities.repository.event_store.get(stored.id)
    assert (reported.caregivers, corrected.caregivers) == (10, 9)  # the first report stays
    assert (corrected.reason, corrected.actor_id) == ("有一名护理员重复统计。", me.user_id)
    assert (
        rt.facilities.correct_staffing(
            ADMIN, centre, "2025-06", 2, **figures(caregivers=9, departures=2), reason="再次核对。"
        )
        == 3
    )


def test_corrections_need_a_reason_a_change_and_the_current_version(rt: Runtime) -> None:
    centre = register(rt, Kind.CARE_CENTRE)
    me = provider_of(centre)
    report(rt, centre, "2025-06")
    correct = rt.facilities.correct_staffing
    with pytest.raises(ReasonRequired):
        correct(me, centre, "2025-06", 1, **figures(caregivers=11), reason="  ")
    with pytest.raises(InvalidStaffingReport) as caught:
        correct(me, centre, "2025-06", 1, **figures(), reason="没有变化")
    assert caught.value.detail == "unchanged"
    with pytest.raises(InvalidStaffingReport):
        correct(me, centre, "2025-06", 1, **figures(trained=11), reason="培训")
    correct(me, centre, "2025-06", 1, **figures(caregivers=11), reason="补报一人")
    with pytest.raises(StaleCase) as stale:  # a second form rendered at version 1
        correct(ADMIN, centre, "2025-06", 1, **figures(caregivers=12), reason="补报两人")
    assert (stale.value.expected, stale.value.current) == (1, 2)
    assert report_version(rt, centre, "2025-06") == 2
    with pytest.raises(CaseNotFound):  # nothing to correct for a month never reported
        correct(me, centre, "2025-05", 1, **figures(caregivers=11), reason="补报")


def test_a_provider_cannot_report_or_correct_for_another_facility(rt: Runtime) -> None:
    mine, theirs = register(rt, Kind.CARE_CENTRE), register(rt, Kind.INSTITUTION)
    report(rt, theirs, "2025-06")
    me = provider_of(mine)
    with pytest.raises(NotPermitted):
        report(rt, theirs, "2025-05", me)
    with pytest.raises(NotPermitted):
        rt.facilities.correct_staffing(
            me, theirs, "2025-06", 1, **figures(caregivers=1), reason="x"
        )
    with pytest.raises(NotPermitted):
        rt.facilities.staffing_for(me, theirs, "2025-06")
    with pytest.raises(NotPermitted):  # refused the same way whether the facility exists or not
        report(rt, uuid4(), "2025-05", me)
    for actor in (CASEWORKER, INSPECTOR, SUPERVISOR, AUDITOR, FAMILY):
        with pytest.raises(NotPermitted):
            report(rt, mine, "2025-06", actor)
    assert not exists(rt, report_id(theirs, "2025-05"))


def test_unknown_organisations_are_not_found(rt: Runtime) -> None:
    ghost = uuid4()
    for actor in (ADMIN, provider_of(ghost)):
        with pytest.raises(CaseNotFound):
            report(rt, ghost, "2025-06", actor)


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"caregivers": -1}, "caregivers"),
        ({"residents_or_clients": True}, "residents_or_clients"),  # bool is not a head count
        ({"hires": 1.0}, "hires"),
        ({"departures": "2"}, "departures"),
        ({"trained": None}, "trained"),
        ({"caregivers": 100_001}, "caregivers"),
        ({"caregivers": 5, "trained": 6}, "trained"),  # trained staff are among the caregivers
    ],
)
def test_figures_are_whole_numbers_in_range(
    rt: Runtime, change: dict[str, Any], detail: str
) -> None:
    centre = register(rt, Kind.CARE_CENTRE)
    with pytest.raises(InvalidStaffingReport) as caught:
        report(rt, centre, "2025-06", **change)
    assert caught.value.detail == detail
    assert not exists(rt, report_id(centre, "2025-06"))


@pytest.mark.parametrize(
    ("period", "detail"),
    [
        ("2025-6", "period"),
        ("2025-13", "period"),
        ("June", "period"),
        ("2025-08", "period_in_future"),
    ],
)
def test_the_period_is_a_month_that_has_begun(rt: Runtime, period: str, detail: str) -> None:
    centre = register(rt, Kind.CARE_CENTRE)
    with pytest.raises(InvalidStaffingReport) as caught:
        report(rt, centre, period)
    assert caught.value.detail == detail


def test_the_same_month_reported_at_once_is_one_report(rt: Runtime) -> None:
    centre = register(rt, Kind.CARE_CENTRE)
    barrier, outcomes, lock = threading.Barrier(3), [], threading.Lock()

    def send(caregivers: int) -> None:
        with frozen_at(NOW):
            barrier.wait(timeout=30)
            try:
                outcome: object = report(rt, centre, "2025-06", caregivers=caregivers)
            except Exception as error:
                outcome = error
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=send, args=(n,)) for n in (10, 11, 12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [o for o in outcomes if isinstance(o, UUID)] == [report_id(centre, "2025-06")]
    assert sum(isinstance(o, AlreadyReported) for o in outcomes) == 2, outcomes
    assert report_version(rt, centre, "2025-06") == 1


def test_periods_count_back_across_years() -> None:
    assert period_of(period_index("2025-01") - 1) == "2024-12"
    assert period_of(period_index("2025-06") - 11) == "2024-07"
    assert period_index("2025-12") - period_index("2025-01") == 11


# -- ratio and turnover, against a hand-computed city -------------------------------------------------
# Care centre A (D01), January to June 2025:
A_CAREGIVERS = [10, 10, 12, 12, 8, 8]  # 60 in 6 months: 10 on average
A_ELDERS = [40, 42, 45, 48, 50, 52]
A_DEPARTURES = [1, 0, 2, 0, 4, 1]  # 8
A_HIRES = [0, 0, 2, 0, 0, 1]


def seed_city(rt: Runtime) -> dict[str, UUID]:
    """A: a D01 centre, six months; B: a provider (office in D01), thirteen months, the first
    outside the year; C: a D02 institution, June only."""
    a = register(rt, Kind.CARE_CENTRE, planned_on=date(2024, 1, 8))
    for month in range(6):
        report(rt, a, f"2025-{month + 1:02d}", caregivers=A_CAREGIVERS[month],
               residents_or_clients=A_ELDERS[month], departures=A_DEPARTURES[month],
               hires=A_HIRES[month], trained=A_CAREGIVERS[month] - 2)  # fmt: skip
    b = register_provider(rt, since=date(2024, 5, 1))
    report(rt, b, "2024-06", caregivers=50, residents_or_clients=100, departures=30, trained=0)
    report(rt, b, "2024-07", caregivers=20, residents_or_clients=100, departures=6, trained=0)
    for n in range(11):  # 2024-08 .. 2025-06
        period = period_of(period_index("2024-08") + n)
        report(rt, b, period, caregivers=20, residents_or_clients=100, departures=1, trained=0)
    c = register(rt, Kind.INSTITUTION, place=D02, planned_on=date(2024, 3, 1))
    report(rt, c, "2025-06", caregivers=5, residents_or_clients=30, departures=2, trained=5)
    rt.catch_up()
    return {"a": a, "b": b, "c": c}


def test_a_facilitys_ratio_and_turnover_as_at_any_period(rt: Runtime) -> None:
    city = seed_city(rt)
    june = facility_workforce(rt.engine, AUDITOR, city["a"], "2025-06")
    assert (june.first_period, june.organisations, june.caregivers, june.residents_or_clients) == (
        "2024-07", 1, 8, 52,
    )  # fmt: skip
    assert june.elders_per_caregiver == Decimal("6.50")  # 52 / 8
    assert (june.departures, june.average_caregivers) == (8, Decimal("10.00"))
    assert june.annual_turnover == Decimal("0.8000")  # 8 / 10

    march = facility_workforce(rt.engine, AUDITOR, city["a"], "2025-03")
    assert march.elders_per_caregiver == Decimal("3.75")  # 45 / 12
    assert (march.departures, march.average_caregivers) == (3, Decimal("10.67"))  # 32 / 3
    assert march.annual_turnover == Decimal("0.2813")  # 3 / (32/3) = 0.28125

    b_june = facility_workforce(rt.engine, AUDITOR, city["b"], "2025-06")
    assert (b_june.elders_per_caregiver, b_june.departures) == (Decimal("5.00"), 17)  # not 2024-06
    assert b_june.annual_turnover == Decimal("0.8500")  # 17 / 20
    b_july = facility_workforce(rt.engine, AUDITOR, city["b"], "2025-07")  # not reported yet
    assert (b_july.organisations, b_july.caregivers, b_july.elders_per_caregiver) == (0, 0, None)
    assert (b_july.departures, b_july.annual_turnover) == (11, Decimal("0.5500"))  # 2024-08 on

    nothing = facility_workforce(rt.engine, AUDITOR, city["c"], "2024-12")
    assert (nothing.average_caregivers, nothing.annual_turnover, nothing.departures) == (
        None,
        None,
        0,
    )


def test_a_districts_ratio_and_turnover(rt: Runtime) -> None:
    city = seed_city(rt)
    d01 = district_workforce(rt.engine, SUPERVISOR, "D01", "2025-06")
    assert d01 is not None
    assert (d01.organisations, d01.caregivers, d01.residents_or_clients) == (2, 28, 152)
    assert d01.elders_per_caregiver == Decimal("5.43")  # 152 / 28 = 5.428...
    assert (d01.departures, d01.average_caregivers) == (25, Decimal("30.00"))  # 8 + 17; 10 + 20
    assert d01.annual_turnover == Decimal("0.8333")  # 25 / 30
    d02 = district_workforce(rt.engine, CASEWORKER_D02, "D02", "2025-06")
    assert d02 is not None
    assert (d02.elders_per_caregiver, d02.annual_turnover) == (Decimal("6.00"), Decimal("0.4000"))
    assert workforce_by_district(rt.engine, AUDITOR, "2025-06") == {"D01": d01, "D02": d02}

    # The correction wins: A's May had 9 caregivers, and 3 left, not 4.
    rt.facilities.correct_staffing(
        provider_of(city["a"]), city["a"], "2025-05", 1,
        **figures(caregivers=9, residents_or_clients=50, hires=0, departures=3, trained=6),
        reason="五月离职人数多算了一人。",
    )  # fmt: skip
    rt.catch_up()
    a = facility_workforce(rt.engine, AUDITOR, city["a"], "2025-06")
    assert (a.departures, a.average_caregivers) == (7, Decimal("10.17"))  # 61 / 6
    assert a.annual_turnover == Decimal("0.6885")  # 7 / (61/6) = 42/61
    d01 = district_workforce(rt.engine, AUDITOR, "D01", "2025-06")
    assert d01 is not None
    assert (d01.departures, d01.average_caregivers) == (24, Decimal("30.17"))  # 181 / 6
    assert d01.annual_turnover == Decimal("0.7956")  # 24 / (181/6) = 144/181
    may = staffing_report(rt.engine, AUDITOR, city["a"], "2025-05")
    assert may is not None
    assert (may.caregivers, may.departures, may.corrections, may.version) == (9, 3, 1, 2)
    assert may.last_reason == "五月离职人数多算了一人。"


def test_who_sees_which_workforce_figures(rt: Runtime) -> None:
    city = seed_city(rt)
    a_provider = provider_of(city["a"])
    assert [r.period for r in staffing_history(rt.engine, a_provider, city["a"])] == [
        f"2025-{m:02d}" for m in range(1, 7)
    ]
    assert staffing_history(rt.engine, a_provider, city["b"]) == ()
    assert staffing_report(rt.engine, a_provider, city["b"], "2025-06") is None
    assert facility_workforce(rt.engine, a_provider, city["b"], "2025-06").organisations == 0
    assert district_workforce(rt.engine, a_provider, "D01", "2025-06") is None
    assert workforce_by_district(rt.engine, a_provider, "2025-06") == {}

    assert district_workforce(rt.engine, CASEWORKER, "D02", "2025-06") is None
    assert list(workforce_by_district(rt.engine, CASEWORKER, "2025-06")) == ["D01"]
    assert staffing_history(rt.engine, CASEWORKER, city["c"]) == ()
    assert len(staffing_history(rt.engine, CASEWORKER_D02, city["c"])) == 1
    assert len(staffing_history(rt.engine, FAMILY, city["a"])) == 0
    assert len(staffing_history(rt.engine, ADMIN, city["b"])) == 13


def test_the_staffing_read_model_rebuilds_to_the_live_one(rt: Runtime) -> None:
    city = seed_city(rt)
    for month in (2, 4):
        rt.facilities.correct_staffing(
            ADMIN, city["a"], f"2025-{month:02d}", 1,
            **figures(caregivers=11, residents_or_clients=44, departures=1, hires=1, trained=9),
            reason="复核",
        )  # fmt: skip
    rt.catch_up()
    live = table_rows(rt.engine, staffing_reports)
    assert len(live) == 6 + 13 + 1
    rt.projector.rebuild()
    assert table_rows(rt.engine, staffing_reports) == live
