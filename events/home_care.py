"""Door-to-door home care (上门照护, GB/T 43153-2023): every step of a care case as an event.

A family (or a community worker for the elder) applies for a disabled or semi-disabled elder;
a caseworker sends an assessor, who grades the care level and grants monthly service hours;
the caseworker approves and assigns a provider organisation, whose caregivers then log each
visit with the elder's or family's confirmation. Visits are corrected or cancelled only by
new events, never overwritten, so hours always add up from the history.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import event

from events import clock
from events.access import READ_EVERYTHING
from events.base import AnlaoAggregate
from events.elder import check_age
from events.errors import (
    DomainError,
    IllegalTransition,
    InvalidApplication,
    InvalidSurvey,
    ReasonRequired,
)
from events.facility import FacilityProject, Kind
from events.national_id import NationalId
from events.retrofit import CHANNELS, SURVEY_QUESTIONS
from events.roles import Actor, Role

# Visits happen on the city's calendar: "today" and "not in the future" are local (UTC+8).
ELIGIBLE_DISABILITY_LEVELS = ("semi", "full")  # 半失能, 失能
CARE_LEVELS = ("mild", "moderate", "severe")  # 轻度, 中度, 重度
MAX_MONTHLY_HOURS = 120
# GB/T 43153-2023 service items: 助洁, 助行, 助浴, 助医, 康复, 巡访关爱.
VISIT_ITEMS = ("cleaning", "mobility", "bathing", "medical_escort", "rehabilitation", "check_in")
CONFIRMERS = ("elder", "family")  # who signed off the visit at the door
MAX_VISIT_MINUTES = 8 * 60
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class CareStep:
    """Where a home care case stands; stored as plain strings in events and read models."""

    SUBMITTED = "submitted"
    RETURNED = "returned"
    REJECTED = "rejected"
    ASSESSOR_ASSIGNED = "assessor_assigned"
    ASSESSED = "assessed"
    APPROVED = "approved"
    IN_SERVICE = "in_service"  # a provider is assigned; visits are logged
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"

    ALL = (
        SUBMITTED,
        RETURNED,
        REJECTED,
        ASSESSOR_ASSIGNED,
        ASSESSED,
        APPROVED,
        IN_SERVICE,
        CLOSED,
        WITHDRAWN,
    )
    FINISHED = (REJECTED, CLOSED, WITHDRAWN)
    WITHDRAWABLE = (SUBMITTED, RETURNED, ASSESSOR_ASSIGNED, ASSESSED, APPROVED)


# -- refusals of this programme ----------------------------------------------------------------
class HomeCareNotEligible(DomainError):
    """Home care is for disabled or semi-disabled elders; this elder's level is neither."""

    code = "home_care_not_eligible"


class InvalidCareAssessment(DomainError):
    """A care-level assessment names an unknown level or hours outside 1..120 a month."""

    code = "invalid_care_assessment"


class ProviderUnavailable(DomainError):
    """The organisation named is unknown, not a home care provider, or not in operation."""

    code = "provider_unavailable"


class InvalidVisit(DomainError):
    """A visit record is incomplete or impossible; `field` names the answer to fix."""

    code = "invalid_visit"

    def __init__(self, detail: str, *, field: str, **params: Any) -> None:
        super().__init__(detail, field=field, **params)
        self.field = field


class VisitOverlaps(DomainError):
    """Another visit of the same case on the same day overlaps this one."""

    code = "visit_overlaps"


class VisitNotFound(DomainError):
    """No visit with this id was logged on this case."""

    code = "visit_not_found"


class VisitAlreadyCancelled(DomainError):
    """The visit was cancelled; it can be neither corrected nor cancelled again."""

    code = "visit_already_cancelled"


class SurveyTooEarly(DomainError):
    """A survey rates visits: there must be visits made since the last survey."""

    code = "survey_too_early"


# -- rules on plain values ---------------------------------------------------------------------
def check_eligible(disability_level: str) -> None:
    """Only disabled (失能) or semi-disabled (半失能) elders qualify for home care."""
    if disability_level not in ELIGIBLE_DISABILITY_LEVELS:
        raise HomeCareNotEligible(
            "disability_level",
            disability_level=disability_level,
            eligible=ELIGIBLE_DISABILITY_LEVELS,
        )


