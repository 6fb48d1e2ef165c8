"""The home-care wizard's own pages (condition, needs), its submission and its survey."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import Length

from events.errors import DomainError
from events.home_care import HomeCareNotEligible, check_eligible
from events.retrofit import SURVEY_QUESTIONS
from events.roles import Actor
from portal import labels
from portal.forms.family import (
    SCORES,
    HealthForm,
    QuestionForm,
    SurveyForm,
    _radios,
    _strip,
    elder_answers,
    place_of,
)


class ConditionForm(HealthForm):
    """How much help the elder needs: home care serves the disabled and semi-disabled."""

    disability_level = _radios(
        _l("老人的身体状况怎么样?"),
        labels.DISABILITY_LEVELS,
        _l("请选择老人的身体状况。"),
        _l("上门照护面向失能或半失能的老人。评估员上门时会再看一看,这里按您了解的情况选。"),
    )

    def blocker(self) -> DomainError | None:
        """An elder who is neither disabled nor semi-disabled: explain before going on."""
        try:
            check_eligible(self.disability_level.data)
        except HomeCareNotEligible as e:
            return e
        return None


class CareNeedsForm(QuestionForm):
    """Optional: what help the elder needs, in the family's words (kept with the person)."""

    needs = TextAreaField(
        _l("老人在生活中最需要哪些帮助?"),
        description=_l(
            "例如:老人卧床,需要帮忙擦身、翻身;想请人陪同去医院复查;家里需要打扫。不写也可以。"
        ),
        filters=[_strip],
        validators=[Length(max=2000, message=_l("照护需求请写在2000字以内。"))],
    )


def care_submission(actor: Actor, answers: dict[str, Any]) -> dict[str, Any]:
    """The draft's answers as `HomeCareService.submit_application` takes them."""
    return {
        "elder": elder_answers(answers),
        "relation": answers.get("relation", ""),
        "needs": answers.get("needs", "") or "",
        **place_of(actor, answers),
    }


# The retrofit survey's five questions, asked about the care visits.
CARE_SURVEY_QUESTIONS = {
    "overall": _l("总体来说,您对上门照护服务满意吗?"),
    "quality": _l("服务做得怎么样?"),
    "attitude": _l("护理员的态度怎么样?"),
    "timeliness": _l("护理员是否按约定的时间上门?"),
    "usefulness": _l("有了上门照护,老人的生活是否更方便、更舒心?"),
}


class CareSurveyForm(SurveyForm):
    """The home-care satisfaction survey: the same five 1-5 questions and a comment."""


for _question in SURVEY_QUESTIONS:
    setattr(
        CareSurveyForm,
        _question,
        _radios(CARE_SURVEY_QUESTIONS[_question], SCORES, _l("请为这个问题选择1到5分。")),
    )
