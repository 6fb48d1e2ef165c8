"""Facility projects: community care centres, meal canteens, rural support institutions, and the
home-care provider organisations that deliver care; each a stream of dated milestones."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from events.access import READ_EVERYTHING
from events.base import AnlaoAggregate
from events.errors import DomainError, IllegalTransition, InvalidAcceptance, ReasonRequired
from events.roles import Actor, Role


class Kind:
    """What a facility is; stored as plain strings."""

    CARE_CENTRE = "care_centre"  # 居家和社区养老服务中心
    CANTEEN = "canteen"  # 助餐食堂
    INSTITUTION = "institution"  # 特困人员供养服务机构 / 敬老院
    HOME_CARE_PROVIDER = "home_care_provider"  # 上门照护服务机构 (an organisation, not a site)

    BUILT = (CARE_CENTRE, CANTEEN, INSTITUTION)
    ALL = (*BUILT, HOME_CARE_PROVIDER)


# The milestones of a built facility, in the only order they may be reached.
MILESTONES = (
    "planned",
    "site_selected",
    "design_approved",
    "tender_awarded",
    "construction_started",
    "main_structure_completed",  # 主体完工 / 封顶 (topped out)
    "fit_out",
    "completed",
    "in_operation",
)
# Functional rooms an institution's renovation may add (康复室, 娱乐室, 心理慰藉室).
ROOMS = ("rehab", "recreation", "counselling")
# The acceptance standard for institutions: 安全、功能完善、管理规范.
ACCEPTANCE_STANDARD = ("safe", "functional", "well_managed")
PHOTO_TYPES = ("image/jpeg", "image/png")
MAX_PHOTOS = 20
MAX_BEDS = 5000  # far above any rural institution: catches a slipped digit, not a real home
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Roles bound to one district: they see that district's facilities.
DISTRICT_STAFF = (
    Role.COMMUNITY_WORKER,
    Role.CASEWORKER,
    Role.ASSESSOR,
    Role.INSPECTOR,
    Role.FINANCE,
)


class InvalidFacility(DomainError):
    """A facility's registration, milestone or deadline answer is missing or malformed
    (detail names the field: kind, name, community, planned_on, deadline, milestone, on, reason)."""

    code = "invalid_facility"


class MilestoneOutOfOrder(DomainError):
    """A milestone was skipped, repeated, or dated before the one it follows or after today.

    detail is the milestone tried (params expected, current), or "before_previous" (params
    last) or "in_future" (params today) for a date out of order.
    """

    code = "milestone_out_of_order"


class WrongFacilityKind(DomainError):
    """The command exists only for another kind of facility (food safety: canteens; beds,
    rooms and acceptance: institutions; milestones and deadlines: built facilities)."""

    code = "wrong_facility_kind"

    def __init__(self, action: str, kind: str) -> None:
        super().__init__(f"{action} not for {kind}", action=action, kind=kind)
        self.action = action
        self.kind = kind


class AcceptanceRequired(DomainError):
    """An institution may open only after it passed the acceptance check."""

    code = "acceptance_required"


class InvalidInspection(DomainError):
    """An inspection's date, photos or result are malformed (detail names the field)."""

    code = "invalid_inspection"


class InvalidBeds(DomainError):
    """Bed counts are not whole numbers from 0 to MAX_BEDS, or nursing beds exceed the total."""

    code = "invalid_beds"


class InvalidRooms(DomainError):
    """Functional rooms must be a list of distinct known rooms."""

    code = "invalid_rooms"


def iso_date(day: object, field: str, error: type[DomainError] = InvalidFacility) -> date:
    """A business date from its ISO string; `error(field)` if it is not one."""
    try:
        return date.fromisoformat(str(day))
    except (TypeError, ValueError):
        raise error(field) from None


