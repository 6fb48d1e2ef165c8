"""Supervision's words in the user's language: programmes, metrics, units, the red/amber/green
rule as sentences, and figures written the way people read them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from events.metrics import AMBER_MARGIN, HIGHER, PACE_DAYS, Metric, metric
from portal import labels
from projections.supervision_queries import Progress

PROGRAMMES = {
    "retrofit": _l("适老化改造"),
    "home_care": _l("居家和社区养老"),
    "facility": _l("特困人员供养服务机构"),
    "funds": _l("资金拨付"),
    "workforce": _l("养老护理队伍"),
}
METRICS = {
    "retrofit_accepted": _l("完成改造并通过验收的家庭"),
    "acceptance_failure_rate": _l("验收不合格率"),
    "retrofit_satisfaction": _l("适老化改造满意度"),
    "centres_operating": _l("投入运营的居家和社区养老服务中心"),
    "canteens_operating": _l("投入运营的老年助餐食堂"),
    "meals_per_day": _l("日均助餐人次(最近7天平均)"),
    "care_hours": _l("上门照护服务时长"),
    "care_satisfaction": _l("上门照护满意度"),
    "institutions_renovated": _l("完成改造提升的特困人员供养服务机构"),
    "beds_added": _l("新增床位"),
    "funds_disbursed": _l("已拨付资金"),
    "elders_per_caregiver": _l("每名护理员服务的老人数"),
    "caregiver_turnover": _l("护理员年流失率"),
}
UNITS = {
    "households": _l("户"),
    "count": _l("个"),
    "meals": _l("人次"),
    "hours": _l("小时"),
    "beds": _l("张"),
    "yuan": _l("元"),
    "percent": "%",
    "ratio": _l("人"),
}
COLOURS = {"green": _l("绿"), "amber": _l("黄"), "red": _l("红"), "grey": _l("灰")}
CASE_STEPS = {"retrofit": labels.STEPS, "meal": labels.MEAL_STEPS, "home_care": labels.CARE_STEPS}
CASE_PAGES = {
    "retrofit": "staff.case",
    "meal": "staff.meal_case",
    "home_care": "staff.care_case",
}


def programme_name(code: str) -> str:
    """A supervised programme's name."""
    return str(PROGRAMMES.get(code, code))


def metric_name(code: str) -> str:
    """A metric's name, without its unit."""
    return str(METRICS.get(code, code))


def metric_with_unit(code: str) -> str:
    """A metric's name with its unit, as a column or sheet heading reads it."""
    found = metric(code)
    unit = str(UNITS.get(found.unit, "")) if found else ""
    return _("%(name)s(%(unit)s)", name=metric_name(code), unit=unit) if unit else metric_name(code)


def metric_unit(code: str) -> str:
    """A metric's unit code (households, percent, ...); "" for an unknown metric."""
    found = metric(code)
    return found.unit if found else ""


def place_name(district: str) -> str:
    """A district's name, or 全市 for a city-wide target."""
    return labels.district_name(district) if district else _("全市")


def colour_name(colour: str) -> str:
    """红, 黄, 绿 or 灰: status is always written, never shown by colour alone."""
    return str(COLOURS.get(colour, colour))


def number(value: Decimal | None, unit: str = "") -> str:
    """A figure without its unit: 1,200 or 92.5; money with two decimals; — when unknown."""
    if value is None:
        return "—"
    if unit == "yuan":
        return f"{value:,.2f}"
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def quantity(value: Decimal | None, unit: str) -> str:
    """A figure with its unit: 45 户, 92.5%, 1,200.00 元."""
    if value is None:
        return _("无数据")
    if unit == "percent":
        return f"{number(value)}%"
    return f"{number(value, unit)} {UNITS.get(unit, '')}".strip()


def percent(value: Decimal | None) -> str:
    """The share of the target done: 45%, or — without data."""
    return "—" if value is None else f"{number(value)}%"


def rate(share: float | None) -> str:
    """An on-time share as a percentage: 87.5%, or 无在办事项 without any."""
    if share is None:
        return _("没有在办事项")
    return f"{share * 100:.1f}%"


def margin() -> str:
    """The amber margin as a whole percentage: 10."""
    return number(AMBER_MARGIN * 100)


def days_left(days: int) -> str:
    """Days to the deadline, or how long ago it passed."""
    if days < 0:
        return _("已过期 %(n)s 天", n=-days)
    if days == 0:
        return _("今天截止")
    return _("还剩 %(n)s 天", n=days)


