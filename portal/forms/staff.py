"""Staff forms: queue filters, each step's form on the case page, assessment and acceptance."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, Length, Optional, Regexp, ValidationError
from wtforms.widgets import NumberInput

from events.checklist import Checklist
from events.retrofit import ACCEPTANCE_CHECKS

TOO_LONG = _l("这里最多写2000字。")
YES_NO = [SelectChoice("yes", _l("是")), SelectChoice("no", _l("否"))]
PHOTO_TYPES = "image/jpeg,image/png"


class Chosen:
    """The value is one of the field's non-empty choices (set per request, e.g. staff lists)."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data not in {str(c.value) for c in field.choices if c.value}:
            raise ValidationError(self.message)


class QueueFilterForm(FlaskForm):
    """The worklist filters: a GET form, so bookmarks and the back button keep them."""

    class Meta:
        csrf = False  # a GET search changes nothing

    view = RadioField(
        _l("显示哪些案件"),
        choices=[SelectChoice("mine", _l("我的待办")), SelectChoice("all", _l("全部"))],
        validate_choice=False,
        validators=[Optional(), AnyOf(("mine", "all"), message=_l("请选择“我的待办”或“全部”。"))],
    )
    step = SelectField(
        _l("办理环节"),
        validate_choice=False,
        validators=[Optional(), Chosen(_l("没有这个办理环节,请从列表中选择。"))],
    )
    district = SelectField(
        _l("区县"),
        validate_choice=False,
        validators=[Optional(), Chosen(_l("没有这个区县,请从列表中选择。"))],
    )
    min_days = StringField(
        _l("只看在当前环节等待不少于几天的案件"),
        widget=NumberInput(min=0, max=3650),
        validators=[Optional(), Regexp(r"^\d{1,4}$", message=_l("天数请填0到3650之间的整数。"))],
    )

    def filters(self) -> dict[str, Any]:
        """The validated filters as `list_cases` takes them."""
        return {
            "step": self.step.data or "",
            "district": (self.district.data or "") if self.district else "",
            "min_days_in_step": min(int(self.min_days.data or 0), 3650),
            "worklist": bool(self.view) and self.view.data == "mine",
        }

    def query_args(self) -> dict[str, str]:
        """The filters as query-string arguments, for the next-page link."""
        return {f.name: str(f.data) for f in self if f.data}


class ActionForm(FlaskForm):
    """A step form on the case page, carrying the case version it was rendered from."""

    class Meta:
        # CSRFProtect checks every POST; prefixed forms on one page share the page's token.
        csrf = False

    version = HiddenField(validators=[Regexp(r"^\d{1,9}$")])

    @property
    def case_version(self) -> int:
        """The version the user saw (validated as digits)."""
        return int(self.version.data)


def _text(label: str, hint: str = "") -> TextAreaField:
    return TextAreaField(label, description=hint, validators=[Length(max=2000, message=TOO_LONG)])


class ApproveForm(ActionForm):
    """Eligible: choose the assessor who will visit."""

    assessor_id = SelectField(
        _l("安排哪位评估员上门"), validate_choice=False, validators=[Chosen(_l("请选择评估员。"))]
    )
    note = _text(_l("审核意见"), _l("只给工作人员看。"))


class RejectForm(ActionForm):
    """Not eligible, with the reason the family reads."""

    reason = _text(_l("不通过的原因"), _l("申请人会看到这段说明,请用平实的话写清楚。"))


class ReturnForm(ActionForm):
    """Ask the family for what is missing."""

    request = _text(_l("需要申请人补充什么"), _l("申请人会看到这段说明。"))


class AssignForm(ActionForm):
    """The contractor and the inspector who will accept the works."""

    contractor = StringField(
        _l("施工单位名称"),
        validators=[Length(max=100, message=_l("施工单位名称请在100字以内。"))],
    )
    inspector_id = SelectField(
        _l("验收员"), validate_choice=False, validators=[Chosen(_l("请选择验收员。"))]
    )


class ConfirmForm(ActionForm):
    """A step that needs nothing but the click (works started, works completed)."""


class RectifyForm(ActionForm):
    """What was redone after a failed acceptance."""

    note = _text(_l("整改情况"), _l("写明哪些项目做了哪些整改。"))


