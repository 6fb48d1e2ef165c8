"""The provider's room forms: a canteen's day, a home-care visit, a month's staffing figures.

The forms only read what was typed; every rule (who was enrolled, overlapping visits, trained
staff among the caregivers, a reason for each correction) is the domain's to judge, so
unreadable numbers are passed through as typed and refused there with the domain's message.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional, Regexp
from wtforms.widgets import DateInput, NumberInput, TimeInput

from events.workforce import FIGURES
from portal import labels

ISO_DAY = r"^\d{4}-\d{2}-\d{2}$"
PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"  # a month: "2026-03"
UUID_TEXT = r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$"
REASON_LIMIT = 500


def typed(raw: str | None) -> str:
    """What was typed, with full-width digits and colons (a Chinese input method) made plain."""
    return unicodedata.normalize("NFKC", raw or "").strip()


def whole_number(raw: str | None) -> int | str:
    """An integer typed in a box; anything else as typed, for the domain to refuse by name."""
    text = typed(raw)
    return int(text) if text.isascii() and text.isdigit() else text


def clock_time(raw: str | None) -> str:
    """A time of day as "HH:MM": "9:05" typed without a time picker becomes "09:05"."""
    text = typed(raw)
    return f"0{text}" if re.fullmatch(r"\d:[0-5]\d", text) else text


def _reason(label: str, hint: str) -> TextAreaField:
    too_long = _l("原因请写在500字以内。")
    return TextAreaField(
        label, description=hint, validators=[Length(max=REASON_LIMIT, message=too_long)]
    )


class ProviderForm(FlaskForm):
    """A form of the provider's room; CSRFProtect checks every POST for the whole page."""

    class Meta:
        csrf = False

    # What to say when the domain asks for a reason this form did not give.
    reason_missing: str = ""


class VersionedForm(ProviderForm):
    """A form that changes a record: it carries the version it was rendered from."""

    version = HiddenField(validators=[Regexp(r"^\d{1,9}$")])


# -- choosing what to look at (GET forms) ---------------------------------------------------------
class DayPicker(ProviderForm):
    """Which day to show (meals, visit log); empty means today."""

    day = StringField(
        _l("日期"),
        widget=DateInput(),
        validators=[Optional(), Regexp(ISO_DAY, message=_l("请选择日期,例如 2026-03-05。"))],
    )

    def chosen(self, today: date) -> date | None:
        """The day asked for (today if none), or None when it is not a calendar date."""
        if not self.day.data:
            return today
        try:
            return date.fromisoformat(self.day.data)
        except ValueError:
            self.day.errors = [*self.day.errors, _l("请选择日期,例如 2026-03-05。")]
            return None


class PeriodPicker(ProviderForm):
    """Which month's staffing to report or correct."""

    period = SelectField(_l("填报哪个月份"), validate_choice=False)


# -- a canteen's day ----------------------------------------------------------------------------
class MealDayForm(ProviderForm):
    """The day's first record: the enrolled elders served, and the walk-in count."""

    day = HiddenField(validators=[Regexp(ISO_DAY)])
    served = SelectMultipleField(
        _l("这一天用餐的助餐老人"),
        description=_l("勾选这一天吃了饭(或送了餐)的老人。"),
        choices=[],
        validate_choice=False,
    )
    walk_in_count = StringField(
        _l("散客人数"),
        description=_l("没有办理助餐、临时来吃饭的老人人数。没有就填 0。"),
        widget=NumberInput(min=0, max=10000),
        default="0",
    )

    def walk_ins(self) -> int | str:
        """The walk-in count as the service takes it."""
        return whole_number(self.walk_in_count.data)

    def served_ids(self) -> list[str]:
        """The ticked enrolments (ids as posted; the domain checks each)."""
        return list(self.served.data or [])


class CorrectMealDayForm(MealDayForm, VersionedForm):
    """A recorded day's new figures and why they changed."""

    reason = _reason(_l("更正原因"), _l("例如:漏记了一位老人。更正会和原来的记录一起保留。"))
    reason_missing = _l("请写明更正的原因。")


# -- a home-care visit ----------------------------------------------------------------------------
def _visit_item_choices() -> list[SelectChoice]:
    return [SelectChoice(code, label) for code, label in labels.VISIT_ITEMS.items()]


def _confirmer_choices() -> list[SelectChoice]:
    return [SelectChoice(code, label) for code, label in labels.CONFIRMED_BY.items()]


class VisitForm(VersionedForm):
    """What a visit was: the day, the times, what was done, who did it, who confirmed it."""

    visit_date = StringField(_l("服务日期"), widget=DateInput())
    start = StringField(_l("开始时间"), description=_l("例如 09:00"), widget=TimeInput())
    end = StringField(_l("结束时间"), description=_l("例如 10:30"), widget=TimeInput())
    items = SelectMultipleField(
        _l("服务内容"),
        description=_l("可以选多项。"),
        choices=_visit_item_choices(),
        validate_choice=False,
    )
    caregiver = StringField(_l("上门护理员姓名"))
    confirmed_by = RadioField(
        _l("谁确认了这次服务"),
        description=_l("服务结束时,请老人本人或家属确认。没有确认的服务不能登记。"),
        choices=_confirmer_choices(),
        validate_choice=False,
    )

    def visit(self) -> dict[str, object]:
        """The visit as the service takes it."""
        return {
            "visit_date": typed(self.visit_date.data),
            "start": clock_time(self.start.data),
            "end": clock_time(self.end.data),
            "items": list(self.items.data or []),
            "caregiver": self.caregiver.data or "",
            "confirmed_by": self.confirmed_by.data or "",
        }


class LogVisitForm(VisitForm):
    """A new visit; its id is chosen when the form is shown, so a second submit adds nothing."""

    visit_id = HiddenField(validators=[Regexp(UUID_TEXT)])


class CorrectVisitForm(VisitForm):
    """A logged visit's corrected record and why."""

    reason = _reason(_l("更正原因"), _l("例如:结束时间填错了。原来的记录会一起保留。"))
    reason_missing = _l("请写明更正的原因。")


class CancelVisitForm(VersionedForm):
    """Strike out a visit logged in error."""

    reason = _reason(_l("作废原因"), _l("例如:重复登记了。作废的记录不计入服务时长。"))
    reason_missing = _l("请写明作废的原因。")


# -- a month's staffing -------------------------------------------------------------------------
def _count(label: str, hint: str = "") -> StringField:
    return StringField(label, description=hint, widget=NumberInput(min=0, max=100000))


class StaffingForm(ProviderForm):
    """A month's first report of caregivers, elders served, hires, departures, trained staff."""

    period = HiddenField(validators=[Regexp(PERIOD)])
    caregivers = _count(_l("护理员人数"), _l("这个月在岗的护理员。"))
    residents_or_clients = _count(_l("服务的老人人数"), _l("机构里住的老人,或上门服务的老人。"))
    hires = _count(_l("本月新招的护理员"))
    departures = _count(_l("本月离职的护理员"))
    trained = _count(_l("受过专业培训的护理员"), _l("包括在上面的护理员人数里。"))

    def figures(self) -> dict[str, int | str]:
        """The five figures as the service takes them."""
        return {name: whole_number(self[name].data) for name in FIGURES}


class CorrectStaffingForm(StaffingForm, VersionedForm):
    """A reported month's new figures and why they changed."""

    reason = _reason(_l("更正原因"), _l("例如:离职人数漏填了一人。原来的数字会一起保留。"))
    reason_missing = _l("请写明更正的原因。")
