"""Read model of each home care case's history: one row per event, facts only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Column, Connection, DateTime, Integer, String, Table, Text, Uuid

from events.home_care import HomeCareCase
from projections.bulk import insert_rows, json_text
from projections.tables import metadata

E = HomeCareCase

home_care_timeline = Table(
    "rm_home_care_timeline",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("actor_id", String(36), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("details", Text, nullable=False),  # JSON: the facts the sentence needs
)

_VISIT = ("visit_id", "visit_date", "start", "end", "minutes", "items", "confirmed_by")

# The event attributes each kind of entry shows. Nothing personal: no elder data (events
# carry none), and not the caregiver's name either (the visit list shows it where needed).
DETAILS: dict[type, tuple[str, ...]] = {
    E.Applied: ("reference", "channel", "relation", "disability_level"),
    E.AssessorAssigned: (),
    E.ReturnedForInformation: ("request",),
    E.InformationSupplied: ("reply",),
    E.Rejected: ("reason",),
    E.CareLevelAssessed: ("level", "monthly_hours", "note"),
    E.Approved: ("note",),
    E.ProviderAssigned: ("provider_id", "assigned_on"),
    E.VisitLogged: _VISIT,
    E.VisitCorrected: (*_VISIT, "reason"),
    E.VisitCancelled: ("visit_id", "reason"),
    E.SatisfactionSurveyAnswered: ("scores", "comment"),
    E.FollowUpRecorded: ("note", "needs_attention"),
    E.Closed: ("reason",),
    E.Withdrawn: ("reason",),
}


class HomeCareTimeline:
    """Every step of every home care case, in order, for the family's and staff's timelines."""

    name = "home_care_timeline"
    tables = (home_care_timeline,)
    topics = tuple(get_topic(cls) for cls in DETAILS)

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """Add the entries of a batch of events in one statement."""
        insert_rows(conn, home_care_timeline, [_entry(event) for event in events])


def _entry(event: Any) -> dict[str, Any]:
    details = {name: getattr(event, name) for name in DETAILS[type(event)]}
    return {
        "case_id": event.originator_id,
        "version": event.originator_version,
        "occurred_at": event.timestamp,
        "actor_id": event.actor_id,
        "kind": type(event).__name__,
        "details": json_text(details),
    }
