"""Workforce figures from staffing reports: elders per caregiver and annual caregiver turnover,
per facility and per district, as at any reporting period."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Engine, false, select, true

from events.access import READ_EVERYTHING
from events.facility import DISTRICT_STAFF
from events.roles import Actor, Role
from events.workforce import period_index, period_of
from projections.workforce import staffing_reports as sr

WINDOW = 12  # turnover is annual: the 12 periods up to and including the one asked about


@dataclass(frozen=True)
class StaffingRow:
    """One facility's staffing for one month, as last corrected."""

    organisation_id: UUID
    period: str
    district: str
    kind: str
    caregivers: int
    residents_or_clients: int
    hires: int
    departures: int
    trained: int
    corrections: int
    last_reason: str | None
    reported_by: str
    reported_at: datetime
    updated_at: datetime
    version: int


@dataclass(frozen=True)
class WorkforceFigures:
    """Workforce of a facility or district as at `period`.

    Elders per caregiver: elders served over caregivers, summed over the facilities that
    reported for `period`. Annual turnover: departures over the 12 periods from `first_period`
    to `period` divided by the average caregivers over those periods; each facility's average is
    taken over the periods it reported, and a district's average is the sum of its facilities'.
    """

    period: str
    first_period: str
    organisations: int  # facilities that reported for `period`
    caregivers: int
    residents_or_clients: int
    elders_per_caregiver: Decimal | None  # 2 places; None without caregivers
    departures: int  # over the 12 periods
    average_caregivers: Decimal | None  # 2 places; None without reports in the 12 periods
    annual_turnover: Decimal | None  # a fraction, 4 places (0.2500 is 25%)


def visible_reports(actor: Actor) -> ColumnElement[bool]:
    """The staffing reports an actor may read: its own facility's, its district's, or all."""
    if actor.role == Role.PROVIDER:
        try:
            return sr.c.organisation_id == UUID(actor.facility_id)
        except ValueError:
            return false()
    if actor.role in DISTRICT_STAFF:
        return sr.c.district == actor.district if actor.district else false()
    return true() if actor.role in READ_EVERYTHING else false()


def _row(r: Any) -> StaffingRow:
    fields = {name: getattr(r, name) for name in StaffingRow.__dataclass_fields__}
    return StaffingRow(
        **fields | {"reported_at": _aware(r.reported_at), "updated_at": _aware(r.updated_at)}
    )


def staffing_history(
    engine: Engine, actor: Actor, organisation_id: UUID
) -> tuple[StaffingRow, ...]:
    """A facility's reports, oldest period first (empty if the actor may not see them)."""
    query = (
        select(sr)
        .where(visible_reports(actor), sr.c.organisation_id == organisation_id)
        .order_by(sr.c.period)
    )
    with engine.connect() as conn:
        return tuple(_row(r) for r in conn.execute(query))


def staffing_report(
    engine: Engine, actor: Actor, organisation_id: UUID, period: str
) -> StaffingRow | None:
    """A facility's report for one month (the correction form needs its version)."""
    query = select(sr).where(
        visible_reports(actor), sr.c.organisation_id == organisation_id, sr.c.period == period
    )
    with engine.connect() as conn:
        found = conn.execute(query).first()
    return _row(found) if found else None


def facility_workforce(
    engine: Engine, actor: Actor, organisation_id: UUID, period: str
) -> WorkforceFigures:
    """A facility's ratio and turnover as at `period` (nothing visible: empty figures)."""
    scope = visible_reports(actor) & (sr.c.organisation_id == organisation_id)
    return _figures(_window(engine, scope, period), period)


def district_workforce(
    engine: Engine, actor: Actor, district: str, period: str
) -> WorkforceFigures | None:
    """A district's ratio and turnover as at `period`, for its own staff and overseers only."""
    if not _sees_district(actor, district):
        return None
    return _figures(_window(engine, sr.c.district == district, period), period)


def workforce_by_district(engine: Engine, actor: Actor, period: str) -> dict[str, WorkforceFigures]:
    """Every district the actor may see that has reports in the 12 periods up to `period`."""
    rows = _window(engine, true(), period)
    districts = sorted({r.district for r in rows if _sees_district(actor, r.district)})
    return {d: _figures([r for r in rows if r.district == d], period) for d in districts}


def _sees_district(actor: Actor, district: str) -> bool:
    # A provider's view of a district would reveal other facilities' figures: not theirs to see.
    if actor.role in DISTRICT_STAFF:
        return bool(actor.district) and actor.district == district
    return actor.role in READ_EVERYTHING


def _window(engine: Engine, scope: ColumnElement[bool], period: str) -> list[Any]:
    first = period_of(period_index(period) - WINDOW + 1)
    query = select(sr).where(scope, sr.c.period >= first, sr.c.period <= period)
    with engine.connect() as conn:
        return list(conn.execute(query))


def _figures(rows: Iterable[Any], period: str) -> WorkforceFigures:
    rows = list(rows)
    now = [r for r in rows if r.period == period]
    caregivers = sum(r.caregivers for r in now)
    elders = sum(r.residents_or_clients for r in now)
    by_facility: dict[UUID, list[int]] = {}
    for r in rows:
        by_facility.setdefault(r.organisation_id, []).append(r.caregivers)
    average = sum((Fraction(sum(c), len(c)) for c in by_facility.values()), Fraction(0))
    departures = sum(r.departures for r in rows)
    return WorkforceFigures(
        period=period,
        first_period=period_of(period_index(period) - WINDOW + 1),
        organisations=len(now),
        caregivers=caregivers,
        residents_or_clients=elders,
        elders_per_caregiver=_places(Fraction(elders, caregivers), 2) if caregivers else None,
        departures=departures,
        average_caregivers=_places(average, 2) if by_facility else None,
        annual_turnover=_places(departures / average, 4) if average else None,
    )


def _places(value: Fraction, places: int) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def district_figures(engine: Engine, district: str, period: str) -> WorkforceFigures:
    """A district's figures (the whole city's for "") as at `period`, for supervision, which
    sees every district."""
    scope = sr.c.district == district if district else true()
    return _figures(_window(engine, scope, period), period)
