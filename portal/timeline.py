"""A case's history in plain language: one sentence per event, for families and staff alike.

Every programme's timeline rows are `TimelineEntry`s; kinds the programmes share (a return
for information, its answer, a follow-up) read the same everywhere, the others per programme.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from flask_babel import gettext as _
from flask_babel import pgettext

from events.clock import CITY_TZ
from portal import labels
from portal.runtime import runtime
from projections.family_queries import facility_names
from projections.retrofit_queries import TimelineEntry

Names = Mapping[UUID, str]


@dataclass(frozen=True)
class TimelineLine:
    """What the timeline template shows for one step."""

    when: datetime
    title: str
    text: str


# -- retrofit, and the kinds every programme shares ----------------------------------------------


def _title(entry: TimelineEntry) -> str:
    d = entry.details
    titles = {
        "Applied": pgettext("timeline", "提交申请")
        if d.get("channel") == "online"
        else pgettext("timeline", "社区代为提交申请"),
        "EligibilityApproved": pgettext("timeline", "审核通过"),
        "EligibilityRejected": pgettext("timeline", "审核未通过"),
        "ReturnedForInformation": pgettext("timeline", "需要补充材料"),
        "InformationSupplied": pgettext("timeline", "已补充材料"),
        "HomeAssessed": pgettext("timeline", "入户评估完成"),
        "PlanConfirmed": pgettext("timeline", "确认改造方案"),
        "ContractorAssigned": pgettext("timeline", "安排施工单位"),
        "WorksStarted": pgettext("timeline", "开始施工"),
        "SiteInspectionLogged": pgettext("timeline", "施工现场检查"),
        "WorksCompleted": pgettext("timeline", "施工完成"),
        "AcceptanceInspected": pgettext("timeline", "验收通过")
        if d.get("passed")
        else pgettext("timeline", "验收未通过"),
        "RectificationCompleted": pgettext("timeline", "整改完成"),
        "SatisfactionSurveyAnswered": pgettext("timeline", "完成满意度回访"),
        "FollowUpRecorded": pgettext("timeline", "跟踪回访"),
        "Closed": pgettext("timeline", "办结"),
        "Withdrawn": pgettext("timeline", "撤回申请"),
        "SubsidyCommitted": pgettext("timeline", "补贴已核定"),
        "SubsidyPaid": pgettext("timeline", "补贴已拨付"),
        "SubsidyCommitmentReversed": pgettext("timeline", "更正补贴核定"),
        "SubsidyPaymentReversed": pgettext("timeline", "更正补贴拨付"),
    }
    return titles.get(entry.kind, entry.kind)


def _text(entry: TimelineEntry) -> str:
    d = entry.details
    match entry.kind:
        case "Applied":
            return _(
                "申请编号 %(reference)s。审核员会在10个工作日内审核。", reference=d["reference"]
            )
        case "EligibilityApproved":
            return _("评估员会打电话和您约定上门时间。")
        case "EligibilityRejected":
            return _("原因:%(reason)s", reason=d["reason"])
        case "ReturnedForInformation":
            return _("请补充:%(request)s", request=d["request"])
        case "InformationSupplied":
            return _("补充内容:%(reply)s", reply=d["reply"])
        case "HomeAssessed":
            return _(
                "改造费用共 %(total)s 元,其中政府补助 %(subsidy)s 元,家庭自付 %(share)s 元。",
                total=_yuan(d["total"]), subsidy=_yuan(d["subsidy"]),
                share=_yuan(d["household_share"]),
            )  # fmt: skip
        case "ContractorAssigned":
            return _("施工单位:%(contractor)s", contractor=d["contractor"])
        case "SiteInspectionLogged":
            return d["findings"]
        case "AcceptanceInspected" if not d.get("passed"):
            return _("有项目需要整改,整改后会再次验收。%(remarks)s", remarks=d.get("remarks", ""))
        case "RectificationCompleted" | "Closed":
            return d.get("note", "")
        case "FollowUpRecorded":
            return d["note"]
        case "Withdrawn":
            return _("原因:%(reason)s", reason=d["reason"])
        case "SubsidyCommitted":
            return _("补贴 %(amount)s 元已核定。", amount=_yuan(d["amount"]))
        case "SubsidyPaid":
            return _("补贴 %(amount)s 元已拨付。", amount=_yuan(d["amount"]))
        case "SubsidyCommitmentReversed":
            return _("更正:之前核定的补贴 %(amount)s 元已撤销。", amount=_yuan(d["amount"]))
        case "SubsidyPaymentReversed":
            return _("更正:之前记录的拨付 %(amount)s 元已撤销。", amount=_yuan(d["amount"]))
    return ""


def _yuan(amount: object) -> str:
    """An amount as families read it: thousands separated, to the fen (1,200.00)."""
    return f"{Decimal(str(amount)):,.2f}"


def _with_note(text: str, note: str | None) -> str:
    """A sentence and the staff's note, if they wrote one."""
    return _("%(text)s说明:%(note)s", text=text, note=note) if note else text