def is_whole_number(value: object) -> bool:
    """An int that is not a bool (True must not count as 1 bed or 1 caregiver)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _text(
    value: str, field: str, too_long: type[DomainError], *, required: bool = True, limit: int = 2000
) -> str:
    cleaned = (value or "").strip() if isinstance(value, str) else ""
    if required and not cleaned:
        raise ReasonRequired(field)
    if len(cleaned) > limit:
        raise too_long(field, limit=limit)
    return cleaned


def clean_photos(
    photos: Sequence[dict[str, str]], *, required: bool = False
) -> list[dict[str, str]]:
    """Photo references as services/photos.py stores them: a SHA-256 and a media type each."""
    if not isinstance(photos, list | tuple) or len(photos) > MAX_PHOTOS:
        raise InvalidInspection("photos", limit=MAX_PHOTOS)
    clean = []
    for photo in photos:
        if not isinstance(photo, dict):
            raise InvalidInspection("photos")
        sha, media_type = photo.get("sha256"), photo.get("media_type")
        if not isinstance(sha, str) or not _SHA256.match(sha) or media_type not in PHOTO_TYPES:
            raise InvalidInspection("photos")
        clean.append({"sha256": sha, "media_type": media_type})
    if required and not clean:
        raise InvalidAcceptance("photos")
    return clean


def may_see_facility(actor: Actor, facility_id: UUID, district: str) -> bool:
    """Providers see their own facility, district staff their district's, overseers all."""
    if actor.role == Role.PROVIDER:
        return bool(actor.facility_id) and actor.facility_id == str(facility_id)
    if actor.role in DISTRICT_STAFF:
        return bool(actor.district) and actor.district == district
    return actor.role in READ_EVERYTHING


