"""The HomeCareCase aggregate on its own: every transition, legal and illegal, and visit rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import pytest

from events.clock import CITY_TZ
from events.errors import (
    IllegalTransition,
    InvalidApplication,
    InvalidSurvey,
    NotOldEnough,
    ReasonRequired,
)
from events.facility import FacilityProject, Kind
from events.home_care import (
    VISIT_ITEMS,
    CareStep,
    HomeCareCase,
    HomeCareNotEligible,
    InvalidCareAssessment,
    InvalidVisit,
    ProviderUnavailable,
    SurveyTooEarly,
    VisitAlreadyCancelled,
    VisitNotFound,
    VisitOverlaps,
)
from events.national_id import parse_national_id
from events.retrofit import SURVEY_QUESTIONS
from tests.support.scenario import national_id

TODAY = date(2026, 3, 2)  # the provider is assigned on this day
NOW = datetime(2026, 3, 5, 20, 0, tzinfo=CITY_TZ)  # visits are logged at this moment
FAMILY, CASEWORKER, ASSESSOR, PROVIDER_USER = "family-1", "caseworker-1", "assessor-1", "prov-1"
VISIT_ID = UUID(int=1)  # the visit every in-service case starts with: 4 March 09:00-10:00
SCORES = dict.fromkeys(SURVEY_QUESTIONS, 4)


def provider(kind: str = Kind.HOME_CARE_PROVIDER) -> FacilityProject:
    """A registered organisation (not saved: the aggregate only reads its kind and state)."""
    return FacilityProject.register(
        facility_id=uuid4(),
        kind=kind,
        name="康乐居家养老服务中心",
        district="D01",
        street="和平街道",
        community="春晖社区",
        deadline="2026-12-31",
        planned_on="2026-01-05",
        actor_id="admin-1",
    )


PROVIDER = provider()


def open_case(*, birth: str = "19450307", disability_level: str = "semi") -> HomeCareCase:
    """A freshly submitted case."""
    return HomeCareCase.open(
        case_id=uuid4(),
        reference="JH-TEST-0001",
        person_id=uuid4(),
        elder_id=parse_national_id(national_id(birth), TODAY),
        disability_level=disability_level,
        today=TODAY,
        channel="online",
        applicant_user_id=FAMILY,
        relation="child",
        district="D01",
        street="和平街道",
        community="春晖社区",
        actor_id=FAMILY,
    )


def visit(**overrides: Any) -> dict[str, Any]:
    """A valid visit record: 4 March, 14:00 to 15:30, cleaning and a check-in."""
    return {
        "visit_date": "2026-03-04",
        "start": "14:00",
        "end": "15:30",
        "items": ["cleaning", "check_in"],
        "caregiver": "护理员王芳",
        "confirmed_by": "elder",
    } | overrides


def log_visit(case: HomeCareCase, *, visit_id: UUID | None = None, **overrides: Any) -> UUID:
    visit_id = visit_id or uuid4()
    case.log_visit(actor_id=PROVIDER_USER, visit_id=visit_id, now=NOW, **visit(**overrides))
    return visit_id


def correct(case: HomeCareCase, visit_id: UUID = VISIT_ID, **overrides: Any) -> None:
    case.correct_visit(
        actor_id=PROVIDER_USER,
        visit_id=visit_id,
        reason=overrides.pop("reason", "结束时间记错了"),
        now=NOW,
        **visit(**overrides),
    )


ACTIONS: dict[str, Callable[[HomeCareCase], object]] = {
    "request_assessment": lambda c: c.request_assessment(actor_id=CASEWORKER, assessor_id=ASSESSOR),
    "return": lambda c: c.return_for_information(actor_id=CASEWORKER, request="请补充失能证明"),
    "supply_information": lambda c: c.supply_information(actor_id=FAMILY, reply="已上传"),
    "reject": lambda c: c.reject(actor_id=CASEWORKER, reason="老人生活能够自理"),
    "assess": lambda c: c.assess(actor_id=ASSESSOR, level="moderate", monthly_hours=30),
    "approve": lambda c: c.approve(actor_id=CASEWORKER),
    "assign_provider": lambda c: c.assign_provider(
        actor_id=CASEWORKER, provider=PROVIDER, today=TODAY
    ),
    "log_visit": lambda c: log_visit(c),
    "correct_visit": lambda c: correct(c, start="09:00", end="09:45"),
    "cancel_visit": lambda c: c.cancel_visit(
        actor_id=PROVIDER_USER, visit_id=VISIT_ID, reason="重复登记"
    ),
    "survey": lambda c: c.answer_survey(actor_id=FAMILY, scores=SCORES, comment="护理员很耐心"),
    "follow_up": lambda c: c.record_follow_up(
        actor_id=CASEWORKER, note="电话回访,老人满意", needs_attention=False
    ),
    "close": lambda c: c.close_case(actor_id=CASEWORKER, reason="老人入住养老院"),
    "withdraw": lambda c: c.withdraw(actor_id=FAMILY, reason="家里请了保姆"),
}

# Where each action is legal, and the step it leads to (None: the step does not change).
LEGAL: dict[str, tuple[tuple[str, ...], str | None]] = {
    "request_assessment": (
        (CareStep.SUBMITTED, CareStep.ASSESSOR_ASSIGNED),
        CareStep.ASSESSOR_ASSIGNED,
    ),
    "return": ((CareStep.SUBMITTED,), CareStep.RETURNED),
    "supply_information": ((CareStep.RETURNED,), CareStep.SUBMITTED),
    "reject": ((CareStep.SUBMITTED, CareStep.ASSESSED), CareStep.REJECTED),
    "assess": ((CareStep.ASSESSOR_ASSIGNED, CareStep.ASSESSED), CareStep.ASSESSED),
    "approve": ((CareStep.ASSESSED,), CareStep.APPROVED),
    "assign_provider": ((CareStep.APPROVED,), CareStep.IN_SERVICE),
    "log_visit": ((CareStep.IN_SERVICE,), None),
    "correct_visit": ((CareStep.IN_SERVICE,), None),
    "cancel_visit": ((CareStep.IN_SERVICE,), None),
    "survey": ((CareStep.IN_SERVICE, CareStep.CLOSED), None),
    "follow_up": ((CareStep.IN_SERVICE, CareStep.CLOSED), None),
    "close": ((CareStep.IN_SERVICE,), CareStep.CLOSED),
    "withdraw": (CareStep.WITHDRAWABLE, CareStep.WITHDRAWN),
}

SETUP: dict[str, Callable[[HomeCareCase], object]] = ACTIONS | {
    "first_visit": lambda c: log_visit(c, visit_id=VISIT_ID, start="09:00", end="10:00"),
}
TO_SERVICE = ["request_assessment", "assess", "approve", "assign_provider", "first_visit"]
PATHS: dict[str, list[str]] = {
    CareStep.SUBMITTED: [],
    CareStep.RETURNED: ["return"],
    CareStep.REJECTED: ["reject"],
    CareStep.WITHDRAWN: ["withdraw"],
    CareStep.ASSESSOR_ASSIGNED: TO_SERVICE[:1],
    CareStep.ASSESSED: TO_SERVICE[:2],
    CareStep.APPROVED: TO_SERVICE[:3],
    CareStep.IN_SERVICE: TO_SERVICE,
    CareStep.CLOSED: [*TO_SERVICE, "close"],
}


def case_at(step: str) -> HomeCareCase:
    """A case taken to `step`, its events already collected (as if saved)."""
    case = open_case()
    for name in PATHS[step]:
        SETUP[name](case)
    assert case.step == step
    case.collect_events()
    return case


def test_tables_cover_every_step_and_action() -> None:
    assert set(PATHS) == set(CareStep.ALL)
    assert set(LEGAL) == set(ACTIONS)
    assert set(CareStep.WITHDRAWABLE) | set(CareStep.FINISHED) <= set(CareStep.ALL)


@pytest.mark.parametrize("step", CareStep.ALL)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_action_is_legal_exactly_where_the_table_says(action: str, step: str) -> None:
    case = case_at(step)
    version = case.version
    legal_steps, leads_to = LEGAL[action]
    if step in legal_steps:
        ACTIONS[action](case)
        assert case.step == (leads_to or step)
        events = case.collect_events()
        assert len(events) == 1
        assert events[0].originator_version == version + 1
        assert events[0].actor_id
    else:
        with pytest.raises(IllegalTransition) as refused:
            ACTIONS[action](case)
        # Withdrawal has its own action name so its refusal gets its own message.
        expected = "withdraw_care" if action == "withdraw" else action
        assert (refused.value.action, refused.value.step) == (expected, step)
        assert (case.step, case.version) == (step, version)
        assert case.collect_events() == []


def test_every_event_of_a_full_journey_records_who_acted() -> None:
    case = open_case()
    for name in [*TO_SERVICE, "log_visit", "correct_visit", "survey", "follow_up", "close"]:
        SETUP[name](case)
    events = case.collect_events()
    assert len(events) == 11
    assert [e.actor_id for e in events] == [
        FAMILY, CASEWORKER, ASSESSOR, CASEWORKER, CASEWORKER, PROVIDER_USER, PROVIDER_USER,
        PROVIDER_USER, FAMILY, CASEWORKER, CASEWORKER,
    ]  # fmt: skip


# -- applying ----------------------------------------------------------------------------------
@pytest.mark.parametrize("level", ["none", "certified", "", "unknown"])
def test_only_disabled_or_semi_disabled_elders_qualify(level: str) -> None:
    with pytest.raises(HomeCareNotEligible) as refused:
        open_case(disability_level=level)
    assert refused.value.code == "home_care_not_eligible"
    assert refused.value.params["disability_level"] == level


@pytest.mark.parametrize("level", ["semi", "full"])
def test_disabled_and_semi_disabled_elders_apply(level: str) -> None:
    case = open_case(disability_level=level)
    assert (case.step, case.disability_level, case.version) == (CareStep.SUBMITTED, level, 1)


def test_the_elder_must_be_sixty() -> None:
    with pytest.raises(NotOldEnough):
        open_case(birth="19700101")


def test_the_applied_event_holds_no_personal_data() -> None:
    case = open_case()
    (applied,) = case.collect_events()
    assert set(vars(applied)) - {"originator_id", "originator_version", "originator_topic", "timestamp"} == {
        "case_id", "reference", "person_id", "disability_level", "channel", "applicant_user_id",
        "relation", "district", "street", "community", "actor_id",
    }  # fmt: skip


# -- assessment and providers ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("level", "hours", "detail"),
    [
        ("light", 30, "level"),
        ("", 30, "level"),
        ("moderate", 0, "monthly_hours"),
        ("moderate", 121, "monthly_hours"),
        ("moderate", True, "monthly_hours"),
        ("moderate", "30", "monthly_hours"),
        ("moderate", 2.5, "monthly_hours"),
    ],
)
def test_assessment_needs_a_known_level_and_one_to_120_hours(
    level: str, hours: Any, detail: str
) -> None:
    case = case_at(CareStep.ASSESSOR_ASSIGNED)
    with pytest.raises(InvalidCareAssessment) as refused:
        case.assess(actor_id=ASSESSOR, level=level, monthly_hours=hours)
    assert refused.value.detail == detail
    assert case.collect_events() == []


@pytest.mark.parametrize(("level", "hours"), [("mild", 1), ("severe", 120)])
def test_assessment_bounds_are_allowed_and_a_reassessment_replaces_them(
    level: str, hours: int
) -> None:
    case = case_at(CareStep.ASSESSED)
    case.assess(actor_id=ASSESSOR, level=level, monthly_hours=hours, note="复评")
    assert (case.care_level, case.monthly_hours, case.step) == (level, hours, CareStep.ASSESSED)


def test_assessor_must_be_named() -> None:
    case = case_at(CareStep.SUBMITTED)
    with pytest.raises(InvalidApplication) as refused:
        case.request_assessment(actor_id=CASEWORKER, assessor_id=" ")
    assert refused.value.detail == "assessor_id"


@pytest.mark.parametrize(
    ("organisation", "detail"),
    [
        (None, "unknown"),
        (provider(Kind.CANTEEN), "kind"),
        (provider(Kind.CARE_CENTRE), "kind"),
        (
            SimpleNamespace(id=uuid4(), kind=Kind.HOME_CARE_PROVIDER, in_operation=False),
            "not_in_operation",
        ),
    ],
)
def test_only_a_home_care_provider_in_operation_is_assigned(organisation: Any, detail: str) -> None:
    case = case_at(CareStep.APPROVED)
    with pytest.raises(ProviderUnavailable) as refused:
        case.assign_provider(actor_id=CASEWORKER, provider=organisation, today=TODAY)
    assert refused.value.detail == detail
    assert (case.step, case.provider_id) == (CareStep.APPROVED, None)


def test_assignment_records_the_provider_and_the_day() -> None:
    case = case_at(CareStep.APPROVED)
    ACTIONS["assign_provider"](case)
    (assigned,) = case.collect_events()
    assert (assigned.provider_id, assigned.assigned_on) == (PROVIDER.id, "2026-03-02")
    assert case.provider_id == PROVIDER.id


@pytest.mark.parametrize("action", ["reject", "return", "supply_information", "withdraw", "close"])
def test_refusals_returns_and_endings_need_a_reason(action: str) -> None:
    step = {"supply_information": CareStep.RETURNED, "close": CareStep.IN_SERVICE}.get(
        action, CareStep.SUBMITTED
    )
    case = case_at(step)
    calls: dict[str, Callable[[], object]] = {
        "reject": lambda: case.reject(actor_id=CASEWORKER, reason="  "),
        "return": lambda: case.return_for_information(actor_id=CASEWORKER, request=""),
        "supply_information": lambda: case.supply_information(actor_id=FAMILY, reply=""),
        "withdraw": lambda: case.withdraw(actor_id=FAMILY, reason=""),
        "close": lambda: case.close_case(actor_id=CASEWORKER, reason=" "),
    }
    with pytest.raises(ReasonRequired):
        calls[action]()
    assert case.collect_events() == []


# -- visits ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "detail", "field"),
    [
        ({"visit_date": "2026-03-06"}, "future", "visit_date"),  # tomorrow
        ({"visit_date": "2026-03-05", "start": "19:30", "end": "20:30"}, "future", "end"),
        ({"visit_date": "2026-03-01"}, "before_assignment", "visit_date"),
        ({"visit_date": "2026-02-30"}, "date", "visit_date"),
        ({"visit_date": "yesterday"}, "date", "visit_date"),
        ({"visit_date": None}, "date", "visit_date"),
        ({"start": "15:30", "end": "14:00"}, "end_before_start", "end"),
        ({"start": "14:00", "end": "14:00"}, "end_before_start", "end"),
        ({"start": "08:00", "end": "16:01"}, "too_long", "end"),
        ({"start": "9:00"}, "start", "start"),
        ({"end": "24:00"}, "end", "end"),
        ({"start": None}, "start", "start"),
        ({"items": []}, "no_items", "items"),
        ({"items": "cleaning"}, "no_items", "items"),
        ({"items": ["cleaning", "cooking"]}, "unknown_item", "items"),
        ({"caregiver": " "}, "caregiver", "caregiver"),
        ({"caregiver": "王" * 31}, "caregiver", "caregiver"),
        ({"confirmed_by": ""}, "not_confirmed", "confirmed_by"),
        ({"confirmed_by": None}, "not_confirmed", "confirmed_by"),
        ({"confirmed_by": "caregiver"}, "not_confirmed", "confirmed_by"),
    ],
)
def test_visit_rules(overrides: dict[str, Any], detail: str, field: str) -> None:
    case = case_at(CareStep.IN_SERVICE)
    with pytest.raises(InvalidVisit) as refused:
        log_visit(case, **overrides)
    assert (refused.value.detail, refused.value.field) == (detail, field)
    assert refused.value.code == "invalid_visit"
    assert case.collect_events() == []
    assert list(case.visits) == [VISIT_ID]


def test_a_visit_of_exactly_eight_hours_earlier_today_is_fine() -> None:
    case = case_at(CareStep.IN_SERVICE)
    log_visit(case, visit_date="2026-03-05", start="08:00", end="16:00")
    log_visit(case, visit_date="2026-03-02", start="18:00", end="20:00")  # the day of assignment
    logged = case.collect_events()
    assert [e.minutes for e in logged] == [480, 120]


def test_items_are_kept_once_each_in_the_standard_order() -> None:
    case = case_at(CareStep.IN_SERVICE)
    log_visit(case, items=["check_in", "bathing", "check_in", "cleaning"])
    (logged,) = case.collect_events()
    assert logged.items == ["cleaning", "bathing", "check_in"]
    assert set(VISIT_ITEMS) == {
        "cleaning", "mobility", "bathing", "medical_escort", "rehabilitation", "check_in",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("start", "end", "overlaps"),
    [
        ("09:30", "10:30", True),
        ("08:00", "11:00", True),  # encloses the first visit
        ("09:15", "09:45", True),  # inside it
        ("08:30", "09:01", True),
        ("10:00", "11:00", False),  # touching is not overlapping
        ("08:00", "09:00", False),
    ],
)
def test_no_two_visits_of_a_case_overlap_on_a_day(start: str, end: str, overlaps: bool) -> None:
    case = case_at(CareStep.IN_SERVICE)  # has 4 March 09:00-10:00
    if overlaps:
        with pytest.raises(VisitOverlaps) as refused:
            log_visit(case, start=start, end=end)
        assert refused.value.params == {"visit_id": str(VISIT_ID), "start": "09:00", "end": "10:00"}
        assert case.collect_events() == []
    else:
        log_visit(case, start=start, end=end)
        assert len(case.collect_events()) == 1
    log_visit(case, visit_date="2026-03-03", start=start, end=end)  # another day is free


def test_a_cancelled_visit_frees_its_time() -> None:
    case = case_at(CareStep.IN_SERVICE)
    with pytest.raises(VisitOverlaps):
        log_visit(case, start="09:00", end="10:00")
    case.cancel_visit(actor_id=PROVIDER_USER, visit_id=VISIT_ID, reason="登记错了老人")
    log_visit(case, start="09:00", end="10:00")
    assert case.visits[VISIT_ID]["cancelled"] is True


def test_a_visit_id_is_logged_once() -> None:
    case = case_at(CareStep.IN_SERVICE)
    with pytest.raises(InvalidVisit) as refused:
        log_visit(case, visit_id=VISIT_ID, visit_date="2026-03-03")
    assert refused.value.field == "visit_id"


def test_a_correction_is_a_new_event_with_its_reason() -> None:
    case = case_at(CareStep.IN_SERVICE)
    correct(case, start="09:00", end="09:40", items=["bathing"], reason="实际40分钟")
    (corrected,) = case.collect_events()
    assert isinstance(corrected, HomeCareCase.VisitCorrected)
    assert (corrected.visit_id, corrected.minutes, corrected.reason) == (VISIT_ID, 40, "实际40分钟")
    assert case.visits[VISIT_ID]["minutes"] == 40
    # The corrected visit may keep or move within its own slot, but not onto another visit.
    log_visit(case, start="10:00", end="11:00")
    with pytest.raises(VisitOverlaps):
        correct(case, start="09:00", end="10:30")
    correct(case, start="08:30", end="10:00")


def test_corrections_follow_the_same_rules_and_need_a_reason() -> None:
    case = case_at(CareStep.IN_SERVICE)
    with pytest.raises(InvalidVisit):
        correct(case, visit_date="2026-03-09")
    with pytest.raises(InvalidVisit):
        correct(case, confirmed_by="")
    with pytest.raises(ReasonRequired):
        correct(case, reason=" ")
    with pytest.raises(VisitNotFound):
        correct(case, visit_id=uuid4())
    with pytest.raises(VisitNotFound):
        case.cancel_visit(actor_id=PROVIDER_USER, visit_id=uuid4(), reason="x")
    with pytest.raises(ReasonRequired):
        case.cancel_visit(actor_id=PROVIDER_USER, visit_id=VISIT_ID, reason="")
    assert case.collect_events() == []


def test_a_cancelled_visit_can_be_neither_corrected_nor_cancelled_again() -> None:
    case = case_at(CareStep.IN_SERVICE)
    ACTIONS["cancel_visit"](case)
    with pytest.raises(VisitAlreadyCancelled):
        ACTIONS["cancel_visit"](case)
    with pytest.raises(VisitAlreadyCancelled):
        ACTIONS["correct_visit"](case)
    assert len(case.collect_events()) == 1


# -- surveys -----------------------------------------------------------------------------------
def test_a_survey_rates_visits_made_since_the_last_one() -> None:
    case = case_at(CareStep.APPROVED)
    ACTIONS["assign_provider"](case)
    with pytest.raises(SurveyTooEarly):
        ACTIONS["survey"](case)  # no visit yet
    only = log_visit(case)
    case.cancel_visit(actor_id=PROVIDER_USER, visit_id=only, reason="重复")
    with pytest.raises(SurveyTooEarly):
        ACTIONS["survey"](case)  # the only visit was cancelled
    log_visit(case, visit_date="2026-03-03")
    ACTIONS["survey"](case)
    with pytest.raises(SurveyTooEarly):
        ACTIONS["survey"](case)  # nothing new to rate
    log_visit(case, visit_date="2026-03-05", start="08:00", end="09:00")
    ACTIONS["survey"](case)
    surveys = [
        e for e in case.collect_events() if isinstance(e, HomeCareCase.SatisfactionSurveyAnswered)
    ]
    assert [s.provider_id for s in surveys] == [PROVIDER.id, PROVIDER.id]


@pytest.mark.parametrize(
    ("scores", "detail"),
    [
        (dict.fromkeys(SURVEY_QUESTIONS[:4], 4), "questions"),
        (dict.fromkeys(SURVEY_QUESTIONS, 6), "scale"),
        (dict.fromkeys(SURVEY_QUESTIONS, 0), "scale"),
        (dict.fromkeys(SURVEY_QUESTIONS, True), "scale"),
    ],
)
def test_survey_answers_every_question_on_a_1_to_5_scale(
    scores: dict[str, Any], detail: str
) -> None:
    case = case_at(CareStep.IN_SERVICE)
    with pytest.raises(InvalidSurvey) as refused:
        case.answer_survey(actor_id=FAMILY, scores=scores)
    assert refused.value.detail == detail
