"""What the portal may ask of the meal-service read models: small frozen answers, never rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Engine, and_, false, func, or_, select, true, tuple_

from events.access import READ_EVERYTHING
from events.meal_access import may_see_enrolment
from events.roles import Actor, Role
from projections.meal_days import meal_days as md
from projections.meal_days import meals_served as ms
from projections.meal_enrolments import meal_enrolments as me
from projections.meal_timeline import meal_timeline as tl
from projections.retrofit_queries import TimelineEntry

PAGE_SIZE = 50


@dataclass(frozen=True)
class EnrolmentSummary:
    """One line of an enrolment list."""

    case_id: UUID
    reference: str
    person_id: UUID
    canteen_id: UUID
    mode: str
    subsidy_category: str
    channel: str
    applicant_user_id: str
    district: str
    street: str
    community: str
    step: str
    step_since: datetime
    applied_at: datetime
    days_in_step: int
    version: int


@dataclass(frozen=True)
class EnrolmentDetail:
    """What an enrolment page and its forms need."""

    case_id: UUID
    reference: str
    person_id: UUID
    canteen_id: UUID
    mode: str
    subsidy_category: str
    channel: str
    applicant_user_id: str
    relation: str
    district: str
    street: str
    community: str
    step: str
    step_since: datetime
    applied_at: datetime
    version: int
    enrolled_on: date | None
    left_on: date | None


@dataclass(frozen=True)
class EnrolmentPage:
    """A page of an enrolment list and the cursor for the next page (keyset pagination)."""

    rows: tuple[EnrolmentSummary, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class MealDay:
    """One canteen's meals on one day (after any correction)."""

    canteen_id: UUID
    day: date
    district: str
    enrolled_served: int
    walk_ins: int
    total: int
    corrected: bool
    version: int


@dataclass(frozen=True)
class DistrictMealDay:
    """A district's meals on one day, summed over the canteens that recorded it."""

    district: str
    day: date
    canteens: int
    enrolled_served: int
    walk_ins: int
    total: int


@dataclass(frozen=True)
class EnrolledElder:
    """An elder a canteen should feed on a day, and whether their meal is recorded yet."""

    case_id: UUID
    reference: str
    person_id: UUID
    mode: str
    subsidy_category: str
    served: bool


# -- who sees what, in SQL ---------------------------------------------------------------------
def _facility(actor: Actor) -> UUID | None:
    try:
        return UUID(actor.facility_id)
    except ValueError:
        return None


def enrolments_visible_to(actor: Actor) -> ColumnElement[bool]:
    """SQL form of `events.meal_access.may_see_enrolment`: the enrolments this actor may list."""
    match actor.role:
        case Role.FAMILY:
            return me.c.applicant_user_id == actor.user_id
        case Role.COMMUNITY_WORKER:
            return and_(me.c.district == actor.district, me.c.community == actor.community)
        case Role.CASEWORKER:
            return me.c.district == actor.district
        case Role.PROVIDER:
            facility = _facility(actor)
            return me.c.canteen_id == facility if facility else false()
    return true() if actor.role in READ_EVERYTHING else false()


def days_visible_to(actor: Actor) -> ColumnElement[bool]:
    """SQL form of `events.meal_access.may_see_canteen`: the canteen days this actor may read."""
    match actor.role:
        case Role.PROVIDER:
            facility = _facility(actor)
            return md.c.canteen_id == facility if facility else false()
        case Role.CASEWORKER:
            return md.c.district == actor.district
    return true() if actor.role in READ_EVERYTHING else false()


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- enrolments --------------------------------------------------------------------------------
def list_enrolments(
    engine: Engine, actor: Actor, *, now: datetime, step: str = "", district: str = "",
    canteen_id: UUID | None = None, cursor: str | None = None, limit: int = PAGE_SIZE,
) -> EnrolmentPage:  # fmt: skip
    """Enrolments this actor may see, longest-waiting first, filtered; one page at a time."""
    query = select(me).where(enrolments_visible_to(actor))
    if step:
        query = query.where(me.c.step == step)
    if district:
        query = query.where(me.c.district == district)
    if canteen_id is not None:
        query = query.where(me.c.canteen_id == canteen_id)
    if cursor:
        since, case_id = _parse_cursor(cursor)
        query = query.where(tuple_(me.c.step_since, me.c.case_id) > tuple_(since, case_id))
    query = query.order_by(me.c.step_since, me.c.case_id).limit(limit + 1)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    page = tuple(_summary(r, now) for r in rows[:limit])
    more = len(rows) > limit
    return EnrolmentPage(page, _cursor(page[-1]) if more and page else None)


def _summary(row: Any, now: datetime) -> EnrolmentSummary:
    since = _aware(row.step_since)
    fields = {name: getattr(row, name) for name in EnrolmentSummary.__dataclass_fields__
              if name != "days_in_step"}  # fmt: skip
    fields |= {"step_since": since, "applied_at": _aware(row.applied_at)}
    return EnrolmentSummary(days_in_step=max((now - since).days, 0), **fields)


def _cursor(row: EnrolmentSummary) -> str:
    return f"{row.step_since.isoformat()}|{row.case_id}"


def _parse_cursor(cursor: str) -> tuple[datetime, UUID]:
    """Parse a cursor from a query string; a malformed one raises ValueError."""
    since, _, case_id = cursor.partition("|")
    return datetime.fromisoformat(since), UUID(case_id)