def finish(p: Progress) -> str:
    """The projected finish from the recent pace, in words."""
    if p.judgement.rule == "no_data":
        return "—"
    if p.expected is None:
        return _("不适用")  # a level, not a count towards a total: nothing to project
    if p.judgement.rule == "met":
        return _("已达到")
    if p.finish is None:
        return _("最近%(days)s天没有进展,无法推算", days=PACE_DAYS)
    if p.finish > p.target.deadline:
        return _("%(day)s(晚于截止日期)", day=p.finish.isoformat())
    return p.finish.isoformat()


def rule_text(p: Progress, as_at: date, today: date) -> str:
    """Why this status: the part of the rule that decided it, with the figures it used."""
    m = metric(p.target.metric)
    if m is None:  # targets only name known metrics (checked when set)
        raise LookupError(p.target.metric)
    rule = p.judgement.rule
    target = quantity(p.target.value, m.unit)
    if rule in ("on_plan", "near_plan", "behind_plan"):
        when = _("今天") if as_at == today else _("在 %(day)s ", day=as_at.isoformat())
        expected = quantity(p.judgement.expected, m.unit)
        return str(_PLAN[rule]) % {"margin": margin(), "when": when, "expected": expected}
    if rule == "met":
        return _("已达到目标 %(target)s", target=target)
    if rule == "overdue":
        return _("已过截止日期 %(day)s,仍未达到目标", day=p.target.deadline.isoformat())
    if rule == "no_data":
        return _("还没有数据,无法判断")
    return _level_text(m, rule, target)


_PLAN = {
    "on_plan": _l("实际进度不低于计划线(计划线%(when)s应达 %(expected)s)"),
    "near_plan": _l(
        "落后于计划线,但差距不超过目标值的%(margin)s%%(计划线%(when)s应达 %(expected)s)"
    ),
    "behind_plan": _l("落后于计划线超过目标值的%(margin)s%%(计划线%(when)s应达 %(expected)s)"),
}


def _level_text(m: Metric, rule: str, target: str) -> str:
    higher = m.better == HIGHER
    if rule == "within":
        return (
            _("不低于目标值 %(target)s", target=target)
            if higher
            else _("不高于目标值 %(target)s", target=target)
        )
    if rule == "near":
        if higher:
            return _(
                "低于目标值 %(target)s,但差距在目标值的%(margin)s%%以内",
                target=target,
                margin=margin(),
            )
        return _(
            "高于目标值 %(target)s,但超出部分不超过目标值的%(margin)s%%",
            target=target,
            margin=margin(),
        )
    if higher:
        return _(
            "低于目标值 %(target)s,差距超过目标值的%(margin)s%%", target=target, margin=margin()
        )
    return _(
        "高于目标值 %(target)s,超出部分超过目标值的%(margin)s%%", target=target, margin=margin()
    )


def status_sentence(p: Progress, as_at: date, today: date) -> str:
    """The status and its rule in one sentence: 绿:实际进度不低于计划线(…)."""
    return _(
        "%(colour)s:%(rule)s",
        colour=colour_name(p.judgement.colour),
        rule=rule_text(p, as_at, today),
    )


def legend() -> list[tuple[str, list[str]]]:
    """The whole red/amber/green rule, written out beside the dashboard."""
    pct = margin()
    return [
        (
            _("累计类指标(如完成改造的家庭、服务时长、新增床位)"),
            [
                _("计划线:从设定目标那天的 0,到截止日期达到目标值,画一条直线。"),
                _("绿:已达到目标,或实际进度不低于计划线。"),
                _("黄:落后于计划线,但差距不超过目标值的%(pct)s%%。", pct=pct),
                _("红:落后于计划线超过目标值的%(pct)s%%,或已过截止日期仍未达到目标。", pct=pct),
                _("预计完成:按最近%(days)s天的完成量推算达到目标的日期。", days=PACE_DAYS),
            ],
        ),
        (
            _("水平类指标(如满意度、不合格率、流失率、日均助餐)"),
            [
                _("直接和目标值比较。满意度等越高越好;不合格率、流失率等越低越好。"),
                _("绿:达到目标值。"),
                _("黄:没有达到目标值,但差距不超过目标值的%(pct)s%%。", pct=pct),
                _("红:差距超过目标值的%(pct)s%%。", pct=pct),
            ],
        ),
        (_("其他"), [_("灰:还没有数据,无法判断。")]),
    ]
