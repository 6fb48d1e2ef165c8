"""Read model of retrofit cases: one row per case, for lists, queues and forms."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Connection

from events.retrofit import RetrofitCase, Step
from projections.bulk import insert_rows, json_text, update_rows
from projections.tables import retrofit_cases

E = RetrofitCase


def _step(step: str) -> Callable[[Any], dict[str, Any]]:
    return lambda e: {"step": step, "step_since": e.timestamp}


# Columns each event changes, besides version and updated_at.
_CHANGES: dict[type, Callable[[Any], dict[str, Any]]] = {
    E.EligibilityApproved: lambda e: _step(Step.APPROVED)(e) | {"assessor_id": e.assessor_id},
    E.EligibilityRejected: _step(Step.REJECTED),
    E.ReturnedForInformation: _step(Step.RETURNED),
    E.InformationSupplied: _step(Step.SUBMITTED),
    E.HomeAssessed: lambda e: (
        _step(Step.ASSESSED)(e)
        | {
            "checklist_version": e.checklist_version,
            "assessment_items": json_text(e.items),
            "total_cost": e.total,
            "subsidy": e.subsidy,
        }
    ),
    E.PlanConfirmed: _step(Step.PLAN_CONFIRMED),
    E.ContractorAssigned: lambda e: (
        _step(Step.CONTRACTOR_ASSIGNED)(e)
        | {
            "contractor": e.contractor,
            "inspector_id": e.inspector_id,
        }
    ),
    E.WorksStarted: _step(Step.WORKS_STARTED),
    E.SiteInspectionLogged: lambda e: {},
    E.WorksCompleted: _step(Step.WORKS_COMPLETED),
    E.AcceptanceInspected: lambda e: (
        _step(Step.ACCEPTED if e.passed else Step.RECTIFICATION)(e)
        | {
            "acceptance_rounds": e.round,
            "last_acceptance_passed": e.passed,
        }
    ),
    E.RectificationCompleted: _step(Step.WORKS_COMPLETED),
    E.SatisfactionSurveyAnswered: lambda e: (
        _step(Step.SURVEYED)(e)
        | {
            "survey_overall": e.scores["overall"],
        }
    ),
    E.FollowUpRecorded: lambda e: {},
    E.Closed: _step(Step.CLOSED),
    E.Withdrawn: _step(Step.WITHDRAWN),
    # The ledger's commits and payments change no column here, but they do move the case's
    # version: forms rendered from this row must carry the current one, or the next step fails.
    E.SubsidyRecorded: lambda e: {},
}


class RetrofitCaseList:
    """Current state of every retrofit case; rows change only by events."""

    name = "retrofit_cases"
    tables = (retrofit_cases,)
    topics = tuple(get_topic(cls) for cls in (E.Applied, *_CHANGES))

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """Fold a batch into new rows and per-case changes, then write them in few statements."""
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
        insert_rows(conn, retrofit_cases, list(created.values()))
        for rows in _grouped_by_columns(changed):
            update_rows(conn, retrofit_cases, ("case_id",), rows)


def _new_row(event: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(c.name for c in retrofit_cases.columns)
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
        "step": Step.SUBMITTED,
        "step_since": event.timestamp,
        "applied_at": event.timestamp,
        "updated_at": event.timestamp,
        "version": event.originator_version,
        "acceptance_rounds": 0,
    }


def _grouped_by_columns(changed: dict[Any, dict[str, Any]]) -> list[list[dict[str, Any]]]:
    # executemany needs one column set per statement; a batch has only a handful of them.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for case_id, values in changed.items():
        row = {"case_id": case_id} | dict(sorted(values.items()))
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.values())
