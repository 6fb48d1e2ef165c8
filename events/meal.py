"""The meal-service enrolment (老年助餐): an elder joins a canteen's meal service, step by step."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from events.base import AnlaoAggregate
from events.elder import RELATIONS, check_age
from events.errors import DomainError, IllegalTransition, InvalidApplication, ReasonRequired
from events.facility import FacilityProject, Kind
from events.national_id import NationalId

# Meals are counted by the city's calendar day: a 07:30 breakfast is still "today" in UTC+8.
CHANNELS = ("online", "proxy")
MODES = ("dine_in", "delivery")  # 堂食, 送餐上门
AGED_80_PLUS = "aged_80_plus"
# 特困, 低保, 低保边缘, 80周岁以上高龄, 其他
SUBSIDY_CATEGORIES = ("tekun", "dibao", "dibao_edge", AGED_80_PLUS, "other")
AGED_CATEGORY_MINIMUM = 80
TEXT_LIMIT = 1000


class EnrolmentStep:
    """Where an enrolment stands; stored as plain strings in events and read models."""

    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"  # enrolled: the canteen may count this elder's meals
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    ENDED = "ended"

    ALL = (SUBMITTED, RETURNED, APPROVED, REJECTED, WITHDRAWN, ENDED)
    FINISHED = (REJECTED, WITHDRAWN, ENDED)
    WITHDRAWABLE = (SUBMITTED, RETURNED, APPROVED)


class CanteenUnavailable(DomainError):
    """The chosen canteen is unknown, not a canteen, not open yet, or in another district."""

    code = "canteen_unavailable"


class TooYoungForCategory(DomainError):
    """The 80-plus subsidy category was chosen for an elder the ID number shows is younger."""

    code = "too_young_for_category"


def check_canteen(canteen: object, *, district: str | None = None) -> FacilityProject:
    """The canteen if it can serve elders now (and lies in `district`, when given)."""
    if not isinstance(canteen, FacilityProject):
        raise CanteenUnavailable("unknown")
    if canteen.kind != Kind.CANTEEN:
        raise CanteenUnavailable("not_canteen")
    if not canteen.in_operation:
        raise CanteenUnavailable("not_in_operation")
    if district is not None and canteen.district != district:
        raise CanteenUnavailable("other_district", canteen_district=canteen.district)
    return canteen


def check_choices(
    *, mode: str, subsidy_category: str, relation: str, elder_id: NationalId, today: date
) -> None:
    """The application's choices; checked before anything (even the person) is stored."""
    age = check_age(elder_id, today)
    if mode not in MODES:
        raise InvalidApplication("mode")
    if subsidy_category not in SUBSIDY_CATEGORIES:
        raise InvalidApplication("subsidy_category")
    if subsidy_category == AGED_80_PLUS and age < AGED_CATEGORY_MINIMUM:
        raise TooYoungForCategory("subsidy_category", age=age, minimum=AGED_CATEGORY_MINIMUM)
    if relation not in RELATIONS:
        raise InvalidApplication("relation")


def _text(value: str, field: str, *, required: bool = True) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise ReasonRequired(field)
    if len(cleaned) > TEXT_LIMIT:
        raise InvalidApplication(field, limit=TEXT_LIMIT)
    return cleaned


