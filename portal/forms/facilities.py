"""Facility forms: the list's filters, registering a project, and each step's form on a
facility's page (milestones, deadline, beds, rooms, inspections, acceptance)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, DateInput, ListWidget, NumberInput

from events.facility import Kind
from portal.forms.staff import PHOTO_TYPES, TOO_LONG, YES_NO, ActionForm, Chosen
from portal.forms.staff import SiteInspectionForm as CaseSiteInspectionForm
from portal.forms.staff_programmes import whole_number
from portal.labels import FACILITY_KINDS, ROOMS

PLACE_SEPARATOR = "/"
DATE_HINT = _l("例如 2025-07-01。")
PHOTO_HINT = _l("可以一次选多张,JPG 或 PNG 格式,每张不超过5MB。")


def _date(label: str, hint: str = DATE_HINT) -> StringField:
    # Typed as text and checked by the domain, which says what a valid date is for this step.
    return StringField(label, description=hint, widget=DateInput())


def _inspected_on() -> StringField:
    return _date(_l("检查日期"), _l("不填就是今天。例如 2025-07-01。"))


def _photos(label: str, hint: str) -> MultipleFileField:
    return MultipleFileField(label, description=hint, render_kw={"accept": PHOTO_TYPES})


class FacilityFilterForm(FlaskForm):
    """The facility list's filters: a GET form, so bookmarks and the back button keep them."""

    class Meta:
        csrf = False  # a GET search changes nothing

    kind = SelectField(
        _l("机构类型"),
        choices=[
            SelectChoice("", _l("全部类型")),
            *[SelectChoice(code, label) for code, label in FACILITY_KINDS.items()],
        ],
        validate_choice=False,
        validators=[Optional(), Chosen(_l("没有这种机构类型,请从列表中选择。"))],
    )
    district = SelectField(
        _l("区县"),
        validate_choice=False,
        validators=[Optional(), Chosen(_l("没有这个区县,请从列表中选择。"))],
    )
    late = BooleanField(_l("只看已超过完工期限的项目"))

    def filters(self) -> dict[str, Any]:
        """The validated filters as `list_facilities` takes them."""
        return {
            "kind": self.kind.data or "",
            "district": (self.district.data or "") if self.district else "",
            "late_only": bool(self.late.data),
        }


class RegisterFacilityForm(FlaskForm):
    """A new care centre, canteen or institution project. CSRFProtect checks the POST."""

    class Meta:
        csrf = False

    idempotency_key = HiddenField(validators=[DataRequired(), Length(max=64)])
    kind = RadioField(
        _l("机构类型"),
        choices=[SelectChoice(k, FACILITY_KINDS[k]) for k in Kind.BUILT],
        validate_choice=False,
    )
    name = StringField(_l("机构名称"), description=_l("2到60个字,例如:春晖社区老年助餐食堂。"))
    place = SelectField(
        _l("所在街道(乡镇)和社区(村)"),
        validate_choice=False,
        validators=[Chosen(_l("请选择机构所在的街道(乡镇)和社区(村)。"))],
    )
    planned_on = _date(_l("立项日期"), _l("不能晚于今天。例如 2025-01-06。"))
    deadline = _date(_l("完工期限"), _l("要求投入使用的日期,例如 2025-12-31。"))

    def place_parts(self) -> dict[str, str]:
        """District, street and community as the service takes them (empty if not chosen)."""
        parts = (self.place.data or "").split(PLACE_SEPARATOR)
        if len(parts) != 3:
            parts = ["", "", ""]  # not one of our choices: the domain says to choose a place
        return dict(zip(("district", "street", "community"), parts, strict=True))


class MilestoneForm(ActionForm):
    """The next milestone reached, and when (the domain refuses one out of order)."""

    milestone = SelectField(_l("到了哪个节点"), validate_choice=False)
    on = _date(_l("节点日期"))


class DeadlineForm(ActionForm):
    """A new deadline for the project, and why it moves."""

    deadline = _date(_l("新的完工期限"))
    reason = TextAreaField(
        _l("调整原因"),
        description=_l("会留在项目记录里。"),
        validators=[Length(max=2000, message=TOO_LONG)],
    )


class BedsForm(ActionForm):
    """An institution's beds before and after renovation, and how many are nursing beds."""

    beds_before = StringField(_l("改造前床位数"), widget=NumberInput(min=0, max=5000))
    beds_after = StringField(_l("改造后床位数"), widget=NumberInput(min=0, max=5000))
    nursing_beds = StringField(_l("其中护理型床位数"), widget=NumberInput(min=0, max=5000))

    def counts(self) -> dict[str, int | str | None]:
        """The three counts as the service takes them (unreadable ones pass through as typed)."""
        return {
            name: whole_number(self[name].data)
            for name in ("beds_before", "beds_after", "nursing_beds")
        }


class RoomsForm(ActionForm):
    """The functional rooms the renovation adds (the list replaces the last one)."""

    rooms = SelectMultipleField(
        _l("新增的功能用房"),
        choices=[SelectChoice(code, label) for code, label in ROOMS.items()],
        validate_choice=False,  # the domain refuses unknown rooms with its own message
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class SiteInspectionForm(CaseSiteInspectionForm):
    """A supervision visit to a facility: findings, follow-up, photos, and the day."""

    follow_up_required = RadioField(
        _l("是否需要跟进整改"),
        choices=YES_NO,
        validate_choice=False,
        validators=[AnyOf(("yes", "no"), message=_l("请选择是否需要跟进整改。"))],
    )
    inspected_on = _inspected_on()


class FoodSafetyForm(ActionForm):
    """A canteen's food-safety check."""

    passed = RadioField(
        _l("食品安全检查是否合格"),
        choices=[SelectChoice("yes", _l("合格")), SelectChoice("no", _l("不合格"))],
        validate_choice=False,
        validators=[AnyOf(("yes", "no"), message=_l("请选择检查是否合格。"))],
    )
    findings = TextAreaField(
        _l("检查发现的情况"),
        description=_l("不合格时必须写明问题,食堂要据此整改。"),
        validators=[Length(max=2000, message=TOO_LONG)],
    )
    photos = _photos(_l("检查照片"), PHOTO_HINT)
    inspected_on = _inspected_on()


class AcceptanceForm(ActionForm):
    """An institution's acceptance check against "safe, functional, well managed"."""

    safe = BooleanField(_l("安全"))
    functional = BooleanField(_l("功能完善"))
    well_managed = BooleanField(_l("管理规范"))
    remarks = TextAreaField(
        _l("验收意见"),
        description=_l("有一项不达标时必须写明要整改什么。"),
        validators=[Length(max=2000, message=TOO_LONG)],
    )
    photos = _photos(_l("验收照片"), _l("至少一张。可以一次选多张,JPG 或 PNG 格式,每张不超过5MB。"))
    inspected_on = _inspected_on()
