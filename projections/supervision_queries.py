"""What the supervision dashboard reads: targets and actuals as at a day, each judged by the
red/amber/green rule, with the daily series behind the burn-up lines. Projections only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, func, select

from events.clock import CITY_TZ
from events.metrics import (
    CUMULATIVE,
    PACE_DAYS,
    Judgement,
    Metric,
    expected_by,
    judge,
    metric,
    projected_finish,
)
from projections.supervision_tables import metric_days, target_versions
from projections.workforce_queries import WorkforceFigures, district_figures

RATES = ("acceptance_failure_rate", "retrofit_satisfaction", "care_satisfaction")
MEAL_WINDOW = 7  # meals per day: the average over the last week
ZERO = Decimal("0")


@dataclass(frozen=True)
class TargetRow:
    """A target as it stood at a moment."""

    target_id: UUID
    version: int
    metric: str
    programme: str
    district: str  # "" for the whole city
    value: Decimal
    start: date
    deadline: date


@dataclass(frozen=True)
class Progress:
    """One target against its actual on a day: the dashboard's row."""

    target: TargetRow
    actual: Decimal | None
    percent: Decimal | None  # of the target done (counts only)
    days_left: int
    expected: Decimal | None  # where the straight line stands today (cumulative)
    finish: date | None  # projected from the recent pace (cumulative)
    judgement: Judgement
    series: tuple[tuple[date, Decimal], ...]  # cumulative actual by day, for the burn-up line


def end_of(day: date) -> datetime:
    """The last moment of a city day, in UTC: "as at 30 November" includes all of that day."""
    return datetime.combine(day + timedelta(days=1), time(), CITY_TZ).astimezone(UTC)


