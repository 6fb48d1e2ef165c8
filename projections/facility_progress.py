"""Read model of facility progress: one row per facility, its milestones, deadline, beds,
rooms, acceptance and latest inspections (backward scheduling, progress on the wall)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
)

from events.facility import FacilityProject, Kind
from projections.facility_rows import Row, RowFolder
from projections.tables import metadata

E = FacilityProject

facility_progress = Table(
    "rm_facility_progress",
    metadata,
    Column("facility_id", Uuid, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("name", String(60), nullable=False),
    Column("district", String(10), nullable=False),
    Column("street", String(40), nullable=False),
    Column("community", String(40), nullable=False),
    Column("milestone", String(30), nullable=False),
    Column("milestone_on", Date, nullable=False),
    Column("milestones", Text, nullable=False),  # JSON {milestone: "YYYY-MM-DD"}, in order
    Column("deadline", Date, nullable=False),
    Column("beds_before", Integer),
    Column("beds_after", Integer),
    Column("nursing_beds", Integer),
    Column("rooms_added", Text, nullable=False),  # JSON list of room codes
    Column("acceptance_rounds", Integer, nullable=False),
    Column("acceptance_passed", Boolean),
    Column("accepted_on", Date),
    Column("last_site_inspection_on", Date),
    Column("follow_up_required", Boolean),
    Column("last_food_safety_on", Date),
    Column("food_safety_passed", Boolean),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_rm_facility_progress_district_kind", "district", "kind", "name"),
    Index("ix_rm_facility_progress_deadline", "deadline", "milestone"),
)


def _day(iso: str) -> date:
    return date.fromisoformat(iso)


def _new_row(e: Any) -> Row:
    first = next(iter(_initial_milestones(e)))
    return {
        "facility_id": e.originator_id,
        "kind": e.kind,
        "name": e.name,
        "district": e.district,
        "street": e.street,
        "community": e.community,
        "milestone": first,
        "milestone_on": _day(e.planned_on),
        "milestones": _initial_milestones(e),
        "deadline": _day(e.deadline),
        "beds_before": None,
        "beds_after": None,
        "nursing_beds": None,
        "rooms_added": [],
        "acceptance_rounds": 0,
        "acceptance_passed": None,
        "accepted_on": None,
        "last_site_inspection_on": None,
        "follow_up_required": None,
        "last_food_safety_on": None,
        "food_safety_passed": None,
        "registered_at": e.timestamp,
        "updated_at": e.timestamp,
        "version": e.originator_version,
    }


def _initial_milestones(e: Any) -> dict[str, str]:
    # The aggregate's own rule: provider organisations start in operation.
    first = "in_operation" if e.kind == Kind.HOME_CARE_PROVIDER else "planned"
    return {first: e.planned_on}


def _milestone(row: Row, e: Any) -> None:
    row["milestones"][e.milestone] = e.on
    row |= {"milestone": e.milestone, "milestone_on": _day(e.on)}


def _deadline(row: Row, e: Any) -> None:
    row["deadline"] = _day(e.deadline)


def _site(row: Row, e: Any) -> None:
    # Inspections may be logged days late: the latest-dated visit decides the flag.
    day, last = _day(e.inspected_on), row["last_site_inspection_on"]
    if last is None or day >= last:
        row |= {"last_site_inspection_on": day, "follow_up_required": e.follow_up_required}


def _food_safety(row: Row, e: Any) -> None:
    day, last = _day(e.inspected_on), row["last_food_safety_on"]
    if last is None or day >= last:
        row |= {"last_food_safety_on": day, "food_safety_passed": e.passed}


def _beds(row: Row, e: Any) -> None:
    row |= {
        "beds_before": e.beds_before,
        "beds_after": e.beds_after,
        "nursing_beds": e.nursing_beds,
    }


def _rooms(row: Row, e: Any) -> None:
    row["rooms_added"] = list(e.rooms)


def _acceptance(row: Row, e: Any) -> None:
    row |= {"acceptance_rounds": e.round, "acceptance_passed": e.passed}
    row["accepted_on"] = _day(e.inspected_on) if e.passed else None


_FOLDER = RowFolder(
    facility_progress,
    "facility_id",
    E.Registered,
    _new_row,
    {
        E.MilestoneReached: _milestone,
        E.DeadlineRevised: _deadline,
        E.SiteInspectionLogged: _site,
        E.FoodSafetyInspectionLogged: _food_safety,
        E.BedsRecorded: _beds,
        E.RoomsRecorded: _rooms,
        E.AcceptanceInspected: _acceptance,
    },
    json_columns=("milestones", "rooms_added"),
)


class FacilityProgress:
    """Where every facility project stands, for progress boards, late lists and forms."""

    name = "facility_progress"
    tables = (facility_progress,)
    topics = tuple(get_topic(cls) for cls in _FOLDER.event_types)

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """Fold a batch into one row per facility."""
        _FOLDER.apply(conn, events)
