"""Everything the supervision dashboard, its printable page and its workbook show for one set
of filters, gathered from the projections in one place (the views only render it)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import Engine

from events import clock
from events.facility import Kind
from events.metrics import CUMULATIVE, PROGRAMMES, metric
from portal import charts
from portal import supervision_labels as sl
from portal.forms.supervision import Filters
from projections.late_work import (
    DistrictOnTime,
    LateFacility,
    StuckCase,
    late_facilities,
    on_time_by_district,
    stuck_cases,
)
from projections.supervision_queries import Progress, end_of, progress_at
from projections.supervision_series import SATISFACTION, MonthlyRate, month_start, monthly_rates

# Which kinds of late work belong to which supervised programme.
CASE_PROGRAMMES = {"retrofit": ("retrofit",), "home_care": ("meal", "home_care")}
FACILITY_PROGRAMMES = {
    "home_care": (Kind.CARE_CENTRE, Kind.CANTEEN),
    "facility": (Kind.INSTITUTION,),
}
LIST_LIMIT = 100  # rows per late list: the most overdue first
# Which programme's surveys the satisfaction chart draws.
SURVEYED = {"retrofit": ("retrofit_satisfaction",), "home_care": ("care_satisfaction",)}
ALL_MONTHS = 36  # "since the target was set" still draws at most three years of satisfaction


@dataclass(frozen=True)
class BurnUp:
    """One cumulative target's burn-up chart and its month-end figures (the table behind it)."""

    progress: Progress
    chart: Markup
    month_ends: tuple[tuple[date, Decimal], ...]


@dataclass(frozen=True)
class Section:
    """One programme's targets, its progress bars (one chart per metric) and burn-ups."""

    programme: str
    rows: tuple[Progress, ...]
    bars: tuple[Markup, ...]
    burn_ups: tuple[BurnUp, ...]


@dataclass(frozen=True)
class Satisfaction:
    """Satisfaction month by month for the programmes shown: the chart, and its table's months
    (those with answers); no metrics when the programme chosen surveys nobody."""

    metrics: tuple[str, ...]
    chart: Markup | None
    months: tuple[date, ...]
    rates: dict[tuple[str, date], MonthlyRate]


@dataclass(frozen=True)
class Board:
    """The dashboard as at one day for one set of filters."""

    filters: Filters
    today: date
    sections: tuple[Section, ...]
    counts: dict[str, int]
    stuck: tuple[StuckCase, ...]
    late: tuple[LateFacility, ...]
    leaderboard: tuple[DistrictOnTime, ...]
    satisfaction: Satisfaction

    @property
    def live(self) -> bool:
        """Whether the board shows today (late lists are exact only then)."""
        return self.filters.as_at == self.today

    @property
    def targets(self) -> int:
        """How many targets the board judges."""
        return sum(len(s.rows) for s in self.sections)


def build_board(engine: Engine, limits: dict[str, dict[str, int]], filters: Filters) -> Board:
    """Gather the board: targets judged as at the day, late work, the leaderboard, surveys."""
    today, day = clock.today(), filters.as_at
    now = clock.now() if day >= today else end_of(day)
    found = progress_at(engine, day, programme=filters.programme, district=filters.district)
    sections = tuple(
        _section(code, [p for p in found if p.target.programme == code], filters)
        for code in PROGRAMMES
        if not filters.programme or code == filters.programme
    )
    return Board(
        filters=filters,
        today=today,
        sections=sections,
        counts=dict(Counter(p.judgement.colour for p in found)),
        stuck=tuple(_stuck(engine, limits, now, filters)),
        late=tuple(_late(engine, day, filters)),
        leaderboard=tuple(on_time_by_district(engine, limits, now=now, today=day)),
        satisfaction=_satisfaction(engine, filters),
    )


def _stuck(
    engine: Engine, limits: dict[str, dict[str, int]], now: datetime, filters: Filters
) -> list[StuckCase]:
    wanted = CASE_PROGRAMMES.get(filters.programme, ()) if filters.programme else ("",)
    found = [
        c
        for programme in wanted
        for c in stuck_cases(
            engine,
            limits,
            now=now,
            district=filters.district,
            programme=programme,
            limit=LIST_LIMIT,
        )
    ]
    return sorted(found, key=lambda c: (-c.days_over, c.reference))[:LIST_LIMIT]


def _late(engine: Engine, day: date, filters: Filters) -> list[LateFacility]:
    if filters.programme and filters.programme not in FACILITY_PROGRAMMES:
        return []
    found = late_facilities(engine, today=day, district=filters.district, limit=LIST_LIMIT * 3)
    kinds = FACILITY_PROGRAMMES.get(filters.programme)
    rows = [f for f in found if kinds is None or f.kind in kinds]
    return sorted(rows, key=lambda f: (-f.days_late, f.name))[:LIST_LIMIT]


# -- one programme -----------------------------------------------------------------------------
def _section(code: str, rows: list[Progress], filters: Filters) -> Section:
    by_metric: dict[str, list[Progress]] = {}
    for p in rows:
        by_metric.setdefault(p.target.metric, []).append(p)
    bars = tuple(_bars(m, ps) for m, ps in by_metric.items())
    burn_ups = tuple(
        _burn_up(p, filters)
        for p in rows
        if metric(p.target.metric).shape == CUMULATIVE  # type: ignore[union-attr]
    )
    return Section(code, tuple(rows), bars, burn_ups)


