"""The age-friendly home retrofit case (适老化改造): every step of programme 1 as an event."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from events import clock
from events.base import AnlaoAggregate
from events.checklist import Checklist
from events.elder import check_age
from events.errors import (
    IllegalTransition,
    InvalidAcceptance,
    InvalidApplication,
    InvalidAssessment,
    InvalidSurvey,
    ReasonRequired,
    SubsidyNotDue,
)
from events.national_id import NationalId

MAX_ITEM_QUANTITY = 50
MAX_UNIT_PRICE = Decimal("50000")
SURVEY_QUESTIONS = ("overall", "quality", "attitude", "timeliness", "usefulness")
ACCEPTANCE_CHECKS = ("installed", "works", "safe")
CHANNELS = ("online", "proxy")


class Step:
    """Where a case stands; stored as plain strings in events and read models."""

    SUBMITTED = "submitted"
    RETURNED = "returned"
    REJECTED = "rejected"
    APPROVED = "approved"
    ASSESSED = "assessed"
    PLAN_CONFIRMED = "plan_confirmed"
    CONTRACTOR_ASSIGNED = "contractor_assigned"
    WORKS_STARTED = "works_started"
    WORKS_COMPLETED = "works_completed"
    RECTIFICATION = "rectification"
    ACCEPTED = "accepted"
    SURVEYED = "surveyed"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"

    ALL = (
        SUBMITTED,
        RETURNED,
        REJECTED,
        APPROVED,
        ASSESSED,
        PLAN_CONFIRMED,
        CONTRACTOR_ASSIGNED,
        WORKS_STARTED,
        WORKS_COMPLETED,
        RECTIFICATION,
        ACCEPTED,
        SURVEYED,
        CLOSED,
        WITHDRAWN,
    )
    FINISHED = (REJECTED, CLOSED, WITHDRAWN)
    WITHDRAWABLE = (SUBMITTED, RETURNED, APPROVED, ASSESSED, PLAN_CONFIRMED, CONTRACTOR_ASSIGNED)


def _text(value: str, field: str, *, required: bool = True, limit: int = 2000) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise ReasonRequired(field)
    if len(cleaned) > limit:
        raise InvalidApplication(field, limit=limit)
    return cleaned


def _is_whole_number(value: object) -> bool:
    # bool is an int subclass: True must not count as a quantity of 1 or a score of 1.
    return isinstance(value, int) and not isinstance(value, bool)


def price_assessment(
    checklist: Checklist, lines: list[dict[str, Any]], subsidy_cap: Decimal
) -> dict[str, Any]:
    """Check assessed items against a checklist and split their cost into subsidy and share."""
    if not lines:
        raise InvalidAssessment("no_items")
    priced: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line in lines:
        item = checklist.item(str(line.get("code", "")))
        if item is None or item.code in seen:
            raise InvalidAssessment("unknown_item", code=line.get("code"))
        quantity, price = line.get("quantity"), line.get("unit_price")
        if not _is_whole_number(quantity) or not 1 <= quantity <= MAX_ITEM_QUANTITY:
            raise InvalidAssessment("quantity", code=item.code)
        if not isinstance(price, Decimal) or not Decimal("0") < price <= MAX_UNIT_PRICE:
            raise InvalidAssessment("unit_price", code=item.code)
        seen.add(item.code)
        amount = (price * quantity).quantize(Decimal("0.01"))
        priced.append(
            {
                "code": item.code,
                "quantity": quantity,
                "unit_price": price,
                "amount": amount,
                "basic": item.basic,
            }
        )
    total = sum((p["amount"] for p in priced), Decimal("0"))
    basic_total = sum((p["amount"] for p in priced if p["basic"]), Decimal("0"))
    subsidy = min(basic_total, subsidy_cap)
    return {"items": priced, "total": total, "subsidy": subsidy, "household_share": total - subsidy}


class RetrofitCase(AnlaoAggregate):
    """One needy household's retrofit, from application to follow-up."""

    @classmethod
    def open(
        cls,
        *,
        case_id: UUID,
        reference: str,
        person_id: UUID,
        elder_id: NationalId,
        today: date,
        channel: str,
        applicant_user_id: str,
        relation: str,
        district: str,
        street: str,
        community: str,
        actor_id: str,
    ) -> RetrofitCase:
        """Open a case for an elder of 60 or over; the elder's personal data stays outside."""
        check_age(elder_id, today)
        if channel not in CHANNELS:
            raise InvalidApplication("channel")
        return cls(
            case_id=case_id,
            reference=reference,
            person_id=person_id,
            channel=channel,
            applicant_user_id=applicant_user_id,
            relation=_text(relation, "relation", limit=40),
            district=district,
            street=street,
            community=community,
            actor_id=actor_id,
        )

    @staticmethod
    def create_id(case_id: UUID, **_: Any) -> UUID:
        return case_id

    @event("Applied")
    def __init__(
        self,
        *,
        case_id: UUID,
        reference: str,
        person_id: UUID,
        channel: str,
        applicant_user_id: str,
        relation: str,
        district: str,
        street: str,
        community: str,
        actor_id: str,
    ) -> None:
        self.reference = reference
        self.person_id = person_id
        self.channel = channel
        self.applicant_user_id = applicant_user_id
        self.district = district
        self.street = street
        self.community = community
        self.step = Step.SUBMITTED
        self.assessor_id: str | None = None
        self.inspector_id: str | None = None
        self.assessment: dict[str, Any] | None = None
        self.acceptance_rounds = 0
        self.acceptance_passed = False
        self.last_inspected_on: str | None = None  # the latest acceptance visit's date
        self.subsidy_committed = Decimal("0.00")
        self.subsidy_paid = Decimal("0.00")

    # -- guards -------------------------------------------------------------------------
    def _require(self, action: str, *steps: str) -> None:
        if self.step not in steps:
            raise IllegalTransition(action, self.step)

    # -- eligibility --------------------------------------------------------------------
    def approve(self, *, actor_id: str, assessor_id: str, note: str = "") -> None:
        """A caseworker finds the household eligible and names the assessor to visit."""
        self._require("approve", Step.SUBMITTED)
        self._approved(
            actor_id=actor_id, assessor_id=assessor_id, note=_text(note, "note", required=False)
        )

    @event("EligibilityApproved")
    def _approved(self, actor_id: str, assessor_id: str, note: str) -> None:
        self.step = Step.APPROVED
        self.assessor_id = assessor_id

    def reject(self, *, actor_id: str, reason: str) -> None:
        """A caseworker refuses the application; the reason is shown to the family."""
        self._require("reject", Step.SUBMITTED)
        self._rejected(actor_id=actor_id, reason=_text(reason, "reason"))

    @event("EligibilityRejected")
    def _rejected(self, actor_id: str, reason: str) -> None:
        self.step = Step.REJECTED

    def return_for_information(self, *, actor_id: str, request: str) -> None:
        """A caseworker asks the family for more information before deciding."""
        self._require("return", Step.SUBMITTED)
        self._returned(actor_id=actor_id, request=_text(request, "request"))

    @event("ReturnedForInformation")
    def _returned(self, actor_id: str, request: str) -> None:
        self.step = Step.RETURNED

    def supply_information(self, *, actor_id: str, reply: str) -> None:
        """The family answers a return; the case goes back to the caseworker's queue."""
        self._require("supply_information", Step.RETURNED)
        self._information_supplied(actor_id=actor_id, reply=_text(reply, "reply"))

    @event("InformationSupplied")
    def _information_supplied(self, actor_id: str, reply: str) -> None:
        self.step = Step.SUBMITTED

    # -- assessment and plan ------------------------------------------------------------
    def assess(
        self,
        *,
        actor_id: str,
        checklist: Checklist,
        lines: list[dict[str, Any]],
        subsidy_cap: Decimal,
        note: str = "",
    ) -> None:
        """The assessor records the items the home needs; redo allowed until the plan is agreed."""
        self._require("assess", Step.APPROVED, Step.ASSESSED)
        priced = price_assessment(checklist, lines, subsidy_cap)
        self._assessed(
            actor_id=actor_id,
            checklist_version=checklist.version,
            subsidy_cap=subsidy_cap,
            note=_text(note, "note", required=False),
            **priced,
        )

    @event("HomeAssessed")
    def _assessed(
        self,
        actor_id: str,
        checklist_version: str,
        subsidy_cap: Decimal,
        note: str,
        items: list[dict[str, Any]],
        total: Decimal,
        subsidy: Decimal,
        household_share: Decimal,
    ) -> None:
        self.step = Step.ASSESSED
        self.assessment = {
            "checklist_version": checklist_version,
            "items": items,
            "total": total,
            "subsidy": subsidy,
        }

    def confirm_plan(self, *, actor_id: str) -> None:
        """The family agrees to the assessed plan and its household share."""
        self._require("confirm_plan", Step.ASSESSED)
        self._plan_confirmed(actor_id=actor_id)

    @event("PlanConfirmed")
    def _plan_confirmed(self, actor_id: str) -> None:
        self.step = Step.PLAN_CONFIRMED

    def assign_contractor(self, *, actor_id: str, contractor: str, inspector_id: str) -> None:
        """A caseworker names the contractor and the inspector who will accept the works."""
        self._require("assign_contractor", Step.PLAN_CONFIRMED)
        self._contractor_assigned(
            actor_id=actor_id,
            contractor=_text(contractor, "contractor", limit=100),
            inspector_id=inspector_id,
        )

    @event("ContractorAssigned")
    def _contractor_assigned(self, actor_id: str, contractor: str, inspector_id: str) -> None:
        self.step = Step.CONTRACTOR_ASSIGNED
        self.inspector_id = inspector_id

    # -- works ----------------------------------------------------------------------------
    def start_works(self, *, actor_id: str) -> None:
        """Works begin at the home; from now on the case can no longer be withdrawn."""
        self._require("start_works", Step.CONTRACTOR_ASSIGNED)
        self._works_started(actor_id=actor_id)

    @event("WorksStarted")
    def _works_started(self, actor_id: str) -> None:
        self.step = Step.WORKS_STARTED

    def log_site_inspection(
        self,
        *,
        actor_id: str,
        findings: str,
        follow_up_required: bool,
        photos: list[dict[str, str]],
    ) -> None:
        """An inspector's supervision visit while works go on."""
        self._require("site_inspection", Step.WORKS_STARTED, Step.RECTIFICATION)
        self._site_inspected(
            actor_id=actor_id,
            findings=_text(findings, "findings"),
            follow_up_required=bool(follow_up_required),
            photos=list(photos),
        )

    @event("SiteInspectionLogged")
    def _site_inspected(
        self, actor_id: str, findings: str, follow_up_required: bool, photos: list[dict[str, str]]
    ) -> None:
        pass

    def complete_works(self, *, actor_id: str) -> None:
        """The contractor reports the works finished: the case awaits acceptance."""
        self._require("complete_works", Step.WORKS_STARTED)
        self._works_completed(actor_id=actor_id)

    @event("WorksCompleted")
    def _works_completed(self, actor_id: str) -> None:
        self.step = Step.WORKS_COMPLETED

    # -- acceptance -----------------------------------------------------------------------
    def inspect_acceptance(
        self,
        *,
        actor_id: str,
        results: list[dict[str, Any]],
        photos: list[dict[str, str]],
        remarks: str = "",
        inspected_on: date | None = None,
    ) -> bool:
        """Check every planned item (installed, works, safe); passes only if all do. The visit's
        date defaults to today; an inspector recording a visit later says which day it was."""
        self._require("accept", Step.WORKS_COMPLETED)
        visit_day = inspected_on or clock.today()
        if not clock.local(self.created_on).date() <= visit_day <= clock.today():
            raise InvalidAcceptance("inspected_on", inspected_on=visit_day.isoformat())
        planned = [i["code"] for i in (self.assessment or {}).get("items", [])]
        checked = [r.get("code") for r in results]
        if sorted(checked) != sorted(planned):
            raise InvalidAcceptance("items", planned=planned, checked=checked)
        clean = [
            {
                "code": r["code"],
                **{c: bool(r.get(c)) for c in ACCEPTANCE_CHECKS},
                "note": _text(str(r.get("note", "")), "note", required=False, limit=500),
            }
            for r in results
        ]
        if not photos:
            raise InvalidAcceptance("photos")
        passed = all(all(r[c] for c in ACCEPTANCE_CHECKS) for r in clean)
        self._acceptance_inspected(
            actor_id=actor_id,
            results=clean,
            photos=list(photos),
            passed=passed,
            remarks=_text(remarks, "remarks", required=False),
            round=self.acceptance_rounds + 1,
            inspected_on=visit_day.isoformat(),
        )
        return passed

    class AcceptanceInspected(AnlaoAggregate.Event):
        """The acceptance inspection's outcome. Version 2 added `inspected_on`, the city date
        of the visit (ISO text), so a visit recorded the next morning keeps its own day."""

        class_version = 2

        actor_id: str
        results: list[dict[str, Any]]
        photos: list[dict[str, str]]
        passed: bool
        remarks: str
        round: int
        inspected_on: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Version 1 inspections were recorded during the visit: their day is the city date
            of the recording (16:30 UTC is already the next day in the city)."""
            state["inspected_on"] = clock.local(state["timestamp"]).date().isoformat()

    @event(AcceptanceInspected)
    def _acceptance_inspected(
        self,
        actor_id: str,
        results: list[dict[str, Any]],
        photos: list[dict[str, str]],
        passed: bool,
        remarks: str,
        round: int,
        inspected_on: str,
    ) -> None:
        self.acceptance_rounds = round
        self.last_inspected_on = inspected_on
        self.acceptance_passed = passed
        self.step = Step.ACCEPTED if passed else Step.RECTIFICATION

    def complete_rectification(self, *, actor_id: str, note: str) -> None:
        """Failed items have been redone: the case goes back for re-inspection."""
        self._require("complete_rectification", Step.RECTIFICATION)
        self._rectified(actor_id=actor_id, note=_text(note, "note"))

    @event("RectificationCompleted")
    def _rectified(self, actor_id: str, note: str) -> None:
        self.step = Step.WORKS_COMPLETED

    # -- after acceptance -------------------------------------------------------------------
    def answer_survey(self, *, actor_id: str, scores: dict[str, int], comment: str = "") -> None:
        """The family rates the service once the works have passed acceptance."""
        self._require("survey", Step.ACCEPTED)
        if set(scores) != set(SURVEY_QUESTIONS):
            raise InvalidSurvey("questions")
        if not all(_is_whole_number(v) and 1 <= v <= 5 for v in scores.values()):
            raise InvalidSurvey("scale")
        self._surveyed(
            actor_id=actor_id,
            scores=dict(scores),
            comment=_text(comment, "comment", required=False, limit=1000),
        )

    @event("SatisfactionSurveyAnswered")
    def _surveyed(self, actor_id: str, scores: dict[str, int], comment: str) -> None:
        self.step = Step.SURVEYED

    def record_follow_up(self, *, actor_id: str, note: str, still_in_use: bool) -> None:
        """A later visit or call (长效跟踪): are the items still there and used?"""
        self._require("follow_up", Step.SURVEYED)
        self._followed_up(
            actor_id=actor_id, note=_text(note, "note"), still_in_use=bool(still_in_use)
        )

    @event("FollowUpRecorded")
    def _followed_up(self, actor_id: str, note: str, still_in_use: bool) -> None:
        pass

    def close_case(self, *, actor_id: str, note: str = "") -> None:
        """A caseworker files the finished case."""
        self._require("close", Step.ACCEPTED, Step.SURVEYED)
        self._closed(actor_id=actor_id, note=_text(note, "note", required=False))

    @event("Closed")
    def _closed(self, actor_id: str, note: str) -> None:
        self.step = Step.CLOSED

    # -- the subsidy, as the fund ledger commits and pays it ---------------------------------
    @property
    def subsidy(self) -> Decimal:
        """The assessed subsidy (already capped), or nothing before the assessment."""
        return Decimal((self.assessment or {}).get("subsidy", "0.00"))

    def record_subsidy(
        self, *, kind: str, amount: Decimal, fund_id: str, movement: int, actor_id: str
    ) -> None:
        """The ledger committed or paid part of the subsidy (negative when reversed); the case
        keeps the sum so no fund can commit beyond the assessed, capped subsidy."""
        if not self.acceptance_passed:
            raise SubsidyNotDue("acceptance")
        if kind == "committed" and self.subsidy_committed + amount > self.subsidy:
            raise SubsidyNotDue(
                "exceeds", subsidy=self.subsidy, committed=self.subsidy_committed, requested=amount
            )
        self._subsidy_recorded(
            actor_id=actor_id, kind=kind, amount=amount, fund_id=fund_id, movement=movement
        )

    @event("SubsidyRecorded")
    def _subsidy_recorded(
        self, actor_id: str, kind: str, amount: Decimal, fund_id: str, movement: int
    ) -> None:
        if kind == "committed":
            self.subsidy_committed += amount
        else:
            self.subsidy_paid += amount

    def withdraw(self, *, actor_id: str, reason: str) -> None:
        """The family (or a worker for them) withdraws, at any time before works start."""
        self._require("withdraw", *Step.WITHDRAWABLE)
        self._withdrawn(actor_id=actor_id, reason=_text(reason, "reason"))

    @event("Withdrawn")
    def _withdrawn(self, actor_id: str, reason: str) -> None:
        self.step = Step.WITHDRAWN