def count_enrolments_by_step(engine: Engine, actor: Actor, *, district: str = "") -> dict[str, int]:
    """How many visible enrolments stand at each step (a queue's filter labels)."""
    query = select(me.c.step, func.count()).where(enrolments_visible_to(actor)).group_by(me.c.step)
    if district:
        query = query.where(me.c.district == district)
    with engine.connect() as conn:
        return {step: n for step, n in conn.execute(query)}


def enrolment_detail(engine: Engine, actor: Actor, case_id: UUID) -> EnrolmentDetail | None:
    """The enrolment if this actor may see it; None otherwise (the portal answers 404)."""
    with engine.connect() as conn:
        row = conn.execute(select(me).where(me.c.case_id == case_id)).first()
    if row is None or not may_see_enrolment(actor, row):
        return None
    fields = {name: getattr(row, name) for name in EnrolmentDetail.__dataclass_fields__}
    fields |= {"step_since": _aware(row.step_since), "applied_at": _aware(row.applied_at)}
    return EnrolmentDetail(**fields)


def enrolment_timeline(engine: Engine, case_id: UUID) -> tuple[TimelineEntry, ...]:
    """An enrolment's history in order; call only after `enrolment_detail` allowed the actor."""
    query = select(tl).where(tl.c.case_id == case_id).order_by(tl.c.version)
    with engine.connect() as conn:
        return tuple(
            TimelineEntry(
                r.version, _aware(r.occurred_at), r.actor_id, r.kind, json.loads(r.details)
            )
            for r in conn.execute(query)
        )


def meals_of_enrolment(
    engine: Engine, case_id: UUID, *, start: date | None = None, end: date | None = None
) -> tuple[date, ...]:
    """The days an enrolled elder was served, oldest first; call after `enrolment_detail`."""
    query = select(ms.c.day).where(ms.c.enrolment_id == case_id).order_by(ms.c.day)
    if start is not None:
        query = query.where(ms.c.day >= start)
    if end is not None:
        query = query.where(ms.c.day <= end)
    with engine.connect() as conn:
        return tuple(conn.execute(query).scalars())


def enrolled_elders(
    engine: Engine, actor: Actor, canteen_id: UUID, day: date
) -> tuple[EnrolledElder, ...]:
    """Who the canteen should feed on `day` (its "today's meals" page), by reference."""
    served = select(ms.c.enrolment_id).where(ms.c.canteen_id == canteen_id, ms.c.day == day)
    query = (
        select(me, me.c.case_id.in_(served).label("served"))
        .where(enrolments_visible_to(actor), me.c.canteen_id == canteen_id)
        .where(me.c.enrolled_on <= day, or_(me.c.left_on.is_(None), me.c.left_on >= day))
        .order_by(me.c.reference)
    )
    with engine.connect() as conn:
        return tuple(
            EnrolledElder(
                r.case_id, r.reference, r.person_id, r.mode, r.subsidy_category, bool(r.served)
            )
            for r in conn.execute(query)
        )


# -- meals per day -----------------------------------------------------------------------------
def _meal_day(row: Any) -> MealDay:
    return MealDay(
        row.canteen_id, row.day, row.district, row.enrolled_served, row.walk_ins, row.total,
        bool(row.corrected), row.version,
    )  # fmt: skip


def canteen_day(engine: Engine, actor: Actor, canteen_id: UUID, day: date) -> MealDay | None:
    """One recorded day of a canteen (the correction form's figures and version), if visible."""
    query = select(md).where(days_visible_to(actor), md.c.canteen_id == canteen_id, md.c.day == day)
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return _meal_day(row) if row is not None else None


def canteen_days(
    engine: Engine, actor: Actor, canteen_id: UUID, *, start: date, end: date
) -> tuple[MealDay, ...]:
    """A canteen's recorded days from `start` to `end` inclusive; empty if not visible."""
    return meals_per_day_by_canteen(engine, actor, start=start, end=end, canteen_id=canteen_id)


def meals_per_day_by_canteen(
    engine: Engine, actor: Actor, *, start: date, end: date, district: str = "",
    canteen_id: UUID | None = None,
) -> tuple[MealDay, ...]:  # fmt: skip
    """Each visible canteen's figures per day in the range, by day then canteen."""
    query = select(md).where(days_visible_to(actor), md.c.day >= start, md.c.day <= end)
    if district:
        query = query.where(md.c.district == district)
    if canteen_id is not None:
        query = query.where(md.c.canteen_id == canteen_id)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(md.c.day, md.c.canteen_id)).all()
    return tuple(_meal_day(r) for r in rows)


def meals_per_day_by_district(
    engine: Engine, actor: Actor, *, start: date, end: date, district: str = ""
) -> tuple[DistrictMealDay, ...]:
    """Each district's meals per day in the range (over the canteens this actor may see)."""
    query = (
        select(
            md.c.district, md.c.day, func.count(), func.sum(md.c.enrolled_served),
            func.sum(md.c.walk_ins), func.sum(md.c.total),
        )
        .where(days_visible_to(actor), md.c.day >= start, md.c.day <= end)
        .group_by(md.c.district, md.c.day)
        .order_by(md.c.day, md.c.district)
    )  # fmt: skip
    if district:
        query = query.where(md.c.district == district)
    with engine.connect() as conn:
        return tuple(
            DistrictMealDay(d, day, int(n), int(enrolled), int(walk_ins), int(total))
            for d, day, n, enrolled, walk_ins, total in conn.execute(query)
        )
