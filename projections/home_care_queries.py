"""What the portal may ask of the home care read models: small frozen answers, never ORM rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Engine, and_, case, false, func, select, true, tuple_

from events.access import READ_EVERYTHING
from events.home_care import CareStep, may_see_home_care
from events.roles import Actor, Role
from projections.home_care_cases import home_care_cases as hc
from projections.home_care_delivery import home_care_surveys as sv
from projections.home_care_delivery import home_care_visits as hv
from projections.home_care_timeline import home_care_timeline as tl
from projections.retrofit_queries import TimelineEntry

PAGE_SIZE = 50
SATISFIED_FROM = 4  # an overall score of 4 or 5 counts as satisfied

# The steps where each role has something to do: its worklist.
WORK_STEPS: dict[str, tuple[str, ...]] = {
    Role.CASEWORKER: (CareStep.SUBMITTED, CareStep.ASSESSED, CareStep.APPROVED),
    Role.ASSESSOR: (CareStep.ASSESSOR_ASSIGNED,),
    Role.PROVIDER: (CareStep.IN_SERVICE,),
    Role.FAMILY: (CareStep.RETURNED,),
    Role.COMMUNITY_WORKER: (CareStep.RETURNED,),
}


@dataclass(frozen=True)
class CareCaseSummary:
    """One line of a home care case list."""

    case_id: UUID
    reference: str
    person_id: UUID
    applicant_user_id: str
    district: str
    community: str
    step: str
    step_since: datetime
    days_in_step: int
    care_level: str | None
    monthly_hours: int | None
    provider_id: UUID | None
    version: int


@dataclass(frozen=True)
class CareCaseDetail:
    """What a home care case page and its forms need (staff and the family)."""

    case_id: UUID
    reference: str
    person_id: UUID
    channel: str
    applicant_user_id: str
    relation: str
    district: str
    street: str
    community: str
    disability_level: str
    step: str
    step_since: datetime
    applied_at: datetime
    version: int
    assessor_id: str | None
    care_level: str | None
    monthly_hours: int | None
    provider_id: UUID | None
    provider_assigned_on: date | None
    surveys: int
    last_survey_overall: int | None


@dataclass(frozen=True)
class ProviderCaseView:
    """What the assigned provider needs to visit and log: no applicant, reasons or notes."""

    case_id: UUID
    reference: str
    person_id: UUID
    district: str
    street: str
    community: str
    care_level: str | None
    monthly_hours: int | None
    provider_assigned_on: date | None
    version: int


@dataclass(frozen=True)
class Visit:
    """One visit as it stands after corrections; cancelled ones are flagged, not dropped."""

    visit_id: UUID
    case_id: UUID
    person_id: UUID
    provider_id: UUID
    district: str
    visit_date: date
    start: str
    end: str
    minutes: int
    items: tuple[str, ...]
    caregiver: str
    confirmed_by: str
    cancelled: bool
    cancel_reason: str | None
    corrections: int


@dataclass(frozen=True)
class CareHours:
    """Care delivered over a period: visits made and their minutes (cancelled ones excluded)."""

    visits: int
    minutes: int

    @property
    def hours(self) -> Decimal:
        """Service hours, to the hundredth, as reports quote them."""
        return (Decimal(self.minutes) / 60).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Satisfaction:
    """How many surveys were answered and how many rated the service 4 or 5 overall."""

    surveys: int
    satisfied: int

    @property
    def rate(self) -> Decimal | None:
        """The share satisfied (0-1, four places), or None before any survey."""
        if not self.surveys:
            return None
        return (Decimal(self.satisfied) / self.surveys).quantize(Decimal("0.0001"))


@dataclass(frozen=True)
class CareCasePage:
    """A page of a case list and the cursor for the next page (keyset pagination)."""

    rows: tuple[CareCaseSummary, ...]
    next_cursor: str | None


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _facility(actor: Actor) -> UUID | None:
    try:
        return UUID(actor.facility_id)
    except ValueError:
        return None


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """SQL form of `events.home_care.may_see_home_care`: the cases this actor may list."""
    match actor.role:
        case Role.FAMILY:
            return hc.c.applicant_user_id == actor.user_id
        case Role.COMMUNITY_WORKER:
            return and_(hc.c.district == actor.district, hc.c.community == actor.community)
        case Role.CASEWORKER:
            return hc.c.district == actor.district
        case Role.ASSESSOR:
            return hc.c.assessor_id == actor.user_id
        case Role.PROVIDER:
            facility = _facility(actor)
            if facility is None:
                return false()
            return and_(hc.c.provider_id == facility, hc.c.step == CareStep.IN_SERVICE)
    return true() if actor.role in READ_EVERYTHING else false()


def list_care_cases(
    engine: Engine,
    actor: Actor,
    *,
    now: datetime,
    district: str = "",
    step: str = "",
    worklist: bool = False,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> CareCasePage:
    """Home care cases this actor may see, longest-waiting first, filtered; a page at a time."""
    query = select(hc).where(visible_to(actor))
    if district:
        query = query.where(hc.c.district == district)
    if step:
        query = query.where(hc.c.step == step)
    if worklist:
        query = query.where(hc.c.step.in_(WORK_STEPS.get(actor.role, ())))
    if cursor:
        since, _, case_id = cursor.partition("|")
        after = tuple_(datetime.fromisoformat(since), UUID(case_id))
        query = query.where(tuple_(hc.c.step_since, hc.c.case_id) > after)
    query = query.order_by(hc.c.step_since, hc.c.case_id).limit(limit + 1)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    page = tuple(_summary(r, now) for r in rows[:limit])
    more = len(rows) > limit and page
    last = page[-1] if more else None
    return CareCasePage(page, f"{last.step_since.isoformat()}|{last.case_id}" if last else None)


def _summary(row: Any, now: datetime) -> CareCaseSummary:
    since = _aware(row.step_since)
    return CareCaseSummary(
        case_id=row.case_id,
        reference=row.reference,
        person_id=row.person_id,
        applicant_user_id=row.applicant_user_id,
        district=row.district,
        community=row.community,
        step=row.step,
        step_since=since,
        days_in_step=max((now - since).days, 0),
        care_level=row.care_level,
        monthly_hours=row.monthly_hours,
        provider_id=row.provider_id,
        version=row.version,
    )


def count_by_step(engine: Engine, actor: Actor, *, district: str = "") -> dict[str, int]:
    """How many visible home care cases stand at each step (the queue's filter labels)."""
    query = select(hc.c.step, func.count()).where(visible_to(actor)).group_by(hc.c.step)
    if district:
        query = query.where(hc.c.district == district)
    with engine.connect() as conn:
        return {step: n for step, n in conn.execute(query)}


def _row(engine: Engine, case_id: UUID) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(hc).where(hc.c.case_id == case_id)).first()