class FacilityProject(AnlaoAggregate):
    """A facility (or provider organisation) and how far its building or renovation has got."""

    @classmethod
    def register(
        cls,
        *,
        facility_id: UUID,
        kind: str,
        name: str,
        district: str,
        street: str,
        community: str,
        deadline: str,
        planned_on: str,
        actor_id: str,
        today: date | None = None,
    ) -> FacilityProject:
        """Register a facility project (planned on a date, due by a deadline).

        With `today`, a planning date in the future is refused (services always pass it).
        """
        if kind not in Kind.ALL:
            raise InvalidFacility("kind")
        name = (name or "").strip()
        if not 2 <= len(name) <= 60:
            raise InvalidFacility("name")
        planned = iso_date(planned_on, "planned_on")
        if today is not None and planned > today:
            raise InvalidFacility("planned_on", today=today.isoformat())
        due = iso_date(deadline, "deadline")
        if due < planned:
            raise InvalidFacility("deadline", planned_on=planned.isoformat())
        return cls(
            facility_id=facility_id,
            kind=kind,
            name=name,
            district=district,
            street=street,
            community=community,
            deadline=due.isoformat(),
            planned_on=planned.isoformat(),
            actor_id=actor_id,
        )

    @staticmethod
    def create_id(facility_id: UUID, **_: object) -> UUID:
        return facility_id

    @event("Registered")
    def __init__(
        self,
        *,
        facility_id: UUID,
        kind: str,
        name: str,
        district: str,
        street: str,
        community: str,
        deadline: str,
        planned_on: str,
        actor_id: str,
    ) -> None:
        self.kind = kind
        self.name = name
        self.district = district
        self.street = street
        self.community = community
        self.deadline = deadline
        # Provider organisations are not built: they are in operation once registered.
        first = "in_operation" if kind == Kind.HOME_CARE_PROVIDER else "planned"
        self.milestones: dict[str, str] = {first: planned_on}
        self.beds: dict[str, int] | None = None
        self.rooms: list[str] = []
        self.acceptance_rounds = 0
        self.acceptance_passed: bool | None = None
        self.accepted_on: str | None = None

    @property
    def milestone(self) -> str:
        """The latest milestone reached."""
        return next(reversed(self.milestones))

    @property
    def in_operation(self) -> bool:
        """Open to elders: canteens serve meals, providers make visits."""
        return "in_operation" in self.milestones

    # -- guards -------------------------------------------------------------------------------
    def _require_kind(self, action: str, *kinds: str) -> None:
        if self.kind not in kinds:
            raise WrongFacilityKind(action, self.kind)

    def _since(self, action: str, milestone: str) -> date:
        """The date from which `action` is allowed: that of `milestone`, or of opening."""
        reached = self.milestones.get(milestone) or self.milestones.get("in_operation")
        if reached is None:
            raise IllegalTransition(action, self.milestone)
        return iso_date(reached, "on")

    @staticmethod
    def _inspected_on(day: str, earliest: date, today: date) -> str:
        inspected = iso_date(day, "inspected_on", InvalidInspection)
        if not earliest <= inspected <= today:
            raise InvalidInspection(
                "inspected_on", earliest=earliest.isoformat(), today=today.isoformat()
            )
        return inspected.isoformat()

    # -- milestones and deadline ----------------------------------------------------------------
    def reach_milestone(self, *, milestone: str, on: str, today: date, actor_id: str) -> None:
        """Record the next milestone, dated no earlier than the last and not in the future."""
        # Provider organisations are not built: they have no milestones after registration.
        self._require_kind("milestone", *Kind.BUILT)
        if milestone not in MILESTONES:
            raise InvalidFacility("milestone")
        expected = MILESTONES[MILESTONES.index(self.milestone) + 1 :][:1]
        if (milestone,) != expected:
            raise MilestoneOutOfOrder(
                milestone, expected=expected[0] if expected else None, current=self.milestone
            )
        day = iso_date(on, "on")
        last = iso_date(self.milestones[self.milestone], "on")
        if milestone == "in_operation" and self.kind == Kind.INSTITUTION:
            if not self.acceptance_passed:
                raise AcceptanceRequired(rounds=self.acceptance_rounds)
            last = max(last, iso_date(self.accepted_on, "on"))
        if day < last:
            raise MilestoneOutOfOrder("before_previous", last=last.isoformat())
        if day > today:
            raise MilestoneOutOfOrder("in_future", today=today.isoformat())
        self._milestone_reached(milestone=milestone, on=day.isoformat(), actor_id=actor_id)

    @event("MilestoneReached")
    def _milestone_reached(self, milestone: str, on: str, actor_id: str) -> None:
        self.milestones[milestone] = on

    def revise_deadline(self, *, deadline: str, reason: str, actor_id: str) -> None:
        """Move the deadline (a decision with its reason, kept in the history)."""
        self._require_kind("revise_deadline", *Kind.BUILT)
        due, planned = iso_date(deadline, "deadline"), iso_date(self.milestones["planned"], "on")
        if due < planned:
            raise InvalidFacility("deadline", planned_on=planned.isoformat())
        self._deadline_revised(
            deadline=due.isoformat(),
            reason=_text(reason, "reason", InvalidFacility, limit=500),
            actor_id=actor_id,
        )

    @event("DeadlineRevised")
    def _deadline_revised(self, deadline: str, reason: str, actor_id: str) -> None:
        self.deadline = deadline

    # -- inspections ----------------------------------------------------------------------------
    def log_site_inspection(
        self,
        *,
        findings: str,
        follow_up_required: bool,
        photos: Sequence[dict[str, str]],
        inspected_on: str,
        today: date,
        actor_id: str,
    ) -> None:
        """An inspector's supervision visit, once construction has started (or while open)."""
        earliest = self._since("site_inspection", "construction_started")
        if not isinstance(follow_up_required, bool):
            raise InvalidInspection("follow_up_required")
        self._site_inspected(
            findings=_text(findings, "findings", InvalidInspection),
            follow_up_required=follow_up_required,
            photos=clean_photos(photos),
            inspected_on=self._inspected_on(inspected_on, earliest, today),
            actor_id=actor_id,
        )

    @event("SiteInspectionLogged")
    def _site_inspected(
        self,
        findings: str,
        follow_up_required: bool,
        photos: list[dict[str, str]],
        inspected_on: str,
        actor_id: str,
    ) -> None:
        pass

    def log_food_safety_inspection(
        self,
        *,
        passed: bool,
        findings: str,
        photos: Sequence[dict[str, str]],
        inspected_on: str,
        today: date,
        actor_id: str,
    ) -> None:
        """A canteen's food-safety check (食品安全检查), once it is completed or open."""
        self._require_kind("food_safety_inspection", Kind.CANTEEN)
        earliest = self._since("food_safety_inspection", "completed")
        if not isinstance(passed, bool):
            raise InvalidInspection("passed")
        self._food_safety_inspected(
            passed=passed,
            # A failed check must say what was wrong, for the canteen to put it right.
            findings=_text(findings, "findings", InvalidInspection, required=not passed),
            photos=clean_photos(photos),
            inspected_on=self._inspected_on(inspected_on, earliest, today),
            actor_id=actor_id,
        )

    @event("FoodSafetyInspectionLogged")
    def _food_safety_inspected(
        self,
        passed: bool,
        findings: str,
        photos: list[dict[str, str]],
        inspected_on: str,
        actor_id: str,
    ) -> None:
        pass

    # -- institutions: beds, rooms, acceptance ---------------------------------------------------
    def record_beds(
        self, *, beds_before: int, beds_after: int, nursing_beds: int, actor_id: str
    ) -> None:
        """An institution's beds before and after renovation, and how many are nursing beds."""
        self._require_kind("record_beds", Kind.INSTITUTION)
        counts = {
            "beds_before": beds_before,
            "beds_after": beds_after,
            "nursing_beds": nursing_beds,
        }
        for field, value in counts.items():
            if not is_whole_number(value) or not 0 <= value <= MAX_BEDS:
                raise InvalidBeds(field, maximum=MAX_BEDS)
        if nursing_beds > beds_after:
            raise InvalidBeds("nursing_beds", beds_after=beds_after)
        self._beds_recorded(**counts, actor_id=actor_id)

    @event("BedsRecorded")
    def _beds_recorded(
        self, beds_before: int, beds_after: int, nursing_beds: int, actor_id: str
    ) -> None:
        self.beds = {
            "beds_before": beds_before,
            "beds_after": beds_after,
            "nursing_beds": nursing_beds,
        }

    def record_rooms(self, *, rooms: Sequence[str], actor_id: str) -> None:
        """The functional rooms the renovation adds (a subset of ROOMS; replaces the last list)."""
        self._require_kind("record_rooms", Kind.INSTITUTION)
        if not isinstance(rooms, list | tuple | set | frozenset):
            raise InvalidRooms("rooms")
        unknown = [r for r in rooms if r not in ROOMS]
        if unknown:
            raise InvalidRooms("unknown", rooms=unknown)
        if len(set(rooms)) != len(list(rooms)):
            raise InvalidRooms("duplicate")
        self._rooms_recorded(rooms=[r for r in ROOMS if r in rooms], actor_id=actor_id)

    @event("RoomsRecorded")
    def _rooms_recorded(self, rooms: list[str], actor_id: str) -> None:
        self.rooms = list(rooms)

    def inspect_acceptance(
        self,
        *,
        safe: bool,
        functional: bool,
        well_managed: bool,
        remarks: str,
        photos: Sequence[dict[str, str]],
        inspected_on: str,
        today: date,
        actor_id: str,
    ) -> bool:
        """Check a completed institution against "safe, functional, well managed"; a failed
        check can be redone, a passed one lets the institution open. Returns whether it passed."""
        self._require_kind("acceptance", Kind.INSTITUTION)
        if "completed" not in self.milestones or self.in_operation or self.acceptance_passed:
            raise IllegalTransition("acceptance", self.milestone)
        checks: dict[str, Any] = {
            "safe": safe,
            "functional": functional,
            "well_managed": well_managed,
        }
        if not all(isinstance(v, bool) for v in checks.values()):
            raise InvalidAcceptance("standard")
        passed = all(checks.values())
        earliest = iso_date(self.milestones["completed"], "on")
        self._acceptance_inspected(
            **checks,
            passed=passed,
            # A failure must say what to put right before the next check.
            remarks=_text(remarks, "remarks", InvalidInspection, required=not passed),
            photos=clean_photos(photos, required=True),
            inspected_on=self._inspected_on(inspected_on, earliest, today),
            round=self.acceptance_rounds + 1,
            actor_id=actor_id,
        )
        return passed

    @event("AcceptanceInspected")
    def _acceptance_inspected(
        self,
        safe: bool,
        functional: bool,
        well_managed: bool,
        passed: bool,
        remarks: str,
        photos: list[dict[str, str]],
        inspected_on: str,
        round: int,
        actor_id: str,
    ) -> None:
        self.acceptance_rounds = round
        self.acceptance_passed = passed
        if passed:
            self.accepted_on = inspected_on
