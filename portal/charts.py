"""Server-side SVG charts for supervision: progress bars per district, a burn-up line, and a
monthly line chart. Plain markup built from numbers; every text escaped; colours as SVG
presentation attributes (the CSP forbids inline styles), each status also written in words.

Every chart is `role="img"` with a <title> and a <desc> a screen reader reads; the pages put
the same figures in a table beside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

# 4.5:1 or better against white, so the words drawn in these colours stay readable too.
FILLS = {"green": "#106b35", "amber": "#8a5300", "red": "#b0201a", "grey": "#595959"}
INK, MUTED, FRAME, GRID = "#1b1b1b", "#454545", "#4c4c4c", "#b1b4b6"
SERIES_COLOURS = ("#0b4f8a", "#8a5300", "#106b35", "#b0201a")
WIDTH = 760
FONT = 16


@dataclass(frozen=True)
class Bar:
    """One district's row: its target, its actual, where the plan line stands, and the words
    printed beside the bar (figures and status)."""

    label: str
    target: Decimal
    actual: Decimal | None
    expected: Decimal | None
    colour: str
    text: str


@dataclass(frozen=True)
class BurnUpText:
    """The words a burn-up chart carries, in the user's language."""

    actual: str  # legend: the solid line
    plan: str  # legend: the dashed line
    target: str  # "目标 100 户"
    deadline: str  # "截止 2026-09-30"
    as_at: str  # "截至 2026-03-20:45 户"


@dataclass(frozen=True)
class Line:
    """One series of a monthly chart; its marker and dash tell it apart without colour."""

    label: str
    values: tuple[Decimal | None, ...]
    marker: str  # circle or square
    dash: str = ""


def _n(x: float) -> str:
    return f"{x:.1f}"


def _text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    fill: str = INK,
    cls: str = "chart-text",
    bold: bool = False,
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" fill="{fill}" '
        f'font-size="{FONT}"{weight} class="{cls}">{escape(content)}</text>'
    )


def _line(
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    *,
    stroke: str = INK,
    width: float = 2,
    dash: str = "",
    cls: str = "",
) -> str:
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    klass = f' class="{cls}"' if cls else ""
    return (
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" stroke="{stroke}" '
        f'stroke-width="{_n(width)}"{dashes}{klass}/>'
    )


def _polyline(
    points: Sequence[tuple[float, float]],
    *,
    stroke: str,
    width: float = 4,
    dash: str = "",
    cls: str = "",
) -> str:
    coords = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<polyline points="{coords}" fill="none" stroke="{stroke}" stroke-width="{_n(width)}" '
        f'stroke-linejoin="round"{dashes} class="{cls}"/>'
    )


def _svg(key: str, title: str, desc: str, height: float, body: Sequence[str]) -> Markup:
    k = escape(key)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="100%" '
        f'viewBox="0 0 {WIDTH} {_n(height)}" aria-labelledby="{k}-title" '
        f'aria-describedby="{k}-desc" focusable="false">'
        f'<title id="{k}-title">{escape(title)}</title>'
        f'<desc id="{k}-desc">{escape(desc)}</desc>'
    )
    svg = head + "".join(body) + "</svg>"
    return Markup(svg)  # nosec B704 # every text in it was escaped where it was built


# -- progress bars ---------------------------------------------------------------------------
def progress_bars(key: str, title: str, desc: str, bars: Sequence[Bar], legend: str) -> Markup:
    """One bar per district: an outlined box as long as the target, filled as far as the
    actual, a dashed tick where the plan line stands, and the figures written beside it."""
    label_w, bar_w, row_h, top = 150.0, 300.0, 44.0, 40.0
    longest = max((max(b.target, b.actual or Decimal(0)) for b in bars), default=Decimal(1))
    scale = bar_w / float(longest or 1)
    body = [_text(0, 22, legend, fill=MUTED, cls="chart-note")]
    for i, b in enumerate(bars):
        y = top + i * row_h
        body.append(_text(0, y + 23, b.label, bold=True))
        body.append(
            f'<rect x="{_n(label_w)}" y="{_n(y + 6)}" width="{_n(float(b.target) * scale)}" '
            f'height="24" fill="#ffffff" stroke="{FRAME}" stroke-width="2" class="bar-target"/>'
        )
        if b.actual:
            body.append(
                f'<rect x="{_n(label_w)}" y="{_n(y + 6)}" '
                f'width="{_n(min(float(b.actual), float(longest)) * scale)}" height="24" '
                f'fill="{FILLS.get(b.colour, FILLS["grey"])}" class="bar-actual rag-{b.colour}"/>'
            )
        if b.expected is not None:
            x = label_w + float(b.expected) * scale
            body.append(_line(x, y + 1, x, y + 35, width=3, dash="4 2", cls="bar-plan"))
        body.append(_text(label_w + bar_w + 14, y + 23, b.text))
    return _svg(key, title, desc, top + len(bars) * row_h + 4, body)