def care_case_detail(engine: Engine, actor: Actor, case_id: UUID) -> CareCaseDetail | None:
    """The whole case for the family and staff who may see it; providers use `provider_case`."""
    row = _row(engine, case_id)
    if row is None or actor.role == Role.PROVIDER or not may_see_home_care(actor, row):
        return None
    fields = {name: getattr(row, name) for name in CareCaseDetail.__dataclass_fields__}
    fields |= {"step_since": _aware(row.step_since), "applied_at": _aware(row.applied_at)}
    return CareCaseDetail(**fields)


def provider_case(engine: Engine, actor: Actor, case_id: UUID) -> ProviderCaseView | None:
    """The case as its assigned provider sees it while serving; None for anyone else."""
    row = _row(engine, case_id)
    if row is None or actor.role != Role.PROVIDER or not may_see_home_care(actor, row):
        return None
    return ProviderCaseView(**{n: getattr(row, n) for n in ProviderCaseView.__dataclass_fields__})


def care_timeline(engine: Engine, case_id: UUID) -> tuple[TimelineEntry, ...]:
    """A case's history in order; call only after `care_case_detail` allowed the actor to see it."""
    query = select(tl).where(tl.c.case_id == case_id).order_by(tl.c.version)
    with engine.connect() as conn:
        return tuple(
            TimelineEntry(
                r.version, _aware(r.occurred_at), r.actor_id, r.kind, json.loads(r.details)
            )
            for r in conn.execute(query)
        )


