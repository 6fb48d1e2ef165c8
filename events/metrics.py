"""What supervision measures: the speech's figures, each with its programme, unit, shape and
which direction is better, and the red/amber/green rule that judges progress against a target."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

CUMULATIVE = "cumulative"  # counts up over time towards the target (a burn-up line)
LEVEL = "level"  # a current figure held against the target (a rate, a ratio, a daily level)
HIGHER, LOWER = "higher", "lower"  # which way is better

# Behind the straight line to the deadline by at most this share of the target: amber.
AMBER_MARGIN = Decimal("0.10")
# The recent pace that projects a finish date: the increase over this many days.
PACE_DAYS = 30


@dataclass(frozen=True)
class Metric:
    """One supervised figure."""

    code: str
    programme: str  # retrofit, home_care, facility, funds, workforce
    unit: str  # households, count, meals, hours, beds, yuan, percent, ratio
    shape: str
    better: str


METRICS: tuple[Metric, ...] = (
    Metric("retrofit_accepted", "retrofit", "households", CUMULATIVE, HIGHER),
    Metric("acceptance_failure_rate", "retrofit", "percent", LEVEL, LOWER),
    Metric("retrofit_satisfaction", "retrofit", "percent", LEVEL, HIGHER),
    Metric("centres_operating", "home_care", "count", CUMULATIVE, HIGHER),
    Metric("canteens_operating", "home_care", "count", CUMULATIVE, HIGHER),
    Metric("meals_per_day", "home_care", "meals", LEVEL, HIGHER),
    Metric("care_hours", "home_care", "hours", CUMULATIVE, HIGHER),
    Metric("care_satisfaction", "home_care", "percent", LEVEL, HIGHER),
    Metric("institutions_renovated", "facility", "count", CUMULATIVE, HIGHER),
    Metric("beds_added", "facility", "beds", CUMULATIVE, HIGHER),
    Metric("funds_disbursed", "funds", "yuan", CUMULATIVE, HIGHER),
    Metric("elders_per_caregiver", "workforce", "ratio", LEVEL, LOWER),
    Metric("caregiver_turnover", "workforce", "percent", LEVEL, LOWER),
)
BY_CODE = {m.code: m for m in METRICS}
PROGRAMMES = ("retrofit", "home_care", "facility", "funds", "workforce")


def metric(code: str) -> Metric | None:
    """The metric with this code, if there is one."""
    return BY_CODE.get(code)


@dataclass(frozen=True)
class Judgement:
    """Red, amber or green (or grey without data), and which part of the rule decided it."""

    colour: str  # green, amber, red, grey
    rule: str  # met, overdue, on_plan, near_plan, behind_plan, within, near, off, no_data
    expected: Decimal | None = None  # where the straight line to the deadline stands today


def judge(
    m: Metric, target: Decimal, actual: Decimal | None, start: date, deadline: date, today: date
) -> Judgement:
    """The one red/amber/green rule, written out on the dashboard beside its result."""
    if actual is None:
        return Judgement("grey", "no_data")
    if m.shape == LEVEL:
        return _judge_level(m, target, actual)
    expected = expected_by(target, start, deadline, today)
    if actual >= target:
        return Judgement("green", "met", expected)
    if today > deadline:
        return Judgement("red", "overdue", expected)
    if actual >= expected:
        return Judgement("green", "on_plan", expected)
    if actual >= expected - target * AMBER_MARGIN:
        return Judgement("amber", "near_plan", expected)
    return Judgement("red", "behind_plan", expected)


def _judge_level(m: Metric, target: Decimal, actual: Decimal) -> Judgement:
    # Lower-is-better figures (turnover, failure rate, elders per caregiver) mirror the rule.
    good = actual >= target if m.better == HIGHER else actual <= target
    if good:
        return Judgement("green", "within")
    bound = target * (1 - AMBER_MARGIN) if m.better == HIGHER else target * (1 + AMBER_MARGIN)
    near = actual >= bound if m.better == HIGHER else actual <= bound
    return Judgement("amber", "near") if near else Judgement("red", "off")


def expected_by(target: Decimal, start: date, deadline: date, today: date) -> Decimal:
    """The straight line from nothing at `start` to the target at `deadline`, read at `today`."""
    total = (deadline - start).days
    if total <= 0 or today >= deadline:
        return target
    elapsed = max((today - start).days, 0)
    return (target * elapsed / total).quantize(Decimal("0.01"))


def projected_finish(
    target: Decimal, actual: Decimal, gained_recently: Decimal, today: date
) -> date | None:
    """When the target is reached at the pace of the last PACE_DAYS days (None: no pace)."""
    if actual >= target:
        return today
    if gained_recently <= 0:
        return None
    days = (target - actual) * PACE_DAYS / gained_recently
    return today + timedelta(days=int(days.to_integral_value(rounding="ROUND_CEILING")))
