"""Display names of stored codes (steps, categories, roles, places) in the user's language."""

from __future__ import annotations

from flask_babel import get_locale, pgettext
from flask_babel import lazy_gettext as _l

from events.checklist import CATEGORIES, checklist
from events.districts import district
from events.retrofit import Step

STEPS = {
    Step.SUBMITTED: _l("已提交,待审核"),
    Step.RETURNED: _l("需补充材料"),
    Step.REJECTED: _l("未通过审核"),
    Step.APPROVED: _l("审核通过,待入户评估"),
    Step.ASSESSED: _l("已评估,待确认方案"),
    Step.PLAN_CONFIRMED: _l("方案已确认,待安排施工"),
    Step.CONTRACTOR_ASSIGNED: _l("已安排施工单位,待开工"),
    Step.WORKS_STARTED: _l("施工中"),
    Step.WORKS_COMPLETED: _l("施工完成,待验收"),
    Step.RECTIFICATION: _l("验收未通过,整改中"),
    Step.ACCEPTED: _l("验收通过,待回访"),
    Step.SURVEYED: _l("已回访"),
    Step.CLOSED: _l("已办结"),
    Step.WITHDRAWN: _l("已撤回"),
}
HOUSEHOLD_CATEGORIES = {
    "tekun": _l("特困人员"),
    "dibao": _l("低保家庭"),
    "dibao_edge": _l("低保边缘家庭"),
    "other": _l("以上都不是"),
}
DISABILITY_LEVELS = {
    "none": _l("能自理"),
    "semi": _l("半失能(部分生活需要帮助)"),
    "full": _l("失能(生活基本不能自理)"),
    "certified": _l("持有残疾证"),
}
LIVING_SITUATIONS = {
    "alone": _l("独居"),
    "spouse": _l("与老伴同住"),
    "family": _l("与子女或其他家人同住"),
    "other": _l("其他"),
}
RELATIONS = {
    "self": _l("本人"),
    "spouse": _l("配偶"),
    "child": _l("子女"),
    "relative": _l("其他亲属"),
    "other": _l("其他(如邻居、志愿者)"),
}
CHANNELS = {"online": _l("网上申请"), "proxy": _l("社区代办")}
SEXES = {"male": _l("男"), "female": _l("女")}
ROLES = {
    "family": _l("申请人/家属"),
    "community_worker": _l("社区工作者"),
    "caseworker": _l("审核员"),
    "assessor": _l("评估员"),
    "inspector": _l("验收员"),
    "provider": _l("服务机构"),
    "finance": _l("财务人员"),
    "auditor": _l("审计员"),
    "supervisor": _l("督导"),
    "admin": _l("系统管理员"),
}
SURVEY_QUESTIONS = {
    "overall": _l("总体来说,您对这次改造满意吗?"),
    "quality": _l("改造的质量怎么样?"),
    "attitude": _l("工作人员的态度怎么样?"),
    "timeliness": _l("施工是否按时完成?"),
    "usefulness": _l("改造后,老人生活是否更方便、更安全?"),
}
PROGRAMMES = {
    "retrofit": _l("适老化改造"),
    "meal": _l("老年助餐"),
    "home_care": _l("上门照护"),
}
MEAL_STEPS = {
    "submitted": _l("已提交,待审核"),
    "returned": _l("需补充材料"),
    "approved": _l("已开通助餐"),
    "rejected": _l("未通过审核"),
    "withdrawn": _l("已撤回"),
    "ended": _l("助餐已停止"),
}
CARE_STEPS = {
    "submitted": _l("已提交,待受理"),
    "returned": _l("需补充材料"),
    "rejected": _l("未通过审核"),
    "assessor_assigned": _l("已受理,待上门评估"),
    "assessed": _l("已评估,待审核"),
    "approved": _l("审核通过,待安排服务机构"),
    "in_service": _l("服务中"),
    "closed": _l("服务已结束"),
    "withdrawn": _l("已撤回"),
}
MEAL_MODES = {"dine_in": _l("到食堂吃(堂食)"), "delivery": _l("送餐上门")}
MEAL_SUBSIDY_CATEGORIES = {
    "tekun": _l("特困人员"),
    "dibao": _l("低保家庭"),
    "dibao_edge": _l("低保边缘家庭"),
    "aged_80_plus": _l("80周岁以上高龄老人"),
    "other": _l("以上都不是"),
}
CARE_LEVELS = {"mild": _l("轻度"), "moderate": _l("中度"), "severe": _l("重度")}
VISIT_ITEMS = {
    "cleaning": _l("助洁"),
    "mobility": _l("助行"),
    "bathing": _l("助浴"),
    "medical_escort": _l("助医"),
    "rehabilitation": _l("康复"),
    "check_in": _l("巡访关爱"),
}
CONFIRMED_BY = {"elder": _l("老人本人确认"), "family": _l("家属确认")}
FACILITY_KINDS = {
    "care_centre": _l("居家和社区养老服务中心"),
    "canteen": _l("老年助餐食堂"),
    "institution": _l("特困人员供养服务机构(敬老院)"),
    "home_care_provider": _l("上门照护服务机构"),
}
MILESTONES = {
    "planned": _l("立项规划"),
    "site_selected": _l("选址完成"),
    "design_approved": _l("设计审批"),
    "tender_awarded": _l("完成招标"),
    "construction_started": _l("开工建设"),
    "main_structure_completed": _l("主体完工(封顶)"),
    "fit_out": _l("装修装饰"),
    "completed": _l("竣工"),
    "in_operation": _l("投入运营"),
}
ROOMS = {"rehab": _l("康复室"), "recreation": _l("文化娱乐室"), "counselling": _l("心理慰藉室")}
ACCEPTANCE_STANDARD = {
    "safe": _l("安全"),
    "functional": _l("功能完善"),
    "well_managed": _l("管理规范"),
}
ACCEPTANCE_CHECKS = {"installed": _l("已安装"), "works": _l("能正常使用"), "safe": _l("安全牢固")}


def _english() -> bool:
    return str(get_locale() or "zh").startswith("en")


def district_name(code: str) -> str:
    """A district's name in the current language (the code itself if unknown)."""
    found = district(code)
    if found is None:
        return code
    return found.name_en if _english() else found.name_zh


def item_name(code: str, version: str) -> str:
    """A checklist item's name in the current language."""
    found = checklist(version)
    item = found.item(code) if found else None
    if item is None:
        return code
    return item.name_en if _english() else item.name_zh


def category_name(code: str) -> str:
    """A checklist category's name in the current language."""
    zh, en = CATEGORIES.get(code, (code, code))
    return en if _english() else zh


def listed(words: object) -> str:
    """Words joined as a list in the current language (、 in Chinese, ", " in English)."""
    return pgettext("list separator", "、").join(str(w) for w in words)  # type: ignore[attr-defined]
