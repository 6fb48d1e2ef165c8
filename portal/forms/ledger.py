"""Fund ledger forms: the "as at" control, and the finance officer's movements.

The forms only read what was typed: amounts, documents and districts are the ledger's to judge,
so they are passed through as typed and refused there with the figures that explain why.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _lp
from flask_wtf import FlaskForm
from wtforms import Field, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import DateTimeLocalInput, NumberInput

from events import clock
from events.districts import DISTRICTS
from portal import labels
from portal.forms.provider import typed
from portal.forms.staff import Chosen
from portal.ledger_labels import PROGRAMMES, SOURCES

# "2025-07-15T10:30" as a datetime-local control sends it; seconds, a space, or a bare date
# (the end of that day) are read too, for links typed by hand.
_MOMENT = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(:\d{2})?)?$")
BAD_MOMENT = _l("请选择日期和时间,例如 2025-07-15 10:30(北京时间)。")


def parse_moment(raw: str | None) -> datetime | None:
    """The end of the minute (second, day) typed, in city time; None when nothing was typed.
    "As at 10:30" includes what was recorded during 10:30, as the clock on the wall shows it."""
    text = typed(raw)
    if not text:
        return None
    found = _MOMENT.match(text)
    if found is None:
        raise ValueError(text)
    day, minute, second = found.groups()
    span = timedelta(seconds=1) if second else timedelta(minutes=1) if minute else timedelta(days=1)
    try:
        start = datetime.fromisoformat(f"{day}T{minute or '00:00'}{second or ''}")
        if not 1900 <= start.year <= 9000:  # far outside any ledger; UTC conversion may overflow
            raise ValueError(text)
        return start.replace(tzinfo=clock.CITY_TZ) + span - timedelta(microseconds=1)
    except (OverflowError, ValueError):
        raise ValueError(text) from None


def moment_value(moment: datetime) -> str:
    """A moment as a datetime-local control shows it (city time, to the minute)."""
    return clock.local(moment).strftime("%Y-%m-%dT%H:%M")


class LedgerForm(FlaskForm):
    """A ledger form; CSRFProtect checks every POST for the whole page."""

    class Meta:
        csrf = False

    # What to say when the domain asks for a reason this form did not give.
    reason_missing: str = ""


class AsAtForm(LedgerForm):
    """Which moment to show the ledger as at (a GET form: bookmarks keep it)."""

    at = StringField(
        _l("查看哪个时间的台账"),
        description=_l("按北京时间,精确到分钟。不填就是现在。"),
        widget=DateTimeLocalInput(),
        validators=[Optional()],
    )

    def validate_at(self, field: Field) -> None:
        try:
            parse_moment(field.data)
        except ValueError:
            raise ValidationError(str(BAD_MOMENT)) from None

    def moment(self) -> datetime | None:
        """The validated moment (None: now)."""
        return parse_moment(self.at.data)


def _amount(label: str = _l("金额(元)")) -> StringField:
    return StringField(label, description=_l("以元为单位,最多两位小数,例如 3000 或 1250.50。"))


def _document() -> StringField:
    return StringField(_l("依据文件"), description=_l("例如拨款文件的文号,或文件名称。"))


def _reason(label: str = _l("说明"), hint: str = "") -> TextAreaField:
    return TextAreaField(label, description=hint)


class MovementForm(LedgerForm):
    """Any movement: what was typed, as the service takes it."""

    def values(self) -> dict[str, Any]:
        """The typed answers by the service's argument names (amounts made plain)."""
        found = {name: field.data or "" for name, field in self._fields.items()}
        if "amount" in found:
            found["amount"] = typed(found["amount"])
        found.pop("fund", None)
        return found


class OpenFundForm(MovementForm):
    """A fund for one source, programme and year; a provincial one may require matching."""

    source = SelectField(
        _l("资金来源"),
        choices=[SelectChoice("", _l("请选择")), *[SelectChoice(k, v) for k, v in SOURCES.items()]],
        validate_choice=False,
    )
    programme = SelectField(
        _l("资金用途"),
        choices=[
            SelectChoice("", _l("请选择")),
            *[SelectChoice(k, v) for k, v in PROGRAMMES.items()],
        ],
        validate_choice=False,
    )
    year = StringField(
        _l("年度"), description=_l("例如 2025。"), widget=NumberInput(min=2000, max=2100)
    )
    title = StringField(_l("资金名称"), description=_l("例如“2025年省级适老化改造补助资金”。"))
    matching_ratio = StringField(
        _l("地方配套比例"),
        description=_l(
            "只有省级资金填写:1 表示每1元省级资金,区县要配套1元地方资金(1:1)。不需要配套就留空。"
        ),
    )


class ReceiveForm(MovementForm):
    """Money arrived from the source (到账)."""

    amount = _amount(_l("到账金额(元)"))
    document = _document()
    reason = _reason()


class AllocateForm(MovementForm):
    """Money allocated to a district, or a project in it (下达)."""

    amount = _amount(_l("下达金额(元)"))
    district = SelectField(_l("下达到哪个区县"), validate_choice=False)
    project = StringField(
        _lp("construction project", "项目"), description=_l("下达给区县内某个项目时填写,64字以内。")
    )
    document = _document()
    reason = _reason()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.district.choices = [
            SelectChoice("", _l("请选择")),
            *[SelectChoice(d.code, labels.district_name(d.code)) for d in DISTRICTS],
        ]


class ReturnForm(MovementForm):
    """Unallocated money sent back to the source (退回)."""

    amount = _amount(_l("退回金额(元)"))
    document = _document()
    reason = _reason(_l("退回原因"))


class ReverseForm(MovementForm):
    """A reversing correction (红字冲销): the original stays, this entry cancels it."""

    reason = _reason(
        _l("冲销原因"), _l("写明哪里错了,例如“金额录错,应为3000元”。审计时会看到这段说明。")
    )


class CommitForm(MovementForm):
    """Money committed to one retrofit case or facility, from a fund the user chooses."""

    fund = SelectField(
        _l("从哪笔资金核定"),
        validate_choice=False,
        validators=[Chosen(_l("请从列表中选择一笔资金。"))],
    )
    amount = _amount(_l("核定金额(元)"))
    document = _document()
    reason = _reason()


class PayForm(MovementForm):
    """A payment against an open commitment, with the voucher number (拨付)."""

    payee = StringField(_l("收款单位或收款人"), description=_l("例如施工单位的名称。"))
    voucher = StringField(_l("凭证号"), description=_l("付款凭证上的编号。"))
    amount = _amount(_l("拨付金额(元)"))
    reason = _reason()


class DistrictFilterForm(LedgerForm):
    """Which district's cases the subsidy queue lists (a GET form)."""

    district = SelectField(
        _l("区县"),
        validate_choice=False,
        validators=[Optional(), Chosen(_l("没有这个区县,请从列表中选择。"))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.district.choices = [
            SelectChoice("", _l("全部区县")),
            *[SelectChoice(d.code, labels.district_name(d.code)) for d in DISTRICTS],
        ]


FUND_FORMS = {"receive": ReceiveForm, "allocate": AllocateForm, "return": ReturnForm}


def fund_forms(submitted: MovementForm | None = None, action: str = "") -> dict[str, Any]:
    """The movement forms of a fund page, fresh, except the one just refused (as typed)."""
    return {
        name: submitted
        if name == action and submitted is not None
        else cls(formdata=None, prefix=name)
        for name, cls in FUND_FORMS.items()
    }
