"""Read model of each enrolment's history: one row per event, the facts a plain sentence needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Column, Connection, DateTime, Integer, String, Table, Text, Uuid

from events.meal import MealEnrolment
from projections.bulk import insert_rows, json_text
from projections.tables import metadata

E = MealEnrolment

meal_timeline = Table(
    "rm_meal_timeline",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("actor_id", String(36), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("details", Text, nullable=False),  # JSON: the facts the sentence needs
)

# The event attributes each kind of entry shows; nothing personal is in any of them
# (dietary needs are kept in the person store, never in events).
DETAILS: dict[type, tuple[str, ...]] = {
    E.Applied: ("reference", "channel", "relation", "canteen_id", "mode", "subsidy_category"),
    E.EnrolmentApproved: ("enrolled_on", "note"),
    E.EnrolmentRejected: ("reason",),
    E.ReturnedForInformation: ("request",),
    E.InformationSupplied: ("reply",),
    E.Withdrawn: ("reason", "left_on"),
    E.EnrolmentEnded: ("reason", "ended_on"),
}


class MealEnrolmentTimeline:
    """Every step of every enrolment, in order, for the family's and staff's timelines."""

    name = "meal_timeline"
    tables = (meal_timeline,)
    topics = tuple(get_topic(cls) for cls in DETAILS)

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """Add the entries of a batch of events in one statement."""
        insert_rows(conn, meal_timeline, [_entry(event) for event in events])


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
