"""Facility projects through the FacilityService on real databases: registering, milestones in
order, deadlines, inspections, institutions' beds, rooms and acceptance, who may do what."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest

from events.clock import frozen_at
from events.errors import IllegalTransition, InvalidAcceptance, ReasonRequired
from events.facility import (
    MILESTONES,
    AcceptanceRequired,
    FacilityProject,
    InvalidBeds,
    InvalidFacility,
    InvalidInspection,
    InvalidRooms,
    Kind,
    MilestoneOutOfOrder,
    WrongFacilityKind,
)
from events.roles import Actor, Role
from portal.runtime import Runtime
from services.errors import CaseNotFound, NotPermitted, StaleCase
from tests.support.facilities import (
    ADMIN,
    ASSESSOR,
    AUDITOR,
    CASEWORKER,
    CASEWORKER_D02,
    D01,
    D02,
    DEADLINE,
    FAMILY,
    FINANCE,
    INSPECTOR,
    INSPECTOR_D02,
    NOW,
    PHOTO,
    PLANNED,
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
from tests.support.scenario import apply

T = TypeVar("T")


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    """Every command runs on 2025-07-15 (the clock decides what "the future" is)."""
    with frozen_at(NOW):
        yield


def refused(rt: Runtime, facility_id: UUID, error: type[Exception], act: Callable[[], Any]) -> Any:
    """Run a command that must be refused with `error`, and check nothing was recorded."""
    before = version(rt, facility_id)
    with pytest.raises(error) as caught:
        act()
    assert version(rt, facility_id) == before
    return caught.value


def reach(rt: Runtime, facility_id: UUID, milestone: str, on: str, actor: Actor = ADMIN) -> int:
    return rt.facilities.reach_milestone(
        actor, facility_id, version(rt, facility_id), milestone=milestone, on=on
    )


# -- registering ----------------------------------------------------------------------------------
def test_an_admin_registers_a_facility_project_at_planned(rt: Runtime) -> None:
    facility_id = register(rt, Kind.CANTEEN)
    found = facility(rt, facility_id)
    assert isinstance(found, FacilityProject)
    assert (found.kind, found.name, found.district, found.street, found.community) == (
        Kind.CANTEEN,
        "春晖老年助餐食堂",
        "D01",
        "和平街道",
        "春晖社区",
    )
    assert (found.milestone, found.milestones, found.deadline) == (
        "planned",
        {"planned": PLANNED.isoformat()},
        DEADLINE.isoformat(),
    )
    assert not found.in_operation
    assert found.version == 1
    events = list(rt.facilities.repository.event_store.get(facility_id))
    assert [type(e).__name__ for e in events] == ["Registered"]
    assert events[0].actor_id == ADMIN.user_id


def test_registering_twice_with_one_key_is_one_facility(rt: Runtime) -> None:
    values: dict[str, Any] = dict(
        idempotency_key="form-123", kind=Kind.CARE_CENTRE, name="松鹤社区养老服务中心",
        deadline="2025-12-31", planned_on="2025-03-01", **D01,
    )  # fmt: skip
    first = rt.facilities.register_facility(CASEWORKER, **values)
    again = rt.facilities.register_facility(CASEWORKER, **values)
    assert first == again
    assert version(rt, first) == 1
    assert rt.facilities.register_facility(ADMIN, **values) != first  # the key is per user


def test_a_district_caseworker_registers_only_in_its_district(rt: Runtime) -> None:
    assert facility(rt, register(rt, Kind.CARE_CENTRE, actor=CASEWORKER)).district == "D01"
    assert facility(rt, register(rt, Kind.CANTEEN, actor=CASEWORKER_D02, place=D02)).district == (
        "D02"
    )
    for actor in (CASEWORKER_D02, INSPECTOR, SUPERVISOR, AUDITOR, FINANCE, WORKER, FAMILY):
        with pytest.raises(NotPermitted):
            register(rt, Kind.CARE_CENTRE, actor=actor)
    with pytest.raises(NotPermitted):
        register(rt, Kind.CARE_CENTRE, actor=provider_of(uuid4()))


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"kind": "hospital"}, "kind"),
        ({"kind": Kind.HOME_CARE_PROVIDER}, "kind"),  # organisations have their own command
        ({"name": " 院 "}, "name"),
        ({"community": "南湖社区"}, "community"),  # a real community, of another district
        ({"street": "东城街道"}, "community"),
        ({"planned_on": "2025-07-16"}, "planned_on"),  # tomorrow
        ({"planned_on": "2025-02-30"}, "planned_on"),
        ({"deadline": "2024-12-31"}, "deadline"),  # before it was planned
        ({"deadline": "by summer"}, "deadline"),
    ],
)
def test_registration_checks_its_answers(rt: Runtime, change: dict[str, str], detail: str) -> None:
    values: dict[str, Any] = dict(
        idempotency_key=str(uuid4()), kind=Kind.INSTITUTION, name="青山乡敬老院",
        deadline="2025-10-31", planned_on="2025-01-06", **D01,
    ) | change  # fmt: skip
    with pytest.raises(InvalidFacility) as caught:
        rt.facilities.register_facility(ADMIN, **values)
    assert caught.value.detail == detail


def test_a_provider_organisation_is_in_operation_from_registration(rt: Runtime) -> None:
    org = register_provider(rt, since=PLANNED)
    found = facility(rt, org)
    assert (found.kind, found.milestone, found.in_operation) == (
        Kind.HOME_CARE_PROVIDER,
        "in_operation",
        True,
    )
    assert found.milestones == {"in_operation": PLANNED.isoformat()}
    for milestone in ("site_selected", "in_operation", "completed"):
        error = refused(
            rt, org, WrongFacilityKind, lambda m=milestone: reach(rt, org, m, "2025-07-01")
        )
        assert (error.action, error.kind) == ("milestone", Kind.HOME_CARE_PROVIDER)
    refused(rt, org, WrongFacilityKind, lambda: rt.facilities.revise_deadline(
        ADMIN, org, 1, deadline="2025-12-31", reason="不适用"))  # fmt: skip


def test_only_an_admin_registers_provider_organisations(rt: Runtime) -> None:
    for actor in (CASEWORKER, SUPERVISOR, INSPECTOR, provider_of(uuid4())):
        with pytest.raises(NotPermitted):
            rt.facilities.register_provider_organisation(
                actor, idempotency_key="k", name="福顺照护", since="2025-01-01", **D01
            )
    with pytest.raises(InvalidFacility):
        rt.facilities.register_provider_organisation(
            ADMIN,
            idempotency_key="k",
            name="福顺照护",
            since="2025-01-01",
            **D01 | {"community": "x"},
        )


# -- milestones -------------------------------------------------------------------------------------
def test_milestones_are_reached_in_order_each_on_its_date(rt: Runtime) -> None:
    centre = register(rt, Kind.CARE_CENTRE)
    for n, milestone in enumerate(MILESTONES[1:], start=2):
        assert reach(rt, centre, milestone, day_of(milestone).isoformat()) == n
    found = facility(rt, centre)
    assert found.in_operation
    assert list(found.milestones) == list(MILESTONES)
    assert found.milestones["fit_out"] == day_of("fit_out").isoformat()
    events = list(rt.facilities.repository.event_store.get(centre))
    assert {e.actor_id for e in events} == {ADMIN.user_id}


def test_a_district_caseworker_reaches_milestones_and_a_same_day_step_is_fine(rt: Runtime) -> None:
    centre = register(rt, Kind.CARE_CENTRE)
    reach(rt, centre, "site_selected", PLANNED.isoformat(), actor=CASEWORKER)
    reach(rt, centre, "design_approved", PLANNED.isoformat(), actor=CASEWORKER)
    assert facility(rt, centre).milestone == "design_approved"


def test_milestones_out_of_order_are_refused_with_the_reason(rt: Runtime) -> None:
    centre = walk_to(rt, register(rt, Kind.CARE_CENTRE), "tender_awarded")
    last = day_of("tender_awarded")

    skipped = refused(
        rt, centre, MilestoneOutOfOrder, lambda: reach(rt, centre, "fit_out", "2025-07-01")
    )
    assert (skipped.detail, skipped.params) == (
        "fit_out",
        {"expected": "construction_started", "current": "tender_awarded"},
    )
    repeated = refused(rt, centre, MilestoneOutOfOrder,
                       lambda: reach(rt, centre, "tender_awarded", "2025-07-01"))  # fmt: skip
    assert repeated.params["expected"] == "construction_started"
    backwards = refused(rt, centre, MilestoneOutOfOrder,
                        lambda: reach(rt, centre, "site_selected", "2025-07-01"))  # fmt: skip
    assert backwards.detail == "site_selected"

    backdated = refused(rt, centre, MilestoneOutOfOrder, lambda: reach(
        rt, centre, "construction_started", (last - timedelta(days=1)).isoformat()))  # fmt: skip
    assert (backdated.detail, backdated.params) == ("before_previous", {"last": last.isoformat()})
    future = refused(rt, centre, MilestoneOutOfOrder,
                     lambda: reach(rt, centre, "construction_started", "2025-07-16"))  # fmt: skip
    assert (future.detail, future.params) == ("in_future", {"today": TODAY.isoformat()})

    unknown = refused(
        rt, centre, InvalidFacility, lambda: reach(rt, centre, "opened", "2025-07-01")
    )
    assert unknown.detail == "milestone"
    bad_date = refused(rt, centre, InvalidFacility,
                       lambda: reach(rt, centre, "construction_started", "yesterday"))  # fmt: skip
    assert bad_date.detail == "on"

    reach(rt, centre, "construction_started", TODAY.isoformat())  # today itself is fine
    assert facility(rt, centre).milestone == "construction_started"


def test_nothing_follows_in_operation(rt: Runtime) -> None:
    centre = walk_to(rt, register(rt, Kind.CARE_CENTRE), "in_operation")
    error = refused(
        rt, centre, MilestoneOutOfOrder, lambda: reach(rt, centre, "in_operation", "2025-07-01")
    )
    assert error.params == {"expected": None, "current": "in_operation"}


def test_who_may_reach_milestones(rt: Runtime) -> None:
    centre = register(rt, Kind.CARE_CENTRE)
    own = provider_of(centre)
    for actor in (INSPECTOR, ASSESSOR, WORKER, FINANCE, own):
        refused(
            rt,
            centre,
            NotPermitted,
            lambda a=actor: reach(rt, centre, "site_selected", "2025-02-01", a),
        )
    for actor in (SUPERVISOR, AUDITOR):  # they see everything and change nothing
        assert rt.facilities.facility_for(actor, centre).id == centre
        refused(
            rt,
            centre,
            NotPermitted,
            lambda a=actor: reach(rt, centre, "site_selected", "2025-02-01", a),
        )
    for actor in (CASEWORKER_D02, INSPECTOR_D02, FAMILY, provider_of(uuid4())):
        refused(
            rt,
            centre,
            CaseNotFound,
            lambda a=actor: reach(rt, centre, "site_selected", "2025-02-01", a),
        )


# -- deadline -----------------------------------------------------------------------------------------
def test_a_deadline_is_revised_with_its_reason(rt: Runtime) -> None:
    centre = register(rt, Kind.CARE_CENTRE)
    v = rt.facilities.revise_deadline(
        CASEWORKER, centre, 1, deadline="2025-12-31", reason="雨季施工延误,经区政府同意顺延。"
    )
    assert (v, facility(rt, centre).deadline) == (2, "2025-12-31")
    last = list(rt.facilities.repository.event_store.get(centre))[-1]
    assert (type(last).__name__, last.reason, last.actor_id) == (
        "DeadlineRevised", "雨季施工延误,经区政府同意顺延。", CASEWORKER.user_id,
    )  # fmt: skip

    for reason in ("", "   "):
        refused(rt, centre, ReasonRequired, lambda r=reason: rt.facilities.revise_deadline(
            ADMIN, centre, 2, deadline="2026-01-31", reason=r))  # fmt: skip
    for deadline in ("2024-12-31", "soon"):
        refused(rt, centre, InvalidFacility, lambda d=deadline: rt.facilities.revise_deadline(
            ADMIN, centre, 2, deadline=d, reason="调整"))  # fmt: skip
    refused(rt, centre, NotPermitted, lambda: rt.facilities.revise_deadline(
        INSPECTOR, centre, 2, deadline="2026-01-31", reason="调整"))  # fmt: skip


# -- site inspections ---------------------------------------------------------------------------------
def site_inspection(rt: Runtime, facility_id: UUID, actor: Actor = INSPECTOR, **kw: Any) -> int:
    values: dict[str, Any] = {
        "findings": "脚手架稳固,安全网完好。",
        "follow_up_required": False,
        "photos": [PHOTO],
        "inspected_on": "2025-07-10",
    } | kw
    return rt.facilities.log_site_inspection(actor, facility_id, version(rt, facility_id), **values)


def test_site_inspections_start_with_construction(rt: Runtime) -> None:
    centre = walk_to(rt, register(rt, Kind.CARE_CENTRE), "tender_awarded")
    error = refused(rt, centre, IllegalTransition, lambda: site_inspection(rt, centre))
    assert (error.action, error.step) == ("site_inspection", "tender_awarded")

    walk_to(rt, centre, "construction_started")
    site_inspection(rt, centre, follow_up_required=True, findings="临边防护缺失,限期整改。")
    site_inspection(rt, centre, photos=[], inspected_on="")  # photos optional; dated today
    logged = list(rt.facilities.repository.event_store.get(centre))[-2:]
    assert [type(e).__name__ for e in logged] == ["SiteInspectionLogged"] * 2
    assert (logged[0].follow_up_required, logged[0].photos, logged[0].inspected_on) == (
        True, [PHOTO], "2025-07-10",
    )  # fmt: skip
    assert (logged[1].photos, logged[1].inspected_on, logged[1].actor_id) == (
        [], TODAY.isoformat(), INSPECTOR.user_id,
    )  # fmt: skip


def test_facilities_in_operation_and_provider_organisations_can_be_inspected(rt: Runtime) -> None:
    org = register_provider(rt, since=PLANNED)
    site_inspection(rt, org, findings="服务台账齐全。")
    canteen = walk_to(rt, register(rt, Kind.CANTEEN), "in_operation")
    site_inspection(rt, canteen)
    assert version(rt, org) == 2 and version(rt, canteen) == len(MILESTONES) + 1


@pytest.mark.parametrize(
    ("change", "error", "detail"),
    [
        ({"findings": "  "}, ReasonRequired, "findings"),
        ({"findings": "问" * 2001}, InvalidInspection, "findings"),
        ({"follow_up_required": "no"}, InvalidInspection, "follow_up_required"),
        (
            {"photos": [{"sha256": "x" * 64, "media_type": "image/png"}]},
            InvalidInspection,
            "photos",
        ),
        (
            {"photos": [{"sha256": "b" * 64, "media_type": "image/gif"}]},
            InvalidInspection,
            "photos",
        ),
        ({"photos": ["b" * 64]}, InvalidInspection, "photos"),
        ({"photos": [PHOTO] * 21}, InvalidInspection, "photos"),
        ({"inspected_on": "2025-07-16"}, InvalidInspection, "inspected_on"),  # tomorrow
        ({"inspected_on": "2025-02-14"}, InvalidInspection, "inspected_on"),  # before construction
        ({"inspected_on": "15/07/2025"}, InvalidInspection, "inspected_on"),
    ],
)
def test_a_site_inspection_checks_its_answers(
    rt: Runtime, change: dict[str, Any], error: type[Exception], detail: str
) -> None:
    centre = walk_to(rt, register(rt, Kind.CARE_CENTRE), "construction_started")  # on 02-15
    refused_with = refused(rt, centre, error, lambda: site_inspection(rt, centre, **change))
    assert refused_with.detail == detail


def test_only_the_districts_inspectors_log_inspections(rt: Runtime) -> None:
    centre = walk_to(rt, register(rt, Kind.CARE_CENTRE), "construction_started")
    for actor in (CASEWORKER, ADMIN, SUPERVISOR, provider_of(centre)):
        refused(rt, centre, NotPermitted, lambda a=actor: site_inspection(rt, centre, a))
    refused(rt, centre, CaseNotFound, lambda: site_inspection(rt, centre, INSPECTOR_D02))


# -- food safety -----------------------------------------------------------------------------------------
def food_safety(rt: Runtime, facility_id: UUID, actor: Actor = INSPECTOR, **kw: Any) -> int:
    values: dict[str, Any] = {
        "passed": True,
        "findings": "",
        "photos": [PHOTO],
        "inspected_on": "",
    } | kw
    return rt.facilities.log_food_safety_inspection(
        actor, facility_id, version(rt, facility_id), **values
    )


def test_food_safety_is_inspected_at_canteens_once_completed(rt: Runtime) -> None:
    canteen = walk_to(rt, register(rt, Kind.CANTEEN), "fit_out")
    error = refused(rt, canteen, IllegalTransition, lambda: food_safety(rt, canteen))
    assert (error.action, error.step) == ("food_safety_inspection", "fit_out")
    walk_to(rt, canteen, "completed")
    food_safety(rt, canteen)
    walk_to(rt, canteen, "in_operation")
    food_safety(rt, canteen, passed=False, findings="留样不足48小时。", photos=[])
    last = list(rt.facilities.repository.event_store.get(canteen))[-1]
    assert (type(last).__name__, last.passed, last.findings, last.inspected_on) == (
        "FoodSafetyInspectionLogged", False, "留样不足48小时。", TODAY.isoformat(),
    )  # fmt: skip

    refused(rt, canteen, ReasonRequired, lambda: food_safety(rt, canteen, passed=False))
    refused(rt, canteen, InvalidInspection, lambda: food_safety(rt, canteen, passed="yes"))
    refused(
        rt, canteen, InvalidInspection, lambda: food_safety(rt, canteen, inspected_on="2025-03-01")
    )
    refused(rt, canteen, NotPermitted, lambda: food_safety(rt, canteen, CASEWORKER))
    refused(rt, canteen, CaseNotFound, lambda: food_safety(rt, canteen, INSPECTOR_D02))


def test_food_safety_only_for_canteens(rt: Runtime) -> None:
    for kind in (Kind.CARE_CENTRE, Kind.INSTITUTION):
        other = walk_to(rt, register(rt, kind), "in_operation")
        error = refused(rt, other, WrongFacilityKind, lambda f=other: food_safety(rt, f))
        assert (error.action, error.kind) == ("food_safety_inspection", kind)
    org = register_provider(rt)
    refused(rt, org, WrongFacilityKind, lambda: food_safety(rt, org))


# -- institutions: beds and rooms ------------------------------------------------------------------------
def beds(rt: Runtime, facility_id: UUID, actor: Actor = ADMIN, **kw: Any) -> int:
    values = {"beds_before": 40, "beds_after": 60, "nursing_beds": 24} | kw
    return rt.facilities.record_beds(actor, facility_id, version(rt, facility_id), **values)


def test_institutions_record_beds_and_functional_rooms(rt: Runtime) -> None:
    home = register(rt, Kind.INSTITUTION)
    assert beds(rt, home) == 2
    assert beds(rt, home, CASEWORKER, beds_after=64, nursing_beds=64) == 3  # revised plan
    found = facility(rt, home)
    assert found.beds == {"beds_before": 40, "beds_after": 64, "nursing_beds": 64}
    rt.facilities.record_rooms(CASEWORKER, home, 3, rooms=["counselling", "rehab"])
    assert facility(rt, home).rooms == ["rehab", "counselling"]  # the standard order
    rt.facilities.record_rooms(ADMIN, home, 4, rooms=[])  # none after all
    assert facility(rt, home).rooms == []
    assert beds(rt, home, beds_before=0, beds_after=0, nursing_beds=0) == 6


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"beds_before": -1}, "beds_before"),
        ({"beds_after": True}, "beds_after"),  # bool is not a number of beds
        ({"beds_after": 60.0}, "beds_after"),
        ({"nursing_beds": "24"}, "nursing_beds"),
        ({"beds_before": 5001}, "beds_before"),
        ({"nursing_beds": 61}, "nursing_beds"),  # more nursing beds than beds
    ],
)
def test_bed_counts_are_whole_numbers_and_nursing_beds_fit(
    rt: Runtime, change: dict[str, Any], detail: str
) -> None:
    home = register(rt, Kind.INSTITUTION)
    assert refused(rt, home, InvalidBeds, lambda: beds(rt, home, **change)).detail == detail


def test_rooms_must_be_known_and_distinct(rt: Runtime) -> None:
    home = register(rt, Kind.INSTITUTION)
    rooms = rt.facilities.record_rooms
    assert (
        refused(rt, home, InvalidRooms, lambda: rooms(ADMIN, home, 1, rooms=["gym"])).detail
        == "unknown"
    )
    assert (
        refused(
            rt, home, InvalidRooms, lambda: rooms(ADMIN, home, 1, rooms=["rehab", "rehab"])
        ).detail
        == "duplicate"
    )
    assert (
        refused(rt, home, InvalidRooms, lambda: rooms(ADMIN, home, 1, rooms="rehab")).detail
        == "rooms"
    )


def test_beds_rooms_and_acceptance_only_for_institutions(rt: Runtime) -> None:
    for kind in (Kind.CARE_CENTRE, Kind.CANTEEN):
        other = walk_to(rt, register(rt, kind), "completed")
        assert (
            refused(rt, other, WrongFacilityKind, lambda f=other: beds(rt, f)).action
            == "record_beds"
        )
        error = refused(rt, other, WrongFacilityKind, lambda f=other: rt.facilities.record_rooms(
            ADMIN, f, version(rt, f), rooms=["rehab"]))  # fmt: skip
        assert error.action == "record_rooms"
        assert (
            refused(rt, other, WrongFacilityKind, lambda f=other: accept(rt, f)).action
            == "acceptance"
        )


def test_who_may_record_beds(rt: Runtime) -> None:
    home = register(rt, Kind.INSTITUTION)
    for actor in (INSPECTOR, SUPERVISOR, provider_of(home)):
        refused(rt, home, NotPermitted, lambda a=actor: beds(rt, home, a))
    refused(rt, home, CaseNotFound, lambda: beds(rt, home, CASEWORKER_D02))


# -- institutions: acceptance and opening ----------------------------------------------------------------
def test_an_institution_opens_only_after_a_passed_acceptance(rt: Runtime) -> None:
    home = walk_to(rt, register(rt, Kind.INSTITUTION), "fit_out")
    error = refused(rt, home, IllegalTransition, lambda: accept(rt, home))
    assert (error.action, error.step) == ("acceptance", "fit_out")
    walk_to(rt, home, "completed")
    completed_on = day_of("completed").isoformat()
    no_acceptance = refused(
        rt, home, AcceptanceRequired, lambda: reach(rt, home, "in_operation", completed_on)
    )
    assert no_acceptance.params == {"rounds": 0}

    assert accept(rt, home, passed=False) == 9
    found = facility(rt, home)
    assert (found.acceptance_rounds, found.acceptance_passed) == (1, False)
    refused(rt, home, AcceptanceRequired, lambda: reach(rt, home, "in_operation", "2025-07-01"))

    accept(rt, home, passed=True, on=TODAY - timedelta(days=5))  # redone after rectification
    found = facility(rt, home)
    assert (found.acceptance_rounds, found.acceptance_passed, found.accepted_on) == (
        2, True, "2025-07-10",
    )  # fmt: skip
    refused(rt, home, IllegalTransition, lambda: accept(rt, home))  # passed: nothing to redo
    before = refused(
        rt, home, MilestoneOutOfOrder, lambda: reach(rt, home, "in_operation", "2025-07-09")
    )
    assert before.params == {"last": "2025-07-10"}  # it cannot open before it was accepted
    reach(rt, home, "in_operation", "2025-07-10", actor=CASEWORKER)
    assert facility(rt, home).in_operation
    refused(rt, home, IllegalTransition, lambda: accept(rt, home))

    events = list(rt.facilities.repository.event_store.get(home))
    checks = [e for e in events if type(e).__name__ == "AcceptanceInspected"]
    assert [(e.safe, e.functional, e.well_managed, e.passed, e.round) for e in checks] == [
        (True, True, False, False, 1),
        (True, True, True, True, 2),
    ]
    assert checks[0].remarks and checks[0].photos == [PHOTO]


def test_other_kinds_open_without_acceptance(rt: Runtime) -> None:
    for kind in (Kind.CARE_CENTRE, Kind.CANTEEN):
        assert facility(rt, walk_to(rt, register(rt, kind), "in_operation")).in_operation


def acceptance(rt: Runtime, home: UUID, actor: Actor = INSPECTOR, **kw: Any) -> int:
    values: dict[str, Any] = {
        "safe": True, "functional": True, "well_managed": True, "remarks": "",
        "photos": [PHOTO], "inspected_on": "",
    } | kw  # fmt: skip
    return rt.facilities.inspect_acceptance(actor, home, version(rt, home), **values)


@pytest.mark.parametrize(
    ("change", "error", "detail"),
    [
        ({"photos": []}, InvalidAcceptance, "photos"),
        ({"safe": 1}, InvalidAcceptance, "standard"),
        ({"well_managed": None}, InvalidAcceptance, "standard"),
        ({"functional": False, "remarks": " "}, ReasonRequired, "remarks"),
        ({"inspected_on": "2025-03-15"}, InvalidInspection, "inspected_on"),  # before completion
        (
            {"photos": [{"sha256": "B" * 64, "media_type": "image/png"}]},
            InvalidInspection,
            "photos",
        ),
    ],
)
def test_an_acceptance_checks_its_answers(
    rt: Runtime, change: dict[str, Any], error: type[Exception], detail: str
) -> None:
    home = walk_to(rt, register(rt, Kind.INSTITUTION), "completed")
    assert refused(rt, home, error, lambda: acceptance(rt, home, **change)).detail == detail


def test_only_the_districts_inspectors_accept(rt: Runtime) -> None:
    home = walk_to(rt, register(rt, Kind.INSTITUTION), "completed")
    for actor in (ADMIN, CASEWORKER, SUPERVISOR, provider_of(home)):
        refused(rt, home, NotPermitted, lambda a=actor: acceptance(rt, home, a))
    refused(rt, home, CaseNotFound, lambda: acceptance(rt, home, INSPECTOR_D02))


# -- reading, and providers kept to their own facility ---------------------------------------------------
def test_who_sees_which_facility(rt: Runtime) -> None:
    d01 = register(rt, Kind.CANTEEN)
    d02 = register(rt, Kind.CANTEEN, place=D02)
    org = register_provider(rt, place=D02)
    see = {
        ADMIN: {d01, d02, org}, SUPERVISOR: {d01, d02, org}, AUDITOR: {d01, d02, org},
        CASEWORKER: {d01}, INSPECTOR: {d01}, ASSESSOR: {d01}, WORKER: {d01}, FINANCE: {d01},
        CASEWORKER_D02: {d02, org}, INSPECTOR_D02: {d02, org}, FAMILY: set(),
        provider_of(d01): {d01}, provider_of(org, "D02"): {org},
        Actor("provider-x", Role.PROVIDER, "D01"): set(),  # an account without a facility
    }  # fmt: skip
    for actor, expected in see.items():
        visible = set()
        for facility_id in (d01, d02, org):
            with suppress(CaseNotFound):
                visible.add(rt.facilities.facility_for(actor, facility_id).id)
        assert visible == expected, actor


def test_unknown_ids_and_other_aggregates_are_not_found(rt: Runtime) -> None:
    case_id = apply(rt, FAMILY)  # a retrofit case in the same event log
    for unknown in (uuid4(), case_id):
        with pytest.raises(CaseNotFound):
            rt.facilities.facility_for(ADMIN, unknown)
        with pytest.raises(CaseNotFound):
            rt.facilities.reach_milestone(
                ADMIN, unknown, 1, milestone="site_selected", on="2025-07-01"
            )


def test_a_provider_cannot_read_or_write_another_facility(rt: Runtime) -> None:
    mine = walk_to(rt, register(rt, Kind.INSTITUTION), "in_operation")
    theirs = walk_to(rt, register(rt, Kind.INSTITUTION, name="河西村敬老院"), "completed")
    me = provider_of(mine)
    assert rt.facilities.facility_for(me, mine).id == mine
    with pytest.raises(CaseNotFound):
        rt.facilities.facility_for(me, theirs)
    writes: list[Callable[[UUID], object]] = [
        lambda f: rt.facilities.reach_milestone(
            me, f, version(rt, f), milestone="in_operation", on="2025-07-01"
        ),
        lambda f: rt.facilities.revise_deadline(
            me, f, version(rt, f), deadline="2026-01-01", reason="x"
        ),
        lambda f: rt.facilities.record_beds(
            me, f, version(rt, f), beds_before=1, beds_after=2, nursing_beds=0
        ),
        lambda f: rt.facilities.record_rooms(me, f, version(rt, f), rooms=["rehab"]),
        lambda f: rt.facilities.log_site_inspection(
            me, f, version(rt, f), findings="x", follow_up_required=False
        ),
        lambda f: acceptance(rt, f, me),
    ]
    for write in writes:
        refused(rt, theirs, CaseNotFound, lambda w=write: w(theirs))
        refused(rt, mine, NotPermitted, lambda w=write: w(mine))  # not a provider's step anyway


# -- optimistic concurrency ---------------------------------------------------------------------------------
def test_a_stale_form_is_refused_and_nothing_is_overwritten(rt: Runtime) -> None:
    home = register(rt, Kind.INSTITUTION)
    rendered = version(rt, home)
    rt.facilities.record_beds(ADMIN, home, rendered, beds_before=30, beds_after=50, nursing_beds=20)
    stale = refused(rt, home, StaleCase, lambda: rt.facilities.record_beds(
        CASEWORKER, home, rendered, beds_before=30, beds_after=80, nursing_beds=20))  # fmt: skip
    assert (stale.expected, stale.current) == (1, 2)
    assert facility(rt, home).beds == {"beds_before": 30, "beds_after": 50, "nursing_beds": 20}
    for act in (
        lambda: rt.facilities.reach_milestone(
            ADMIN, home, rendered, milestone="site_selected", on="2025-02-01"
        ),
        lambda: rt.facilities.revise_deadline(
            ADMIN, home, rendered, deadline="2026-01-01", reason="延期"
        ),
        lambda: rt.facilities.record_rooms(ADMIN, home, rendered, rooms=["rehab"]),
        lambda: rt.facilities.record_beds(
            ADMIN, home, 3, beds_before=1, beds_after=1, nursing_beds=1
        ),
    ):
        refused(rt, home, StaleCase, act)


def all_at_once(work: list[Callable[[], T]]) -> list[T | BaseException]:
    """Run every job at the same moment, each in its own thread (with the frozen clock)."""
    barrier, outcomes = threading.Barrier(len(work)), []
    lock = threading.Lock()

    def run(job: Callable[[], T]) -> None:
        with frozen_at(NOW):  # a context variable: each thread sets its own
            barrier.wait(timeout=30)
            try:
                outcome: T | BaseException = job()
            except Exception as error:
                outcome = error
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_simultaneous_milestones_on_one_facility_exactly_one_wins(rt: Runtime) -> None:
    centre = register(rt, Kind.CARE_CENTRE)
    caseworkers = [Actor(f"cw-{i}", Role.CASEWORKER, "D01") for i in range(4)]
    outcomes = all_at_once([
        lambda a=a: rt.facilities.reach_milestone(a, centre, 1, milestone="site_selected", on="2025-02-01")
        for a in caseworkers
    ])  # fmt: skip
    assert sorted(o for o in outcomes if isinstance(o, int)) == [2]
    assert all(isinstance(o, StaleCase) for o in outcomes if not isinstance(o, int)), outcomes
    assert version(rt, centre) == 2


def test_the_same_registration_posted_at_once_is_one_facility(rt: Runtime) -> None:
    def submit() -> UUID:
        return rt.facilities.register_facility(
            CASEWORKER, idempotency_key="double-click", kind=Kind.CANTEEN, name="颐和助餐点",
            deadline="2025-12-31", planned_on="2025-06-01", **D01,
        )  # fmt: skip

    outcomes = all_at_once([submit, submit, submit])
    assert len(set(outcomes)) == 1 and isinstance(outcomes[0], UUID)
    assert version(rt, outcomes[0]) == 1