def _reason(d: dict[str, Any]) -> str:
    return _("原因:%(reason)s", reason=d.get("reason", ""))


# -- meal service --------------------------------------------------------------------------------


def _meal(entry: TimelineEntry, names: Names) -> tuple[str, str] | None:
    """Title and sentence of a meal enrolment's step; None for the kinds all programmes share."""
    d = entry.details
    match entry.kind:
        case "Applied":
            canteen = names.get(_uuid(d.get("canteen_id"))) or _("助餐食堂")
            return _title(entry), _(
                "申请编号 %(reference)s。申请到%(canteen)s用餐,方式:%(mode)s。",
                reference=d["reference"], canteen=canteen,
                mode=labels.MEAL_MODES.get(d.get("mode"), d.get("mode")),
            )  # fmt: skip
        case "EnrolmentApproved":
            text = _("从 %(day)s 起,老人可以按选定的方式用餐了。", day=d["enrolled_on"])
            return pgettext("timeline", "审核通过,开通助餐"), _with_note(text, d.get("note"))
        case "EnrolmentRejected":
            return pgettext("timeline", "审核未通过"), _reason(d)
        case "Withdrawn" if d.get("left_on"):
            return pgettext("timeline", "退出助餐"), _(
                "%(day)s 起不再用餐。原因:%(reason)s", day=d["left_on"], reason=d["reason"]
            )
        case "EnrolmentEnded":
            return pgettext("timeline", "停止助餐"), _(
                "%(day)s 起停止助餐。原因:%(reason)s", day=d["ended_on"], reason=d["reason"]
            )
    return None


# -- home care -----------------------------------------------------------------------------------


def _visit(d: dict[str, Any]) -> dict[str, str]:
    """A visit's facts as a sentence shows them."""
    return {
        "day": d["visit_date"],
        "start": d["start"],
        "end": d["end"],
        "items": labels.listed(labels.VISIT_ITEMS.get(i, i) for i in d.get("items", ())),
        "confirmed": str(labels.CONFIRMED_BY.get(d.get("confirmed_by"), "")),
    }


