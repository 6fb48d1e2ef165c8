"""The retrofit programme's application service: every command that changes a retrofit case."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError

from events import clock
from events.access import may_see
from events.checklist import CURRENT_CHECKLIST_VERSION, checklist
from events.districts import is_known_place
from events.elder import RELATIONS, clean_profile
from events.errors import InvalidApplication, InvalidAssessment
from events.retrofit import RetrofitCase
from events.roles import Actor, Role
from services.application import AnlaoApplication
from services.errors import CaseNotFound, NotPermitted
from services.persons import PersonStore
from services.references import reference_for

_IDEMPOTENCY_NAMESPACE = uuid5(NAMESPACE_URL, "https://anlao.example/retrofit-application")

# Which roles may take each step; the aggregate decides whether the step is legal now.
ALLOWED: dict[str, tuple[str, ...]] = {
    "review": (Role.CASEWORKER,),
    "supply_information": (Role.FAMILY, Role.COMMUNITY_WORKER),
    "assess": (Role.ASSESSOR,),
    "confirm_plan": (Role.FAMILY, Role.COMMUNITY_WORKER),
    "assign_contractor": (Role.CASEWORKER,),
    "works": (Role.CASEWORKER, Role.INSPECTOR),
    "inspect": (Role.INSPECTOR,),
    "rectification": (Role.CASEWORKER, Role.INSPECTOR),
    "survey": (Role.FAMILY, Role.COMMUNITY_WORKER),
    "follow_up": (Role.CASEWORKER, Role.COMMUNITY_WORKER),
    "close": (Role.CASEWORKER,),
    "withdraw": (Role.FAMILY, Role.COMMUNITY_WORKER, Role.CASEWORKER),
}


class RetrofitService(AnlaoApplication):
    """Programme 1 (适老化改造): applications, reviews, assessment, works, acceptance, surveys."""

    def __init__(self, env: dict[str, str], persons: PersonStore, subsidy_cap: Decimal) -> None:
        super().__init__(env=env)
        self.persons = persons
        self.subsidy_cap = subsidy_cap

    # -- applying --------------------------------------------------------------------------
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

        Submitting twice with the same idempotency key returns the first case's id.
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
        today = clock.today()
        profile, elder_id = clean_profile(elder, today)
        with self.persons.for_application(case_id, profile, (needs or "").strip()) as person_id:
            case = RetrofitCase.open(
                case_id=case_id,
                reference=reference_for(case_id),
                person_id=person_id,
                elder_id=elder_id,
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

    # -- the steps after applying ------------------------------------------------------------
    def approve(
        self, actor: Actor, case_id: UUID, version: int, *, assessor_id: str, note: str = ""
    ) -> int:
        """Eligible: the named assessor will visit. Returns the case's new version."""
        return self._act(
            actor,
            case_id,
            version,
            "review",
            lambda c: c.approve(actor_id=actor.user_id, assessor_id=assessor_id, note=note),
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

    def return_for_information(
        self, actor: Actor, case_id: UUID, version: int, *, request: str
    ) -> int:
        """Ask the family for what is missing before deciding."""
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

    def assess(
        self,
        actor: Actor,
        case_id: UUID,
        version: int,
        *,
        lines: list[dict[str, Any]],
        note: str = "",
        checklist_version: str = CURRENT_CHECKLIST_VERSION,
    ) -> int:
        """Record the home assessment against a checklist version and this city's subsidy cap."""
        found = checklist(checklist_version)
        if found is None:
            raise InvalidAssessment("checklist_version")
        return self._act(
            actor,
            case_id,
            version,
            "assess",
            lambda c: c.assess(
                actor_id=actor.user_id,
                checklist=found,
                lines=lines,
                subsidy_cap=self.subsidy_cap,
                note=note,
            ),
        )

    def confirm_plan(self, actor: Actor, case_id: UUID, version: int) -> int:
        """The family agrees to the plan and its share of the cost."""
        return self._act(
            actor,
            case_id,
            version,
            "confirm_plan",
            lambda c: c.confirm_plan(actor_id=actor.user_id),
        )

    def assign_contractor(
        self, actor: Actor, case_id: UUID, version: int, *, contractor: str, inspector_id: str
    ) -> int:
        """Name the contractor and the inspector who will accept the works."""
        return self._act(
            actor,
            case_id,
            version,
            "assign_contractor",
            lambda c: c.assign_contractor(
                actor_id=actor.user_id, contractor=contractor, inspector_id=inspector_id
            ),
        )

    def start_works(self, actor: Actor, case_id: UUID, version: int) -> int:
        """Works have begun at the home."""
        return self._act(
            actor, case_id, version, "works", lambda c: c.start_works(actor_id=actor.user_id)
        )

    def log_site_inspection(
        self,
        actor: Actor,
        case_id: UUID,
        version: int,
        *,
        findings: str,
        follow_up_required: bool,
        photos: list[dict[str, str]],
    ) -> int:
        """A supervision visit during works."""
        return self._act(
            actor,
            case_id,
            version,
            "inspect",
            lambda c: c.log_site_inspection(
                actor_id=actor.user_id,
                findings=findings,
                follow_up_required=follow_up_required,
                photos=photos,
            ),
        )

    def complete_works(self, actor: Actor, case_id: UUID, version: int) -> int:
        """The works are finished and wait for acceptance."""
        return self._act(
            actor, case_id, version, "works", lambda c: c.complete_works(actor_id=actor.user_id)
        )

    def inspect_acceptance(
        self,
        actor: Actor,
        case_id: UUID,
        version: int,
        *,
        results: list[dict[str, Any]],
        photos: list[dict[str, str]],
        remarks: str = "",
    ) -> int:
        """The acceptance inspection (验收): every planned item checked, with photos."""
        return self._act(
            actor,
            case_id,
            version,
            "inspect",
            lambda c: c.inspect_acceptance(
                actor_id=actor.user_id, results=results, photos=photos, remarks=remarks
            ),
        )

    def complete_rectification(
        self, actor: Actor, case_id: UUID, version: int, *, note: str
    ) -> int:
        """Failed items were redone; the case goes back for re-inspection."""
        return self._act(
            actor,
            case_id,
            version,
            "rectification",
            lambda c: c.complete_rectification(actor_id=actor.user_id, note=note),
        )

    def answer_survey(
        self,
        actor: Actor,
        case_id: UUID,
        version: int,
        *,
        scores: dict[str, int],
        comment: str = "",
    ) -> int:
        """The family's satisfaction survey after acceptance."""
        return self._act(
            actor,
            case_id,
            version,
            "survey",
            lambda c: c.answer_survey(actor_id=actor.user_id, scores=scores, comment=comment),
        )

    def record_follow_up(
        self, actor: Actor, case_id: UUID, version: int, *, note: str, still_in_use: bool
    ) -> int:
        """A later follow-up visit or call."""
        return self._act(
            actor,
            case_id,
            version,
            "follow_up",
            lambda c: c.record_follow_up(
                actor_id=actor.user_id, note=note, still_in_use=still_in_use
            ),
        )

    def close_case(self, actor: Actor, case_id: UUID, version: int, *, note: str = "") -> int:
        """File the finished case."""
        return self._act(
            actor,
            case_id,
            version,
            "close",
            lambda c: c.close_case(actor_id=actor.user_id, note=note),
        )

    def withdraw(self, actor: Actor, case_id: UUID, version: int, *, reason: str) -> int:
        """The family no longer wants the retrofit (only before works start)."""
        return self._act(
            actor,
            case_id,
            version,
            "withdraw",
            lambda c: c.withdraw(actor_id=actor.user_id, reason=reason),
        )

    # -- one way to change a case -----------------------------------------------------------
    def _act(
        self,
        actor: Actor,
        case_id: UUID,
        version: int,
        action: str,
        change: Callable[[RetrofitCase], object],
    ) -> int:
        case = self.case_for(actor, case_id)
        if actor.role not in ALLOWED[action]:
            raise NotPermitted(action)
        return self._change(case, version, change)

    def case_for(self, actor: Actor, case_id: UUID) -> RetrofitCase:
        """The case if this actor may see it; otherwise not found, as if it did not exist."""
        try:
            case: RetrofitCase = self.repository.get(case_id)
        except AggregateNotFoundError:
            raise CaseNotFound(case_id) from None
        if not isinstance(case, RetrofitCase) or not may_see(actor, case):
            raise CaseNotFound(case_id)
        return case

    def case_history(self, case_id: UUID, *, as_of_version: int | None = None) -> RetrofitCase:
        """The case as it stood at an earlier version (auditors' replay)."""
        return self.repository.get(case_id, version=as_of_version)
