"""Read model of care delivered: one row per visit (corrections replace it, cancellations flag
it) and one per satisfaction survey, each with the case's district for hours and rates."""

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
    bindparam,
    select,
    update,
)

from events import clock
from events.home_care import HomeCareCase
from projections.bulk import insert_rows, update_rows
from projections.tables import metadata

E = HomeCareCase

home_care_visits = Table(
    "rm_home_care_visits",
    metadata,
    Column("visit_id", Uuid, primary_key=True),
    Column("case_id", Uuid, nullable=False),
    Column("person_id", Uuid, nullable=False),
    Column("provider_id", Uuid, nullable=False),
    Column("district", String(10), nullable=False),
    Column("community", String(40), nullable=False),
    Column("visit_date", Date, nullable=False),
    Column("start_time", String(5), nullable=False),
    Column("end_time", String(5), nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("items", Text, nullable=False),  # JSON list of item codes
    Column("caregiver", String(30), nullable=False),
    Column("confirmed_by", String(10), nullable=False),
    Column("cancelled", Boolean, nullable=False, default=False),
    Column("cancel_reason", Text),
    Column("corrections", Integer, nullable=False, default=0),
    Column("logged_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_rm_home_care_visits_provider_day", "provider_id", "visit_date"),
    Index("ix_rm_home_care_visits_district_day", "district", "visit_date"),
    Index("ix_rm_home_care_visits_case_day", "case_id", "visit_date"),
)

# Where each case is, so a visit row can carry its district without reading another model.
home_care_case_scope = Table(
    "rm_home_care_case_scope",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("person_id", Uuid, nullable=False),
    Column("district", String(10), nullable=False),
    Column("community", String(40), nullable=False),
)

home_care_surveys = Table(
    "rm_home_care_surveys",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("answered_at", DateTime(timezone=True), nullable=False),
    Column("answered_on", Date, nullable=False),  # the city's calendar day
    Column("district", String(10), nullable=False),
    Column("provider_id", Uuid, nullable=False),
    Column("overall", Integer, nullable=False),
    Column("scores", Text, nullable=False),  # JSON: every question's score
    Index("ix_rm_home_care_surveys_day", "answered_on"),
)

_READS = (
    E.Applied,
    E.VisitLogged,
    E.VisitCorrected,
    E.VisitCancelled,
    E.SatisfactionSurveyAnswered,
)


def _visit_facts(event: Any) -> dict[str, Any]:
    return {
        "visit_date": date.fromisoformat(event.visit_date),
        "start_time": event.start,
        "end_time": event.end,
        "minutes": event.minutes,
        "items": json.dumps(list(event.items)),
        "caregiver": event.caregiver,
        "confirmed_by": event.confirmed_by,
        "updated_at": event.timestamp,
    }


class HomeCareDelivery:
    """Visits and surveys, kept current by events: what care hours and satisfaction read."""

    name = "home_care_delivery"
    tables = (home_care_case_scope, home_care_visits, home_care_surveys)
    topics = tuple(get_topic(cls) for cls in _READS)

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """Fold a batch into new rows and changes per visit, then write them in few statements."""
        scopes = {e.originator_id: _scope(e) for e in events if isinstance(e, E.Applied)}
        wanted = {e.originator_id for e in events if not isinstance(e, E.Applied)}
        known = scopes | _known_scopes(conn, wanted - scopes.keys())
        batch = _Batch()
        for event in events:
            batch.fold(event, known.get(event.originator_id))
        insert_rows(conn, home_care_case_scope, list(scopes.values()))
        batch.write(conn)


class _Batch:
    """The rows one batch adds and the changes it makes to rows already written."""

    def __init__(self) -> None:
        self.visits: dict[Any, dict[str, Any]] = {}
        self.changed: dict[Any, dict[str, Any]] = {}
        self.corrected: dict[Any, int] = {}
        self.surveys: list[dict[str, Any]] = []

    def fold(self, event: Any, scope: dict[str, Any] | None) -> None:
        if isinstance(event, E.VisitLogged):
            self.visits[event.visit_id] = _new_visit(event, scope)
        elif isinstance(event, E.VisitCorrected):
            self._change(event.visit_id, _visit_facts(event))
            if event.visit_id in self.visits:
                self.visits[event.visit_id]["corrections"] += 1
            else:
                self.corrected[event.visit_id] = self.corrected.get(event.visit_id, 0) + 1
        elif isinstance(event, E.VisitCancelled):
            values = {"cancelled": True, "cancel_reason": event.reason}
            self._change(event.visit_id, values | {"updated_at": event.timestamp})
        elif isinstance(event, E.SatisfactionSurveyAnswered):
            self.surveys.append(_survey(event, scope))

    def _change(self, visit_id: Any, values: dict[str, Any]) -> None:
        (self.visits.get(visit_id) or self.changed.setdefault(visit_id, {})).update(values)

    def write(self, conn: Connection) -> None:
        insert_rows(conn, home_care_visits, list(self.visits.values()))
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for visit_id, values in self.changed.items():
            row = {"visit_id": visit_id} | dict(sorted(values.items()))
            groups.setdefault(tuple(row), []).append(row)
        for rows in groups.values():
            update_rows(conn, home_care_visits, ("visit_id",), rows)
        if self.corrected:
            conn.execute(
                update(home_care_visits)
                .where(home_care_visits.c.visit_id == bindparam("_visit_id"))
                .values(corrections=home_care_visits.c.corrections + bindparam("_more")),
                [{"_visit_id": v, "_more": n} for v, n in self.corrected.items()],
            )
        insert_rows(conn, home_care_surveys, self.surveys)


def _scope(event: Any) -> dict[str, Any]:
    return {
        "case_id": event.originator_id,
        "person_id": event.person_id,
        "district": event.district,
        "community": event.community,
    }


def _known_scopes(conn: Connection, case_ids: set[Any]) -> dict[Any, dict[str, Any]]:
    if not case_ids:
        return {}
    query = select(home_care_case_scope).where(home_care_case_scope.c.case_id.in_(case_ids))
    return {row.case_id: dict(row._mapping) for row in conn.execute(query)}


def _new_visit(event: Any, scope: dict[str, Any] | None) -> dict[str, Any]:
    if scope is None:  # every case's Applied precedes its visits in the log
        raise LookupError(f"visit {event.visit_id} of unknown case {event.originator_id}")
    return _visit_facts(event) | {
        "visit_id": event.visit_id,
        "case_id": event.originator_id,
        "person_id": scope["person_id"],
        "provider_id": event.provider_id,
        "district": scope["district"],
        "community": scope["community"],
        "cancelled": False,
        "cancel_reason": None,
        "corrections": 0,
        "logged_at": event.timestamp,
    }


def _survey(event: Any, scope: dict[str, Any] | None) -> dict[str, Any]:
    if scope is None:
        raise LookupError(f"survey of unknown case {event.originator_id}")
    return {
        "case_id": event.originator_id,
        "version": event.originator_version,
        "answered_at": event.timestamp,
        "answered_on": clock.local(event.timestamp).date(),
        "district": scope["district"],
        "provider_id": event.provider_id,
        "overall": event.scores["overall"],
        "scores": json.dumps(event.scores, sort_keys=True),
    }
