"""Plain-language messages for every refusal, in the user's language."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from events.errors import (
    DomainError,
    IllegalTransition,
    InvalidAcceptance,
    InvalidApplication,
    InvalidAssessment,
    InvalidNationalId,
    InvalidSurvey,
    NotOldEnough,
    ReasonRequired,
)
from portal.messages_ledger import ledger_field, ledger_message
from portal.messages_programmes import programme_message
from portal.messages_supervision import supervision_field, supervision_message
from services.errors import AccountExists, InvalidAccount, ServiceError, StaleCase
from services.photos import InvalidPhoto

_NATIONAL_ID = {
    "length": _l("身份证号码应为18位,请核对后重新填写。"),
    "characters": _l("身份证号码只能是数字,最后一位可以是数字或字母X。"),
    "check_digit": _l("身份证号码的最后一位(校验码)不对,可能有数字填错了,请核对证件。"),
    "birth_date": _l("身份证号码中的出生日期不对,请核对证件。"),
}
_APPLICATION = {
    "name": _l("请填写老人的姓名(2到30个字)。"),
    "phone": _l("请填写能联系到老人的电话:11位手机号,或带区号的固定电话。"),
    "address": _l("请填写老人的详细住址,写到门牌号。"),
    "household_category": _l("请选择家庭类别。"),
    "disability_level": _l("请选择老人的身体状况。"),
    "living_situation": _l("请选择老人的居住情况。"),
    "community": _l("请选择老人所在的街道(乡镇)和社区(村)。"),
    "relation": _l("请选择您与老人的关系。"),
    "needs": _l("改造需求请写在2000字以内。"),
    "channel": _l("无法识别申请方式。"),
    "mode": _l("请选择用餐方式:到食堂吃(堂食)或送餐上门。"),
    "subsidy_category": _l("请选择补贴类别。"),
    "dietary_needs": _l("饮食要求请写在1000字以内。"),
    "assessor_id": _l("请选择评估员。"),
}
_ASSESSMENT = {
    "no_items": _l("请至少选择一个改造项目。"),
    "unknown_item": _l("所选项目不在本版清单中,请重新选择。"),
    "quantity": _l("数量应为1到50之间的整数。"),
    "unit_price": _l("单价应大于0元,且不超过50000元。"),
    "checklist_version": _l("找不到这一版改造清单。"),
}
_REASON = {
    "reason": _l("请写明原因,申请人会看到这段说明。"),
    "request": _l("请写明需要申请人补充什么材料或信息。"),
    "reply": _l("请填写补充的信息。"),
    "findings": _l("请填写检查发现的情况。"),
    "note": _l("请填写说明。"),
    "contractor": _l("请填写施工单位名称。"),
    "relation": _l("请选择您与老人的关系。"),
}
_ACCOUNT = {
    "mobile": _l("请填写11位手机号码。"),
    "password": _l("密码至少需要8位。"),
    "display_name": _l("请填写您的称呼(60字以内)。"),
    "login": _l("登录名只能用字母、数字和 _ . -,3到40位。"),
    "role": _l("请选择角色。"),
    "district": _l("请选择所属区县。"),
    "facility": _l("服务机构账户需要指定所属的机构。"),
}
_PHOTO = {
    "empty": _l("照片是空文件,请重新选择。"),
    "too_large": _l("照片太大了,每张请不超过5MB。"),
    "type": _l("只能上传 JPG 或 PNG 格式的照片。"),
    "too_many_pixels": _l("照片的像素太多了,请用手机的编辑功能缩小后再上传。"),
}


def message_for(error: DomainError | ServiceError) -> str:
    """The sentence shown to the user for a refused command."""
    detail = getattr(error, "detail", "") or getattr(error, "field", "")
    params = getattr(error, "params", {})
    found = programme_message(error.code, detail, params)
    if found is None:
        found = ledger_message(error.code, detail, params)
    if found is None:
        found = supervision_message(error.code, detail, params)
    if found is not None:
        return found
    match error:
        case InvalidNationalId():
            return str(_NATIONAL_ID.get(detail, _NATIONAL_ID["check_digit"]))
        case NotOldEnough():
            return _(
                "按身份证号码计算,老人今年%(age)s岁。这项服务面向60周岁及以上的老年人,"
                "如有疑问,请联系所在社区。",
                age=error.params.get("age"),
            )
        case InvalidApplication():
            return str(_APPLICATION.get(detail, _("有一项填写不正确,请检查。")))
        case InvalidAssessment():
            return str(_ASSESSMENT.get(detail, _("评估内容有误,请检查。")))
        case InvalidAcceptance() if detail == "photos":
            return _("请至少上传一张验收照片。")
        case InvalidAcceptance():
            return _("验收时每一个改造项目都要逐项检查。")
        case InvalidSurvey():
            return _("请为每个问题选择1到5分。")
        case ReasonRequired():
            return str(_REASON.get(detail, _REASON["note"]))
        case IllegalTransition(action="withdraw_enrolment"):
            return _("这个申请已经处理完毕或助餐已经结束,不能再撤回。")
        case IllegalTransition(action="withdraw_care"):
            return _("服务机构已经开始上门服务,不能再撤回申请。如需停止服务,请联系审核员。")
        case IllegalTransition(action="end_enrolment"):
            return _("只有正在助餐的老人才能停止服务。")
        case IllegalTransition(action="withdraw"):
            return _("施工开始以后,就不能再撤回申请了。如有困难,请联系所在社区或审核员。")
        case IllegalTransition():
            return _("这个案件当前所处的环节不能进行这项操作。")
        case StaleCase():
            return _("在您填写期间,有人更新了这个案件。下面是最新的情况,请核对后再提交。")
        case AccountExists():
            return _("这个手机号码(或登录名)已经注册过了,请直接登录。")
        case InvalidAccount():
            return str(_ACCOUNT.get(detail, _("账户信息有误。")))
        case InvalidPhoto():
            return str(_PHOTO[error.reason])
    return _("操作没有成功,请稍后再试。")


def field_for(error: DomainError | ServiceError) -> str | None:
    """The form field a refusal is about, so the message can stand next to it."""
    supervision = supervision_field(error.code, getattr(error, "detail", ""))
    if supervision is not None:
        return supervision
    ledger = ledger_field(error.code, getattr(error, "detail", ""))
    if ledger is not None:
        return ledger
    match error:
        case InvalidNationalId() | NotOldEnough():
            return "national_id"
        case InvalidApplication() | ReasonRequired():
            return error.detail or None
        case InvalidAccount():
            return error.field
    return None
