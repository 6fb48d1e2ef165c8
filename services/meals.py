"""Meal service (老年助餐): enrolments at canteens and the meals each canteen serves per day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from events import clock
from events.districts import is_known_place
from events.elder import clean_profile
from events.errors import InvalidApplication
from events.meal import TEXT_LIMIT, MealEnrolment, check_canteen, check_choices
from events.meal_access import may_see_canteen, may_see_enrolment, provides_for
from events.meal_day import CanteenDay, DayAlreadyRecorded, canteen_day_id, parse_day, served_ids
from events.roles import Actor, Role
from services.application import AnlaoApplication
from services.errors import CaseNotFound, NotPermitted, StaleCase
from services.persons import PersonStore
from services.references import reference_for

_IDEMPOTENCY_NAMESPACE = uuid5(NAMESPACE_URL, "https://anlao.example/meal-application")
REFERENCE_PREFIX = "ZC"  # 助餐

# Which roles may take each step; the aggregate decides whether the step is legal now.
ALLOWED: dict[str, tuple[str, ...]] = {
    "review": (Role.CASEWORKER,),
    "supply_information": (Role.FAMILY, Role.COMMUNITY_WORKER),
    "withdraw": (Role.FAMILY, Role.COMMUNITY_WORKER, Role.CASEWORKER),
    "end": (Role.CASEWORKER,),
}


class MealService(AnlaoApplication):
    """Programme 2 meal service: applications, approvals, daily meal records and corrections."""

    # Reads the facility snapshots FacilityService takes (a canteen or provider organisation is
    # loaded on every meal day or assignment); it takes none of its own.
    is_snapshotting_enabled = True

    def __init__(self, env: dict[str, str], persons: PersonStore) -> None:
        super().__init__(env=env)
        self.persons = persons

    @staticmethod
    def today() -> date:
        """The city's calendar date now (or at the frozen demo/test time)."""
        return clock.today()

    # -- applying --------------------------------------------------------------------------
    def submit_application(
        self,
        actor: Actor,
        *,
        idempotency_key: str,
        elder: dict[str, Any],
        relation: str,
        canteen_id: UUID,
        mode: str,
        subsidy_category: str,
        district: str,
        street: str,
        community: str,
        dietary_needs: str = "",
    ) -> UUID:
        """Apply for an elder to join a canteen's meal service; returns the enrolment's id.

        Submitting twice with the same idempotency key returns the first enrolment's id.
        """
        case_id = self.application_id(actor, idempotency_key)
        if self._get(case_id) is not None:
            return case_id
        channel = self._channel_for(actor, district, community)
        if not is_known_place(district, street, community):
            raise InvalidApplication("community")
        if len(dietary_needs or "") > TEXT_LIMIT:
            raise InvalidApplication("dietary_needs", limit=TEXT_LIMIT)
        canteen = check_canteen(self._get(canteen_id), district=district)
        today = self.today()
        profile, elder_id = clean_profile(elder, today)
        choices = {"mode": mode, "subsidy_category": subsidy_category, "relation": relation}
        check_choices(elder_id=elder_id, today=today, **choices)
        # Dietary needs are health data: erasable with the person, never in the event log.
        dietary = (dietary_needs or "").strip()
        with self.persons.for_application(case_id, profile, dietary) as person_id:
            enrolment = MealEnrolment.open(
                case_id=case_id,
                reference=reference_for(case_id, prefix=REFERENCE_PREFIX),
                person_id=person_id,
                elder_id=elder_id,
                today=today,
                canteen=canteen,
                channel=channel,
                applicant_user_id=actor.user_id,
                district=district,
                street=street,
                community=community,
                actor_id=actor.user_id,
                **choices,
            )
            self._save_new(enrolment)
        return case_id

    def application_id(self, actor: Actor, idempotency_key: str) -> UUID:
        """The enrolment id a submission with this key gets: a repeated submit finds it."""
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
    def approve(self, actor: Actor, case_id: UUID, version: int, *, note: str = "") -> int:
        """Enrol the elder from today. Returns the enrolment's new version."""
        return self._act(
            actor,
            case_id,
            version,
            "review",
            lambda e: e.approve(actor_id=actor.user_id, today=self.today(), note=note),
        )

    def reject(self, actor: Actor, case_id: UUID, version: int, *, reason: str) -> int:
        """Not enrolled, with the reason the family will read."""
        return self._act(
            actor,
            case_id,
            version,
            "review",
            lambda e: e.reject(actor_id=actor.user_id, reason=reason),
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
            lambda e: e.return_for_information(actor_id=actor.user_id, request=request),
        )

    def supply_information(self, actor: Actor, case_id: UUID, version: int, *, reply: str) -> int:
        """The family's answer to a return."""
        return self._act(
            actor,
            case_id,
            version,
            "supply_information",
            lambda e: e.supply_information(actor_id=actor.user_id, reply=reply),
        )

    def withdraw(self, actor: Actor, case_id: UUID, version: int, *, reason: str) -> int:
        """The family no longer wants the meals (before approval, or while enrolled)."""
        return self._act(
            actor,
            case_id,
            version,
            "withdraw",
            lambda e: e.withdraw(actor_id=actor.user_id, reason=reason, today=self.today()),
        )

    def end_enrolment(self, actor: Actor, case_id: UUID, version: int, *, reason: str) -> int:
        """Stop the service for an enrolled elder, saying why."""
        return self._act(
            actor,
            case_id,
            version,
            "end",
            lambda e: e.end(actor_id=actor.user_id, reason=reason, today=self.today()),
        )

    def _act(
        self,
        actor: Actor,
        case_id: UUID,
        version: int,
        action: str,
        change: Callable[[MealEnrolment], object],
    ) -> int:
        enrolment = self.enrolment_for(actor, case_id)
        if actor.role not in ALLOWED[action]:
            raise NotPermitted(action)
        return self._change(enrolment, version, change)

    def enrolment_for(self, actor: Actor, case_id: UUID) -> MealEnrolment:
        """The enrolment if this actor may see it; otherwise not found, as if it did not exist."""
        enrolment = self._get(case_id)
        if not isinstance(enrolment, MealEnrolment) or not may_see_enrolment(actor, enrolment):
            raise CaseNotFound(case_id)
        return enrolment

    # -- a canteen's days ----------------------------------------------------------------------
    def record_day(
        self,
        actor: Actor,
        canteen_id: UUID,
        day: date | str,
        served: list[str],
        walk_in_count: int,
    ) -> int:
        """The canteen's provider records a day's meals (once); returns the day's version."""
        if not provides_for(actor, canteen_id):
            raise NotPermitted("record_meals")
        when = parse_day(day)
        ids = served_ids(served)
        existing = self._get(canteen_day_id(canteen_id, when))
        if existing is not None:
            raise DayAlreadyRecorded(when.isoformat(), version=existing.version)
        record = CanteenDay.record(
            canteen=self._get(canteen_id),
            day=when,
            served=ids,
            walk_in_count=walk_in_count,
            enrolments=self._enrolments(ids),
            today=self.today(),
            actor_id=actor.user_id,
        )
        try:
            self.save(record)
        except IntegrityError:  # recorded at the same moment from another screen
            current = self.repository.get(record.id).version
            raise DayAlreadyRecorded(when.isoformat(), version=current) from None
        return record.version

    def correct_day(
        self,
        actor: Actor,
        canteen_id: UUID,
        day: date | str,
        expected_version: int,
        served: list[str],
        walk_in_count: int,
        reason: str,
    ) -> int:
        """Replace a recorded day's figures by a correcting event; returns the new version."""
        if not provides_for(actor, canteen_id):
            raise NotPermitted("correct_meals")
        record = self.day_for(actor, canteen_id, day)
        if record.version != expected_version:
            raise StaleCase(record.id, expected=expected_version, current=record.version)
        ids = served_ids(served)
        record.correct(
            canteen=self._get(canteen_id),
            served=ids,
            walk_in_count=walk_in_count,
            reason=reason,
            enrolments=self._enrolments(ids),
            actor_id=actor.user_id,
        )
        try:
            self.save(record)
        except IntegrityError:
            current = self.repository.get(record.id).version
            raise StaleCase(record.id, expected=expected_version, current=current) from None
        return record.version

    def day_for(self, actor: Actor, canteen_id: UUID, day: date | str) -> CanteenDay:
        """A canteen's recorded day if this actor may see it; otherwise not found."""
        record = self._get(canteen_day_id(canteen_id, parse_day(day)))
        if not isinstance(record, CanteenDay) or not may_see_canteen(
            actor, record.canteen_id, record.district
        ):
            raise CaseNotFound(canteen_id)
        return record

    def _enrolments(self, ids: list[str]) -> dict[str, MealEnrolment]:
        """The served enrolments that exist; the day aggregate judges each of them."""
        found = {i: self._get(UUID(i)) for i in ids}
        return {i: e for i, e in found.items() if isinstance(e, MealEnrolment)}

    def _get(self, aggregate_id: object) -> Aggregate | None:
        try:
            return self.repository.get(UUID(str(aggregate_id)))
        except (AggregateNotFoundError, ValueError):
            return None