def _care(entry: TimelineEntry, names: Names, days: Mapping[str, str]) -> tuple[str, str] | None:
    """Title and sentence of a home care case's step; None for the kinds all programmes share."""
    d = entry.details
    match entry.kind:
        case "Applied":
            return _title(entry), _(
                "申请编号 %(reference)s。审核员受理后,会安排评估员上门评估。",
                reference=d["reference"],
            )
        case "AssessorAssigned":
            return pgettext("timeline", "受理申请,安排上门评估"), _(
                "评估员会打电话和您约定上门时间。"
            )
        case "Rejected":
            return pgettext("timeline", "审核未通过"), _reason(d)
        case "CareLevelAssessed":
            text = _(
                "照护等级:%(level)s;每月可以享受上门服务 %(hours)s 小时。",
                level=labels.CARE_LEVELS.get(d["level"], d["level"]), hours=d["monthly_hours"],
            )  # fmt: skip
            return pgettext("timeline", "完成照护评估"), _with_note(text, d.get("note"))
        case "Approved":
            text = _("我们正在安排上门照护服务机构。")
            return pgettext("timeline", "审核通过"), _with_note(text, d.get("note"))
        case "ProviderAssigned":
            provider = names.get(_uuid(d.get("provider_id"))) or _("上门照护服务机构")
            return pgettext("timeline", "安排服务机构"), _(
                "%(provider)s 从 %(day)s 起上门服务。", provider=provider, day=d["assigned_on"]
            )
        case "VisitLogged":
            return pgettext("timeline", "上门服务"), _(
                "%(day)s %(start)s-%(end)s,服务内容:%(items)s。%(confirmed)s。", **_visit(d)
            )
        case "VisitCorrected":
            text = _(
                "更正为 %(day)s %(start)s-%(end)s,服务内容:%(items)s。原因:%(reason)s",
                **_visit(d), reason=d["reason"],
            )  # fmt: skip
            return pgettext("timeline", "更正服务记录"), text
        case "VisitCancelled":
            day = days.get(str(d.get("visit_id")), "")
            text = _(
                "%(day)s 的服务记录作废,不计入服务时长。原因:%(reason)s",
                day=day, reason=d["reason"],
            )  # fmt: skip
            return pgettext("timeline", "作废服务记录"), text
        case "SatisfactionSurveyAnswered":
            overall = (d.get("scores") or {}).get("overall", "")
            return _title(entry), _("总体评分:%(score)s 分。", score=overall)
        case "Closed":
            return pgettext("timeline", "服务结束"), _reason(d)
    return None


def _visit_days(entries: tuple[TimelineEntry, ...]) -> dict[str, str]:
    """Each visit's date as last recorded, so a cancellation can say which visit it struck."""
    days: dict[str, str] = {}
    for e in entries:
        if e.kind in ("VisitLogged", "VisitCorrected"):
            days[str(e.details.get("visit_id"))] = e.details.get("visit_date", "")
    return days


# -- one timeline --------------------------------------------------------------------------------


def programme_of(entries: tuple[TimelineEntry, ...]) -> str:
    """Which programme a timeline belongs to, from what its application recorded."""
    first = entries[0].details if entries else {}
    if "canteen_id" in first:
        return "meal"
    if "disability_level" in first:
        return "home_care"
    return "retrofit"


def _uuid(value: object) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


def _facility_names(entries: tuple[TimelineEntry, ...]) -> dict[UUID, str]:
    """The canteens and provider organisations the entries name (public facts)."""
    ids = [_uuid(e.details.get(k)) for e in entries for k in ("canteen_id", "provider_id")]
    wanted = [i for i in ids if i is not None]
    return facility_names(runtime().engine, wanted) if wanted else {}


def _line(
    entry: TimelineEntry, programme: str, names: Names, days: Mapping[str, str]
) -> tuple[str, str]:
    found = None
    if programme == "meal":
        found = _meal(entry, names)
    elif programme == "home_care":
        found = _care(entry, names, days)
    return found or (_title(entry), _text(entry))


def describe(
    entries: tuple[TimelineEntry, ...], programme: str | None = None, names: Names | None = None
) -> list[TimelineLine]:
    """Sentences for a timeline, newest last, times in the city's time zone.

    `programme` ("retrofit", "meal", "home_care") is found from the entries when not given;
    the `names` of canteens and providers are looked up when not given."""
    programme = programme or programme_of(entries)
    if names is None:
        names = _facility_names(entries) if programme != "retrofit" else {}
    days = _visit_days(entries)
    return [
        TimelineLine(e.occurred_at.astimezone(CITY_TZ), *_line(e, programme, names, days))
        for e in entries
    ]
