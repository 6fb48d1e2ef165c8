"""The programmes a family can apply for: each is its question pages and a submit function.

One wizard (portal.blueprints.family) serves them all: start page, question pages saved to a
server-side draft, check your answers, submit once (the draft id is the idempotency key) and
the confirmation. Pages shared by programmes (elder, phone, address, ...) are the same forms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from flask_babel import lazy_gettext as _l
from sqlalchemy import Engine

from events.errors import DomainError
from events.roles import Actor, Role
from portal.forms.family import (
    RETROFIT_PAGES,
    AddressDetailForm,
    ElderForm,
    HealthForm,
    HouseholdForm,
    LivingForm,
    PhoneForm,
    QuestionForm,
    RelationForm,
    submission,
)
from portal.forms.family_home_care import CareNeedsForm, ConditionForm, care_submission
from portal.forms.family_meal import (
    CanteenForm,
    DietaryForm,
    ModeForm,
    SubsidyForm,
    chosen_canteen,
    meal_submission,
)
from portal.messages import field_for
from portal.runtime import Runtime
from projections.home_care_queries import care_case_detail
from projections.meal_queries import enrolment_detail
from projections.retrofit_queries import case_detail

# The heading of each page (and the browser title), unless a programme words it its own way.
TITLES: dict[str, Any] = {
    "elder": _l("老人的姓名和身份证号码"),
    "phone": _l("老人的联系电话"),
    "address": _l("老人的住址"),
    "household": _l("家庭类别"),
    "health": _l("老人的身体状况"),
    "living": _l("老人的居住情况"),
    "relation": _l("您和老人的关系"),
    "needs": _l("改造需求"),
    "canteen": _l("选择助餐食堂"),
    "mode": _l("用餐方式"),
    "subsidy": _l("补贴类别"),
    "dietary": _l("饮食要求"),
}
# Which page asks for each answer a service may refuse at submit.
PAGE_OF_FIELD: dict[str, str] = {
    "name": "elder",
    "national_id": "elder",
    "phone": "phone",
    "address": "address",
    "community": "address",
    "household_category": "household",
    "disability_level": "health",
    "living_situation": "living",
    "relation": "relation",
    "needs": "needs",
    "canteen_id": "canteen",
    "mode": "mode",
    "subsidy_category": "subsidy",
    "dietary_needs": "dietary",
}
Find = Callable[[Engine, Actor, UUID], Any]


@dataclass(frozen=True)
class Programme:
    """One programme's wizard: its pages in order, how answers are submitted, where cases live."""

    code: str  # the key of labels.PROGRAMMES
    slug: str  # its part of the /apply/... addresses
    pages: Mapping[str, type[QuestionForm]]
    service: str  # the runtime's service whose submit_application takes the answers
    submission: Callable[[Actor, dict[str, Any]], dict[str, Any]]
    find: Find  # the read model's detail query: None when the actor may not see the case
    case_endpoint: str
    titles: Mapping[str, Any] = field(default_factory=dict)
    page_of_code: Mapping[str, str] = field(default_factory=dict)  # refusals not about a field
    check_extras: Callable[[Engine, Actor, dict[str, Any]], dict[str, Any]] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The page names, in the order they are asked."""
        return tuple(self.pages)

    def title(self, page: str) -> Any:
        """The page's heading."""
        return self.titles.get(page) or TITLES[page]

    def submit(self, rt: Runtime, actor: Actor, key: str, answers: dict[str, Any]) -> UUID:
        """Submit the draft's answers once: the same key always lands on the same case."""
        service = getattr(rt, self.service)
        return service.submit_application(
            actor, idempotency_key=key, **self.submission(actor, answers)
        )

    def case_id_for(self, rt: Runtime, actor: Actor, key: str) -> UUID:
        """The case a submission with this key created (or would create)."""
        return getattr(rt, self.service).application_id(actor, key)

    def page_to_fix(self, error: DomainError) -> str:
        """The page whose answer a refusal at submit is about (the check page links there)."""
        page = PAGE_OF_FIELD.get(field_for(error) or error.detail)
        if page in self.pages:
            return page
        return self.page_of_code.get(error.code, self.names[0])


RETROFIT = Programme(
    code="retrofit",
    slug="retrofit",
    pages=RETROFIT_PAGES,
    service="retrofit",
    submission=submission,
    find=case_detail,
    case_endpoint="family.case",
)
MEAL = Programme(
    code="meal",
    slug="meal",
    pages={
        "elder": ElderForm,
        "phone": PhoneForm,
        "address": RETROFIT_PAGES["address"],
        "household": HouseholdForm,
        "health": HealthForm,
        "living": LivingForm,
        "relation": RelationForm,
        "canteen": CanteenForm,
        "mode": ModeForm,
        "subsidy": SubsidyForm,
        "dietary": DietaryForm,
    },
    service="meals",
    submission=meal_submission,
    find=enrolment_detail,
    case_endpoint="family.meal_case",
    page_of_code={"canteen_unavailable": "canteen"},
    check_extras=chosen_canteen,
)
HOME_CARE = Programme(
    code="home_care",
    slug="home-care",
    pages={
        "elder": ElderForm,
        "phone": PhoneForm,
        "address": RETROFIT_PAGES["address"],
        "household": HouseholdForm,
        "health": ConditionForm,
        "living": LivingForm,
        "relation": RelationForm,
        "needs": CareNeedsForm,
    },
    service="home_care",
    submission=care_submission,
    find=care_case_detail,
    case_endpoint="family.care_case",
    titles={"needs": _l("照护需求")},
)

# By the address segment (/apply/meal/...); retrofit's addresses have none (/apply/...).
PROGRAMMES: dict[str, Programme] = {p.slug: p for p in (RETROFIT, MEAL, HOME_CARE)}
BY_CODE: dict[str, Programme] = {p.code: p for p in PROGRAMMES.values()}


def question_form(
    programme: Programme, page: str, actor: Actor, answers: dict[str, Any] | None
) -> QuestionForm:
    """The form of one page: prefilled from the draft on GET (answers given), posted otherwise."""
    form_class = programme.pages[page]
    if page == "address" and actor.role == Role.COMMUNITY_WORKER:
        form_class = AddressDetailForm  # a worker applies in their own community
    if answers is None:
        return form_class()
    form = form_class(formdata=None)
    form.prefill(answers)
    return form
