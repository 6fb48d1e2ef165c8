"""Staff forms for meal service and home care: the queue filters and each step's form."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, Length, Optional
from wtforms.widgets import NumberInput

from portal.forms.staff import TOO_LONG, YES_NO, ActionForm, Chosen, RejectForm, ReturnForm
from portal.labels import CARE_LEVELS

__all__ = [
    "AssignProviderForm",
    "CareAssessForm",
    "CareCloseForm",
    "CareFollowUpForm",
    "EndEnrolmentForm",
    "NoteForm",
    "ProgrammeFilterForm",
    "RejectForm",
    "ReturnForm",
    "SendAssessorForm",
]


class ProgrammeFilterForm(FlaskForm):
    """A meal or home-care queue's filters: a GET form, so bookmarks and the back button work."""

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

    def filters(self) -> dict[str, Any]:
        """The validated filters as the list queries take them (`worklist` only with a view)."""
        found: dict[str, Any] = {
            "step": self.step.data or "",
            "district": (self.district.data or "") if self.district else "",
        }
        if self.view:
            found["worklist"] = self.view.data == "mine"
        return found

    def query_args(self) -> dict[str, str]:
        """The filters as query-string arguments, for the next-page link."""
        return {f.name: str(f.data) for f in self if f.data}


def _text(label: str, hint: str = "") -> TextAreaField:
    return TextAreaField(label, description=hint, validators=[Length(max=2000, message=TOO_LONG)])


def whole_number(raw: str | None) -> int | str | None:
    """A typed count as an int; anything else passes through as typed, so the domain's own
    check refuses it with its message."""
    try:
        return int(str(raw).strip())
    except ValueError:
        return raw


class NoteForm(ActionForm):
    """A decision that needs only an optional note (approving an enrolment or a care plan)."""

    note = _text(_l("审核意见"), _l("只给工作人员看。"))


class EndEnrolmentForm(ActionForm):
    """Stop an enrolled elder's meals, saying why."""

    reason = _text(_l("停止助餐的原因"), _l("例如:老人搬家、住院。申请人会看到这段说明。"))


class SendAssessorForm(ActionForm):
    """Accept a home-care application and send an assessor (or another one)."""

    assessor_id = SelectField(
        _l("安排哪位评估员上门"), validate_choice=False, validators=[Chosen(_l("请选择评估员。"))]
    )


class CareAssessForm(ActionForm):
    """The assessor's grading: care level and the service hours a month it grants."""

    level = RadioField(
        _l("照护等级"),
        choices=[SelectChoice(code, label) for code, label in CARE_LEVELS.items()],
        validate_choice=False,
    )
    monthly_hours = StringField(
        _l("每月上门服务时长(小时)"),
        description=_l("1到120之间的整数。"),
        widget=NumberInput(min=1, max=120),
    )
    note = _text(_l("评估说明"), _l("例如:老人的主要困难、需要哪些帮助。"))

    @property
    def hours(self) -> int | str | None:
        """The hours as the service takes them."""
        return whole_number(self.monthly_hours.data)


class AssignProviderForm(ActionForm):
    """Name the provider organisation that will make the visits."""

    provider_id = SelectField(
        _l("上门照护服务机构"),
        validate_choice=False,
        validators=[Chosen(_l("请选择服务机构。"))],
    )


class CareFollowUpForm(ActionForm):
    """A follow-up call or visit (回访) during or after the service."""

    note = _text(_l("回访情况"))
    needs_attention = RadioField(
        _l("是否有需要跟进处理的问题"),
        choices=YES_NO,
        validate_choice=False,
        validators=[AnyOf(("yes", "no"), message=_l("请选择是否有需要跟进处理的问题。"))],
    )


class CareCloseForm(ActionForm):
    """End the service, saying why."""

    reason = _text(_l("结束服务的原因"), _l("例如:老人入住养老机构、搬离本区。"))
