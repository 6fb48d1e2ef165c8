"""What the portal may ask of the facility read models: small frozen answers, never ORM rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Engine, false, func, select, true

from events.access import READ_EVERYTHING
from events.facility import DISTRICT_STAFF, may_see_facility
from events.roles import Actor, Role
from projections.facility_inspections import InspectionKind
from projections.facility_inspections import facility_inspections as fi
from projections.facility_progress import facility_progress as fp


@dataclass(frozen=True)
class FacilityStatus:
    """One facility's progress against its deadline, as of `today`."""

    facility_id: UUID
    kind: str
    name: str
    district: str
    street: str
    community: str
    milestone: str
    milestone_on: date
    milestones: tuple[tuple[str, date], ...]  # every milestone reached, in order, with its date
    deadline: date
    days_to_deadline: int  # negative once the deadline has passed
    late: bool  # deadline passed and not yet in operation
    beds_before: int | None
    beds_after: int | None
    nursing_beds: int | None
    rooms_added: tuple[str, ...]
    acceptance_rounds: int
    acceptance_passed: bool | None
    accepted_on: date | None
    last_site_inspection_on: date | None
    follow_up_required: bool | None
    last_food_safety_on: date | None
    food_safety_passed: bool | None
    version: int

    @property
    def in_operation(self) -> bool:
        """Open to elders."""
        return self.milestone == "in_operation"

    @property
    def beds_added(self) -> int | None:
        """Beds the renovation adds (negative if it removes some)."""
        if self.beds_before is None or self.beds_after is None:
            return None
        return self.beds_after - self.beds_before

    def reached_on(self, milestone: str) -> date | None:
        """The date a milestone was reached, or None if not (yet)."""
        return dict(self.milestones).get(milestone)


@dataclass(frozen=True)
class Inspection:
    """One inspection of a facility: a site visit, a food-safety check or an acceptance check."""

    version: int
    kind: str
    inspected_on: date
    recorded_at: datetime
    actor_id: str
    findings: str
    follow_up_required: bool | None
    passed: bool | None
    checks: dict[str, Any]  # acceptance: safe, functional, well_managed, round
    photos: tuple[dict[str, str], ...]


def visible_facilities(actor: Actor) -> ColumnElement[bool]:
    """SQL form of `events.facility.may_see_facility`: the facilities this actor may list."""
    if actor.role == Role.PROVIDER:
        own = _uuid_or_none(actor.facility_id)
        return fp.c.facility_id == own if own else false()
    if actor.role in DISTRICT_STAFF:
        return fp.c.district == actor.district if actor.district else false()
    return true() if actor.role in READ_EVERYTHING else false()


def _uuid_or_none(value: str) -> UUID | None:
    try:
        return UUID(value)
    except (TypeError, ValueError):
        return None


def late_on(today: date) -> ColumnElement[bool]:
    """SQL: the deadline has passed and the facility is not in operation."""
    return (fp.c.deadline < today) & (fp.c.milestone != "in_operation")


def _status(row: Any, today: date) -> FacilityStatus:
    milestones = tuple((m, date.fromisoformat(d)) for m, d in json.loads(row.milestones).items())
    plain = {
        name: getattr(row, name)
        for name in FacilityStatus.__dataclass_fields__
        if name not in ("milestones", "rooms_added", "days_to_deadline", "late")
    }
    return FacilityStatus(
        **plain,
        milestones=milestones,
        rooms_added=tuple(json.loads(row.rooms_added)),
        days_to_deadline=(row.deadline - today).days,
        late=row.deadline < today and row.milestone != "in_operation",
    )


def facility_progress(
    engine: Engine, actor: Actor, facility_id: UUID, *, today: date
) -> FacilityStatus | None:
    """The facility if this actor may see it; None otherwise (the portal answers 404 either way)."""
    with engine.connect() as conn:
        row = conn.execute(select(fp).where(fp.c.facility_id == facility_id)).first()
    if row is None or not may_see_facility(actor, row.facility_id, row.district):
        return None
    return _status(row, today)


def list_facilities(
    engine: Engine,
    actor: Actor,
    *,
    today: date,
    district: str = "",
    kind: str = "",
    milestone: str = "",
    late_only: bool = False,
) -> tuple[FacilityStatus, ...]:
    """Facilities this actor may see, by district, kind and name; filters never widen scope."""
    query = select(fp).where(visible_facilities(actor))
    for column, wanted in (
        (fp.c.district, district),
        (fp.c.kind, kind),
        (fp.c.milestone, milestone),
    ):
        if wanted:
            query = query.where(column == wanted)
    if late_only:
        query = query.where(late_on(today))
    query = query.order_by(fp.c.district, fp.c.kind, fp.c.name, fp.c.facility_id)
    with engine.connect() as conn:
        return tuple(_status(row, today) for row in conn.execute(query))


def count_by_milestone(
    engine: Engine, actor: Actor, *, district: str = "", kind: str = ""
) -> dict[str, int]:
    """How many visible facilities stand at each milestone (the progress board's columns)."""
    query = select(fp.c.milestone, func.count()).where(visible_facilities(actor))
    if district:
        query = query.where(fp.c.district == district)
    if kind:
        query = query.where(fp.c.kind == kind)
    with engine.connect() as conn:
        return {m: n for m, n in conn.execute(query.group_by(fp.c.milestone))}


def inspections(
    engine: Engine, actor: Actor, facility_id: UUID, *, kinds: tuple[str, ...] = InspectionKind.ALL
) -> tuple[Inspection, ...]:
    """A facility's inspections, oldest first; empty if the actor may not see the facility."""
    with engine.connect() as conn:
        scope = conn.execute(select(fp.c.district).where(fp.c.facility_id == facility_id)).first()
        if scope is None or not may_see_facility(actor, facility_id, scope.district):
            return ()
        query = (
            select(fi)
            .where(fi.c.facility_id == facility_id, fi.c.kind.in_(kinds))
            .order_by(fi.c.inspected_on, fi.c.version)
        )
        rows = conn.execute(query).all()
    return tuple(
        Inspection(
            version=r.version,
            kind=r.kind,
            inspected_on=r.inspected_on,
            recorded_at=_aware(r.recorded_at),
            actor_id=r.actor_id,
            findings=r.findings,
            follow_up_required=r.follow_up_required,
            passed=r.passed,
            checks=json.loads(r.checks),
            photos=tuple(json.loads(r.photos)),
        )
        for r in rows
    )


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
