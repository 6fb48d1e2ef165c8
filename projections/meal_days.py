"""Read models of meals served: per canteen and day, and per elder and day; corrections replace."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

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
    Uuid,
    select,
)

from events.meal_day import CanteenDay
from projections.bulk import insert_rows, update_rows
from projections.tables import metadata

E = CanteenDay

meal_days = Table(
    "rm_meal_days",
    metadata,
    Column("day_id", Uuid, primary_key=True),  # the CanteenDay aggregate
    Column("canteen_id", Uuid, nullable=False),
    Column("day", Date, nullable=False),
    Column("district", String(10), nullable=False),
    Column("enrolled_served", Integer, nullable=False),
    Column("walk_ins", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("corrected", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ux_rm_meal_days_canteen_day", "canteen_id", "day", unique=True),
    Index("ix_rm_meal_days_district_day", "district", "day"),
    Index("ix_rm_meal_days_day", "day"),
)

# One row per meal an enrolled elder was served: the per-elder history and "served today".
meals_served = Table(
    "rm_meals_served",
    metadata,
    Column("enrolment_id", Uuid, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("canteen_id", Uuid, nullable=False),
    Column("district", String(10), nullable=False),
    Column("day_id", Uuid, nullable=False, index=True),
)

_FIGURES = ("enrolled_served", "walk_ins", "total", "corrected", "version", "updated_at")


class MealDays:
    """Each canteen's figures per day and each elder's meals; a correction replaces the day."""

    name = "meal_days"
    tables = (meal_days, meals_served)
    topics = (get_topic(E.MealsRecorded), get_topic(E.MealsCorrected))

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """Fold a batch per day, then write new days, changed figures and served rows."""
        recorded_here = {e.originator_id for e in events if isinstance(e, E.MealsRecorded)}
        days = _existing_days(conn, {e.originator_id for e in events} - recorded_here)
        corrected_earlier = set(days)
        served: dict[UUID, list[str]] = {}
        for event in events:
            day_id = event.originator_id
            if isinstance(event, E.MealsRecorded):
                days[day_id] = _new_day(event)
            else:
                days[day_id] |= _figures(event, corrected=True)
            served[day_id] = event.served
        _write_days(conn, days, recorded_here)
        _replace_served(conn, days, served, corrected_earlier)


def _existing_days(conn: Connection, day_ids: set[UUID]) -> dict[UUID, dict[str, Any]]:
    """Days recorded in an earlier batch and corrected in this one (corrections are few)."""
    if not day_ids:
        return {}
    query = select(meal_days).where(meal_days.c.day_id.in_(day_ids))
    return {row.day_id: dict(row._mapping) for row in conn.execute(query)}


def _figures(event: Any, *, corrected: bool) -> dict[str, Any]:
    enrolled = len(event.served)
    return {
        "enrolled_served": enrolled,
        "walk_ins": event.walk_in_count,
        "total": enrolled + event.walk_in_count,
        "corrected": corrected,
        "version": event.originator_version,
        "updated_at": event.timestamp,
    }


def _new_day(event: Any) -> dict[str, Any]:
    return {
        "day_id": event.originator_id,
        "canteen_id": event.canteen_id,
        "day": date.fromisoformat(event.day),
        "district": event.district,
        "recorded_at": event.timestamp,
        **_figures(event, corrected=False),
    }


def _write_days(conn: Connection, days: dict[UUID, dict[str, Any]], new: set[UUID]) -> None:
    inserts = [row for day_id, row in days.items() if day_id in new]
    updates = [
        {"day_id": day_id} | {name: row[name] for name in _FIGURES}
        for day_id, row in days.items()
        if day_id not in new
    ]
    insert_rows(conn, meal_days, inserts)
    update_rows(conn, meal_days, ("day_id",), updates)


def _replace_served(
    conn: Connection,
    days: dict[UUID, dict[str, Any]],
    served: dict[UUID, list[str]],
    corrected_earlier: set[UUID],
) -> None:
    if corrected_earlier:
        conn.execute(meals_served.delete().where(meals_served.c.day_id.in_(corrected_earlier)))
    rows = [
        {
            "enrolment_id": UUID(enrolment_id),
            "day": days[day_id]["day"],
            "canteen_id": days[day_id]["canteen_id"],
            "district": days[day_id]["district"],
            "day_id": day_id,
        }
        for day_id, enrolment_ids in served.items()
        for enrolment_id in enrolment_ids
    ]
    insert_rows(conn, meals_served, rows)