class SiteInspectionForm(ActionForm):
    """A supervision visit while works go on."""

    findings = _text(_l("检查发现的情况"))
    follow_up_required = RadioField(
        _l("是否需要施工单位跟进整改"),
        choices=YES_NO,
        validate_choice=False,
        validators=[AnyOf(("yes", "no"), message=_l("请选择是否需要跟进整改。"))],
    )
    photos = MultipleFileField(
        _l("现场照片"),
        description=_l("可以一次选多张,JPG 或 PNG 格式,每张不超过5MB。"),
        render_kw={"accept": PHOTO_TYPES},
    )


class CloseForm(ActionForm):
    """File the finished case."""

    note = _text(_l("办结说明"))


class FollowUpForm(ActionForm):
    """A later visit or call: are the items still there and used?"""

    note = _text(_l("回访情况"))
    still_in_use = RadioField(
        _l("改造的设施是否还在正常使用"),
        choices=YES_NO,
        validate_choice=False,
        validators=[AnyOf(("yes", "no"), message=_l("请选择设施是否还在正常使用。"))],
    )


class AssessmentForm(ActionForm):
    """The assessor's checklist picker; item fields are added per checklist version."""

    note = _text(_l("评估说明"), _l("例如:老人的主要困难、现场情况。"))
    checklist: Checklist

    def lines(self) -> list[dict[str, Any]]:
        """Chosen items as the service takes them; unreadable numbers pass through as typed,
        so the domain's own check refuses them with its message."""
        return [
            {
                "code": item.code,
                "quantity": _integer(self[f"qty_{item.code}"].data),
                "unit_price": _decimal(self[f"price_{item.code}"].data),
            }
            for item in self.checklist.items
            if self[f"pick_{item.code}"].data
        ]


def assessment_form(
    checklist: Checklist, prefill: tuple[dict[str, Any], ...] = (), **kwargs: Any
) -> AssessmentForm:
    """A picker for every item of this checklist version, prefilled from an earlier assessment."""

    class Form(AssessmentForm):
        pass

    Form.checklist = checklist
    for item in checklist.items:
        setattr(Form, f"pick_{item.code}", BooleanField(item.name_zh))
        setattr(Form, f"qty_{item.code}", StringField(_l("数量"), default="1"))
        price = StringField(_l("单价(元)"), default=str(item.reference_price))
        setattr(Form, f"price_{item.code}", price)
    data = {}
    for line in prefill:
        code = line["code"]
        data |= {f"pick_{code}": True, f"qty_{code}": str(line["quantity"])}
        data[f"price_{code}"] = str(line["unit_price"])
    return Form(data=data or None, **kwargs)


def _integer(raw: str | None) -> int | str | None:
    try:
        return int(str(raw).strip())
    except ValueError:
        return raw


def _decimal(raw: str | None) -> Decimal | str | None:
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        return raw
    return value if value.is_finite() else raw


class AcceptanceForm(ActionForm):
    """The inspector's acceptance: three checks and a note per planned item, photos, remarks."""

    photos = MultipleFileField(
        _l("验收照片"),
        description=_l("至少一张。可以一次选多张,JPG 或 PNG 格式,每张不超过5MB。"),
        render_kw={"accept": PHOTO_TYPES},
    )
    remarks = _text(_l("验收意见"))
    codes: tuple[str, ...]

    def results(self) -> list[dict[str, Any]]:
        """One result per planned item, as the service takes them."""
        return [
            {
                "code": code,
                **{check: bool(self[f"{check}_{code}"].data) for check in ACCEPTANCE_CHECKS},
                "note": self[f"note_{code}"].data or "",
            }
            for code in self.codes
        ]


def acceptance_form(codes: tuple[str, ...], **kwargs: Any) -> AcceptanceForm:
    """An acceptance form for these planned items."""

    class Form(AcceptanceForm):
        pass

    Form.codes = codes
    for code in codes:
        for check in ACCEPTANCE_CHECKS:
            setattr(Form, f"{check}_{code}", BooleanField(check))
        note = StringField(
            _l("说明"), validators=[Length(max=500, message=_l("说明请在500字以内。"))]
        )
        setattr(Form, f"note_{code}", note)
    return Form(**kwargs)
