"""Read model of home care cases: one row per case, for lists, queues and forms."""

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
    bindparam,
    update,
)

from events.home_care import CareStep, HomeCareCase
from projections.bulk import insert_rows, update_rows
from projections.tables import metadata

E = HomeCareCase

home_care_cases = Table(
    "rm_home_care_cases",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("reference", String(20), nullable=False, unique=True),
    Column("person_id", Uuid, nullable=False),
    Column("channel", String(10), nullable=False),
    Column("applicant_user_id", String(36), nullable=False),
    Column("relation", String(20), nullable=False),
    Column("district", String(10), nullable=False),
    Column("street", String(40), nullable=False),
    Column("community", String(40), nullable=False),
    Column("disability_level", String(10), nullable=False),
    Column("step", String(30), nullable=False),
    Column("step_since", DateTime(timezone=True), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("assessor_id", String(36)),
    Column("care_level", String(10)),
    Column("monthly_hours", Integer),
    Column("provider_id", Uuid),
    Column("provider_assigned_on", Date),
    Column("surveys", Integer, nullable=False, default=0),
    Column("last_survey_overall", Integer),
    # Queues list longest-waiting first (step_since, case_id) within a scope: keyset pages.
    Index("ix_rm_home_care_cases_district_wait", "district", "step_since", "case_id"),
    Index("ix_rm_home_care_cases_district_step", "district", "step", "step_since", "case_id"),
    Index("ix_rm_home_care_cases_applicant", "applicant_user_id", "step_since", "case_id"),
    Index("ix_rm_home_care_cases_assessor", "assessor_id", "step"),
    Index("ix_rm_home_care_cases_provider", "provider_id", "step"),
    Index("ix_rm_home_care_cases_step_wait", "step", "step_since", "case_id"),
    Index("ix_rm_home_care_cases_step_district", "step", "district", "step_since"),
)


def _step(step: str) -> Callable[[Any], dict[str, Any]]:
    return lambda e: {"step": step, "step_since": e.timestamp}


def _unchanged(_: Any) -> dict[str, Any]:
    return {}


# Columns each event changes, besides version and updated_at. Survey counts are folded
# separately (they add to the row rather than set it).
_CHANGES: dict[type, Callable[[Any], dict[str, Any]]] = {
    E.AssessorAssigned: lambda e: (
        _step(CareStep.ASSESSOR_ASSIGNED)(e) | {"assessor_id": e.assessor_id}
    ),
    E.ReturnedForInformation: _step(CareStep.RETURNED),
    E.InformationSupplied: _step(CareStep.SUBMITTED),
    E.Rejected: _step(CareStep.REJECTED),
    E.CareLevelAssessed: lambda e: (
        _step(CareStep.ASSESSED)(e) | {"care_level": e.level, "monthly_hours": e.monthly_hours}
    ),
    E.Approved: _step(CareStep.APPROVED),
    E.ProviderAssigned: lambda e: (
        _step(CareStep.IN_SERVICE)(e)
        | {"provider_id": e.provider_id, "provider_assigned_on": date.fromisoformat(e.assigned_on)}
    ),
    E.VisitLogged: _unchanged,
    E.VisitCorrected: _unchanged,
    E.VisitCancelled: _unchanged,
    E.SatisfactionSurveyAnswered: lambda e: {"last_survey_overall": e.scores["overall"]},
    E.FollowUpRecorded: _unchanged,
    E.Closed: _step(CareStep.CLOSED),
    E.Withdrawn: _step(CareStep.WITHDRAWN),
}


class HomeCareCaseList:
    """Current state of every home care case; rows change only by events."""

    name = "home_care_cases"
    tables = (home_care_cases,)
    topics = tuple(get_topic(cls) for cls in (E.Applied, *_CHANGES))

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """Fold a batch into new rows and per-case changes, then write them in few statements."""
        created: dict[Any, dict[str, Any]] = {}
        changed: dict[Any, dict[str, Any]] = {}
        surveyed: dict[Any, int] = {}
        for event in events:
            case_id = event.originator_id
            if isinstance(event, E.Applied):
                created[case_id] = _new_row(event)
                continue
            values = _CHANGES[type(event)](event)
            values |= {"version": event.originator_version, "updated_at": event.timestamp}
            if isinstance(event, E.SatisfactionSurveyAnswered):
                if case_id in created:
                    created[case_id]["surveys"] += 1
                else:
                    surveyed[case_id] = surveyed.get(case_id, 0) + 1
            (created.get(case_id) or changed.setdefault(case_id, {})).update(values)
        insert_rows(conn, home_care_cases, list(created.values()))
        for rows in _grouped_by_columns(changed):
            update_rows(conn, home_care_cases, ("case_id",), rows)
        if surveyed:
            conn.execute(
                update(home_care_cases)
                .where(home_care_cases.c.case_id == bindparam("_case_id"))
                .values(surveys=home_care_cases.c.surveys + bindparam("_more")),
                [{"_case_id": c, "_more": n} for c, n in surveyed.items()],
            )


def _new_row(event: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(c.name for c in home_care_cases.columns)
    return row | {
        "case_id": event.originator_id,
        "reference": event.reference,
        "person_id": event.person_id,
        "channel": event.channel,
        "applicant_user_id": event.applicant_user_id,
        "relation": event.relation,
        "district": event.district,
        "street": event.street,
        "community": event.community,
        "disability_level": event.disability_level,
        "step": CareStep.SUBMITTED,
        "step_since": event.timestamp,
        "applied_at": event.timestamp,
        "updated_at": event.timestamp,
        "version": event.originator_version,
        "surveys": 0,
    }


def _grouped_by_columns(changed: dict[Any, dict[str, Any]]) -> list[list[dict[str, Any]]]:
    # executemany needs one column set per statement; a batch has only a handful of them.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for case_id, values in changed.items():
        row = {"case_id": case_id} | dict(sorted(values.items()))
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.values())
