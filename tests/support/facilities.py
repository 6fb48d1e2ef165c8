"""Builders for facility and workforce tests: register facilities and walk them along their
milestones through the real FacilityService."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from events.facility import MILESTONES, FacilityProject, Kind
from events.roles import Actor, Role
from portal.runtime import Runtime

# "Now" in facility tests; every command runs frozen here unless a test says otherwise.
NOW = datetime(2025, 7, 15, 2, 0, tzinfo=UTC)
TODAY = NOW.date()
PLANNED = date(2025, 1, 6)
DEADLINE = date(2025, 9, 30)

ADMIN = Actor("admin-1", Role.ADMIN)
CASEWORKER = Actor("caseworker-d01", Role.CASEWORKER, "D01")
CASEWORKER_D02 = Actor("caseworker-d02", Role.CASEWORKER, "D02")
INSPECTOR = Actor("inspector-d01", Role.INSPECTOR, "D01")
INSPECTOR_D02 = Actor("inspector-d02", Role.INSPECTOR, "D02")
ASSESSOR = Actor("assessor-d01", Role.ASSESSOR, "D01")
WORKER = Actor("worker-chunhui", Role.COMMUNITY_WORKER, "D01", "春晖社区")
FINANCE = Actor("finance-1", Role.FINANCE, "D01")
SUPERVISOR = Actor("supervisor-1", Role.SUPERVISOR)
AUDITOR = Actor("auditor-1", Role.AUDITOR)
FAMILY = Actor("family-a", Role.FAMILY)

D01 = {"district": "D01", "street": "和平街道", "community": "春晖社区"}
D02 = {"district": "D02", "street": "南湖街道", "community": "南湖社区"}
PHOTO = {"sha256": "b" * 64, "media_type": "image/png"}
NAMES = {
    Kind.CARE_CENTRE: "春晖社区居家养老服务中心",
    Kind.CANTEEN: "春晖老年助餐食堂",
    Kind.INSTITUTION: "长乐镇敬老院",
    Kind.HOME_CARE_PROVIDER: "康宁上门照护服务公司",
}


def provider_of(facility_id: UUID, district: str = "D01") -> Actor:
    """The provider account acting for one facility."""
    return Actor(f"provider-{str(facility_id)[:8]}", Role.PROVIDER, district, "", str(facility_id))


def register(
    rt: Runtime,
    kind: str,
    *,
    actor: Actor = ADMIN,
    place: dict[str, str] | None = None,
    planned_on: date = PLANNED,
    deadline: date = DEADLINE,
    name: str = "",
) -> UUID:
    """Register a built facility (care centre, canteen, institution) in 春晖社区 unless told."""
    return rt.facilities.register_facility(
        actor,
        idempotency_key=str(uuid4()),
        kind=kind,
        name=name or NAMES[kind],
        deadline=deadline.isoformat(),
        planned_on=planned_on.isoformat(),
        **(place or D01),
    )


def register_provider(
    rt: Runtime, *, place: dict[str, str] | None = None, since: date = PLANNED, name: str = ""
) -> UUID:
    """Register a home-care provider organisation (in operation since `since`)."""
    return rt.facilities.register_provider_organisation(
        ADMIN,
        idempotency_key=str(uuid4()),
        name=name or NAMES[Kind.HOME_CARE_PROVIDER],
        since=since.isoformat(),
        **(place or D01),
    )


def facility(rt: Runtime, facility_id: UUID) -> FacilityProject:
    """The aggregate as stored now."""
    return rt.facilities.repository.get(facility_id)


def version(rt: Runtime, facility_id: UUID) -> int:
    """The facility's current version, as a freshly rendered form would carry it."""
    return facility(rt, facility_id).version


def day_of(milestone: str, start: date = PLANNED, gap: int = 10) -> date:
    """The date `walk_to` reaches a milestone: `gap` days after the previous one."""
    return start + timedelta(days=gap * MILESTONES.index(milestone))


def accept(rt: Runtime, facility_id: UUID, *, passed: bool = True, on: date | None = None) -> int:
    """An acceptance check of a completed institution by the D01 inspector."""
    return rt.facilities.inspect_acceptance(
        INSPECTOR,
        facility_id,
        version(rt, facility_id),
        safe=True,
        functional=True,
        well_managed=passed,
        remarks="" if passed else "消防通道堆放杂物,管理制度未上墙。",
        photos=[PHOTO],
        inspected_on=(on or day_of("completed")).isoformat(),
    )


def walk_to(
    rt: Runtime, facility_id: UUID, milestone: str, *, start: date = PLANNED, gap: int = 10
) -> UUID:
    """Reach every milestone up to `milestone`, `gap` days apart (institutions are accepted
    on the day they are completed, before opening)."""
    current = facility(rt, facility_id)
    for name in MILESTONES[
        MILESTONES.index(current.milestone) + 1 : MILESTONES.index(milestone) + 1
    ]:
        if name == "in_operation" and current.kind == Kind.INSTITUTION:
            accept(rt, facility_id, on=day_of("completed", start, gap))
        rt.facilities.reach_milestone(
            ADMIN,
            facility_id,
            version(rt, facility_id),
            milestone=name,
            on=day_of(name, start, gap).isoformat(),
        )
    return facility_id


def figures(**overrides: Any) -> dict[str, int]:
    """A plausible month of staffing figures."""
    return {
        "caregivers": 10,
        "residents_or_clients": 40,
        "hires": 1,
        "departures": 1,
        "trained": 8,
    } | overrides
