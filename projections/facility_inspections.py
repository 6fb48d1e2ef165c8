"""Read model of facility inspections: site visits, food-safety checks and acceptance checks,
one row each, with findings and photos, for a facility's inspection list."""

from __future__ import annotations

import json
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

from events.facility import ACCEPTANCE_STANDARD, FacilityProject
from projections.bulk import insert_rows
from projections.tables import metadata

E = FacilityProject


class InspectionKind:
    """What an inspection row records; stored as plain strings."""

    SITE = "site"
    FOOD_SAFETY = "food_safety"
    ACCEPTANCE = "acceptance"

    ALL = (SITE, FOOD_SAFETY, ACCEPTANCE)


facility_inspections = Table(
    "rm_facility_inspections",
    metadata,
    Column("facility_id", Uuid, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("inspected_on", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("actor_id", String(36), nullable=False),
    Column("findings", Text, nullable=False),  # site and food safety: findings; acceptance: remarks
    Column("follow_up_required", Boolean),  # site inspections
    Column("passed", Boolean),  # food safety and acceptance
    Column("checks", Text, nullable=False),  # JSON: acceptance's standard and round, else {}
    Column("photos", Text, nullable=False),  # JSON list of {"sha256", "media_type"}
    Index("ix_rm_facility_inspections_facility_day", "facility_id", "inspected_on"),
)

_KINDS: dict[type, str] = {
    E.SiteInspectionLogged: InspectionKind.SITE,
    E.FoodSafetyInspectionLogged: InspectionKind.FOOD_SAFETY,
    E.AcceptanceInspected: InspectionKind.ACCEPTANCE,
}


class FacilityInspections:
    """Every inspection of every facility, in the order they were recorded."""

    name = "facility_inspections"
    tables = (facility_inspections,)
    topics = tuple(get_topic(cls) for cls in _KINDS)

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """Add the rows of a batch in one statement."""
        insert_rows(conn, facility_inspections, [_row(event) for event in events])


def _row(e: Any) -> dict[str, Any]:
    kind = _KINDS[type(e)]
    acceptance = kind == InspectionKind.ACCEPTANCE
    checks = (
        {c: getattr(e, c) for c in ACCEPTANCE_STANDARD} | {"round": e.round} if acceptance else {}
    )
    return {
        "facility_id": e.originator_id,
        "version": e.originator_version,
        "kind": kind,
        "inspected_on": date.fromisoformat(e.inspected_on),
        "recorded_at": e.timestamp,
        "actor_id": e.actor_id,
        "findings": e.remarks if acceptance else e.findings,
        "follow_up_required": e.follow_up_required if kind == InspectionKind.SITE else None,
        "passed": None if kind == InspectionKind.SITE else e.passed,
        "checks": json.dumps(checks),
        "photos": json.dumps(e.photos),
    }
