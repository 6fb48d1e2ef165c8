"""Supervision forms: the dashboard's filters (a GET form) and the admin's target forms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional, Regexp, ValidationError
from wtforms.widgets import DateInput

from events import clock
from events.districts import DISTRICTS
from events.metrics import METRICS, PROGRAMMES
from events.target import CITY
from portal import labels
from portal import supervision_labels as sl
from portal.forms.staff import Chosen

# The charts' window: months back from the as-at day (None: since each target was set).
PERIODS: dict[str, int | None] = {"3": 3, "6": 6, "12": 12, "all": None}
PERIOD_LABELS = {
    "3": _l("最近3个月"),
    "6": _l("最近6个月"),
    "12": _l("最近12个月"),
    "all": _l("从设定目标起"),
}
DEFAULT_PERIOD = "12"
EARLIEST = date(2000, 1, 1)
CITY_CHOICE = "city"  # the form's value for a city-wide target ("" means "not chosen")
BAD_DAY = _l("请填写正确的日期,例如 2026-10-31。")


def _stripped(value: object) -> object:
    """Blank-looking input (spaces, a full-width space) is no choice at all: the default."""
    return value.strip() if isinstance(value, str) else value


@dataclass(frozen=True)
class Filters:
    """What the dashboard shows: validated, with the defaults filled in."""

    programme: str
    district: str
    period: str
    as_at: date

    @property
    def months(self) -> int | None:
        """The charts' window in months (None: since each target was set)."""
        return PERIODS[self.period]

    def query(self) -> dict[str, str]:
        """The filters as query-string arguments (for the report links)."""
        return {
            "programme": self.programme,
            "district": self.district,
            "period": self.period,
            "as_at": self.as_at.isoformat(),
        }


class DashboardFilterForm(FlaskForm):
    """The dashboard's filters: a GET form, so bookmarks and the back button keep them."""

    class Meta:
        csrf = False  # a GET search changes nothing

    programme = SelectField(
        _lp("programme", "项目"),
        validate_choice=False,
        validators=[Optional(), Chosen(_l("没有这个项目,请从列表中选择。"))],
        filters=[_stripped],
    )
    district = SelectField(
        _l("区县"),
        validate_choice=False,
        validators=[Optional(), Chosen(_l("没有这个区县,请从列表中选择。"))],
        filters=[_stripped],
    )
    period = SelectField(
        _l("图表的时间范围"),
        default=DEFAULT_PERIOD,
        validate_choice=False,
        validators=[Optional(), Chosen(_l("没有这个时间范围,请从列表中选择。"))],
        filters=[_stripped],
    )
    as_at = StringField(
        _l("截至日期"),
        description=_l("看某一天结束时的情况,例如 2026-10-31。不填就是今天。"),
        widget=DateInput(),
        validators=[Optional()],
        filters=[_stripped],
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.programme.choices = [
            SelectChoice("", _l("全部项目")),
            *[SelectChoice(code, sl.PROGRAMMES[code]) for code in PROGRAMMES],
        ]
        self.district.choices = [SelectChoice("", _l("全部区县"))] + [
            SelectChoice(d.code, labels.district_name(d.code)) for d in DISTRICTS
        ]
        self.period.choices = [SelectChoice(k, v) for k, v in PERIOD_LABELS.items()]

    def validate_as_at(self, field: Field) -> None:
        """A calendar day, not after today (the future has no figures yet)."""
        try:
            day = date.fromisoformat(field.data.strip())
        except ValueError:
            raise ValidationError(str(BAD_DAY)) from None
        if day > clock.today():
            raise ValidationError(str(_l("截至日期不能晚于今天,请选择今天或以前的日期。")))
        if day < EARLIEST:
            raise ValidationError(str(_l("没有这么早的数据,请选择2000年以后的日期。")))

    def filters(self) -> Filters:
        """The validated filters, today and the default window where none was chosen."""
        as_at = date.fromisoformat(self.as_at.data.strip()) if self.as_at.data else clock.today()
        return Filters(
            programme=self.programme.data or "",
            district=self.district.data or "",
            period=self.period.data or DEFAULT_PERIOD,
            as_at=as_at,
        )


# -- targets (admins) --------------------------------------------------------------------------
class TargetAction(FlaskForm):
    """A target form; CSRFProtect checks every POST (the page carries the token)."""

    class Meta:
        csrf = False


def _value() -> StringField:
    return StringField(
        _l("目标值"),
        description=_l("数字,最多两位小数。百分比填0到100之间的数,例如 90 表示 90%。"),
        render_kw={"inputmode": "decimal"},
    )


def _deadline() -> StringField:
    return StringField(
        _l("截止日期"), description=_l("例如 2026-12-31,要晚于今天。"), widget=DateInput()
    )


def _reason(label: str) -> TextAreaField:
    return TextAreaField(
        label,
        description=_l("会记录在目标的历史中。"),
        validators=[Length(max=500, message=_l("原因请写在500字以内。"))],
    )


class SetTargetForm(TargetAction):
    """A new target: which metric, where (a district or the whole city), how much, by when."""

    metric = SelectField(
        _l("指标"), validate_choice=False, validators=[Chosen(_l("请从列表中选择指标。"))]
    )
    district = SelectField(
        _l("区县"),
        validate_choice=False,
        validators=[Chosen(_l("请选择区县,或选择“全市”。"))],
    )
    value = _value()
    deadline = _deadline()
    note = TextAreaField(
        _l("说明"),
        description=_l("例如目标出自哪份文件。"),
        validators=[Length(max=500, message=_l("说明请写在500字以内。"))],
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.metric.choices = [SelectChoice("", _l("请选择"))] + [
            SelectChoice(
                m.code, sl.metric_with_unit(m.code), optgroup=sl.programme_name(m.programme)
            )
            for m in METRICS
        ]
        self.district.choices = [
            SelectChoice("", _l("请选择")),
            SelectChoice(CITY_CHOICE, _l("全市")),
            *[SelectChoice(d.code, labels.district_name(d.code)) for d in DISTRICTS],
        ]

    @property
    def district_code(self) -> str:
        """The district as the service takes it ("" for the whole city)."""
        return CITY if self.district.data == CITY_CHOICE else self.district.data or ""


class ReviseTargetForm(TargetAction):
    """A changed value or deadline, with why; at the version the form showed."""

    version = HiddenField(validators=[Regexp(r"^\d{1,9}$")])
    value = _value()
    deadline = _deadline()
    reason = _reason(_l("调整原因"))


class WithdrawTargetForm(TargetAction):
    """Stop supervising a figure here, with why."""

    version = HiddenField(validators=[Regexp(r"^\d{1,9}$")])
    reason = _reason(_l("撤销原因"))
