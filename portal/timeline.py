"""A case's history in plain language: one sentence per event, for families and staff alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import pgettext

from events.clock import CITY_TZ
from projections.retrofit_queries import TimelineEntry


@dataclass(frozen=True)
class TimelineLine:
    """What the timeline template shows for one step."""

    when: datetime
    title: str
    text: str


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
                total=d["total"], subsidy=d["subsidy"], share=d["household_share"],
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
    return ""


def describe(entries: tuple[TimelineEntry, ...]) -> list[TimelineLine]:
    """Sentences for a timeline, newest last, times in the city's time zone."""
    return [TimelineLine(e.occurred_at.astimezone(CITY_TZ), _title(e), _text(e)) for e in entries]
