"""Facility projects: community care centres, meal canteens, rural support institutions, and the
home-care provider organisations that deliver care; each a stream of dated milestones."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import event

from events.base import AnlaoAggregate
from events.errors import DomainError, IllegalTransition, InvalidApplication


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


class MilestoneOutOfOrder(DomainError):
    """A milestone was skipped, repeated, or dated before the one it follows."""

    code = "milestone_out_of_order"


def _iso(day: str, field: str) -> date:
    try:
        return date.fromisoformat(day)
    except (TypeError, ValueError):
        raise InvalidApplication(field) from None


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
    ) -> FacilityProject:
        """Register a facility project (planned on a date, due by a deadline)."""
        if kind not in Kind.ALL:
            raise InvalidApplication("kind")
        name = (name or "").strip()
        if not 2 <= len(name) <= 60:
            raise InvalidApplication("name")
        if _iso(deadline, "deadline") < _iso(planned_on, "planned_on"):
            raise InvalidApplication("deadline")
        return cls(
            facility_id=facility_id,
            kind=kind,
            name=name,
            district=district,
            street=street,
            community=community,
            deadline=deadline,
            planned_on=planned_on,
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

    @property
    def milestone(self) -> str:
        """The latest milestone reached."""
        return next(reversed(self.milestones))

    @property
    def in_operation(self) -> bool:
        """Open to elders: canteens serve meals, providers make visits."""
        return "in_operation" in self.milestones

    def reach_milestone(self, *, milestone: str, on: str, today: date, actor_id: str) -> None:
        """Record the next milestone, dated no earlier than the last and not in the future."""
        if self.kind == Kind.HOME_CARE_PROVIDER:
            raise IllegalTransition("milestone", self.milestone)
        if milestone not in MILESTONES:
            raise InvalidApplication("milestone")
        expected = MILESTONES[MILESTONES.index(self.milestone) + 1 :][:1]
        if (milestone,) != expected:
            raise MilestoneOutOfOrder(
                milestone, expected=expected[0] if expected else None, current=self.milestone
            )
        day = _iso(on, "on")
        last = _iso(self.milestones[self.milestone], "on")
        if day < last or day > today:
            raise MilestoneOutOfOrder("date", last=last.isoformat(), today=today.isoformat())
        self._milestone_reached(milestone=milestone, on=on, actor_id=actor_id)

    @event("MilestoneReached")
    def _milestone_reached(self, milestone: str, on: str, actor_id: str) -> None:
        self.milestones[milestone] = on

    def revise_deadline(self, *, deadline: str, reason: str, actor_id: str) -> None:
        """Move the deadline (a decision with its reason, kept in the history)."""
        _iso(deadline, "deadline")
        if not (reason or "").strip():
            raise InvalidApplication("reason")
        self._deadline_revised(deadline=deadline, reason=reason.strip(), actor_id=actor_id)

    @event("DeadlineRevised")
    def _deadline_revised(self, deadline: str, reason: str, actor_id: str) -> None:
        self.deadline = deadline
