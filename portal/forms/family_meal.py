"""The meal-service wizard's own pages (canteen, mode, subsidy, diet) and its submission."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask_babel import lazy_gettext as _l
from sqlalchemy import Engine
from wtforms import TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from events.meal import TEXT_LIMIT
from events.roles import Actor
from portal import labels
from portal.forms.family import (
    QuestionForm,
    SupplyInformationForm,
    WithdrawForm,
    _radios,
    _strip,
    elder_answers,
    place_of,
)
from projections.family_queries import Canteen, open_canteens

# The meal service refuses longer texts (dietary needs, replies, reasons): say so at the field.
DIETARY_LIMIT = TEXT_LIMIT


class CanteenForm(QuestionForm):
    """Which canteen: only those open in the elder's district are offered."""

    canteen_id = _radios(
        _l("老人想在哪个助餐食堂用餐?"),
        {},
        _l("请选择一个助餐食堂。"),
        _l("这里列出老人所在区县已经开业的助餐食堂。选离家近、方便去的一个。"),
    )

    def setup(self, engine: Engine, actor: Actor, answers: dict[str, Any]) -> dict[str, Any]:
        """Offer the open canteens of the elder's district (none: the page explains)."""
        district = place_of(actor, answers)["district"]
        canteens = open_canteens(engine, district)
        self.canteen_id.choices = [
            SelectChoice(str(c.facility_id), canteen_label(c)) for c in canteens
        ]
        return {"canteens": canteens, "district": district}


def canteen_label(canteen: Canteen) -> str:
    """How a canteen is named in a list: its name and where it is."""
    return f"{canteen.name}({canteen.street} {canteen.community})"


class ModeForm(QuestionForm):
    """Eat at the canteen, or have meals brought home."""

    mode = _radios(
        _l("老人想怎么用餐?"),
        labels.MEAL_MODES,
        _l("请选择用餐方式:到食堂吃(堂食)或送餐上门。"),
        _l("行动不便、出门困难的老人,可以选择送餐上门。"),
    )


class SubsidyForm(QuestionForm):
    """Which subsidy the elder asks for; the caseworker checks it."""

    subsidy_category = _radios(
        _l("老人申请哪一类助餐补贴?"),
        labels.MEAL_SUBSIDY_CATEGORIES,
        _l("请选择补贴类别。"),
        _l(
            "以民政部门认定的为准,80周岁以上按身份证上的出生日期计算。都不符合的选"
            "“以上都不是”,也可以申请,审核员会告诉您能享受的助餐价格。"
        ),
    )


class DietaryForm(QuestionForm):
    """Optional: what the kitchen should know (kept with the person, never in events)."""

    dietary_needs = TextAreaField(
        _l("老人在饮食上有什么要求?"),
        description=_l("例如:糖尿病,要少糖少盐;牙口不好,饭菜要软烂;对海鲜过敏。不写也可以。"),
        filters=[_strip],
        validators=[Length(max=DIETARY_LIMIT, message=_l("饮食要求请写在1000字以内。"))],
    )


def canteen_uuid(value: object) -> UUID | str:
    """The chosen canteen's id; an unreadable one is passed on for the service to refuse."""
    try:
        return UUID(str(value))
    except ValueError:
        return str(value or "")


def meal_submission(actor: Actor, answers: dict[str, Any]) -> dict[str, Any]:
    """The draft's answers as `MealService.submit_application` takes them."""
    return {
        "elder": elder_answers(answers),
        "relation": answers.get("relation", ""),
        "canteen_id": canteen_uuid(answers.get("canteen_id")),
        "mode": answers.get("mode", ""),
        "subsidy_category": answers.get("subsidy_category", ""),
        "dietary_needs": answers.get("dietary_needs", "") or "",
        **place_of(actor, answers),
    }


def chosen_canteen(engine: Engine, actor: Actor, answers: dict[str, Any]) -> dict[str, Any]:
    """For the check page: the chosen canteen if it is still open in the elder's district."""
    offered = open_canteens(engine, place_of(actor, answers)["district"])
    chosen = str(answers.get("canteen_id") or "")
    return {"canteen": next((c for c in offered if str(c.facility_id) == chosen), None)}


# -- forms on an enrolment page: the meal service keeps texts to 1000 characters ---------------


class MealSupplyForm(SupplyInformationForm):
    """The family's answer to a caseworker's request about a meal application."""

    reply = TextAreaField(
        _l("补充的信息"),
        description=_l("请按审核员的要求写清楚。如需提交证件,可以写明会送到社区。"),
        filters=[_strip],
        validators=[
            DataRequired(_l("请填写补充的信息。")),
            Length(max=DIETARY_LIMIT, message=_l("补充的信息请写在1000字以内。")),
        ],
    )


class MealWithdrawForm(WithdrawForm):
    """Withdrawing a meal application, or leaving the service, asks why."""

    reason = TextAreaField(
        _l("请简单说说为什么撤回"),
        description=_l("例如:老人搬去和子女同住了。工作人员会看到这段话。"),
        filters=[_strip],
        validators=[
            DataRequired(_l("请写明撤回的原因。")),
            Length(max=DIETARY_LIMIT, message=_l("原因请写在1000字以内。")),
        ],
    )
