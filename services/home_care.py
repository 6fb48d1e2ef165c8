"""Door-to-door home care (上门照护): applications, care level, providers, visits, surveys."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError

from events import clock
from events.districts import is_known_place
from events.elder import RELATIONS, clean_profile
from events.errors import InvalidApplication
from events.facility import FacilityProject
from events.home_care import (
    HomeCareCase,
    InvalidVisit,
    VisitNotFound,
    check_eligible,
    may_see_home_care,
)
from events.roles import Actor, Role
from services.application import AnlaoApplication
from services.errors import CaseNotFound, NotPermitted
from services.persons import PersonStore
from services.references import reference_for

_IDEMPOTENCY_NAMESPACE = uuid5(NAMESPACE_URL, "https://anlao.example/home-care-application")
REFERENCE_PREFIX = "JH"  # 居家 / 上门照护

# Which roles may take each step; the aggregate decides whether the step is legal now.
ALLOWED: dict[str, tuple[str, ...]] = {
    "review": (Role.CASEWORKER,),
    "supply_information": (Role.FAMILY, Role.COMMUNITY_WORKER),
    "assess": (Role.ASSESSOR,),
    "assign_provider": (Role.CASEWORKER,),
    "visit": (Role.PROVIDER,),
    "survey": (Role.FAMILY, Role.COMMUNITY_WORKER),
    "follow_up": (Role.CASEWORKER, Role.COMMUNITY_WORKER),
    "close": (Role.CASEWORKER,),
    "withdraw": (Role.FAMILY, Role.COMMUNITY_WORKER, Role.CASEWORKER),
}


@dataclass(frozen=True)
class VisitReceipt:
    """What logging a visit returns: the visit's id (to correct it later) and the case version."""

    visit_id: UUID
    version: int