def _bars(code: str, rows: list[Progress]) -> Markup:
    """One metric's districts side by side: actual against target, status in words."""
    unit = metric(code).unit  # type: ignore[union-attr]
    bars = [
        charts.Bar(
            label=sl.place_name(p.target.district),
            target=p.target.value,
            actual=p.actual,
            expected=p.expected,
            colour=p.judgement.colour,
            text=_(
                "%(actual)s / %(target)s(%(percent)s) 状态:%(colour)s",
                actual=sl.number(p.actual, unit),
                target=sl.quantity(p.target.value, unit),
                percent=sl.percent(p.percent),
                colour=sl.colour_name(p.judgement.colour),
            ),
        )
        for p in rows
    ]
    sentences = [_bar_sentence(p, unit) for p in rows]
    return charts.progress_bars(
        f"bars-{code}",
        _("%(metric)s:各区县完成情况", metric=sl.metric_name(code)),
        " ".join(sentences),
        bars,
        _("实心条:实际;空心框:目标;虚竖线:计划线此时应达的位置"),
    )


def _bar_sentence(p: Progress, unit: str) -> str:
    return _(
        "%(place)s 已完成 %(actual)s,目标 %(target)s,完成 %(percent)s,状态%(colour)s。",
        place=sl.place_name(p.target.district),
        actual=sl.quantity(p.actual, unit),
        target=sl.quantity(p.target.value, unit),
        percent=sl.percent(p.percent),
        colour=sl.colour_name(p.judgement.colour),
    )


def _burn_up(p: Progress, filters: Filters) -> BurnUp:
    t, unit = p.target, metric(p.target.metric).unit  # type: ignore[union-attr]
    months = filters.months
    window = t.start if months is None else max(t.start, month_start(filters.as_at, months - 1))
    actual = sl.quantity(p.actual, unit)
    title = _(
        "%(place)s %(metric)s:进度曲线",
        place=sl.place_name(t.district),
        metric=sl.metric_name(t.metric),
    )
    desc = _(
        "从 %(start)s 到 %(as_at)s 累计完成 %(actual)s,目标 %(target)s,截止 %(deadline)s;"
        "计划线此时应达 %(expected)s。%(status)s",
        start=t.start.isoformat(),
        as_at=filters.as_at.isoformat(),
        actual=actual,
        target=sl.quantity(t.value, unit),
        deadline=t.deadline.isoformat(),
        expected=sl.quantity(p.expected, unit),
        status=sl.status_sentence(p, filters.as_at, clock.today()),
    )
    text = charts.BurnUpText(
        actual=_("实线:实际累计"),
        plan=_("虚线:计划线"),
        target=_("目标 %(value)s", value=sl.number(t.value, unit)),
        deadline=_("截止 %(day)s", day=t.deadline.isoformat()),
        as_at=_("%(day)s:%(actual)s", day=filters.as_at.isoformat(), actual=actual),
    )
    chart = charts.burn_up(
        f"burnup-{t.target_id}",
        title,
        desc,
        series=p.series,
        start=t.start,
        deadline=t.deadline,
        target=t.value,
        window_start=window,
        colour=p.judgement.colour,
        text=text,
    )
    return BurnUp(p, chart, _month_ends(p.series))


def _month_ends(series: tuple[tuple[date, Decimal], ...]) -> tuple[tuple[date, Decimal], ...]:
    """The cumulative figure at each month's last recorded day, and on the as-at day."""
    ends: dict[date, tuple[date, Decimal]] = {}
    for day, value in series:
        ends[month_start(day)] = (day, value)
    return tuple(ends[k] for k in sorted(ends))


# -- satisfaction ------------------------------------------------------------------------------
def _satisfaction(engine: Engine, filters: Filters) -> Satisfaction:
    wanted = SURVEYED.get(filters.programme, ()) if filters.programme else SATISFACTION
    months = filters.months or ALL_MONTHS
    found = (
        monthly_rates(engine, filters.as_at, months=months, district=filters.district,
                      metrics=wanted)
        if wanted
        else []
    )  # fmt: skip
    if not found:
        return Satisfaction(wanted, None, (), {})
    first = found[0].month if filters.months is None else month_start(filters.as_at, months - 1)
    axis = _months(first, month_start(filters.as_at))
    rates = {(r.metric, r.month): r for r in found}
    lines = [
        charts.Line(
            sl.metric_name(code),
            tuple(rates[(code, m)].rate if (code, m) in rates else None for m in axis),
            marker,
            dash,
        )
        for code, marker, dash in zip(wanted, ("circle", "square"), ("", "8 5"), strict=False)
    ]
    chart = charts.monthly_lines(
        "satisfaction",
        _("满意度变化(按月)"),
        _satisfaction_desc(found),
        [_month_label(m) for m in axis],
        lines,
    )
    answered = tuple(m for m in axis if any((code, m) in rates for code in wanted))
    return Satisfaction(wanted, chart, answered, rates)


def _months(first: date, last: date) -> list[date]:
    months, current = [], first
    while current <= last:
        months.append(current)
        current = month_start(date(current.year, current.month, 28), -1)
    return months


def _month_label(month: date) -> str:
    return f"{month.year}-{month.month:02d}"


def _satisfaction_desc(found: list[MonthlyRate]) -> str:
    parts = [
        _(
            "%(month)s %(metric)s %(rate)s%%(%(answers)s 份答卷)",
            month=_month_label(r.month),
            metric=sl.metric_name(r.metric),
            rate=sl.number(r.rate),
            answers=r.answers,
        )
        for r in found
    ]
    return _("每月满意的答卷占比:") + ";".join(parts) + "。"
