"""The RetrofitCase aggregate on its own: every transition, legal and illegal, and its rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from events.checklist import MCA_2020
from events.errors import (
    IllegalTransition,
    InvalidAcceptance,
    InvalidApplication,
    InvalidAssessment,
    InvalidSurvey,
    NotOldEnough,
    ReasonRequired,
)
from events.national_id import parse_national_id
from events.retrofit import SURVEY_QUESTIONS, RetrofitCase, Step, price_assessment
from tests.support.scenario import ASSESSED_LINES, national_id

TODAY = date(2025, 6, 1)
CAP = Decimal("3000")
PHOTOS = [{"sha256": "a" * 64, "media_type": "image/jpeg"}]
# Who takes each step (ids are plain strings at this layer).
FAMILY, CASEWORKER, ASSESSOR, INSPECTOR = "family-1", "caseworker-1", "assessor-1", "inspector-1"


def open_case(birth: str = "19450307", today: date = TODAY) -> RetrofitCase:
    """A freshly submitted case."""
    return RetrofitCase.open(
        case_id=uuid4(),
        reference="SL-TEST-0001",
        person_id=uuid4(),
        elder_id=parse_national_id(national_id(birth), today),
        today=today,
        channel="online",
        applicant_user_id=FAMILY,
        relation="child",
        district="D01",
        street="和平街道",
        community="春晖社区",
        actor_id=FAMILY,
    )


def results(*, passed: bool = True, codes: list[str] | None = None) -> list[dict[str, Any]]:
    """An acceptance check of the planned items; a failed one has one item not safe."""
    codes = codes if codes is not None else [line["code"] for line in ASSESSED_LINES]
    checked = [{"code": c, "installed": True, "works": True, "safe": True} for c in codes]
    if not passed:
        checked[0]["safe"] = False
    return checked


SCORES = dict.fromkeys(SURVEY_QUESTIONS, 4)

# Every action with valid arguments: calling it is legal or not depending only on the step.
ACTIONS: dict[str, Callable[[RetrofitCase], object]] = {
    "approve": lambda c: c.approve(actor_id=CASEWORKER, assessor_id=ASSESSOR),
    "reject": lambda c: c.reject(actor_id=CASEWORKER, reason="不符合困难家庭条件"),
    "return": lambda c: c.return_for_information(actor_id=CASEWORKER, request="请补充低保证明"),
    "supply_information": lambda c: c.supply_information(actor_id=FAMILY, reply="已上传"),
    "assess": lambda c: c.assess(
        actor_id=ASSESSOR, checklist=MCA_2020, lines=ASSESSED_LINES, subsidy_cap=CAP
    ),
    "confirm_plan": lambda c: c.confirm_plan(actor_id=FAMILY),
    "assign_contractor": lambda c: c.assign_contractor(
        actor_id=CASEWORKER, contractor="安居装修公司", inspector_id=INSPECTOR
    ),
    "start_works": lambda c: c.start_works(actor_id=CASEWORKER),
    "site_inspection": lambda c: c.log_site_inspection(
        actor_id=INSPECTOR, findings="施工规范", follow_up_required=False, photos=PHOTOS
    ),
    "complete_works": lambda c: c.complete_works(actor_id=CASEWORKER),
    "accept_pass": lambda c: c.inspect_acceptance(
        actor_id=INSPECTOR, results=results(), photos=PHOTOS
    ),
    "accept_fail": lambda c: c.inspect_acceptance(
        actor_id=INSPECTOR, results=results(passed=False), photos=PHOTOS
    ),
    "complete_rectification": lambda c: c.complete_rectification(
        actor_id=CASEWORKER, note="扶手已重新加固"
    ),
    "survey": lambda c: c.answer_survey(actor_id=FAMILY, scores=SCORES, comment="很好"),
    "follow_up": lambda c: c.record_follow_up(
        actor_id=CASEWORKER, note="电话回访", still_in_use=True
    ),
    "close": lambda c: c.close_case(actor_id=CASEWORKER),
    "withdraw": lambda c: c.withdraw(actor_id=FAMILY, reason="老人搬去子女家"),
}

# The name IllegalTransition reports for each action.
ACTION_NAMES = {"accept_pass": "accept", "accept_fail": "accept"} | {
    name: name for name in ACTIONS if not name.startswith("accept_")
}

# Where each action is legal, and the step it leads to (None: the step does not change).
LEGAL: dict[str, tuple[tuple[str, ...], str | None]] = {
    "approve": ((Step.SUBMITTED,), Step.APPROVED),
    "reject": ((Step.SUBMITTED,), Step.REJECTED),
    "return": ((Step.SUBMITTED,), Step.RETURNED),
    "supply_information": ((Step.RETURNED,), Step.SUBMITTED),
    "assess": ((Step.APPROVED, Step.ASSESSED), Step.ASSESSED),
    "confirm_plan": ((Step.ASSESSED,), Step.PLAN_CONFIRMED),
    "assign_contractor": ((Step.PLAN_CONFIRMED,), Step.CONTRACTOR_ASSIGNED),
    "start_works": ((Step.CONTRACTOR_ASSIGNED,), Step.WORKS_STARTED),
    "site_inspection": ((Step.WORKS_STARTED, Step.RECTIFICATION), None),
    "complete_works": ((Step.WORKS_STARTED,), Step.WORKS_COMPLETED),
    "accept_pass": ((Step.WORKS_COMPLETED,), Step.ACCEPTED),
    "accept_fail": ((Step.WORKS_COMPLETED,), Step.RECTIFICATION),
    "complete_rectification": ((Step.RECTIFICATION,), Step.WORKS_COMPLETED),
    "survey": ((Step.ACCEPTED,), Step.SURVEYED),
    "follow_up": ((Step.SURVEYED,), None),
    "close": ((Step.ACCEPTED, Step.SURVEYED), Step.CLOSED),
    "withdraw": (Step.WITHDRAWABLE, Step.WITHDRAWN),
}

HAPPY_PATH = [
    "approve",
    "assess",
    "confirm_plan",
    "assign_contractor",
    "start_works",
    "complete_works",
    "accept_pass",
    "survey",
    "close",
]

# How to reach each step from a fresh application.
PATHS: dict[str, list[str]] = {
    Step.SUBMITTED: [],
    Step.RETURNED: ["return"],
    Step.REJECTED: ["reject"],
    Step.WITHDRAWN: ["withdraw"],
    Step.RECTIFICATION: [*HAPPY_PATH[:6], "accept_fail"],
} | {LEGAL[name][1] or "": HAPPY_PATH[: i + 1] for i, name in enumerate(HAPPY_PATH)}


def case_at(step: str) -> RetrofitCase:
    """A case replayed to `step`, its events already collected (as if saved)."""
    case = open_case()
    for name in PATHS[step]:
        ACTIONS[name](case)
    assert case.step == step
    case.collect_events()
    return case


def test_table_covers_every_step_and_action() -> None:
    assert set(PATHS) == set(Step.ALL)
    assert set(LEGAL) == set(ACTIONS)
    assert set(Step.WITHDRAWABLE) <= set(Step.ALL)


@pytest.mark.parametrize("step", Step.ALL)
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
    else:
        with pytest.raises(IllegalTransition) as refused:
            ACTIONS[action](case)
        assert (refused.value.action, refused.value.step) == (ACTION_NAMES[action], step)
        assert case.step == step
        assert case.version == version
        assert case.collect_events() == []


def test_supplying_information_goes_back_to_the_caseworker() -> None:
    case = case_at(Step.RETURNED)
    ACTIONS["supply_information"](case)
    assert case.step == Step.SUBMITTED
    ACTIONS["approve"](case)
    assert case.step == Step.APPROVED
    assert case.assessor_id == ASSESSOR


def test_reassessment_replaces_the_plan() -> None:
    case = case_at(Step.ASSESSED)
    case.assess(
        actor_id=ASSESSOR,
        checklist=MCA_2020,
        lines=[{"code": "A01", "quantity": 1, "unit_price": Decimal("100")}],
        subsidy_cap=CAP,
    )
    assert case.step == Step.ASSESSED
    assert [i["code"] for i in case.assessment["items"]] == ["A01"]
    # Acceptance now checks the new plan, not the first one.
    for name in ("confirm_plan", "assign_contractor", "start_works", "complete_works"):
        ACTIONS[name](case)
    with pytest.raises(InvalidAcceptance):
        ACTIONS["accept_pass"](case)
    assert case.inspect_acceptance(
        actor_id=INSPECTOR, results=results(codes=["A01"]), photos=PHOTOS
    )


def test_acceptance_before_works_completed_is_refused() -> None:
    case = case_at(Step.WORKS_STARTED)
    with pytest.raises(IllegalTransition) as refused:
        ACTIONS["accept_pass"](case)
    assert refused.value.step == Step.WORKS_STARTED


def test_survey_before_acceptance_is_refused() -> None:
    case = case_at(Step.WORKS_COMPLETED)
    with pytest.raises(IllegalTransition):
        ACTIONS["survey"](case)
    case = case_at(Step.RECTIFICATION)
    with pytest.raises(IllegalTransition):
        ACTIONS["survey"](case)


def test_failed_acceptance_rectification_and_reinspection_count_rounds() -> None:
    case = case_at(Step.WORKS_COMPLETED)
    case.collect_events()
    assert (
        case.inspect_acceptance(actor_id=INSPECTOR, results=results(passed=False), photos=PHOTOS)
        is False
    )
    assert (case.step, case.acceptance_rounds) == (Step.RECTIFICATION, 1)
    ACTIONS["site_inspection"](case)
    ACTIONS["complete_rectification"](case)
    assert case.step == Step.WORKS_COMPLETED
    assert (
        case.inspect_acceptance(actor_id=INSPECTOR, results=results(passed=False), photos=PHOTOS)
        is False
    )
    assert (case.step, case.acceptance_rounds) == (Step.RECTIFICATION, 2)
    ACTIONS["complete_rectification"](case)
    assert case.inspect_acceptance(actor_id=INSPECTOR, results=results(), photos=PHOTOS) is True
    assert (case.step, case.acceptance_rounds) == (Step.ACCEPTED, 3)

    inspections = [
        e for e in case.collect_events() if isinstance(e, RetrofitCase.AcceptanceInspected)
    ]
    assert [(e.round, e.passed) for e in inspections] == [(1, False), (2, False), (3, True)]
    assert inspections[0].results[0]["safe"] is False


def test_follow_ups_may_repeat_after_the_survey_then_the_case_closes() -> None:
    case = case_at(Step.SURVEYED)
    ACTIONS["follow_up"](case)
    ACTIONS["follow_up"](case)
    assert case.step == Step.SURVEYED
    ACTIONS["close"](case)
    assert case.step == Step.CLOSED


@pytest.mark.parametrize("step", Step.WITHDRAWABLE)
def test_after_withdrawal_every_action_is_refused(step: str) -> None:
    case = case_at(step)
    ACTIONS["withdraw"](case)
    case.collect_events()
    for name, action in ACTIONS.items():
        with pytest.raises(IllegalTransition):
            action(case)
        assert case.step == Step.WITHDRAWN, name
    assert case.collect_events() == []


def test_every_event_records_who_acted() -> None:
    case = open_case()
    taken = [
        "return",
        "supply_information",
        "approve",
        "assess",
        "assess",
        "confirm_plan",
        "assign_contractor",
        "start_works",
        "site_inspection",
        "complete_works",
        "accept_fail",
        "site_inspection",
        "complete_rectification",
        "accept_pass",
        "survey",
        "follow_up",
        "close",
    ]
    for name in taken:
        ACTIONS[name](case)
    events = case.collect_events()
    assert len(events) == len(taken) + 1
    actors = [e.actor_id for e in events]
    assert actors[0] == FAMILY
    assert all(isinstance(a, str) and a for a in actors)
    assert set(actors) == {FAMILY, CASEWORKER, ASSESSOR, INSPECTOR}
    withdrawn = case_at(Step.SUBMITTED)
    withdrawn.withdraw(actor_id="community-worker-7", reason="家属撤回")
    assert withdrawn.collect_events()[0].actor_id == "community-worker-7"


@pytest.mark.parametrize(
    ("birth", "allowed"),
    [("19650601", True), ("19650602", False), ("19700101", False), ("19300101", True)],
)
def test_elders_under_sixty_cannot_open_a_case(birth: str, allowed: bool) -> None:
    if allowed:
        assert open_case(birth).step == Step.SUBMITTED
        return
    with pytest.raises(NotOldEnough):
        open_case(birth)


def test_unknown_channel_refused() -> None:
    with pytest.raises(InvalidApplication) as refused:
        RetrofitCase.open(
            case_id=uuid4(),
            reference="SL-TEST-0002",
            person_id=uuid4(),
            elder_id=parse_national_id(national_id(), TODAY),
            today=TODAY,
            channel="fax",
            applicant_user_id=FAMILY,
            relation="child",
            district="D01",
            street="和平街道",
            community="春晖社区",
            actor_id=FAMILY,
        )
    assert refused.value.detail == "channel"


@pytest.mark.parametrize(
    ("step", "take", "field"),
    [
        (Step.SUBMITTED, lambda c, r: c.reject(actor_id=CASEWORKER, reason=r), "reason"),
        (
            Step.SUBMITTED,
            lambda c, r: c.return_for_information(actor_id=CASEWORKER, request=r),
            "request",
        ),
        (Step.SUBMITTED, lambda c, r: c.withdraw(actor_id=FAMILY, reason=r), "reason"),
        (Step.ASSESSED, lambda c, r: c.withdraw(actor_id=FAMILY, reason=r), "reason"),
        (Step.RETURNED, lambda c, r: c.supply_information(actor_id=FAMILY, reply=r), "reply"),
        (
            Step.RECTIFICATION,
            lambda c, r: c.complete_rectification(actor_id=CASEWORKER, note=r),
            "note",
        ),
    ],
)
@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_refusals_returns_and_withdrawals_must_say_why(
    step: str, take: Callable[[RetrofitCase, str], None], field: str, blank: str
) -> None:
    case = case_at(step)
    with pytest.raises(ReasonRequired) as refused:
        take(case, blank)
    assert refused.value.detail == field
    assert (case.step, case.collect_events()) == (step, [])


def test_overlong_reason_refused() -> None:
    case = case_at(Step.SUBMITTED)
    with pytest.raises(InvalidApplication) as refused:
        case.reject(actor_id=CASEWORKER, reason="理" * 2001)
    assert refused.value.detail == "reason"
    case.reject(actor_id=CASEWORKER, reason="  理由  ")
    assert case.collect_events()[-1].reason == "理由"


def line(code: str = "T01", quantity: Any = 1, price: Any = Decimal("200")) -> dict[str, Any]:
    return {"code": code, "quantity": quantity, "unit_price": price}


@pytest.mark.parametrize(
    ("lines", "detail"),
    [
        ([], "no_items"),
        ([line("ZZ9")], "unknown_item"),
        ([line("")], "unknown_item"),
        ([line("T01"), line("T01")], "unknown_item"),
        ([line(quantity=0)], "quantity"),
        ([line(quantity=51)], "quantity"),
        ([line(quantity=-1)], "quantity"),
        ([line(quantity=2.0)], "quantity"),
        ([line(quantity="2")], "quantity"),
        ([line(quantity=None)], "quantity"),
        ([line(price=Decimal("0"))], "unit_price"),
        ([line(price=Decimal("-5"))], "unit_price"),
        ([line(price=200.0)], "unit_price"),
        ([line(price=200)], "unit_price"),
        ([line(price="200")], "unit_price"),
        ([line(price=Decimal("50000.01"))], "unit_price"),
    ],
)
def test_invalid_assessments_refused(lines: list[dict[str, Any]], detail: str) -> None:
    with pytest.raises(InvalidAssessment) as refused:
        price_assessment(MCA_2020, lines, CAP)
    assert refused.value.detail == detail
    case = case_at(Step.APPROVED)
    with pytest.raises(InvalidAssessment):
        case.assess(actor_id=ASSESSOR, checklist=MCA_2020, lines=lines, subsidy_cap=CAP)
    assert (case.step, case.collect_events()) == (Step.APPROVED, [])


def test_quantity_and_price_limits_are_inclusive() -> None:
    priced = price_assessment(MCA_2020, [line(quantity=50, price=Decimal("50000"))], CAP)
    assert priced["total"] == Decimal("2500000")


def test_subsidy_covers_basic_items_below_the_cap() -> None:
    case = case_at(Step.APPROVED)
    case.assess(
        actor_id=ASSESSOR,
        checklist=MCA_2020,
        lines=ASSESSED_LINES,
        subsidy_cap=CAP,
        note="  卫生间优先 ",
    )
    (assessed,) = case.collect_events()
    # T01 3 x 200 and F01 10 x 60 are basic (1,200); B01 care bed 2,500 is optional.
    assert assessed.total == Decimal("3700.00")
    assert assessed.subsidy == Decimal("1200.00")
    assert assessed.household_share == Decimal("2500.00")
    assert assessed.checklist_version == "MCA-2020"
    assert assessed.subsidy_cap == CAP
    assert assessed.note == "卫生间优先"
    assert [(i["code"], i["amount"], i["basic"]) for i in assessed.items] == [
        ("T01", Decimal("600.00"), True),
        ("F01", Decimal("600.00"), True),
        ("B01", Decimal("2500.00"), False),
    ]
    assert case.assessment["subsidy"] == Decimal("1200.00")


@pytest.mark.parametrize(
    ("cap", "subsidy"),
    [
        (Decimal("3000"), Decimal("3000")),
        (Decimal("5000"), Decimal("4300")),
        (Decimal("0"), Decimal("0")),
    ],
)
def test_subsidy_is_capped_and_the_household_pays_the_rest(cap: Decimal, subsidy: Decimal) -> None:
    lines = [
        line("F02", quantity=10, price=Decimal("400")),  # basic: 4,000
        line("A06", quantity=1, price=Decimal("300")),  # basic: 300
        line("A04", quantity=1, price=Decimal("1500")),  # optional: 1,500
    ]
    case = case_at(Step.APPROVED)
    case.assess(actor_id=ASSESSOR, checklist=MCA_2020, lines=lines, subsidy_cap=cap)
    (assessed,) = case.collect_events()
    assert assessed.total == Decimal("5800")
    assert assessed.subsidy == subsidy == min(Decimal("4300"), cap)
    assert assessed.household_share == Decimal("5800") - subsidy
    assert assessed.subsidy_cap == cap


def test_amounts_are_rounded_to_fen() -> None:
    priced = price_assessment(MCA_2020, [line("E03", quantity=3, price=Decimal("33.333"))], CAP)
    assert priced["items"][0]["amount"] == Decimal("100.00")


@pytest.mark.parametrize(
    ("checked", "detail"),
    [
        (["T01", "F01"], "items"),
        (["T01", "F01", "B01", "A01"], "items"),
        (["T01", "T01", "F01"], "items"),
        (["T01", "F01", "A01"], "items"),
        ([], "items"),
    ],
)
def test_acceptance_must_cover_exactly_the_planned_items(checked: list[str], detail: str) -> None:
    case = case_at(Step.WORKS_COMPLETED)
    with pytest.raises(InvalidAcceptance) as refused:
        case.inspect_acceptance(actor_id=INSPECTOR, results=results(codes=checked), photos=PHOTOS)
    assert refused.value.detail == detail
    assert (case.step, case.collect_events()) == (Step.WORKS_COMPLETED, [])


def test_acceptance_in_any_order_passes() -> None:
    case = case_at(Step.WORKS_COMPLETED)
    assert case.inspect_acceptance(
        actor_id=INSPECTOR, results=results(codes=["B01", "T01", "F01"]), photos=PHOTOS
    )


def test_acceptance_needs_a_photo() -> None:
    case = case_at(Step.WORKS_COMPLETED)
    with pytest.raises(InvalidAcceptance) as refused:
        case.inspect_acceptance(actor_id=INSPECTOR, results=results(), photos=[])
    assert refused.value.detail == "photos"
    assert case.collect_events() == []


@pytest.mark.parametrize("check", ["installed", "works", "safe"])
def test_any_failed_check_fails_acceptance(check: str) -> None:
    case = case_at(Step.WORKS_COMPLETED)
    checked = results()
    checked[1][check] = False
    assert case.inspect_acceptance(actor_id=INSPECTOR, results=checked, photos=PHOTOS) is False
    assert case.step == Step.RECTIFICATION


@pytest.mark.parametrize(
    ("scores", "detail"),
    [
        ({q: 5 for q in SURVEY_QUESTIONS[:-1]}, "questions"),
        (SCORES | {"price": 5}, "questions"),
        ({}, "questions"),
        (SCORES | {"overall": 0}, "scale"),
        (SCORES | {"overall": 6}, "scale"),
        (SCORES | {"quality": "5"}, "scale"),
        (SCORES | {"quality": 4.5}, "scale"),
        (SCORES | {"quality": None}, "scale"),
    ],
)
def test_survey_needs_all_five_questions_on_one_to_five(
    scores: dict[str, Any], detail: str
) -> None:
    case = case_at(Step.ACCEPTED)
    with pytest.raises(InvalidSurvey) as refused:
        case.answer_survey(actor_id=FAMILY, scores=scores)
    assert refused.value.detail == detail
    assert (case.step, case.collect_events()) == (Step.ACCEPTED, [])


@pytest.mark.parametrize("score", [1, 2, 3, 4, 5])
def test_survey_scale_ends_are_allowed(score: int) -> None:
    case = case_at(Step.ACCEPTED)
    case.answer_survey(actor_id=FAMILY, scores=dict.fromkeys(SURVEY_QUESTIONS, score))
    assert case.collect_events()[0].scores["overall"] == score


def test_replaying_the_events_rebuilds_the_same_case() -> None:
    case = open_case()
    events = []
    for name in [*HAPPY_PATH[:6], "accept_fail", "complete_rectification", "accept_pass", "survey"]:
        ACTIONS[name](case)
    events = case.collect_events()
    replayed = None
    for e in events:
        replayed = e.mutate(replayed)
    assert replayed is not None
    assert (replayed.step, replayed.version, replayed.acceptance_rounds) == (
        Step.SURVEYED,
        case.version,
        2,
    )
    assert replayed.assessment == case.assessment
    assert (replayed.assessor_id, replayed.inspector_id) == (ASSESSOR, INSPECTOR)


def test_booleans_are_not_quantities() -> None:
    with pytest.raises(InvalidAssessment):
        price_assessment(
            MCA_2020,
            [{"code": "T01", "quantity": True, "unit_price": Decimal("200")}],
            Decimal("3000"),
        )
