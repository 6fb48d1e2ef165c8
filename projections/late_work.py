"""Late and stuck work: cases at one step longer than its limit, facilities past their deadline,
and each district's on-time rate. Read from the case and facility projections."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from sqlalchemy import Engine, Integer, Table, case, cast, func, select

from projections.facility_progress import facility_progress as fp
from projections.facility_queries import late_on
from projections.home_care_cases import home_care_cases
from projections.meal_enrolments import meal_enrolments
from projections.tables import retrofit_cases

CASE_TABLES: dict[str, Table] = {
    "retrofit": retrofit_cases,
    "meal": meal_enrolments,
    "home_care": home_care_cases,
}


@dataclass(frozen=True)
class StuckCase:
    """A case waiting at one step longer than that step's limit."""

    programme: str
    case_id: UUID
    reference: str
    district: str
    step: str
    since: datetime
    days_in_step: int
    limit: int

    @property
    def days_over(self) -> int:
        """How far past the limit: the list is sorted by this."""
        return self.days_in_step - self.limit


@dataclass(frozen=True)
class LateFacility:
    """A facility project past its deadline and not yet in operation."""

    facility_id: UUID
    name: str
    kind: str
    district: str
    milestone: str
    deadline: date
    days_late: int


@dataclass(frozen=True)
class DistrictOnTime:
    """A district's open cases and projects, and how many are within their limits."""

    district: str
    open_items: int
    late_items: int

    @property
    def on_time_rate(self) -> float | None:
        """The share on time (None with nothing open)."""
        if not self.open_items:
            return None
        return (self.open_items - self.late_items) / self.open_items


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def stuck_cases(
    engine: Engine,
    limits: dict[str, dict[str, int]],
    *,
    now: datetime,
    district: str = "",
    programme: str = "",
    limit: int = 100,
) -> list[StuckCase]:
    """The `limit` most overdue cases, most overdue first; each (programme, step) is read oldest
    first and at most `limit` deep, so the work is bounded however many cases wait."""
    found: list[StuckCase] = []
    with engine.connect() as conn:
        for code, table in CASE_TABLES.items():
            if programme and code != programme:
                continue
            for step, days in limits.get(code, {}).items():
                t = table.c
                query = (
                    select(t.case_id, t.reference, t.district, t.step, t.step_since)
                    .where(t.step == step, t.step_since < now - timedelta(days=days))
                    .order_by(t.step_since, t.case_id)
                    .limit(limit)
                )
                if district:
                    query = query.where(t.district == district)
                for r in conn.execute(query):
                    since = _aware(r.step_since)
                    found.append(
                        StuckCase(
                            code,
                            r.case_id,
                            r.reference,
                            r.district,
                            r.step,
                            since,
                            (now - since).days,
                            days,
                        )
                    )
    return heapq.nlargest(limit, found, key=lambda c: (c.days_over, c.reference))


def late_facilities(
    engine: Engine, *, today: date, district: str = "", limit: int = 100
) -> list[LateFacility]:
    """Projects past their deadline, latest first."""
    query = select(fp).where(late_on(today)).order_by(fp.c.deadline, fp.c.name).limit(limit)
    if district:
        query = query.where(fp.c.district == district)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        LateFacility(
            r.facility_id,
            r.name,
            r.kind,
            r.district,
            r.milestone,
            r.deadline,
            (today - r.deadline).days,
        )
        for r in rows
    ]


def on_time_by_district(
    engine: Engine, limits: dict[str, dict[str, int]], *, now: datetime, today: date
) -> list[DistrictOnTime]:
    """Each district's open items (cases at a limited step, unfinished projects) and how many
    are late; best on-time rate first. One count per step, each read from the (step, district,
    step_since) index alone."""
    open_items: dict[str, int] = {}
    late_items: dict[str, int] = {}
    with engine.connect() as conn:
        for code, table in CASE_TABLES.items():
            t = table.c
            for step, days in limits.get(code, {}).items():
                late = case((t.step_since < now - timedelta(days=days), 1), else_=0)
                query = (
                    select(t.district, func.count(), func.sum(late))
                    .where(t.step == step)
                    .group_by(t.district)
                )
                _add(conn.execute(query), open_items, late_items)
        query = (
            select(fp.c.district, func.count(), func.sum(cast(late_on(today), Integer)))
            .where(fp.c.milestone != "in_operation")
            .group_by(fp.c.district)
        )
        _add(conn.execute(query), open_items, late_items)
    rows = [DistrictOnTime(d, open_items[d], late_items.get(d, 0)) for d in open_items]
    return sorted(rows, key=lambda r: (-(r.on_time_rate or 0), r.district))


def _add(rows: object, open_items: dict[str, int], late_items: dict[str, int]) -> None:
    for district, count, late in rows:  # type: ignore[attr-defined]
        open_items[district] = open_items.get(district, 0) + int(count)
        late_items[district] = late_items.get(district, 0) + int(late or 0)
