"""What a family's pages ask across programmes: all its cases, open canteens, facility names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import Engine, Select, String, Table, literal, select, tuple_, union_all

from events.facility import Kind
from events.roles import Actor, Role
from projections.facility_progress import facility_progress as fp
from projections.home_care_cases import home_care_cases
from projections.meal_enrolments import meal_enrolments
from projections.tables import retrofit_cases

PAGE_SIZE = 50
IN_OPERATION = "in_operation"

# Each programme's case table, by the programme code the portal's labels use.
_CASE_TABLES: dict[str, Table] = {
    "retrofit": retrofit_cases,
    "meal": meal_enrolments,
    "home_care": home_care_cases,
}


@dataclass(frozen=True)
class FamilyCase:
    """One line of a family's list of its cases, whatever the programme."""

    programme: str
    case_id: UUID
    reference: str
    person_id: UUID
    step: str
    step_since: datetime
    applied_at: datetime


@dataclass(frozen=True)
class FamilyCasePage:
    """A page of a family's cases and the cursor for the next page (keyset pagination)."""

    rows: tuple[FamilyCase, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class Canteen:
    """A canteen an elder may join: open, in the elder's district."""

    facility_id: UUID
    name: str
    street: str
    community: str


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _arm(code: str, table: Table, user_id: str) -> Select:
    return select(
        literal(code, String).label("programme"),
        table.c.case_id,
        table.c.reference,
        table.c.person_id,
        table.c.step,
        table.c.step_since,
        table.c.applied_at,
    ).where(table.c.applicant_user_id == user_id)


def family_cases(
    engine: Engine, actor: Actor, *, cursor: str | None = None, limit: int | None = None
) -> FamilyCasePage:
    """A family's own cases in every programme, newest activity first; one page at a time.

    A malformed cursor raises ValueError (the portal answers 404)."""
    if actor.role != Role.FAMILY:
        return FamilyCasePage((), None)
    limit = limit or PAGE_SIZE
    cases = union_all(
        *(_arm(code, table, actor.user_id) for code, table in _CASE_TABLES.items())
    ).subquery()
    query = select(cases)
    if cursor:
        since, case_id = _parse_cursor(cursor)
        query = query.where(tuple_(cases.c.step_since, cases.c.case_id) < tuple_(since, case_id))
    query = query.order_by(cases.c.step_since.desc(), cases.c.case_id.desc()).limit(limit + 1)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    page = tuple(
        FamilyCase(
            r.programme, r.case_id, r.reference, r.person_id, r.step,
            _aware(r.step_since), _aware(r.applied_at),
        )
        for r in rows[:limit]
    )  # fmt: skip
    last = page[-1] if len(rows) > limit and page else None
    return FamilyCasePage(page, f"{last.step_since.isoformat()}|{last.case_id}" if last else None)


def _parse_cursor(cursor: str) -> tuple[datetime, UUID]:
    since, _, case_id = cursor.partition("|")
    return _aware(datetime.fromisoformat(since)), UUID(case_id)


def open_canteens(engine: Engine, district: str) -> tuple[Canteen, ...]:
    """The canteens in operation in a district, by name: public facts anyone applying may read."""
    if not district:
        return ()
    query = (
        select(fp.c.facility_id, fp.c.name, fp.c.street, fp.c.community)
        .where(fp.c.kind == Kind.CANTEEN, fp.c.milestone == IN_OPERATION)
        .where(fp.c.district == district)
        .order_by(fp.c.name, fp.c.facility_id)
    )
    with engine.connect() as conn:
        return tuple(Canteen(*row) for row in conn.execute(query))


def facility_names(engine: Engine, facility_ids: Iterable[UUID]) -> dict[UUID, str]:
    """The names of canteens and provider organisations (public), for case pages and timelines."""
    wanted = {UUID(str(i)) for i in facility_ids if i}
    if not wanted:
        return {}
    query = select(fp.c.facility_id, fp.c.name).where(fp.c.facility_id.in_(wanted))
    with engine.connect() as conn:
        return {facility_id: name for facility_id, name in conn.execute(query)}
