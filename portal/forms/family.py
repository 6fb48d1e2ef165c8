"""The applicant's forms: one per question page of the wizard, and the forms on a case page."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import Engine
from wtforms import Field, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Regexp, ValidationError
from wtforms.widgets import HiddenInput

from events import clock
from events.districts import DISTRICTS, is_known_place
from events.districts import district as find_district
from events.elder import PHONE, check_age
from events.errors import DomainError
from events.national_id import parse_national_id
from events.retrofit import SURVEY_QUESTIONS
from events.roles import Actor, Role
from portal import labels
from portal.messages import message_for


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _no_spaces(value: Any) -> Any:
    # People copy numbers as "138 1234 5678": spaces are not a mistake worth an error.
    return value.replace(" ", "").replace("\u3000", "").upper() if isinstance(value, str) else value


def _radios(label: Any, options: dict[str, Any], message: Any, description: Any = "") -> RadioField:
    """Radios whose only error is our plain message (never WTForms' English defaults)."""
    return RadioField(
        label,
        choices=[SelectChoice(code, text) for code, text in options.items()],
        description=description,
        invalid_choice_message=message,
        invalid_value_message=message,
    )


class QuestionForm(FlaskForm):
    """A wizard page: which draft answers it shows, and which it saves."""

    def setup(self, engine: Engine, actor: Actor, answers: dict[str, Any]) -> dict[str, Any]:
        """Fit the page to the draft so far (e.g. the choices it offers); returns what the
        page template needs besides the form. Most pages need nothing."""
        return {}

    def blocker(self) -> DomainError | None:
        """Why, given this page's answer, the applicant cannot go on (explained, not refused)."""
        return None

    def prefill(self, answers: dict[str, Any]) -> None:
        """Show what the draft already holds (a GET, or coming back to change an answer)."""
        for name, field in self._fields.items():
            if name != "csrf_token" and name in answers:
                field.process(None, answers[name])

    def answers(self) -> dict[str, Any]:
        """This page's answers as the draft keeps them."""
        return {name: f.data for name, f in self._fields.items() if name != "csrf_token"}


class ElderForm(QuestionForm):
    """Who the elder is: the ID number is checked here, so a mistake shows on this page."""

    name = StringField(
        _l("老人姓名"),
        description=_l("和身份证上的姓名一致。"),
        filters=[_strip],
        validators=[
            InputRequired(_l("请填写老人的姓名。")),
            Length(min=2, max=30, message=_l("请填写老人的姓名(2到30个字)。")),
        ],
    )
    national_id = StringField(
        _l("老人的身份证号码"),
        description=_l("18位,最后一位可能是字母X。例如:110105194503071234。"),
        filters=[_no_spaces],
        validators=[InputRequired(_l("请填写老人的身份证号码。"))],
    )

    def validate_national_id(self, field: Field) -> None:
        """GB 11643 check digit and the programme's minimum age, explained in plain words."""
        today = clock.today()
        try:
            check_age(parse_national_id(field.data, today), today)
        except DomainError as e:
            raise ValidationError(message_for(e)) from None


class PhoneForm(QuestionForm):
    """A number that reaches the elder (or the family), for the assessor's visit."""

    phone = StringField(
        _l("老人的联系电话"),
        description=_l("手机号码,或带区号的固定电话。评估员上门前会先打这个电话。"),
        filters=[_no_spaces],
        validators=[
            InputRequired(_l("请填写老人的联系电话。")),
            Regexp(PHONE, message=_l("请填写能联系到老人的电话:11位手机号,或带区号的固定电话。")),
        ],
    )


_ADDRESS = StringField(
    _l("详细地址"),
    description=_l("路名、门牌号、楼栋、单元和房间号。例如:和平路12号3单元201室。"),
    filters=[_strip],
    validators=[
        InputRequired(_l("请填写老人的详细住址。")),
        Length(min=4, max=200, message=_l("请填写老人的详细住址,写到门牌号(4到200个字)。")),
    ],
)
_PLACE_MESSAGE = _l("请选择老人所在的街道(乡镇)和社区(村)。")


def place_value(street: str, community: str) -> str:
    """How a street and community travel in one select option."""
    return f"{street}|{community}" if street or community else ""


class AddressForm(QuestionForm):
    """Where the elder lives: district, then street and community, then the door."""

    district = SelectField(
        _l("区县"),
        validators=[DataRequired(_l("请选择老人所在的区县。"))],
        invalid_choice_message=_l("请选择老人所在的区县。"),
    )
    place = SelectField(
        _l("街道(乡镇)和社区(村)"),
        validators=[DataRequired(_PLACE_MESSAGE)],
        invalid_choice_message=_PLACE_MESSAGE,
    )
    address = _ADDRESS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.district.choices = [SelectChoice("", _l("请选择"))] + [
            SelectChoice(d.code, labels.district_name(d.code)) for d in DISTRICTS
        ]
        self.show_places_of(None)

    def show_places_of(self, district_code: str | None) -> None:
        """List the communities of one district, or of all (grouped) before one is chosen."""
        shown = [d for d in DISTRICTS if district_code in (None, d.code)] or list(DISTRICTS)
        self.place.choices = [SelectChoice("", _l("请选择"))] + [
            SelectChoice(place_value(s, c), f"{s} {c}", optgroup=labels.district_name(d.code))
            for d in shown
            for s, c in d.communities
        ]

    def validate_place(self, field: Field) -> None:
        """The community must lie in the district chosen above."""
        street, _, community = (field.data or "").partition("|")
        if self.district.data and not is_known_place(self.district.data, street, community):
            raise ValidationError(_l("这个社区(村)不在所选的区县,请重新选择。"))

    def prefill(self, answers: dict[str, Any]) -> None:
        """The draft keeps street and community apart; the select shows them together."""
        super().prefill(answers)
        self.place.process(
            None, place_value(answers.get("street", ""), answers.get("community", ""))
        )

    def answers(self) -> dict[str, Any]:
        """District, street, community and the detailed address, as the draft keeps them."""
        street, _, community = self.place.data.partition("|")
        return {
            "district": self.district.data,
            "street": street,
            "community": community,
            "address": self.address.data,
        }


class AddressDetailForm(QuestionForm):
    """A community worker applies in their own community: only the door is asked."""

    address = _ADDRESS


class HouseholdForm(QuestionForm):
    """The household category; "none of these" is allowed and explained on the check page."""

    household_category = _radios(
        _l("老人家里属于哪一类?"),
        labels.HOUSEHOLD_CATEGORIES,
        _l("请选择家庭类别。"),
        _l("以民政部门认定的为准。不清楚的话,可以问所在社区,或选“以上都不是”。"),
    )


class HealthForm(QuestionForm):
    """How much help the elder needs in daily life."""

    disability_level = _radios(
        _l("老人的身体状况怎么样?"),
        labels.DISABILITY_LEVELS,
        _l("请选择老人的身体状况。"),
        _l("评估员上门时会再看一看,这里按您了解的情况选就可以。"),
    )


class LivingForm(QuestionForm):
    """Who lives with the elder."""

    living_situation = _radios(
        _l("老人平时和谁一起住?"), labels.LIVING_SITUATIONS, _l("请选择老人的居住情况。")
    )


class RelationForm(QuestionForm):
    """Who is applying, in relation to the elder."""

    relation = _radios(_l("您和老人是什么关系?"), labels.RELATIONS, _l("请选择您与老人的关系。"))


class NeedsForm(QuestionForm):
    """Optional: what is hard at home, in the family's own words."""

    needs = TextAreaField(
        _l("家里哪些地方让老人觉得不方便、不安全?"),
        description=_l("例如:卫生间地滑,想装扶手;床太矮,起身困难。不写也可以。"),
        filters=[_strip],
        validators=[Length(max=2000, message=_l("改造需求请写在2000字以内。"))],
    )


# The retrofit wizard's pages, in the order they are asked.
RETROFIT_PAGES: dict[str, type[QuestionForm]] = {
    "elder": ElderForm,
    "phone": PhoneForm,
    "address": AddressForm,
    "household": HouseholdForm,
    "health": HealthForm,
    "living": LivingForm,
    "relation": RelationForm,
    "needs": NeedsForm,
}


def street_of(district_code: str, community: str) -> str:
    """The street (or town) a community belongs to; empty if the tree does not know it."""
    found = find_district(district_code)
    streets = [s for s, c in (found.communities if found else ()) if c == community]
    return streets[0] if streets else ""


def place_of(actor: Actor, answers: dict[str, Any]) -> dict[str, str]:
    """Where the application is filed: a community worker's own community, else the answers."""
    if actor.role == Role.COMMUNITY_WORKER:
        return {
            "district": actor.district,
            "street": street_of(actor.district, actor.community),
            "community": actor.community,
        }
    return {k: str(answers.get(k, "")) for k in ("district", "street", "community")}


ELDER_FIELDS = (
    "name",
    "national_id",
    "phone",
    "address",
    "household_category",
    "disability_level",
    "living_situation",
)


def elder_answers(answers: dict[str, Any]) -> dict[str, Any]:
    """The elder's profile from the draft, as every programme's service takes it."""
    return {f: answers.get(f, "") for f in ELDER_FIELDS}


def submission(actor: Actor, answers: dict[str, Any]) -> dict[str, Any]:
    """The draft's answers as `RetrofitService.submit_application` takes them."""
    return {
        "elder": elder_answers(answers),
        "relation": answers.get("relation", ""),
        "needs": answers.get("needs", "") or "",
        **place_of(actor, answers),
    }


# -- forms on a case page ------------------------------------------------------------------


class CaseActionForm(FlaskForm):
    """Every form that changes a case carries the version it was rendered from."""

    version = IntegerField(
        widget=HiddenInput(), validators=[InputRequired(_l("页面已过期,请刷新后再提交。"))]
    )


class SupplyInformationForm(CaseActionForm):
    """The family's answer to a caseworker's request for more information."""

    reply = TextAreaField(
        _l("补充的信息"),
        description=_l("请按审核员的要求写清楚。如需提交证件,可以写明会送到社区。"),
        filters=[_strip],
        validators=[
            DataRequired(_l("请填写补充的信息。")),
            Length(max=2000, message=_l("补充的信息请写在2000字以内。")),
        ],
    )


class ConfirmPlanForm(CaseActionForm):
    """Agreeing to the assessed plan: a button and the version it agrees to."""


class WithdrawForm(CaseActionForm):
    """Withdrawing asks why, so the caseworker understands."""

    reason = TextAreaField(
        _l("请简单说说为什么撤回"),
        description=_l("例如:老人搬去和子女同住了。工作人员会看到这段话。"),
        filters=[_strip],
        validators=[
            DataRequired(_l("请写明撤回的原因。")),
            Length(max=2000, message=_l("原因请写在2000字以内。")),
        ],
    )


SCORES = {
    "1": _l("1分 很不满意"),
    "2": _l("2分 不满意"),
    "3": _l("3分 一般"),
    "4": _l("4分 满意"),
    "5": _l("5分 很满意"),
}


class SurveyForm(CaseActionForm):
    """The satisfaction survey: five 1-5 questions (added below) and an optional comment."""

    comment = TextAreaField(
        _l("还有什么想对我们说的吗?"),
        filters=[_strip],
        validators=[Length(max=1000, message=_l("意见请写在1000字以内。"))],
    )

    def scores(self) -> dict[str, int]:
        """The five answers as the service takes them."""
        return {q: int(self[q].data) for q in SURVEY_QUESTIONS}

    def questions(self) -> list[Field]:
        """The five question fields, in the survey's order."""
        return [self[q] for q in SURVEY_QUESTIONS]


for _question in SURVEY_QUESTIONS:
    setattr(
        SurveyForm,
        _question,
        _radios(labels.SURVEY_QUESTIONS[_question], SCORES, _l("请为这个问题选择1到5分。")),
    )