def _visit(row: Any) -> Visit:
    return Visit(
        visit_id=row.visit_id,
        case_id=row.case_id,
        person_id=row.person_id,
        provider_id=row.provider_id,
        district=row.district,
        visit_date=row.visit_date,
        start=row.start_time,
        end=row.end_time,
        minutes=row.minutes,
        items=tuple(json.loads(row.items)),
        caregiver=row.caregiver,
        confirmed_by=row.confirmed_by,
        cancelled=row.cancelled,
        cancel_reason=row.cancel_reason,
        corrections=row.corrections,
    )


def case_visits(engine: Engine, case_id: UUID) -> tuple[Visit, ...]:
    """A case's visits, oldest first; call only after the actor was allowed to see the case."""
    query = (
        select(hv)
        .where(hv.c.case_id == case_id)
        .order_by(hv.c.visit_date, hv.c.start_time, hv.c.visit_id)
    )
    with engine.connect() as conn:
        return tuple(_visit(r) for r in conn.execute(query))


def visit_log(engine: Engine, actor: Actor, day: date) -> tuple[Visit, ...]:
    """A provider's visits on one day, its own organisation only (its "visit log")."""
    facility = _facility(actor) if actor.role == Role.PROVIDER else None
    if facility is None:
        return ()
    query = (
        select(hv)
        .where(hv.c.provider_id == facility, hv.c.visit_date == day)
        .order_by(hv.c.start_time, hv.c.visit_id)
    )
    with engine.connect() as conn:
        return tuple(_visit(r) for r in conn.execute(query))


def _hours_by(
    engine: Engine, key: Any, start: date, end: date, *conditions: Any
) -> dict[Any, CareHours]:
    query = (
        select(key, func.count(), func.sum(hv.c.minutes))
        .where(hv.c.visit_date >= start, hv.c.visit_date <= end, hv.c.cancelled == false())
        .where(*conditions)
        .group_by(key)
    )
    with engine.connect() as conn:
        return {k: CareHours(int(n), int(m or 0)) for k, n, m in conn.execute(query)}


def hours_per_case(
    engine: Engine,
    *,
    start: date,
    end: date,
    case_id: UUID | None = None,
    provider_id: UUID | None = None,
) -> dict[UUID, CareHours]:
    """Care delivered to each elder's case between two days (both included); one case's, or
    one provider's cases', when asked (a page never sums the whole city to show one line)."""
    conditions = []
    if case_id is not None:
        conditions.append(hv.c.case_id == case_id)
    if provider_id is not None:
        conditions.append(hv.c.provider_id == provider_id)
    return _hours_by(engine, hv.c.case_id, start, end, *conditions)


def hours_per_provider(engine: Engine, *, start: date, end: date) -> dict[UUID, CareHours]:
    """Care delivered by each provider organisation between two days (both included)."""
    return _hours_by(engine, hv.c.provider_id, start, end)


def hours_per_district(engine: Engine, *, start: date, end: date) -> dict[str, CareHours]:
    """Care delivered in each district (where the elder lives) between two days (both included)."""
    return _hours_by(engine, hv.c.district, start, end)


def satisfaction(
    engine: Engine,
    *,
    start: date | None = None,
    end: date | None = None,
    district: str = "",
    provider_id: UUID | None = None,
) -> Satisfaction:
    """Home care satisfaction: surveys answered and the share rating it 4 or 5 overall."""
    satisfied = func.sum(case((sv.c.overall >= SATISFIED_FROM, 1), else_=0))
    query = select(func.count(), satisfied)
    if start is not None:
        query = query.where(sv.c.answered_on >= start)
    if end is not None:
        query = query.where(sv.c.answered_on <= end)
    if district:
        query = query.where(sv.c.district == district)
    if provider_id is not None:
        query = query.where(sv.c.provider_id == provider_id)
    with engine.connect() as conn:
        total, happy = conn.execute(query).one()
    return Satisfaction(int(total), int(happy or 0))