class HomeCareService(AnlaoApplication):
    """Programme 2 home care for disabled and semi-disabled elders."""

    # Reads the facility snapshots FacilityService takes (a canteen or provider organisation is
    # loaded on every meal day or assignment); it takes none of its own.
    is_snapshotting_enabled = True

    def __init__(self, env: dict[str, str], persons: PersonStore) -> None:
        super().__init__(env=env)
        self.persons = persons

    # -- applying ------------------------------------------------------------------------------
    def submit_application(
        self,
        actor: Actor,
        *,
        idempotency_key: str,
        elder: dict[str, Any],
        relation: str,
        district: str,
        street: str,
        community: str,
        needs: str = "",
    ) -> UUID:
        """Open a case (online by a family, or by a community worker for the elder); returns its id.

        Submitting twice with the same idempotency key returns the first case's id. An elder
        who is neither disabled nor semi-disabled is refused before anything is stored.
        """
        case_id = self.application_id(actor, idempotency_key)
        if self._exists(case_id):
            return case_id
        channel = self._channel_for(actor, district, community)
        if not is_known_place(district, street, community):
            raise InvalidApplication("community")
        if relation not in RELATIONS:
            raise InvalidApplication("relation")
        if len(needs or "") > 2000:
            raise InvalidApplication("needs")
        today = self._now().date()
        profile, elder_id = clean_profile(elder, today)
        check_eligible(profile["disability_level"])
        with self.persons.for_application(case_id, profile, (needs or "").strip()) as person_id:
            case = HomeCareCase.open(
                case_id=case_id,
                reference=reference_for(case_id, prefix=REFERENCE_PREFIX),
                person_id=person_id,
                elder_id=elder_id,
                disability_level=profile["disability_level"],
                today=today,
                channel=channel,
                applicant_user_id=actor.user_id,
                relation=relation,
                district=district,
                street=street,
                community=community,
                actor_id=actor.user_id,
            )
            self._save_new(case)
        return case_id

    def application_id(self, actor: Actor, idempotency_key: str) -> UUID:
        """The case id a submission with this key gets: a repeated submit can find its case."""
        return uuid5(_IDEMPOTENCY_NAMESPACE, f"{actor.user_id}:{idempotency_key}")

    def _channel_for(self, actor: Actor, district: str, community: str) -> str:
        if actor.role == Role.FAMILY:
            return "online"
        if actor.role == Role.COMMUNITY_WORKER and (district, community) == (
            actor.district,
            actor.community,
        ):
            return "proxy"
        raise NotPermitted("apply")

    @staticmethod
    def _now() -> datetime:
        return clock.local(clock.now())

    # -- screening, assessment, approval -------------------------------------------------------
    def request_assessment(
        self, actor: Actor, case_id: UUID, version: int, *, assessor_id: str
    ) -> int:
        """Accept the application for assessment and name the assessor who will visit."""
        return self._act(
            actor,
            case_id,
            version,
            "review",
            lambda c: c.request_assessment(actor_id=actor.user_id, assessor_id=assessor_id),
        )

    def return_for_information(
        self, actor: Actor, case_id: UUID, version: int, *, request: str
    ) -> int:
        """Ask the family for what is missing before an assessor is sent."""
        return self._act(
            actor,
            case_id,
            version,
            "review",
            lambda c: c.return_for_information(actor_id=actor.user_id, request=request),
        )

    def supply_information(self, actor: Actor, case_id: UUID, version: int, *, reply: str) -> int:
        """The family's answer to a return."""
        return self._act(
            actor,
            case_id,
            version,
            "supply_information",
            lambda c: c.supply_information(actor_id=actor.user_id, reply=reply),
        )

    def reject(self, actor: Actor, case_id: UUID, version: int, *, reason: str) -> int:
        """Not eligible, with the reason the family will read."""
        return self._act(
            actor,
            case_id,
            version,
            "review",
            lambda c: c.reject(actor_id=actor.user_id, reason=reason),
        )

    def assess_care_level(
        self,
        actor: Actor,
        case_id: UUID,
        version: int,
        *,
        level: str,
        monthly_hours: int,
        note: str = "",
    ) -> int:
        """The assigned assessor's grading: care level and service hours a month."""
        return self._act(
            actor,
            case_id,
            version,
            "assess",
            lambda c: c.assess(
                actor_id=actor.user_id, level=level, monthly_hours=monthly_hours, note=note
            ),
        )

    def approve(self, actor: Actor, case_id: UUID, version: int, *, note: str = "") -> int:
        """Grant the assessed care."""
        return self._act(
            actor,
            case_id,
            version,
            "review",
            lambda c: c.approve(actor_id=actor.user_id, note=note),
        )

    def assign_provider(
        self, actor: Actor, case_id: UUID, version: int, *, provider_id: UUID | str
    ) -> int:
        """Name the home care provider organisation; from today on it may log visits."""
        return self._act(
            actor,
            case_id,
            version,
            "assign_provider",
            lambda c: c.assign_provider(
                actor_id=actor.user_id,
                provider=self._provider(provider_id),
                today=self._now().date(),
            ),
        )

    def _provider(self, provider_id: UUID | str) -> FacilityProject | None:
        try:
            found = self.repository.get(UUID(str(provider_id)))
        except (ValueError, AggregateNotFoundError):
            return None
        return found if isinstance(found, FacilityProject) else None

    # -- visits --------------------------------------------------------------------------------
    def log_visit(
        self,
        actor: Actor,
        case_id: UUID,
        version: int,
        *,
        visit_date: str,
        start: str,
        end: str,
        items: list[str],
        caregiver: str,
        confirmed_by: str,
        visit_id: UUID | str | None = None,
    ) -> VisitReceipt:
        """The assigned provider records a visit made (date, times, items, who confirmed)."""
        new_id = _visit_uuid(visit_id, InvalidVisit("visit_id", field="visit_id")) or uuid4()
        version = self._act(
            actor,
            case_id,
            version,
            "visit",
            lambda c: c.log_visit(
                actor_id=actor.user_id,
                visit_id=new_id,
                visit_date=visit_date,
                start=start,
                end=end,
                items=items,
                caregiver=caregiver,
                confirmed_by=confirmed_by,
                now=self._now(),
            ),
        )
        return VisitReceipt(new_id, version)

    def correct_visit(
        self,
        actor: Actor,
        case_id: UUID,
        version: int,
        *,
        visit_id: UUID | str,
        visit_date: str,
        start: str,
        end: str,
        items: list[str],
        caregiver: str,
        confirmed_by: str,
        reason: str,
    ) -> int:
        """Correct a visit's record (a new event with the reason; the first record stays)."""
        return self._act(
            actor,
            case_id,
            version,
            "visit",
            lambda c: c.correct_visit(
                actor_id=actor.user_id,
                visit_id=_visit_uuid(visit_id, VisitNotFound(str(visit_id))),
                visit_date=visit_date,
                start=start,
                end=end,
                items=items,
                caregiver=caregiver,
                confirmed_by=confirmed_by,
                reason=reason,
                now=self._now(),
            ),
        )

    def cancel_visit(
        self, actor: Actor, case_id: UUID, version: int, *, visit_id: UUID | str, reason: str
    ) -> int:
        """Cancel a visit logged in error; it no longer counts towards hours."""
        return self._act(
            actor,
            case_id,
            version,
            "visit",
            lambda c: c.cancel_visit(
                actor_id=actor.user_id,
                visit_id=_visit_uuid(visit_id, VisitNotFound(str(visit_id))),
                reason=reason,
            ),
        )

    # -- after visits --------------------------------------------------------------------------
    def answer_survey(
        self,
        actor: Actor,
        case_id: UUID,
        version: int,
        *,
        scores: dict[str, int],
        comment: str = "",
    ) -> int:
        """The family's satisfaction survey on the visits made."""
        return self._act(
            actor,
            case_id,
            version,
            "survey",
            lambda c: c.answer_survey(actor_id=actor.user_id, scores=scores, comment=comment),
        )

    def record_follow_up(
        self,
        actor: Actor,
        case_id: UUID,
        version: int,
        *,
        note: str,
        needs_attention: bool = False,
    ) -> int:
        """A follow-up call or visit (回访) during or after the service."""
        return self._act(
            actor,
            case_id,
            version,
            "follow_up",
            lambda c: c.record_follow_up(
                actor_id=actor.user_id, note=note, needs_attention=needs_attention
            ),
        )

    def close_case(self, actor: Actor, case_id: UUID, version: int, *, reason: str) -> int:
        """End the service, saying why."""
        return self._act(
            actor,
            case_id,
            version,
            "close",
            lambda c: c.close_case(actor_id=actor.user_id, reason=reason),
        )

    def withdraw(self, actor: Actor, case_id: UUID, version: int, *, reason: str) -> int:
        """The family no longer wants home care (only before a provider is assigned)."""
        return self._act(
            actor,
            case_id,
            version,
            "withdraw",
            lambda c: c.withdraw(actor_id=actor.user_id, reason=reason),
        )

    # -- one way to change a case --------------------------------------------------------------
    def _act(
        self,
        actor: Actor,
        case_id: UUID,
        version: int,
        action: str,
        change: Callable[[HomeCareCase], object],
    ) -> int:
        case = self._case_to_change(actor, case_id, action)
        if actor.role not in ALLOWED[action]:
            raise NotPermitted(action)
        return self._change(case, version, change)

    def _case_to_change(self, actor: Actor, case_id: UUID, action: str) -> HomeCareCase:
        if not (action == "visit" and actor.role == Role.PROVIDER):
            return self.case_for(actor, case_id)
        case = self._load(case_id)
        # Another organisation is refused outright. Before any provider is assigned, the
        # aggregate answers instead: visits cannot be logged at this step.
        if not actor.facility_id or (
            case.provider_id is not None and str(case.provider_id) != actor.facility_id
        ):
            raise NotPermitted(action)
        return case

    def _load(self, case_id: UUID) -> HomeCareCase:
        try:
            case = self.repository.get(case_id)
        except AggregateNotFoundError:
            raise CaseNotFound(case_id) from None
        if not isinstance(case, HomeCareCase):
            raise CaseNotFound(case_id)
        return case

    def case_for(self, actor: Actor, case_id: UUID) -> HomeCareCase:
        """The case if this actor may see it; otherwise not found, as if it did not exist."""
        case = self._load(case_id)
        if not may_see_home_care(actor, case):
            raise CaseNotFound(case_id)
        return case

    def case_history(self, case_id: UUID, *, as_of_version: int | None = None) -> HomeCareCase:
        """The case as it stood at an earlier version (auditors' replay)."""
        return self.repository.get(case_id, version=as_of_version)


def _visit_uuid(value: UUID | str | None, refusal: Exception) -> UUID | None:
    """A visit id as a UUID (forms send strings); a malformed one is refused as `refusal`."""
    if not value or isinstance(value, UUID):
        return value or None
    try:
        return UUID(str(value))
    except ValueError:
        raise refusal from None