class MealEnrolment(AnlaoAggregate):
    """One elder's place in one canteen's meal service, from application to the end of service."""

    @classmethod
    def open(
        cls,
        *,
        case_id: UUID,
        reference: str,
        person_id: UUID,
        elder_id: NationalId,
        today: date,
        canteen: FacilityProject,
        mode: str,
        subsidy_category: str,
        channel: str,
        applicant_user_id: str,
        relation: str,
        district: str,
        street: str,
        community: str,
        actor_id: str,
    ) -> MealEnrolment:
        """Apply for an elder of 60 or over at an open canteen of the elder's district."""
        check_canteen(canteen, district=district)
        check_choices(
            mode=mode,
            subsidy_category=subsidy_category,
            relation=relation,
            elder_id=elder_id,
            today=today,
        )
        if channel not in CHANNELS:
            raise InvalidApplication("channel")
        return cls(
            case_id=case_id,
            reference=reference,
            person_id=person_id,
            canteen_id=canteen.id,
            mode=mode,
            subsidy_category=subsidy_category,
            channel=channel,
            applicant_user_id=applicant_user_id,
            relation=relation,
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
        canteen_id: UUID,
        mode: str,
        subsidy_category: str,
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
        self.canteen_id = canteen_id
        self.mode = mode
        self.subsidy_category = subsidy_category
        self.channel = channel
        self.applicant_user_id = applicant_user_id
        self.district = district
        self.street = street
        self.community = community
        self.step = EnrolmentStep.SUBMITTED
        self.enrolled_on: str | None = None
        self.left_on: str | None = None

    def _require(self, action: str, *steps: str) -> None:
        if self.step not in steps:
            raise IllegalTransition(action, self.step)

    def serves(self, canteen_id: UUID, day: date) -> bool:
        """Whether this elder was enrolled at that canteen on that day (its meals may count)."""
        if self.enrolled_on is None or canteen_id != self.canteen_id:
            return False
        if day < date.fromisoformat(self.enrolled_on):
            return False
        return self.left_on is None or day <= date.fromisoformat(self.left_on)

    # -- review ---------------------------------------------------------------------------
    def approve(self, *, actor_id: str, today: date, note: str = "") -> None:
        """A caseworker enrols the elder: from today the canteen may count their meals."""
        self._require("approve", EnrolmentStep.SUBMITTED)
        self._approved(
            actor_id=actor_id,
            enrolled_on=today.isoformat(),
            note=_text(note, "note", required=False),
        )

    @event("EnrolmentApproved")
    def _approved(self, actor_id: str, enrolled_on: str, note: str) -> None:
        self.step = EnrolmentStep.APPROVED
        self.enrolled_on = enrolled_on

    def reject(self, *, actor_id: str, reason: str) -> None:
        """A caseworker refuses the application; the reason is shown to the family."""
        self._require("reject", EnrolmentStep.SUBMITTED)
        self._rejected(actor_id=actor_id, reason=_text(reason, "reason"))

    @event("EnrolmentRejected")
    def _rejected(self, actor_id: str, reason: str) -> None:
        self.step = EnrolmentStep.REJECTED

    def return_for_information(self, *, actor_id: str, request: str) -> None:
        """A caseworker asks the family for more information before deciding."""
        self._require("return", EnrolmentStep.SUBMITTED)
        self._returned(actor_id=actor_id, request=_text(request, "request"))

    @event("ReturnedForInformation")
    def _returned(self, actor_id: str, request: str) -> None:
        self.step = EnrolmentStep.RETURNED

    def supply_information(self, *, actor_id: str, reply: str) -> None:
        """The family answers a return; the application goes back to the caseworker."""
        self._require("supply_information", EnrolmentStep.RETURNED)
        self._information_supplied(actor_id=actor_id, reply=_text(reply, "reply"))

    @event("InformationSupplied")
    def _information_supplied(self, actor_id: str, reply: str) -> None:
        self.step = EnrolmentStep.SUBMITTED

    # -- leaving --------------------------------------------------------------------------
    def withdraw(self, *, actor_id: str, reason: str, today: date) -> None:
        """The family (or a worker for them) withdraws: before approval, or while enrolled."""
        # Not "withdraw": the portal's message for that action speaks of retrofit works.
        self._require("withdraw_enrolment", *EnrolmentStep.WITHDRAWABLE)
        enrolled = self.step == EnrolmentStep.APPROVED
        self._withdrawn(
            actor_id=actor_id,
            reason=_text(reason, "reason"),
            left_on=today.isoformat() if enrolled else None,
        )

    @event("Withdrawn")
    def _withdrawn(self, actor_id: str, reason: str, left_on: str | None) -> None:
        self.step = EnrolmentStep.WITHDRAWN
        self.left_on = left_on

    def end(self, *, actor_id: str, reason: str, today: date) -> None:
        """A caseworker stops the service (moved away, in hospital, passed away...)."""
        self._require("end_enrolment", EnrolmentStep.APPROVED)
        self._ended(actor_id=actor_id, reason=_text(reason, "reason"), ended_on=today.isoformat())

    @event("EnrolmentEnded")
    def _ended(self, actor_id: str, reason: str, ended_on: str) -> None:
        self.step = EnrolmentStep.ENDED
        self.left_on = ended_on
