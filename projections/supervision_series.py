"""Series the supervision charts draw beyond the targets: satisfaction month by month, read from
the daily metric rows (a few hundred rows a year per metric, however many surveys)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine, func, select

from projections.supervision_tables import metric_days

SATISFACTION = ("retrofit_satisfaction", "care_satisfaction")


@dataclass(frozen=True)
class MonthlyRate:
    """One metric's survey answers in one month, and how many were satisfied."""

    metric: str
    month: date  # the first day of the month
    answers: int
    satisfied: int

    @property
    def rate(self) -> Decimal | None:
        """The satisfied share in percent (None without answers)."""
        if not self.answers:
            return None
        return (Decimal(self.satisfied) * 100 / self.answers).quantize(Decimal("0.1"))


def month_start(day: date, back: int = 0) -> date:
    """The first day of `day`'s month, `back` months earlier."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def monthly_rates(
    engine: Engine,
    day: date,
    *,
    months: int,
    district: str = "",
    metrics: tuple[str, ...] = SATISFACTION,
) -> list[MonthlyRate]:
    """Each metric's answers per month over the `months` months up to `day` (as recorded by
    then), oldest first; months without answers are left out."""
    d = metric_days.c
    query = (
        select(d.metric, d.recorded_on, func.sum(d.amount), func.sum(d.denominator))
        .where(d.metric.in_(metrics))
        .where(d.recorded_on >= month_start(day, months - 1), d.recorded_on <= day)
        .group_by(d.metric, d.recorded_on)
    )
    if district:
        query = query.where(d.district == district)
    sums: dict[tuple[str, date], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    with engine.connect() as conn:
        for metric, recorded_on, happy, asked in conn.execute(query):
            totals = sums[(metric, month_start(recorded_on))]
            totals[0] += Decimal(happy or 0)
            totals[1] += Decimal(asked or 0)
    rows = [
        MonthlyRate(metric, month, int(asked), int(happy))
        for (metric, month), (happy, asked) in sums.items()
        if asked
    ]
    return sorted(rows, key=lambda r: (r.month, metrics.index(r.metric)))
