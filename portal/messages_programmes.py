"""Messages for refusals of programmes 2 and 3 (facilities, meals, home care, workforce),
keyed by error code and detail; `portal.messages.message_for` looks here first."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# "" is the fallback for a code whose detail has no sentence of its own.
BY_CODE = {
    "invalid_facility": {
        "kind": _l("请选择机构类型。"),
        "name": _l("请填写机构名称(2到60个字)。"),
        "community": _l("请选择机构所在的街道(乡镇)和社区(村)。"),
        "planned_on": _l("请填写立项日期(如2025-01-06),不能晚于今天。"),
        "deadline": _l("请填写完工期限(如2025-12-31),不能早于立项日期。"),
        "milestone": _l("请选择要登记的进度节点。"),
        "on": _l("请填写节点日期(如2025-07-01)。"),
        "reason": _l("原因请写在500字以内。"),
        "": _l("机构信息有误,请检查。"),
    },
    "milestone_out_of_order": {
        "before_previous": _l("节点日期不能早于上一个节点(或验收)的日期 %(last)s。"),
        "in_future": _l("节点日期不能晚于今天(%(today)s)。"),
        "": _l("进度要按顺序登记,不能跳过或重复。请登记下一个节点。"),
    },
    "wrong_facility_kind": {
        "food_safety_inspection": _l("食品安全检查只适用于老年助餐食堂。"),
        "record_beds": _l("床位、功能用房和验收只适用于特困人员供养服务机构(敬老院)。"),
        "record_rooms": _l("床位、功能用房和验收只适用于特困人员供养服务机构(敬老院)。"),
        "acceptance": _l("床位、功能用房和验收只适用于特困人员供养服务机构(敬老院)。"),
        "milestone": _l("上门照护服务机构没有建设进度和完工期限。"),
        "revise_deadline": _l("上门照护服务机构没有建设进度和完工期限。"),
        "report_staffing": _l("助餐食堂不需要填报护理员情况。"),
        "": _l("这类机构不能进行这项操作。"),
    },
    "acceptance_required": {
        "": _l("敬老院要先通过“安全、功能完善、管理规范”验收,才能登记投入运营。"),
    },
    "invalid_inspection": {
        "inspected_on": _l("检查日期应在 %(earliest)s 到今天(%(today)s)之间。"),
        "photos": _l("照片有误,请重新上传(JPG或PNG,最多20张)。"),
        "follow_up_required": _l("请选择是否需要跟进整改。"),
        "passed": _l("请选择检查是否合格。"),
        "": _l("检查情况请写清楚,在2000字以内。"),
    },
    "invalid_beds": {
        "": _l("床位数应为0到5000之间的整数,护理型床位不能多于改造后的床位总数。"),
    },
    "invalid_rooms": {
        "duplicate": _l("同一种功能用房只需选择一次。"),
        "": _l("请从康复室、文化娱乐室、心理慰藉室中选择。"),
    },
    "invalid_staffing_report": {
        "trained": _l("受过培训的护理员人数不能多于护理员总数(%(caregivers)s人)。"),
        "period": _l("请选择填报月份。"),
        "period_in_future": _l("还不能填报以后月份的情况。"),
        "unchanged": _l("更正后的数字和原来一样,没有需要更正的内容。"),
        "reason": _l("更正原因请写在500字以内。"),
        "": _l("请填写0到100000之间的整数。"),
    },
    "staffing_already_reported": {
        "": _l("这个月的护理员情况已经填报过了。如需修改,请提交更正并写明原因。"),
    },
    "canteen_unavailable": {
        "not_canteen": _l("所选的不是助餐食堂,请重新选择。"),
        "not_in_operation": _l("这个助餐食堂还没有开始营业,请选择已经开业的食堂。"),
        "other_district": _l("这个助餐食堂不在老人所在的区县,请选择老人所在区县的食堂。"),
        "": _l("找不到这个助餐食堂,请重新选择。"),
    },
    "too_young_for_category": {
        "": _l(
            "按身份证号码计算,老人今年%(age)s岁,还不满80周岁,不能选择“80周岁以上高龄”。"
            "请选择其他补贴类别。"
        ),
    },
    "invalid_meal_record": {
        "date": _l("请填写正确的日期,例如2026-11-29。"),
        "future_date": _l("还没到这一天,不能提前登记。请登记今天或以前的用餐情况。"),
        "walk_in_count": _l("散客人数请填写0到10000之间的整数。"),
        "duplicate": _l("同一位老人被勾选了两次,请检查名单。"),
        "not_enrolled": _l("名单中有老人在这一天不是本食堂的助餐老人,请刷新页面后重新勾选。"),
        "unchanged": _l("更正后的数字和原来一样,没有需要更正的内容。"),
        "canteen": _l("这条记录不属于本食堂。"),
        "": _l("用餐老人名单有误,请刷新页面后重新勾选。"),
    },
    "day_already_recorded": {
        "": _l("这一天的用餐情况已经登记过了。如需修改,请使用“更正”,并写明原因。"),
    },
    "home_care_not_eligible": {
        "": _l(
            "上门照护服务面向失能或半失能的老年人。按您填写的情况,老人暂不符合条件。"
            "如有疑问,可以联系所在社区,了解助餐、适老化改造等其他服务。"
        ),
    },
    "invalid_care_assessment": {
        "monthly_hours": _l("每月服务时长应为1到120之间的整数(小时)。"),
        "": _l("请选择照护等级(轻度、中度或重度)。"),
    },
    "provider_unavailable": {
        "kind": _l("所选机构不是上门照护服务机构,请重新选择。"),
        "not_in_operation": _l("这家服务机构目前还没有开始运营,请选择其他机构。"),
        "": _l("找不到这家服务机构,请重新选择。"),
    },
    "invalid_visit": {
        "date": _l("请填写服务日期,例如 2026-03-05。"),
        "future": _l("服务还没有结束,请在服务结束后再登记。"),
        "before_assignment": _l("服务日期早于本机构接手这位老人的日期(%(assigned_on)s),请核对。"),
        "start": _l("请填写开始时间,格式如 09:00。"),
        "end": _l("请填写结束时间,格式如 10:30。"),
        "end_before_start": _l("结束时间要晚于开始时间。"),
        "too_long": _l("一次上门服务最长8小时,请核对开始和结束时间。"),
        "no_items": _l("请至少选择一项服务内容。"),
        "unknown_item": _l("所选服务内容不在服务项目中,请重新选择。"),
        "caregiver": _l("请填写上门护理员的姓名(30字以内)。"),
        "not_confirmed": _l("请注明这次服务由老人本人还是家属确认。没有确认的服务不能登记。"),
        "duplicate": _l("这次服务已经登记过了,请不要重复提交。"),
        "visit_id": _l("这次服务已经登记过了,请不要重复提交。"),
        "": _l("服务记录有误,请检查。"),
    },
    "visit_overlaps": {
        "": _l("这位老人在%(start)s到%(end)s已经登记了一次服务,时间不能重叠,请核对。"),
    },
    "visit_not_found": {"": _l("找不到这条服务记录,可能链接有误。")},
    "visit_already_cancelled": {"": _l("这条服务记录已经作废,不能再修改或作废。")},
    "survey_too_early": {
        "": _l("自上次评价以来还没有新的上门服务,等下次服务后再来评价吧。"),
    },
}


class _Lenient(dict):  # type: ignore[type-arg]
    # A missing parameter prints as nothing rather than breaking the user's page.
    def __missing__(self, key: str) -> str:
        return ""


def programme_message(code: str, detail: str, params: dict[str, object]) -> str | None:
    """The sentence for a programme 2/3 refusal, or None when the code is not one of theirs."""
    table = BY_CODE.get(code)
    if table is None:
        return None
    template = str(table.get(detail) or table[""])
    return template % _Lenient(params) if "%(" in template else template
