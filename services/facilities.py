"""Facility projects (care centres, canteens, support institutions) and workforce reports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from events import clock
from events.districts import is_known_place
from events.facility import (
    FacilityProject,
    InvalidFacility,
    Kind,
    WrongFacilityKind,
    may_see_facility,
)
from events.roles import Actor, Role
from events.workforce import AlreadyReported, StaffingReport, report_id
from services.application import AnlaoApplication
from services.errors import CaseNotFound, NotPermitted, StaleCase

_REGISTRATION_NAMESPACE = uuid5(NAMESPACE_URL, "https://anlao.example/facility-registration")
# A facility lives for decades (a canteen's weekly food-safety checks, a centre's inspections):
# a snapshot every so many events bounds loading one to that many events whatever its age
# (bench/aggregate_load.py). Its state is a few short fields, under 1 KB a snapshot.
# Snapshots hold the aggregate's attributes as they are: renaming or retyping one needs
# `FacilityProject.class_version` and an `upcast_v1_v2` for the snapshots already stored.
SNAPSHOT_INTERVAL = 100

# Which roles may take each kind of step; visibility (their district, their facility) and the
# aggregate decide the rest.
ALLOWED: dict[str, tuple[str, ...]] = {
    "milestone": (Role.ADMIN, Role.CASEWORKER),
    "deadline": (Role.ADMIN, Role.CASEWORKER),
    "inspect": (Role.INSPECTOR,),
    "capacity": (Role.ADMIN, Role.CASEWORKER),
}
# Kinds whose staff report caregivers: canteens employ cooks, not caregivers.
REPORTS_STAFFING = (Kind.CARE_CENTRE, Kind.INSTITUTION, Kind.HOME_CARE_PROVIDER)

A = TypeVar("A", bound=Aggregate)


class FacilityService(AnlaoApplication):
    """Programmes 2 and 3 facilities: milestones, inspections, beds, acceptance, staffing."""

    snapshotting_intervals = {FacilityProject: SNAPSHOT_INTERVAL}  # noqa: RUF012 (the library's API)

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env=env)

    # -- registering ---------------------------------------------------------------------------
    def register_facility(
        self,
        actor: Actor,
        *,
        idempotency_key: str,
        kind: str,
        name: str,
        district: str,
        street: str,
        community: str,
        deadline: str,
        planned_on: str,
    ) -> UUID:
        """Register a care centre, canteen or institution project; returns its id.

        Registering twice with the same idempotency key returns the first facility's id.
        """
        facility_id = self.registration_id(actor, idempotency_key)
        if self._exists(facility_id):
            return facility_id
        if not (actor.role == Role.ADMIN or _is_district_caseworker(actor, district)):
            raise NotPermitted("register_facility")
        if kind not in Kind.BUILT:
            raise InvalidFacility("kind")
        return self._register(
            actor,
            facility_id,
            kind,
            name,
            (district, street, community),
            deadline=deadline,
            planned_on=planned_on,
        )

    def register_provider_organisation(
        self,
        actor: Actor,
        *,
        idempotency_key: str,
        name: str,
        district: str,
        street: str,
        community: str,
        since: str,
    ) -> UUID:
        """Register a home-care provider organisation, in operation since `since` (admin only).

        The place is the organisation's office; it may serve elders anywhere in the city.
        """
        facility_id = self.registration_id(actor, idempotency_key)
        if self._exists(facility_id):
            return facility_id
        if actor.role != Role.ADMIN:
            raise NotPermitted("register_provider_organisation")
        return self._register(
            actor,
            facility_id,
            Kind.HOME_CARE_PROVIDER,
            name,
            (district, street, community),
            deadline=since,
            planned_on=since,
        )

    def registration_id(self, actor: Actor, idempotency_key: str) -> UUID:
        """The facility id a registration with this key gets: a repeat finds the first one."""
        return uuid5(_REGISTRATION_NAMESPACE, f"{actor.user_id}:{idempotency_key}")

    def _register(
        self,
        actor: Actor,
        facility_id: UUID,
        kind: str,
        name: str,
        place: tuple[str, str, str],
        *,
        deadline: str,
        planned_on: str,
    ) -> UUID:
        if not is_known_place(*place):
            raise InvalidFacility("community")
        district, street, community = place
        facility = FacilityProject.register(
            facility_id=facility_id,
            kind=kind,
            name=name,
            district=district,
            street=street,
            community=community,
            deadline=deadline,
            planned_on=planned_on,
            actor_id=actor.user_id,
            today=clock.today(),
        )
        # The same registration arriving twice at once: the other one stored the facility.
        with suppress(IntegrityError):
            self.save(facility)
        return facility_id

    # -- milestones and deadline -----------------------------------------------------------------
    def reach_milestone(
        self, actor: Actor, facility_id: UUID, version: int, *, milestone: str, on: str
    ) -> int:
        """Record the next milestone on its date. Returns the facility's new version."""
        return self._act(
            actor,
            facility_id,
            version,
            "milestone",
            lambda f: f.reach_milestone(
                milestone=milestone, on=on, today=clock.today(), actor_id=actor.user_id
            ),
        )

    def revise_deadline(
        self, actor: Actor, facility_id: UUID, version: int, *, deadline: str, reason: str
    ) -> int:
        """Move the project's deadline, saying why."""
        return self._act(
            actor,
            facility_id,
            version,
            "deadline",
            lambda f: f.revise_deadline(deadline=deadline, reason=reason, actor_id=actor.user_id),
        )

    # -- inspections -----------------------------------------------------------------------------
    def log_site_inspection(
        self,
        actor: Actor,
        facility_id: UUID,
        version: int,
        *,
        findings: str,
        follow_up_required: bool,
        photos: Sequence[dict[str, str]] = (),
        inspected_on: str = "",
    ) -> int:
        """A supervision visit by an inspector of the district (dated today unless given)."""
        return self._act(
            actor,
            facility_id,
            version,
            "inspect",
            lambda f: f.log_site_inspection(
                findings=findings,
                follow_up_required=follow_up_required,
                photos=photos,
                inspected_on=inspected_on or clock.today().isoformat(),
                today=clock.today(),
                actor_id=actor.user_id,
            ),
        )

    def log_food_safety_inspection(
        self,
        actor: Actor,
        facility_id: UUID,
        version: int,
        *,
        passed: bool,
        findings: str = "",
        photos: Sequence[dict[str, str]] = (),
        inspected_on: str = "",
    ) -> int:
        """A canteen's food-safety check by an inspector of the district."""
        return self._act(
            actor,
            facility_id,
            version,
            "inspect",
            lambda f: f.log_food_safety_inspection(
                passed=passed,
                findings=findings,
                photos=photos,
                inspected_on=inspected_on or clock.today().isoformat(),
                today=clock.today(),
                actor_id=actor.user_id,
            ),
        )

    # -- institutions ------------------------------------------------------------------------------
    def record_beds(
        self,
        actor: Actor,
        facility_id: UUID,
        version: int,
        *,
        beds_before: int,
        beds_after: int,
        nursing_beds: int,
    ) -> int:
        """An institution's beds before and after renovation, and its nursing beds."""
        return self._act(
            actor,
            facility_id,
            version,
            "capacity",
            lambda f: f.record_beds(
                beds_before=beds_before,
                beds_after=beds_after,
                nursing_beds=nursing_beds,
                actor_id=actor.user_id,
            ),
        )

    def record_rooms(
        self, actor: Actor, facility_id: UUID, version: int, *, rooms: Sequence[str]
    ) -> int:
        """The functional rooms a renovated institution gains (rehab, recreation, counselling)."""
        return self._act(
            actor,
            facility_id,
            version,
            "capacity",
            lambda f: f.record_rooms(rooms=rooms, actor_id=actor.user_id),
        )

    def inspect_acceptance(
        self,
        actor: Actor,
        facility_id: UUID,
        version: int,
        *,
        safe: bool,
        functional: bool,
        well_managed: bool,
        photos: Sequence[dict[str, str]],
        remarks: str = "",
        inspected_on: str = "",
    ) -> int:
        """The acceptance check of a completed institution: safe, functional, well managed."""
        return self._act(
            actor,
            facility_id,
            version,
            "inspect",
            lambda f: f.inspect_acceptance(
                safe=safe,
                functional=functional,
                well_managed=well_managed,
                remarks=remarks,
                photos=photos,
                inspected_on=inspected_on or clock.today().isoformat(),
                today=clock.today(),
                actor_id=actor.user_id,
            ),
        )

    # -- reading ---------------------------------------------------------------------------------
    def facility_for(self, actor: Actor, facility_id: UUID) -> FacilityProject:
        """The facility if this actor may see it; otherwise not found, as if it did not exist."""
        facility = self._get(facility_id, FacilityProject)
        if not may_see_facility(actor, facility.id, facility.district):
            raise CaseNotFound(facility_id)
        return facility

    def _get(self, aggregate_id: UUID, cls: type[A]) -> A:
        try:
            found = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise CaseNotFound(aggregate_id) from None
        if not isinstance(found, cls):
            raise CaseNotFound(aggregate_id)
        return found

    # -- workforce -------------------------------------------------------------------------------
    def report_staffing(
        self,
        actor: Actor,
        *,
        organisation_id: UUID,
        period: str,
        caregivers: int,
        residents_or_clients: int,
        hires: int,
        departures: int,
        trained: int,
    ) -> UUID:
        """A facility's staffing for one month ("YYYY-MM"), once; returns the report's id."""
        self._check_reporter(actor, organisation_id)
        facility = self._get(organisation_id, FacilityProject)
        if facility.kind not in REPORTS_STAFFING:
            raise WrongFacilityKind("report_staffing", facility.kind)
        if self._exists(report_id(organisation_id, period)):
            raise AlreadyReported(period, period=period)
        report = StaffingReport.report(
            organisation_id=organisation_id,
            period=period,
            district=facility.district,
            kind=facility.kind,
            today=clock.today(),
            actor_id=actor.user_id,
            figures={
                "caregivers": caregivers,
                "residents_or_clients": residents_or_clients,
                "hires": hires,
                "departures": departures,
                "trained": trained,
            },
        )
        try:
            self.save(report)
        except IntegrityError:  # the same month reported at the same moment by someone else
            raise AlreadyReported(period, period=period) from None
        return report.id

    def correct_staffing(
        self,
        actor: Actor,
        organisation_id: UUID,
        period: str,
        version: int,
        *,
        caregivers: int,
        residents_or_clients: int,
        hires: int,
        departures: int,
        trained: int,
        reason: str,
    ) -> int:
        """Replace a month's figures with a correction and its reason; returns the new version."""
        report = self.staffing_for(actor, organisation_id, period)
        if report.version != version:
            raise StaleCase(report.id, expected=version, current=report.version)
        report.correct(
            figures={
                "caregivers": caregivers,
                "residents_or_clients": residents_or_clients,
                "hires": hires,
                "departures": departures,
                "trained": trained,
            },
            reason=reason,
            actor_id=actor.user_id,
        )
        return self._save(report, version)

    def staffing_for(self, actor: Actor, organisation_id: UUID, period: str) -> StaffingReport:
        """A facility's report for a month, for its provider or an admin (the correction form)."""
        self._check_reporter(actor, organisation_id)
        return self._get(report_id(organisation_id, period), StaffingReport)

    @staticmethod
    def _check_reporter(actor: Actor, organisation_id: UUID) -> None:
        # A provider reports for its own facility only; checked before anything is looked up,
        # so a refusal tells nothing about another facility's reports.
        own = actor.role == Role.PROVIDER and actor.facility_id == str(organisation_id)
        if not (own or actor.role == Role.ADMIN):
            raise NotPermitted("report_staffing")

    # -- one way to change a facility --------------------------------------------------------------
    def _act(
        self,
        actor: Actor,
        facility_id: UUID,
        version: int,
        action: str,
        change: Callable[[FacilityProject], object],
    ) -> int:
        facility = self.facility_for(actor, facility_id)
        if actor.role not in ALLOWED[action]:
            raise NotPermitted(action)
        return self._change(facility, version, change)


def _is_district_caseworker(actor: Actor, district: str) -> bool:
    return actor.role == Role.CASEWORKER and bool(actor.district) and actor.district == district
