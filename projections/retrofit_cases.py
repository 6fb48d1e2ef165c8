"""Read model of retrofit cases: one row per case, for lists, queues and forms."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, update

from events.retrofit import RetrofitCase, Step
from projections.tables import retrofit_cases

E = RetrofitCase


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _step(step: str) -> Callable[[Any], dict[str, Any]]:
    return lambda e: {"step": step, "step_since": e.timestamp}


# Columns each event changes, besides version and updated_at.
_CHANGES: dict[type, Callable[[Any], dict[str, Any]]] = {
    E.EligibilityApproved: lambda e: _step(Step.APPROVED)(e) | {"assessor_id": e.assessor_id},
    E.EligibilityRejected: _step(Step.REJECTED),
    E.ReturnedForInformation: _step(Step.RETURNED),
    E.InformationSupplied: _step(Step.SUBMITTED),
    E.HomeAssessed: lambda e: _step(Step.ASSESSED)(e) | {
        "checklist_version": e.checklist_version, "assessment_items": _json(e.items),
        "total_cost": e.total, "subsidy": e.subsidy,
    },
    E.PlanConfirmed: _step(Step.PLAN_CONFIRMED),
    E.ContractorAssigned: lambda e: _step(Step.CONTRACTOR_ASSIGNED)(e) | {
        "contractor": e.contractor, "inspector_id": e.inspector_id,
    },
    E.WorksStarted: _step(Step.WORKS_STARTED),
    E.SiteInspectionLogged: lambda e: {},
    E.WorksCompleted: _step(Step.WORKS_COMPLETED),
    E.AcceptanceInspected: lambda e: _step(Step.ACCEPTED if e.passed else Step.RECTIFICATION)(e) | {
        "acceptance_rounds": e.round, "last_acceptance_passed": e.passed,
    },
    E.RectificationCompleted: _step(Step.WORKS_COMPLETED),
    E.SatisfactionSurveyAnswered: lambda e: _step(Step.SURVEYED)(e) | {
        "survey_overall": e.scores["overall"],
    },
    E.FollowUpRecorded: lambda e: {},
    E.Closed: _step(Step.CLOSED),
    E.Withdrawn: _step(Step.WITHDRAWN),
}  # fmt: skip


class RetrofitCaseList:
    """Current state of every retrofit case; rows change only by events."""

    name = "retrofit_cases"
    tables = (retrofit_cases,)
    topics = tuple(get_topic(cls) for cls in (E.Applied, *_CHANGES))

    def apply(self, conn: Connection, event: Any) -> None:
        """Insert the row on application; update it on every later step."""
        if isinstance(event, E.Applied):
            conn.execute(retrofit_cases.insert().values(
                case_id=event.originator_id, reference=event.reference,
                person_id=event.person_id, channel=event.channel,
                applicant_user_id=event.applicant_user_id, relation=event.relation,
                district=event.district, street=event.street, community=event.community,
                step=Step.SUBMITTED, step_since=event.timestamp, applied_at=event.timestamp,
                updated_at=event.timestamp, version=event.originator_version,
                acceptance_rounds=0,
            ))  # fmt: skip
            return
        values = _CHANGES[type(event)](event)
        conn.execute(
            update(retrofit_cases)
            .where(retrofit_cases.c.case_id == event.originator_id)
            .values(version=event.originator_version, updated_at=event.timestamp, **values)
        )