# -- burn-up -----------------------------------------------------------------------------------
def burn_up(
    key: str,
    title: str,
    desc: str,
    *,
    series: Sequence[tuple[date, Decimal]],
    start: date,
    deadline: date,
    target: Decimal,
    window_start: date,
    colour: str,
    text: BurnUpText,
) -> Markup:
    """The cumulative actual as a step line against the straight line from nothing at `start`
    to the target at `deadline`; the deadline and the as-at day marked and labelled."""
    left, right, top, bottom = 90.0, 740.0, 70.0, 300.0
    x0 = min(max(window_start, start), deadline)  # the deadline always stays in view
    as_at = series[-1][0] if series else x0
    x1 = max(deadline, as_at)
    span = max((x1 - x0).days, 1)
    highest = max([target, *(v for _, v in series)])
    top_value = float(highest) * 1.1 or 1.0

    def px(day: date) -> float:
        return left + (right - left) * (day - x0).days / span

    def py(value: Decimal | float) -> float:
        return bottom - (bottom - top) * float(value) / top_value

    total_days = max((deadline - start).days, 1)
    plan_at_x0 = float(target) * min(max((x0 - start).days, 0), total_days) / total_days
    shown = _window(series, x0)
    steps: list[tuple[float, float]] = []
    for i, (day, value) in enumerate(shown):
        if i:
            steps.append((px(day), py(shown[i - 1][1])))
        steps.append((px(day), py(value)))
    now_x, now_y = px(as_at), py(shown[-1][1] if shown else 0)
    fill = FILLS.get(colour, FILLS["grey"])
    body = [
        _line(40, 22, 80, 22, stroke=fill, width=4),
        _text(88, 28, text.actual),
        _line(360, 22, 400, 22, width=3, dash="8 5"),
        _text(408, 28, text.plan),
        _line(left, bottom, right, bottom),
        _line(left, top - 10, left, bottom),
        _line(left, py(target), right, py(target), stroke=GRID, width=1, dash="2 3"),
        _text(left - 8, py(target) + 5, text.target, anchor="end", cls="chart-note"),
        _text(left - 8, bottom + 5, "0", anchor="end"),
        _text(left, bottom + 24, x0.isoformat(), cls="chart-note"),
        _line(px(x0), py(plan_at_x0), px(deadline), py(target), width=3, dash="8 5", cls="plan"),
        _line(px(deadline), top - 10, px(deadline), bottom, width=2, cls="deadline"),
        _text(
            px(deadline), top - 16, text.deadline, anchor="end" if px(deadline) > 500 else "start"
        ),
        _polyline(steps, stroke=fill, cls=f"actual rag-{colour}"),
        f'<circle cx="{_n(now_x)}" cy="{_n(now_y)}" r="6" fill="{fill}" stroke="{INK}"/>',
        _text(
            now_x - 8 if now_x > 500 else now_x + 8,
            now_y - 12,
            text.as_at,
            anchor="end" if now_x > 500 else "start",
            bold=True,
        ),
    ]
    if x1 != deadline:
        body.append(_text(right, bottom + 24, x1.isoformat(), anchor="end", cls="chart-note"))
    return _svg(key, title, desc, bottom + 36, body)


def _window(series: Sequence[tuple[date, Decimal]], first: date) -> list[tuple[date, Decimal]]:
    """The series from `first` on, starting with its value on that day; one point a week at
    most (the last of each week), so a year's line stays small."""
    before = [v for d, v in series if d <= first]
    points = [(first, before[-1] if before else Decimal(0))]
    weekly: dict[int, tuple[date, Decimal]] = {}
    for day, value in series:
        if day > first:
            weekly[(day - first).days // 7] = (day, value)
    points.extend(weekly[k] for k in sorted(weekly))
    if series and series[-1][0] > first and points[-1] != series[-1]:
        points.append(series[-1])
    return points


# -- monthly lines -----------------------------------------------------------------------------
def monthly_lines(
    key: str, title: str, desc: str, months: Sequence[str], lines: Sequence[Line]
) -> Markup:
    """Percentages month by month (0-100%), one line per series; a month without data breaks
    the line rather than inventing a value."""
    left, right, top, bottom = 70.0, 740.0, 60.0, 290.0
    step = (right - left) / max(len(months) - 1, 1)
    every = -(-len(months) // 7)  # at most seven month labels, so they never overlap

    def px(i: int) -> float:
        return left + step * i if len(months) > 1 else (left + right) / 2

    def py(value: Decimal) -> float:
        return bottom - (bottom - top) * float(value) / 100

    body: list[str] = []
    for tick in range(0, 101, 25):
        body.append(_line(left, py(Decimal(tick)), right, py(Decimal(tick)), stroke=GRID, width=1))
        body.append(_text(left - 8, py(Decimal(tick)) + 5, f"{tick}%", anchor="end"))
    for i, month in enumerate(months):
        if i % every == 0 or i == len(months) - 1:
            body.append(_text(px(i), bottom + 24, month, anchor="middle", cls="chart-note"))
    for n, line in enumerate(lines):
        colour = SERIES_COLOURS[n % len(SERIES_COLOURS)]
        body.append(_legend_entry(n, line, colour))
        for run in _runs(line.values):
            points = [(px(i), py(v)) for i, v in run]
            if len(points) > 1:
                body.append(_polyline(points, stroke=colour, width=3, dash=line.dash))
            body.extend(_marker(line.marker, x, y, colour) for x, y in points)
    return _svg(key, title, desc, bottom + 36, body)


def _legend_entry(n: int, line: Line, colour: str) -> str:
    x = 20 + n * 300
    return (
        _line(x, 24, x + 40, 24, stroke=colour, width=3, dash=line.dash)
        + _marker(line.marker, x + 20, 24, colour)
        + _text(x + 50, 30, line.label)
    )


def _runs(values: Sequence[Decimal | None]) -> list[list[tuple[int, Decimal]]]:
    runs: list[list[tuple[int, Decimal]]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            runs.append([])
        else:
            runs[-1].append((i, value))
    return [r for r in runs if r]


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return (
            f'<rect x="{_n(x - 6)}" y="{_n(y - 6)}" width="12" height="12" fill="{colour}" '
            f'stroke="{INK}"/>'
        )
    return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="6" fill="{colour}" stroke="{INK}"/>'
