"""Read model of staffing reports: one row per facility and month, the latest correction's
figures in place of the first report's, for workforce ratios and turnover."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Column, Connection, DateTime, Index, Integer, String, Table, Text, Uuid

from events.workforce import FIGURES, StaffingReport
from projections.facility_rows import Row, RowFolder
from projections.tables import metadata

E = StaffingReport

staffing_reports = Table(
    "rm_staffing_reports",
    metadata,
    Column("report_id", Uuid, primary_key=True),
    Column("organisation_id", Uuid, nullable=False),
    Column("period", String(7), nullable=False),  # "YYYY-MM": sorts and compares as text
    Column("district", String(10), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("caregivers", Integer, nullable=False),
    Column("residents_or_clients", Integer, nullable=False),
    Column("hires", Integer, nullable=False),
    Column("departures", Integer, nullable=False),
    Column("trained", Integer, nullable=False),
    Column("corrections", Integer, nullable=False),
    Column("last_reason", Text),
    Column("reported_by", String(36), nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_rm_staffing_reports_organisation", "organisation_id", "period", unique=True),
    Index("ix_rm_staffing_reports_district", "district", "period"),
)


def _new_row(e: Any) -> Row:
    return {
        "report_id": e.originator_id,
        "organisation_id": e.organisation_id,
        "period": e.period,
        "district": e.district,
        "kind": e.kind,
        **{f: getattr(e, f) for f in FIGURES},
        "corrections": 0,
        "last_reason": None,
        "reported_by": e.actor_id,
        "reported_at": e.timestamp,
        "updated_at": e.timestamp,
        "version": e.originator_version,
    }


def _corrected(row: Row, e: Any) -> None:
    row |= {f: getattr(e, f) for f in FIGURES}
    row |= {"corrections": row["corrections"] + 1, "last_reason": e.reason}


_FOLDER = RowFolder(staffing_reports, "report_id", E.Reported, _new_row, {E.Corrected: _corrected})


class StaffingReports:
    """Each facility's staffing per month, as last corrected."""

    name = "staffing_reports"
    tables = (staffing_reports,)
    topics = tuple(get_topic(cls) for cls in _FOLDER.event_types)

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """Fold a batch into one row per report."""
        _FOLDER.apply(conn, events)
