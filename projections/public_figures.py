"""The public progress page's figures (宣传引导): city-wide totals only, and counts so small
they could point at a household suppressed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine, func, select

from projections.facility_progress import facility_progress as fp
from projections.supervision_tables import metric_days

SUPPRESS_BELOW = 5  # fewer than this many households, people or answers: shown as "fewer than 5"


@dataclass(frozen=True)
class PublicFigure:
    """One city-wide figure; `value` is None where it is suppressed."""

    code: str
    value: Decimal | None
    unit: str

    @property
    def suppressed(self) -> bool:
        """True where the figure is withheld as too small to publish safely."""
        return self.value is None


def _count(value: Decimal, unit: str, code: str) -> PublicFigure:
    shown = value if value >= SUPPRESS_BELOW or value == 0 else None
    return PublicFigure(code, shown, unit)


def public_figures(engine: Engine, today: date) -> list[PublicFigure]:
    """This year's city-wide figures; a rate only from at least SUPPRESS_BELOW answers."""
    d = metric_days.c
    year_start = date(today.year, 1, 1)
    query = (
        select(d.metric, func.sum(d.amount), func.sum(d.denominator))
        .where(d.recorded_on >= year_start, d.recorded_on <= today)
        .group_by(d.metric)
    )
    operating = (
        select(fp.c.kind, func.count()).where(fp.c.milestone == "in_operation").group_by(fp.c.kind)
    )
    with engine.connect() as conn:
        sums = {m: (Decimal(a or 0), Decimal(n or 0)) for m, a, n in conn.execute(query)}
        in_operation = {k: Decimal(c) for k, c in conn.execute(operating)}
    amount = {m: a for m, (a, _) in sums.items()}
    zero = Decimal(0)
    return [
        _count(amount.get("retrofit_accepted", zero), "households", "retrofit_accepted"),
        _count(in_operation.get("care_centre", zero), "count", "care_centres"),
        _count(in_operation.get("canteen", zero), "count", "canteens"),
        _count(amount.get("meals_per_day", zero), "meals", "meals_served"),
        PublicFigure("care_hours", amount.get("care_hours", zero).quantize(Decimal(1)), "hours"),
        _count(amount.get("institutions_renovated", zero), "count", "institutions_renovated"),
        _count(amount.get("beds_added", zero), "beds", "beds_added"),
        _rate(sums, ("retrofit_satisfaction", "care_satisfaction")),
    ]


def _rate(sums: dict[str, tuple[Decimal, Decimal]], metrics: tuple[str, ...]) -> PublicFigure:
    happy = sum((sums.get(m, (Decimal(0), Decimal(0)))[0] for m in metrics), Decimal(0))
    asked = sum((sums.get(m, (Decimal(0), Decimal(0)))[1] for m in metrics), Decimal(0))
    if asked < SUPPRESS_BELOW:
        return PublicFigure("satisfaction", None, "percent")
    return PublicFigure("satisfaction", (happy * 100 / asked).quantize(Decimal("0.1")), "percent")