def _text(value: str, field: str, *, required: bool = True, limit: int = 2000) -> str:
    cleaned = (value or "").strip() if isinstance(value, str) else ""
    if required and not cleaned:
        raise ReasonRequired(field)
    if len(cleaned) > limit:
        raise InvalidApplication(field, limit=limit)
    return cleaned


def _is_whole_number(value: object) -> bool:
    # bool is an int subclass: True must not count as one hour or a score of 1.
    return isinstance(value, int) and not isinstance(value, bool)


def _minute_of_day(value: object, field: str) -> int:
    if not isinstance(value, str) or not _CLOCK_TIME.match(value):
        raise InvalidVisit(field, field=field)
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def _visit_day(value: object) -> date:
    if not isinstance(value, str):
        raise InvalidVisit("date", field="visit_date")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidVisit("date", field="visit_date") from None


def _visit_items(items: object) -> list[str]:
    if not isinstance(items, list | tuple) or not items:
        raise InvalidVisit("no_items", field="items")
    unknown = [i for i in items if i not in VISIT_ITEMS]
    if unknown:
        raise InvalidVisit("unknown_item", field="items", unknown=[str(i) for i in unknown])
    return [i for i in VISIT_ITEMS if i in items]  # one canonical order, no repeats


def clean_visit(
    *,
    visit_date: str,
    start: str,
    end: str,
    items: list[str],
    caregiver: str,
    confirmed_by: str,
    assigned_on: str,
    now: datetime,
) -> dict[str, Any]:
    """Check a visit record against the rules; returns its facts in plain, canonical values."""
    day = _visit_day(visit_date)
    today = clock.local(now)
    if day > today.date():
        raise InvalidVisit("future", field="visit_date")
    if day < date.fromisoformat(assigned_on):
        raise InvalidVisit("before_assignment", field="visit_date", assigned_on=assigned_on)
    begins, ends = _minute_of_day(start, "start"), _minute_of_day(end, "end")
    if ends <= begins:
        raise InvalidVisit("end_before_start", field="end")
    if ends - begins > MAX_VISIT_MINUTES:
        raise InvalidVisit("too_long", field="end", maximum_hours=MAX_VISIT_MINUTES // 60)
    if day == today.date() and ends > today.hour * 60 + today.minute:
        raise InvalidVisit("future", field="end")  # a visit still going on cannot be confirmed
    name = (caregiver or "").strip() if isinstance(caregiver, str) else ""
    if not 1 <= len(name) <= 30:
        raise InvalidVisit("caregiver", field="caregiver")
    if confirmed_by not in CONFIRMERS:
        raise InvalidVisit("not_confirmed", field="confirmed_by")
    return {
        "visit_date": day.isoformat(),
        "start": start,
        "end": end,
        "minutes": ends - begins,
        "items": _visit_items(items),
        "caregiver": name,
        "confirmed_by": confirmed_by,
    }


# -- who may see a case ------------------------------------------------------------------------
class CareScope(Protocol):
    """The fields of a case (aggregate or read-model row) that decide who may see it."""

    applicant_user_id: str
    district: str
    community: str
    assessor_id: str | None
    provider_id: UUID | None
    step: str


def may_see_home_care(actor: Actor, case: CareScope) -> bool:
    """`events.access.may_see` for home care, plus the assigned provider while it serves."""
    role = actor.role
    if role == Role.FAMILY:
        return case.applicant_user_id == actor.user_id
    if role == Role.COMMUNITY_WORKER:
        return case.district == actor.district and case.community == actor.community
    if role == Role.CASEWORKER:
        return case.district == actor.district
    if role == Role.ASSESSOR:
        return case.assessor_id is not None and case.assessor_id == actor.user_id
    if role == Role.PROVIDER:
        # Only what it needs: its own clients, and only while it serves them.
        return (
            case.step == CareStep.IN_SERVICE
            and case.provider_id is not None
            and bool(actor.facility_id)
            and str(case.provider_id) == actor.facility_id
        )
    return role in READ_EVERYTHING


# -- the aggregate -----------------------------------------------------------------------------
class HomeCareCase(AnlaoAggregate):
    """One elder's door-to-door care, from application through visits to the end of service."""

    @classmethod
    def open(
        cls,
        *,
        case_id: UUID,
        reference: str,
        person_id: UUID,
        elder_id: NationalId,
        disability_level: str,
        today: date,
        channel: str,
        applicant_user_id: str,
        relation: str,
        district: str,
        street: str,
        community: str,
        actor_id: str,
    ) -> HomeCareCase:
        """Open a case for a disabled or semi-disabled elder of 60 or over; no personal data."""
        check_age(elder_id, today)
        check_eligible(disability_level)
        if channel not in CHANNELS:
            raise InvalidApplication("channel")
        return cls(
            case_id=case_id,
            reference=reference,
            person_id=person_id,
            disability_level=disability_level,
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
        disability_level: str,
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
        self.disability_level = disability_level
        self.channel = channel
        self.applicant_user_id = applicant_user_id
        self.district = district
        self.street = street
        self.community = community
        self.step = CareStep.SUBMITTED
        self.assessor_id: str | None = None
        self.care_level: str | None = None
        self.monthly_hours: int | None = None
        self.provider_id: UUID | None = None
        self.provider_assigned_on: str | None = None
        self.visits: dict[UUID, dict[str, Any]] = {}
        self.surveys = 0

    def _require(self, action: str, *steps: str) -> None:
        if self.step not in steps:
            raise IllegalTransition(action, self.step)

    # -- screening and eligibility ------------------------------------------------------------
    def request_assessment(self, *, actor_id: str, assessor_id: str) -> None:
        """A caseworker accepts the application and sends an assessor (or another one)."""
        self._require("request_assessment", CareStep.SUBMITTED, CareStep.ASSESSOR_ASSIGNED)
        if not isinstance(assessor_id, str) or not assessor_id.strip():
            raise InvalidApplication("assessor_id")
        self._assessor_assigned(actor_id=actor_id, assessor_id=assessor_id.strip())

    @event("AssessorAssigned")
    def _assessor_assigned(self, actor_id: str, assessor_id: str) -> None:
        self.step = CareStep.ASSESSOR_ASSIGNED
        self.assessor_id = assessor_id

    def return_for_information(self, *, actor_id: str, request: str) -> None:
        """A caseworker asks the family for more information before sending an assessor."""
        self._require("return", CareStep.SUBMITTED)
        self._returned(actor_id=actor_id, request=_text(request, "request"))

    @event("ReturnedForInformation")
    def _returned(self, actor_id: str, request: str) -> None:
        self.step = CareStep.RETURNED

    def supply_information(self, *, actor_id: str, reply: str) -> None:
        """The family answers a return; the case goes back to the caseworker."""
        self._require("supply_information", CareStep.RETURNED)
        self._information_supplied(actor_id=actor_id, reply=_text(reply, "reply"))

    @event("InformationSupplied")
    def _information_supplied(self, actor_id: str, reply: str) -> None:
        self.step = CareStep.SUBMITTED

    def reject(self, *, actor_id: str, reason: str) -> None:
        """Not eligible (on the papers, or after the assessment), with a reason for the family."""
        self._require("reject", CareStep.SUBMITTED, CareStep.ASSESSED)
        self._rejected(actor_id=actor_id, reason=_text(reason, "reason"))

    @event("Rejected")
    def _rejected(self, actor_id: str, reason: str) -> None:
        self.step = CareStep.REJECTED

    def assess(self, *, actor_id: str, level: str, monthly_hours: int, note: str = "") -> None:
        """The assessor grades the care level and the hours a month; redo allowed until approval."""
        self._require("assess", CareStep.ASSESSOR_ASSIGNED, CareStep.ASSESSED)
        if level not in CARE_LEVELS:
            raise InvalidCareAssessment("level", level=level)
        if not _is_whole_number(monthly_hours) or not 1 <= monthly_hours <= MAX_MONTHLY_HOURS:
            raise InvalidCareAssessment("monthly_hours", maximum=MAX_MONTHLY_HOURS)
        self._assessed(
            actor_id=actor_id,
            level=level,
            monthly_hours=monthly_hours,
            note=_text(note, "note", required=False),
        )

    @event("CareLevelAssessed")
    def _assessed(self, actor_id: str, level: str, monthly_hours: int, note: str) -> None:
        self.step = CareStep.ASSESSED
        self.care_level = level
        self.monthly_hours = monthly_hours

    def approve(self, *, actor_id: str, note: str = "") -> None:
        """A caseworker grants the assessed care."""
        self._require("approve", CareStep.ASSESSED)
        self._approved(actor_id=actor_id, note=_text(note, "note", required=False))

    @event("Approved")
    def _approved(self, actor_id: str, note: str) -> None:
        self.step = CareStep.APPROVED

    def assign_provider(
        self, *, actor_id: str, provider: FacilityProject | None, today: date
    ) -> None:
        """A caseworker names the provider organisation that will make the visits."""
        self._require("assign_provider", CareStep.APPROVED)
        if provider is None:
            raise ProviderUnavailable("unknown")
        if provider.kind != Kind.HOME_CARE_PROVIDER:
            raise ProviderUnavailable("kind", kind=provider.kind)
        if not provider.in_operation:
            raise ProviderUnavailable("not_in_operation")
        self._provider_assigned(
            actor_id=actor_id, provider_id=provider.id, assigned_on=today.isoformat()
        )

    @event("ProviderAssigned")
    def _provider_assigned(self, actor_id: str, provider_id: UUID, assigned_on: str) -> None:
        self.step = CareStep.IN_SERVICE
        self.provider_id = provider_id
        self.provider_assigned_on = assigned_on

    # -- visits -------------------------------------------------------------------------------
    def log_visit(
        self,
        *,
        actor_id: str,
        visit_id: UUID,
        visit_date: str,
        start: str,
        end: str,
        items: list[str],
        caregiver: str,
        confirmed_by: str,
        now: datetime,
    ) -> None:
        """The provider records a visit made, with the elder's or family's confirmation."""
        self._require("log_visit", CareStep.IN_SERVICE)
        if visit_id in self.visits:
            raise InvalidVisit("duplicate", field="visit_id")
        visit = self._checked(
            visit_date, start, end, items, caregiver, confirmed_by, now, except_id=None
        )
        self._visit_logged(
            actor_id=actor_id, visit_id=visit_id, provider_id=self.provider_id, **visit
        )

    @event("VisitLogged")
    def _visit_logged(
        self,
        actor_id: str,
        visit_id: UUID,
        provider_id: UUID,
        visit_date: str,
        start: str,
        end: str,
        minutes: int,
        items: list[str],
        caregiver: str,
        confirmed_by: str,
    ) -> None:
        self.visits[visit_id] = {
            "visit_date": visit_date,
            "start": start,
            "end": end,
            "minutes": minutes,
            "cancelled": False,
            "survey_round": self.surveys,  # which survey will rate this visit
        }

    def correct_visit(
        self,
        *,
        actor_id: str,
        visit_id: UUID,
        visit_date: str,
        start: str,
        end: str,
        items: list[str],
        caregiver: str,
        confirmed_by: str,
        reason: str,
        now: datetime,
    ) -> None:
        """Replace a visit's record by a correcting event with its reason (never an overwrite)."""
        self._require("correct_visit", CareStep.IN_SERVICE)
        self._active_visit(visit_id)
        visit = self._checked(
            visit_date, start, end, items, caregiver, confirmed_by, now, except_id=visit_id
        )
        self._visit_corrected(
            actor_id=actor_id, visit_id=visit_id, reason=_text(reason, "reason"), **visit
        )

    @event("VisitCorrected")
    def _visit_corrected(
        self,
        actor_id: str,
        visit_id: UUID,
        visit_date: str,
        start: str,
        end: str,
        minutes: int,
        items: list[str],
        caregiver: str,
        confirmed_by: str,
        reason: str,
    ) -> None:
        self.visits[visit_id] |= {
            "visit_date": visit_date,
            "start": start,
            "end": end,
            "minutes": minutes,
        }

    def cancel_visit(self, *, actor_id: str, visit_id: UUID, reason: str) -> None:
        """Strike out a visit logged in error; it stays in the history but counts no hours."""
        self._require("cancel_visit", CareStep.IN_SERVICE)
        self._active_visit(visit_id)
        self._visit_cancelled(actor_id=actor_id, visit_id=visit_id, reason=_text(reason, "reason"))

    @event("VisitCancelled")
    def _visit_cancelled(self, actor_id: str, visit_id: UUID, reason: str) -> None:
        self.visits[visit_id]["cancelled"] = True

    def _active_visit(self, visit_id: UUID) -> dict[str, Any]:
        visit = self.visits.get(visit_id)
        if visit is None:
            raise VisitNotFound(str(visit_id))
        if visit["cancelled"]:
            raise VisitAlreadyCancelled(str(visit_id))
        return visit

    def _checked(
        self,
        visit_date: str,
        start: str,
        end: str,
        items: list[str],
        caregiver: str,
        confirmed_by: str,
        now: datetime,
        *,
        except_id: UUID | None,
    ) -> dict[str, Any]:
        visit = clean_visit(
            visit_date=visit_date,
            start=start,
            end=end,
            items=items,
            caregiver=caregiver,
            confirmed_by=confirmed_by,
            assigned_on=self.provider_assigned_on or "",
            now=now,
        )
        for other_id, other in self.visits.items():
            if other_id == except_id or other["cancelled"]:
                continue
            same_day = other["visit_date"] == visit["visit_date"]
            # "HH:MM" strings order like the times they name; touching visits do not overlap.
            if same_day and visit["start"] < other["end"] and other["start"] < visit["end"]:
                raise VisitOverlaps(
                    "overlap", visit_id=str(other_id), start=other["start"], end=other["end"]
                )
        return visit

    # -- after visits -------------------------------------------------------------------------
    def answer_survey(self, *, actor_id: str, scores: dict[str, int], comment: str = "") -> None:
        """The family rates the visits made since the last survey (during or after service)."""
        self._require("survey", CareStep.IN_SERVICE, CareStep.CLOSED)
        if not any(
            not v["cancelled"] and v["survey_round"] == self.surveys for v in self.visits.values()
        ):
            raise SurveyTooEarly("no_visits")
        if not isinstance(scores, dict) or set(scores) != set(SURVEY_QUESTIONS):
            raise InvalidSurvey("questions")
        if not all(_is_whole_number(v) and 1 <= v <= 5 for v in scores.values()):
            raise InvalidSurvey("scale")
        self._surveyed(
            actor_id=actor_id,
            provider_id=self.provider_id,
            scores=dict(scores),
            comment=_text(comment, "comment", required=False, limit=1000),
        )

    @event("SatisfactionSurveyAnswered")
    def _surveyed(
        self, actor_id: str, provider_id: UUID, scores: dict[str, int], comment: str
    ) -> None:
        self.surveys += 1

    def record_follow_up(self, *, actor_id: str, note: str, needs_attention: bool) -> None:
        """A caseworker's or community worker's call or visit (回访) once service has begun."""
        self._require("follow_up", CareStep.IN_SERVICE, CareStep.CLOSED)
        self._followed_up(
            actor_id=actor_id, note=_text(note, "note"), needs_attention=bool(needs_attention)
        )

    @event("FollowUpRecorded")
    def _followed_up(self, actor_id: str, note: str, needs_attention: bool) -> None:
        pass

    def close_case(self, *, actor_id: str, reason: str) -> None:
        """The service ends (the elder moved, entered an institution, died, or declined)."""
        self._require("close", CareStep.IN_SERVICE)
        self._closed(actor_id=actor_id, reason=_text(reason, "reason"))

    @event("Closed")
    def _closed(self, actor_id: str, reason: str) -> None:
        self.step = CareStep.CLOSED

    def withdraw(self, *, actor_id: str, reason: str) -> None:
        """The family (or a worker for them) withdraws, any time before a provider is assigned."""
        self._require("withdraw_care", *CareStep.WITHDRAWABLE)
        self._withdrawn(actor_id=actor_id, reason=_text(reason, "reason"))

    @event("Withdrawn")
    def _withdrawn(self, actor_id: str, reason: str) -> None:
        self.step = CareStep.WITHDRAWN
