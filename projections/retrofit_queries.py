"""What the portal may ask of the retrofit read models: small frozen answers, never ORM rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Engine, and_, false, func, select, true, tuple_

from events.access import READ_EVERYTHING, may_see
from events.retrofit import Step
from events.roles import Actor, Role
from projections.tables import retrofit_cases as rc
from projections.tables import retrofit_timeline as tl

PAGE_SIZE = 50

# The steps where each role has something to do: its worklist.
WORK_STEPS: dict[str, tuple[str, ...]] = {
    Role.CASEWORKER: (Step.SUBMITTED, Step.PLAN_CONFIRMED, Step.CONTRACTOR_ASSIGNED,
                      Step.WORKS_STARTED, Step.RECTIFICATION, Step.ACCEPTED, Step.SURVEYED),
    Role.ASSESSOR: (Step.APPROVED, Step.ASSESSED),
    Role.INSPECTOR: (Step.CONTRACTOR_ASSIGNED, Step.WORKS_STARTED, Step.WORKS_COMPLETED,
                     Step.RECTIFICATION),
    Role.FAMILY: (Step.RETURNED, Step.ASSESSED, Step.ACCEPTED),
    Role.COMMUNITY_WORKER: (Step.RETURNED, Step.ASSESSED, Step.ACCEPTED, Step.SURVEYED),
}  # fmt: skip


@dataclass(frozen=True)
class CaseSummary:
    """One line of a case list."""

    case_id: UUID
    reference: str
    person_id: UUID
    channel: str
    district: str
    street: str
    community: str
    step: str
    step_since: datetime
    applied_at: datetime
    days_in_step: int
    version: int


@dataclass(frozen=True)
class CaseDetail:
    """What a case page and its forms need."""

    case_id: UUID
    reference: str
    person_id: UUID
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
    assessor_id: str | None
    inspector_id: str | None
    contractor: str | None
    checklist_version: str | None
    assessment_items: tuple[dict[str, Any], ...]
    total_cost: Decimal | None
    subsidy: Decimal | None
    acceptance_rounds: int
    last_acceptance_passed: bool | None
    survey_overall: int | None

    @property
    def household_share(self) -> Decimal | None:
        """What the family pays above the subsidy."""
        if self.total_cost is None or self.subsidy is None:
            return None
        return self.total_cost - self.subsidy


@dataclass(frozen=True)
class TimelineEntry:
    """One step in a case's history."""

    version: int
    occurred_at: datetime
    actor_id: str
    kind: str
    details: dict[str, Any]


@dataclass(frozen=True)
class CasePage:
    """A page of a case list and the cursor for the next page (keyset pagination)."""

    rows: tuple[CaseSummary, ...]
    next_cursor: str | None


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """SQL form of `events.access.may_see`: the cases this actor may list."""
    match actor.role:
        case Role.FAMILY:
            return rc.c.applicant_user_id == actor.user_id
        case Role.COMMUNITY_WORKER:
            return and_(rc.c.district == actor.district, rc.c.community == actor.community)
        case Role.CASEWORKER:
            return rc.c.district == actor.district
        case Role.ASSESSOR:
            return rc.c.assessor_id == actor.user_id
        case Role.INSPECTOR:
            return rc.c.inspector_id == actor.user_id
    return true() if actor.role in READ_EVERYTHING else false()


# Only what a list row shows: converting the other columns of 51 rows (JSON, amounts, dates)
# cost as much as the query itself.
_SUMMARY_COLUMNS = tuple(
    rc.c[name] for name in CaseSummary.__dataclass_fields__ if name != "days_in_step"
)


def _summary(row: Any, now: datetime) -> CaseSummary:
    return CaseSummary(
        case_id=row.case_id, reference=row.reference, person_id=row.person_id,
        channel=row.channel, district=row.district, street=row.street,
        community=row.community, step=row.step, step_since=row.step_since,
        applied_at=row.applied_at, days_in_step=max((now - _aware(row.step_since)).days, 0),
        version=row.version,
    )  # fmt: skip


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def list_cases(
    engine: Engine, actor: Actor, *, now: datetime, district: str = "", step: str = "",
    min_days_in_step: int = 0, worklist: bool = False, cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> CasePage:  # fmt: skip
    """Cases this actor may see, longest-waiting first, filtered; one page at a time."""
    query = select(*_SUMMARY_COLUMNS).where(visible_to(actor))
    if district:
        query = query.where(rc.c.district == district)
    if step:
        query = query.where(rc.c.step == step)
    if worklist:
        query = query.where(rc.c.step.in_(WORK_STEPS.get(actor.role, ())))
    if min_days_in_step > 0:
        query = query.where(rc.c.step_since <= now - timedelta(days=min_days_in_step))
    if cursor:
        since, case_id = _parse_cursor(cursor)
        query = query.where(tuple_(rc.c.step_since, rc.c.case_id) > tuple_(since, case_id))
    query = query.order_by(rc.c.step_since, rc.c.case_id).limit(limit + 1)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    page = tuple(_summary(r, now) for r in rows[:limit])
    more = len(rows) > limit
    return CasePage(page, _cursor(page[-1]) if more and page else None)


def _cursor(row: CaseSummary) -> str:
    return f"{_aware(row.step_since).isoformat()}|{row.case_id}"


def _parse_cursor(cursor: str) -> tuple[datetime, UUID]:
    """Parse a cursor from a query string; a malformed one raises ValueError."""
    since, _, case_id = cursor.partition("|")
    return datetime.fromisoformat(since), UUID(case_id)


def count_by_step(engine: Engine, actor: Actor, *, district: str = "") -> dict[str, int]:
    """How many visible cases stand at each step (the queue's filter labels)."""
    query = select(rc.c.step, func.count()).where(visible_to(actor)).group_by(rc.c.step)
    if district:
        query = query.where(rc.c.district == district)
    with engine.connect() as conn:
        return {step: n for step, n in conn.execute(query)}


def case_detail(engine: Engine, actor: Actor, case_id: UUID) -> CaseDetail | None:
    """The case if this actor may see it; None otherwise (the portal answers 404 either way)."""
    with engine.connect() as conn:
        row = conn.execute(select(rc).where(rc.c.case_id == case_id)).first()
    if row is None or not may_see(actor, row):
        return None
    items = tuple(json.loads(row.assessment_items)) if row.assessment_items else ()
    fields = {name: getattr(row, name) for name in CaseDetail.__dataclass_fields__
              if name != "assessment_items"}  # fmt: skip
    fields |= {"step_since": _aware(row.step_since), "applied_at": _aware(row.applied_at)}
    return CaseDetail(assessment_items=items, **fields)


def timeline(engine: Engine, case_id: UUID) -> tuple[TimelineEntry, ...]:
    """A case's history in order; call only after `case_detail` allowed the actor to see it."""
    query = select(tl).where(tl.c.case_id == case_id).order_by(tl.c.version)
    with engine.connect() as conn:
        return tuple(
            TimelineEntry(
                r.version, _aware(r.occurred_at), r.actor_id, r.kind, json.loads(r.details)
            )
            for r in conn.execute(query)
        )
