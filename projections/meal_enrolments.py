"""Read model of meal-service enrolments: one row per enrolment, for lists, queues and forms."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Uuid,
)

from events.meal import EnrolmentStep, MealEnrolment
from projections.bulk import insert_rows, update_rows
from projections.tables import metadata

E = MealEnrolment

meal_enrolments = Table(
    "rm_meal_enrolments",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("reference", String(20), nullable=False, unique=True),
    Column("person_id", Uuid, nullable=False),
    Column("canteen_id", Uuid, nullable=False),
    Column("mode", String(10), nullable=False),
    Column("subsidy_category", String(20), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("applicant_user_id", String(36), nullable=False),
    Column("relation", String(20), nullable=False),
    Column("district", String(10), nullable=False),
    Column("street", String(40), nullable=False),
    Column("community", String(40), nullable=False),
    Column("step", String(20), nullable=False),
    Column("step_since", DateTime(timezone=True), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("enrolled_on", Date),  # first day the canteen may count the elder's meals
    Column("left_on", Date),  # last such day, once withdrawn or ended
    # Lists go longest-waiting first (step_since, case_id) within a scope: keyset pages.
    Index("ix_rm_meal_enrolments_district_wait", "district", "step_since", "case_id"),
    Index("ix_rm_meal_enrolments_applicant", "applicant_user_id", "step_since", "case_id"),
    Index("ix_rm_meal_enrolments_canteen", "canteen_id", "step_since", "case_id"),
    Index("ix_rm_meal_enrolments_step_wait", "step", "step_since", "case_id"),
    Index("ix_rm_meal_enrolments_step_district", "step", "district", "step_since"),
)


def _step(step: str) -> Callable[[Any], dict[str, Any]]:
    return lambda e: {"step": step, "step_since": e.timestamp}


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


# Columns each event changes, besides version and updated_at.
_CHANGES: dict[type, Callable[[Any], dict[str, Any]]] = {
    E.EnrolmentApproved: lambda e: (
        _step(EnrolmentStep.APPROVED)(e) | {"enrolled_on": _day(e.enrolled_on)}
    ),
    E.EnrolmentRejected: _step(EnrolmentStep.REJECTED),
    E.ReturnedForInformation: _step(EnrolmentStep.RETURNED),
    E.InformationSupplied: _step(EnrolmentStep.SUBMITTED),
    E.Withdrawn: lambda e: _step(EnrolmentStep.WITHDRAWN)(e) | {"left_on": _day(e.left_on)},
    E.EnrolmentEnded: lambda e: _step(EnrolmentStep.ENDED)(e) | {"left_on": _day(e.ended_on)},
}


class MealEnrolmentList:
    """Current state of every meal-service enrolment; rows change only by events."""

    name = "meal_enrolments"
    tables = (meal_enrolments,)
    topics = tuple(get_topic(cls) for cls in (E.Applied, *_CHANGES))

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """Fold a batch into new rows and per-enrolment changes; write them in few statements."""
        created: dict[Any, dict[str, Any]] = {}
        changed: dict[Any, dict[str, Any]] = {}
        for event in events:
            case_id = event.originator_id
            if isinstance(event, E.Applied):
                created[case_id] = _new_row(event)
                continue
            values = _CHANGES[type(event)](event)
            values |= {"version": event.originator_version, "updated_at": event.timestamp}
            (created.get(case_id) or changed.setdefault(case_id, {})).update(values)
        insert_rows(conn, meal_enrolments, list(created.values()))
        for rows in _grouped_by_columns(changed):
            update_rows(conn, meal_enrolments, ("case_id",), rows)


def _new_row(event: Any) -> dict[str, Any]:
    return {
        "case_id": event.originator_id,
        "reference": event.reference,
        "person_id": event.person_id,
        "canteen_id": event.canteen_id,
        "mode": event.mode,
        "subsidy_category": event.subsidy_category,
        "channel": event.channel,
        "applicant_user_id": event.applicant_user_id,
        "relation": event.relation,
        "district": event.district,
        "street": event.street,
        "community": event.community,
        "step": EnrolmentStep.SUBMITTED,
        "step_since": event.timestamp,
        "applied_at": event.timestamp,
        "updated_at": event.timestamp,
        "version": event.originator_version,
        "enrolled_on": None,
        "left_on": None,
    }


def _grouped_by_columns(changed: dict[Any, dict[str, Any]]) -> list[list[dict[str, Any]]]:
    # executemany needs one column set per statement; a batch has only a handful of them.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for case_id, values in changed.items():
        row = {"case_id": case_id} | dict(sorted(values.items()))
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.values())
