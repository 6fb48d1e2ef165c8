"""Facility read models: live equals rebuilt, rows match the aggregates, days to deadline and the
late flag against a given day, inspection lists, and each role seeing only its facilities."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from events.clock import frozen_at
from events.facility import MILESTONES, Kind, may_see_facility
from events.roles import Actor, Role
from portal.runtime import Runtime
from projections import runner
from projections.facilities import PROJECTIONS
from projections.facility_inspections import InspectionKind, facility_inspections
from projections.facility_progress import FacilityProgress
from projections.facility_progress import facility_progress as progress_table
from projections.facility_queries import (
    count_by_milestone,
    facility_progress,
    inspections,
    list_facilities,
)
from projections.runner import Projector
from projections.workforce import staffing_reports
from tests.support.actors import table_rows
from tests.support.facilities import (
    ADMIN,
    ASSESSOR,
    AUDITOR,
    CASEWORKER,
    CASEWORKER_D02,
    D02,
    DEADLINE,
    FAMILY,
    FINANCE,
    INSPECTOR,
    INSPECTOR_D02,
    NOW,
    PHOTO,
    SUPERVISOR,
    TODAY,
    WORKER,
    accept,
    day_of,
    facility,
    provider_of,
    register,
    register_provider,
    version,
    walk_to,
)

TABLES = (progress_table, facility_inspections, staffing_reports)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with frozen_at(NOW):
        yield


def read_models(rt: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    return {t.name: table_rows(rt.engine, t) for t in TABLES}


def site(
    rt: Runtime, facility_id: UUID, on: str, follow_up: bool, actor: Actor = INSPECTOR
) -> None:
    rt.facilities.log_site_inspection(
        actor, facility_id, version(rt, facility_id), findings=f"{on} 检查记录",
        follow_up_required=follow_up, photos=[PHOTO], inspected_on=on,
    )  # fmt: skip


def food(rt: Runtime, facility_id: UUID, on: str, passed: bool, actor: Actor = INSPECTOR) -> None:
    rt.facilities.log_food_safety_inspection(
        actor, facility_id, version(rt, facility_id), passed=passed,
        findings="" if passed else "冷藏柜温度超标。", photos=[], inspected_on=on,
    )  # fmt: skip


def city(rt: Runtime, *, catch_up: bool = True) -> dict[str, UUID]:
    """Facilities of every kind and milestone, with deadlines, inspections, beds and acceptance;
    catching up now and then as the portal does."""
    made: dict[str, UUID] = {}

    def later() -> None:
        if catch_up:
            rt.catch_up()

    for n, milestone in enumerate(MILESTONES):
        made[milestone] = walk_to(
            rt, register(rt, Kind.CARE_CENTRE, name=f"第{n}服务中心"), milestone
        )
    later()
    made["late"] = walk_to(
        rt, register(rt, Kind.CARE_CENTRE, deadline=date(2025, 6, 30)), "fit_out"
    )
    made["opened_late"] = walk_to(
        rt, register(rt, Kind.CARE_CENTRE, deadline=date(2025, 3, 1)), "in_operation"
    )
    made["due_today"] = register(rt, Kind.CARE_CENTRE, deadline=TODAY)
    made["revised"] = register(rt, Kind.CARE_CENTRE, deadline=date(2025, 6, 30))
    rt.facilities.revise_deadline(
        ADMIN, made["revised"], 1, deadline="2025-12-31", reason="征地延误,顺延至年底。"
    )
    later()
    canteen = made["canteen"] = walk_to(rt, register(rt, Kind.CANTEEN), "in_operation")
    food(rt, canteen, "2025-04-01", True)
    food(rt, canteen, "2025-06-01", False)
    food(rt, canteen, "2025-05-01", True)  # logged late: June's failure is still the latest
    site(rt, canteen, "2025-04-02", False)
    home = made["institution"] = register(rt, Kind.INSTITUTION)
    rt.facilities.record_beds(ADMIN, home, 1, beds_before=40, beds_after=60, nursing_beds=25)
    rt.facilities.record_rooms(ADMIN, home, 2, rooms=["rehab", "counselling"])
    walk_to(rt, home, "construction_started")
    site(rt, home, "2025-03-01", True)
    later()
    walk_to(rt, home, "completed")
    accept(rt, home, passed=False)
    accept(rt, home, passed=True, on=date(2025, 4, 1))
    rt.facilities.reach_milestone(
        ADMIN, home, version(rt, home), milestone="in_operation", on="2025-04-02"
    )
    site(rt, home, "2025-05-01", True)
    site(rt, home, "2025-04-15", False)  # an older visit logged last
    made["provider"] = register_provider(rt)
    site(rt, made["provider"], "2025-06-10", False)
    d02_place = {"place": D02}
    made["d02_canteen"] = walk_to(rt, register(rt, Kind.CANTEEN, **d02_place), "completed")
    food(rt, made["d02_canteen"], "2025-07-01", True, INSPECTOR_D02)
    made["d02_institution"] = walk_to(
        rt, register(rt, Kind.INSTITUTION, **d02_place), "construction_started"
    )
    site(rt, made["d02_institution"], "2025-07-14", True, INSPECTOR_D02)
    later()
    return made


def test_live_read_models_equal_a_rebuild(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    made = city(rt)
    rt.catch_up()
    live = read_models(rt)
    assert len(live["rm_facility_progress"]) == len(made)
    assert len(live["rm_facility_inspections"]) == 3 + 1 + 2 + 3 + 1 + 1 + 1  # food, site, accept
    rt.projector.rebuild()
    assert read_models(rt) == live
    monkeypatch.setattr(runner, "BATCH_SIZE", 3)  # one facility's events split across batches
    rt.projector.rebuild()
    assert read_models(rt) == live
    assert rt.projector.catch_up() == 0
    assert read_models(rt) == live


def test_live_equals_rebuild_when_caught_up_only_at_the_end(rt: Runtime) -> None:
    city(rt, catch_up=False)
    rt.catch_up()
    live = read_models(rt)
    rt.projector.rebuild()
    assert read_models(rt) == live


def test_progress_rows_match_the_aggregates(rt: Runtime) -> None:
    made = city(rt, catch_up=False)
    rt.catch_up()
    for facility_id in made.values():
        found = facility(rt, facility_id)
        row = facility_progress(rt.engine, ADMIN, facility_id, today=TODAY)
        assert row is not None
        assert (row.kind, row.name, row.district, row.milestone, row.version) == (
            found.kind, found.name, found.district, found.milestone, found.version,
        )  # fmt: skip
        assert {m: d.isoformat() for m, d in row.milestones} == found.milestones
        assert row.milestone_on.isoformat() == found.milestones[found.milestone]
        assert row.deadline.isoformat() == found.deadline
        assert row.rooms_added == tuple(found.rooms)
        assert (row.acceptance_rounds, row.acceptance_passed) == (
            found.acceptance_rounds, found.acceptance_passed,
        )  # fmt: skip
    assert count_by_milestone(rt.engine, AUDITOR, kind=Kind.CARE_CENTRE) == {
        m: 1 for m in MILESTONES
    } | {"planned": 3, "fit_out": 2, "in_operation": 2}


def test_an_institutions_beds_rooms_and_acceptance(rt: Runtime) -> None:
    home = city(rt)["institution"]
    row = facility_progress(rt.engine, INSPECTOR, home, today=TODAY)
    assert row is not None
    assert (row.beds_before, row.beds_after, row.nursing_beds, row.beds_added) == (40, 60, 25, 20)
    assert row.rooms_added == ("rehab", "counselling")
    assert (row.acceptance_rounds, row.acceptance_passed, row.accepted_on) == (
        2, True, date(2025, 4, 1),
    )  # fmt: skip
    assert (row.milestone, row.milestone_on, row.in_operation) == (
        "in_operation", date(2025, 4, 2), True,
    )  # fmt: skip
    assert row.reached_on("completed") == day_of("completed")
    assert row.reached_on("nothing") is None


def test_days_to_deadline_and_the_late_flag(rt: Runtime) -> None:
    made = city(rt)

    def status(key: str, today: date = TODAY) -> tuple[int, bool]:
        row = facility_progress(rt.engine, ADMIN, made[key], today=today)
        assert row is not None
        return row.days_to_deadline, row.late

    assert status("planned") == ((DEADLINE - TODAY).days, False)  # 77 days to go
    assert status("late") == (-15, True)  # due 2025-06-30, still fitting out
    assert status("late", date(2025, 6, 30)) == (0, False)  # due today is not late yet
    assert status("opened_late") == ((date(2025, 3, 1) - TODAY).days, False)  # open: not late
    assert status("due_today") == (0, False)
    assert status("revised") == ((date(2025, 12, 31) - TODAY).days, False)
    assert status("planned", date(2025, 10, 1)) == (-1, True)

    late = {
        row.facility_id for row in list_facilities(rt.engine, AUDITOR, today=TODAY, late_only=True)
    }
    assert late == {made["late"]}
    autumn = list_facilities(rt.engine, AUDITOR, today=date(2025, 10, 1), late_only=True)
    unopened = {made[m] for m in MILESTONES[:-1]}  # due at the end of September
    unopened |= {made[k] for k in ("late", "due_today", "d02_canteen", "d02_institution")}
    assert {r.facility_id for r in autumn} == unopened
    assert all(r.late and r.days_to_deadline < 0 for r in autumn)


def test_the_latest_inspection_and_its_follow_up_flag(rt: Runtime) -> None:
    made = city(rt)
    home = facility_progress(rt.engine, ADMIN, made["institution"], today=TODAY)
    assert home is not None
    assert (home.last_site_inspection_on, home.follow_up_required) == (date(2025, 5, 1), True)
    canteen = facility_progress(rt.engine, ADMIN, made["canteen"], today=TODAY)
    assert canteen is not None
    assert (canteen.last_food_safety_on, canteen.food_safety_passed) == (date(2025, 6, 1), False)
    assert (canteen.last_site_inspection_on, canteen.follow_up_required) == (
        date(2025, 4, 2),
        False,
    )
    planned = facility_progress(rt.engine, ADMIN, made["planned"], today=TODAY)
    assert planned is not None
    assert (planned.last_site_inspection_on, planned.follow_up_required) == (None, None)


def test_a_facilitys_inspection_list(rt: Runtime) -> None:
    made = city(rt)
    found = inspections(rt.engine, INSPECTOR, made["institution"])
    assert [(i.kind, i.inspected_on) for i in found] == [
        (InspectionKind.SITE, date(2025, 3, 1)),
        (InspectionKind.ACCEPTANCE, day_of("completed")),
        (InspectionKind.ACCEPTANCE, date(2025, 4, 1)),
        (InspectionKind.SITE, date(2025, 4, 15)),
        (InspectionKind.SITE, date(2025, 5, 1)),
    ]
    failed, passed = found[1], found[2]
    assert (failed.passed, failed.checks) == (
        False, {"safe": True, "functional": True, "well_managed": False, "round": 1},
    )  # fmt: skip
    assert failed.findings and failed.photos == (PHOTO,)
    assert (passed.passed, passed.checks["round"], passed.actor_id) == (True, 2, INSPECTOR.user_id)
    assert (found[0].follow_up_required, found[0].passed, found[0].findings) == (
        True, None, "2025-03-01 检查记录",
    )  # fmt: skip

    canteen = inspections(rt.engine, ADMIN, made["canteen"], kinds=(InspectionKind.FOOD_SAFETY,))
    assert [(i.inspected_on.isoformat(), i.passed) for i in canteen] == [
        ("2025-04-01", True), ("2025-05-01", True), ("2025-06-01", False),
    ]  # fmt: skip
    assert canteen[2].findings == "冷藏柜温度超标。"
    assert all(i.recorded_at.tzinfo is not None for i in canteen)


VIEWERS = [
    ADMIN, SUPERVISOR, AUDITOR, CASEWORKER, CASEWORKER_D02, INSPECTOR, INSPECTOR_D02, ASSESSOR,
    WORKER, FINANCE, FAMILY, Actor("provider-nobody", Role.PROVIDER, "D01"),
    Actor("provider-bad", Role.PROVIDER, "D01", "", "not-a-uuid"),
]  # fmt: skip


def test_each_role_lists_exactly_the_facilities_it_may_see(rt: Runtime) -> None:
    made = city(rt)
    everyone = set(made.values())
    viewers = [*VIEWERS, provider_of(made["canteen"]), provider_of(made["provider"])]
    districts = {f: facility(rt, f).district for f in everyone}
    for viewer in viewers:
        listed = {r.facility_id for r in list_facilities(rt.engine, viewer, today=TODAY)}
        assert listed == {f for f, d in districts.items() if may_see_facility(viewer, f, d)}
        for hidden in everyone - listed:
            assert facility_progress(rt.engine, viewer, hidden, today=TODAY) is None
            assert inspections(rt.engine, viewer, hidden) == ()
    d02 = {made["d02_canteen"], made["d02_institution"]}
    assert {r.facility_id for r in list_facilities(rt.engine, CASEWORKER_D02, today=TODAY)} == d02
    own = list_facilities(rt.engine, provider_of(made["canteen"]), today=TODAY)
    assert [r.facility_id for r in own] == [made["canteen"]]
    assert list_facilities(rt.engine, FAMILY, today=TODAY) == ()
    assert facility_progress(rt.engine, ADMIN, uuid4(), today=TODAY) is None


def test_filters_never_widen_the_scope(rt: Runtime) -> None:
    made = city(rt)
    canteens = list_facilities(rt.engine, SUPERVISOR, today=TODAY, kind=Kind.CANTEEN)
    assert {r.facility_id for r in canteens} == {made["canteen"], made["d02_canteen"]}
    assert list_facilities(rt.engine, CASEWORKER, today=TODAY, district="D02") == ()
    opened = list_facilities(rt.engine, CASEWORKER, today=TODAY, milestone="in_operation")
    assert {r.facility_id for r in opened} == {
        made[k] for k in ("in_operation", "opened_late", "canteen", "institution", "provider")
    }
    assert count_by_milestone(rt.engine, CASEWORKER_D02) == {
        "completed": 1,
        "construction_started": 1,
    }
    assert count_by_milestone(rt.engine, AUDITOR, district="D02", kind=Kind.CANTEEN) == {
        "completed": 1
    }


def test_registration_alone_gives_a_row_at_planned(rt: Runtime) -> None:
    centre = register(rt, Kind.CARE_CENTRE)
    org = register_provider(rt, since=TODAY - timedelta(days=3))
    rt.catch_up()
    row = facility_progress(rt.engine, CASEWORKER, centre, today=TODAY)
    assert row is not None
    assert (row.milestone, row.version, row.beds_before, row.rooms_added, row.acceptance_rounds) == (
        "planned", 1, None, (), 0,
    )  # fmt: skip
    provider_row = facility_progress(rt.engine, CASEWORKER, org, today=TODAY)
    assert provider_row is not None
    assert (provider_row.milestone, provider_row.milestone_on, provider_row.late) == (
        "in_operation", TODAY - timedelta(days=3), False,
    )  # fmt: skip


def test_a_crash_mid_batch_leaves_rows_and_position_untouched(rt: Runtime) -> None:
    made = city(rt)
    before, at = read_models(rt), rt.projector.position("facility_progress")
    site(rt, made["institution"], "2025-07-15", False)
    walk_to(rt, made["completed"], "in_operation")

    class CrashAfterWriting(FacilityProgress):
        def apply(self, conn: Any, events: Any) -> None:
            super().apply(conn, events)  # the rows are written...
            raise RuntimeError("crashed mid-batch")  # ...and roll back with the position

    with pytest.raises(RuntimeError):
        Projector(rt.engine, rt.retrofit, [CrashAfterWriting()]).catch_up()
    assert table_rows(rt.engine, progress_table) == before["rm_facility_progress"]
    assert rt.projector.position("facility_progress") == at
    facility_models = Projector(rt.engine, rt.retrofit, PROJECTIONS)
    assert facility_models.catch_up() == 2 + 1  # progress takes both events, inspections the visit
    row = facility_progress(rt.engine, ADMIN, made["completed"], today=TODAY)
    assert row is not None and row.in_operation
    live = read_models(rt)
    rt.projector.rebuild()
    assert read_models(rt) == live