def targets_at(engine: Engine, day: date) -> list[TargetRow]:
    """The targets in force at the end of `day` (latest version by then, not withdrawn)."""
    t = target_versions.c
    latest = (
        select(t.target_id, func.max(t.version).label("version"))
        .where(t.recorded_at < end_of(day))
        .group_by(t.target_id)
        .subquery()
    )
    query = (
        select(target_versions)
        .join(latest, (t.target_id == latest.c.target_id) & (t.version == latest.c.version))
        .where(t.withdrawn.is_(False))
        .order_by(t.programme, t.metric, t.district)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [_target_row(r) for r in rows]


def _target_row(r: Any) -> TargetRow:
    return TargetRow(
        r["target_id"], r["version"], r["metric"], r["programme"], r["district"],
        Decimal(r["value"]), r["start"], r["deadline"],
    )  # fmt: skip


class _Days:
    """The daily rows of the metrics asked about, recorded by the day in question, filed by
    metric and district (and by metric alone for city-wide targets)."""

    def __init__(self, engine: Engine, metrics: set[str], since: date, day: date) -> None:
        d = metric_days.c
        query = (
            select(d.metric, d.district, d.day, d.recorded_on, d.amount, d.denominator)
            .where(d.metric.in_(sorted(metrics)), d.recorded_on <= day)
            .where((d.recorded_on >= since) | (d.day >= day - timedelta(days=MEAL_WINDOW)))
        )
        self.rows: dict[tuple[str, str], list[Any]] = defaultdict(list)
        with engine.connect() as conn:
            for r in conn.execute(query):
                self.rows[(r.metric, r.district)].append(r)
                self.rows[(r.metric, "")].append(r)

    def of(self, code: str, district: str) -> list[Any]:
        return self.rows.get((code, district), [])


def progress_at(
    engine: Engine,
    day: date,
    *,
    programme: str = "",
    district: str = "",
    workforce: dict[str, WorkforceFigures] | None = None,
) -> list[Progress]:
    """Every target in force at `day` (optionally one programme's or one district's) judged
    against its actual as at that day."""
    targets = [
        t
        for t in targets_at(engine, day)
        if (not programme or t.programme == programme) and (not district or t.district == district)
    ]
    if not targets:
        return []
    since = min(t.start for t in targets)
    days = _Days(engine, {t.metric for t in targets}, since, day)
    staff = workforce if workforce is not None else _workforce(engine, day, targets)
    return [_progress(t, days, staff, day) for t in targets]


def _progress(t: TargetRow, days: _Days, staff: dict[str, WorkforceFigures], day: date) -> Progress:
    m = metric(t.metric)
    if m is None:  # targets only name known metrics (checked when set)
        raise LookupError(t.metric)
    rows = days.of(t.metric, t.district)
    series: tuple[tuple[date, Decimal], ...] = ()
    expected = finish = None
    if m.shape == CUMULATIVE:
        series = _cumulative(rows, t.start, day)
        actual: Decimal | None = series[-1][1] if series else ZERO
        expected = expected_by(t.value, t.start, t.deadline, day)
        finish = projected_finish(t.value, actual, _gained(series, day), day)
    else:
        actual = _level(m, rows, t.start, day, staff.get(t.district))
    return Progress(
        target=t, actual=actual,
        # Share done only means something for counts; a rate or ratio is read against its target.
        percent=_percent(actual, t.value) if m.shape == CUMULATIVE else None,
        days_left=(t.deadline - day).days, expected=expected, finish=finish,
        judgement=judge(m, t.value, actual, t.start, t.deadline, day), series=series,
    )  # fmt: skip


def _cumulative(rows: list[Any], start: date, day: date) -> tuple[tuple[date, Decimal], ...]:
    by_day: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for r in rows:
        if start <= r.recorded_on <= day:
            by_day[r.recorded_on] += Decimal(r.amount)
    total, points = ZERO, [(start, ZERO)]
    for d in sorted(by_day):
        total += by_day[d]
        points.append((d, total))
    if points[-1][0] != day:
        points.append((day, total))
    return tuple(points)


def _gained(series: tuple[tuple[date, Decimal], ...], day: date) -> Decimal:
    """The increase over the last PACE_DAYS days: the recent pace."""
    before = day - timedelta(days=PACE_DAYS)
    earlier = [v for d, v in series if d <= before]
    return series[-1][1] - (earlier[-1] if earlier else ZERO)


def _level(
    m: Metric, rows: list[Any], start: date, day: date, staff: WorkforceFigures | None
) -> Decimal | None:
    if m.code == "meals_per_day":
        first = day - timedelta(days=MEAL_WINDOW - 1)
        meals = sum((Decimal(r.amount) for r in rows if first <= r.day <= day), ZERO)
        return (meals / MEAL_WINDOW).quantize(Decimal("0.1"))
    if m.code in RATES:
        counted = [r for r in rows if start <= r.recorded_on <= day]
        total = sum((Decimal(r.denominator) for r in counted), ZERO)
        if not total:
            return None
        share = sum((Decimal(r.amount) for r in counted), ZERO) / total
        return (share * 100).quantize(Decimal("0.1"))
    return _workforce_figure(m.code, staff)


def _workforce_figure(code: str, staff: WorkforceFigures | None) -> Decimal | None:
    if staff is None:
        return None
    if code == "elders_per_caregiver":
        return staff.elders_per_caregiver
    turnover = staff.annual_turnover
    return None if turnover is None else (turnover * 100).quantize(Decimal("0.1"))


def _workforce(engine: Engine, day: date, targets: list[TargetRow]) -> dict[str, WorkforceFigures]:
    wanted = {t.district for t in targets if metric(t.metric).programme == "workforce"}  # type: ignore[union-attr]
    period = f"{day.year:04d}-{day.month:02d}"
    return {d: district_figures(engine, d, period) for d in wanted}


def _percent(actual: Decimal | None, value: Decimal) -> Decimal | None:
    if actual is None or not value:
        return None
    return (actual * 100 / value).quantize(Decimal("0.1"))
