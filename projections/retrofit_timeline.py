"""Read model of each case's history: one row per event, the facts a plain sentence needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Connection

from events.retrofit import RetrofitCase
from projections.bulk import insert_rows, json_text
from projections.tables import retrofit_timeline

E = RetrofitCase

# The event attributes each kind of entry shows; nothing personal is in any of them.
DETAILS: dict[type, tuple[str, ...]] = {
    E.Applied: ("reference", "channel", "relation"),
    E.EligibilityApproved: ("note",),
    E.EligibilityRejected: ("reason",),
    E.ReturnedForInformation: ("request",),
    E.InformationSupplied: ("reply",),
    E.HomeAssessed: ("checklist_version", "total", "subsidy", "household_share", "subsidy_cap"),
    E.PlanConfirmed: (),
    E.ContractorAssigned: ("contractor",),
    E.WorksStarted: (),
    E.SiteInspectionLogged: ("findings", "follow_up_required", "photos"),
    E.WorksCompleted: (),
    E.AcceptanceInspected: ("passed", "round", "remarks", "results", "photos"),
    E.RectificationCompleted: ("note",),
    E.SatisfactionSurveyAnswered: ("scores", "comment"),
    E.FollowUpRecorded: ("note", "still_in_use"),
    E.Closed: ("note",),
    E.Withdrawn: ("reason",),
    E.SubsidyRecorded: ("fund_id", "movement"),  # and the amount, unsigned (see _subsidy)
}

# A subsidy entry's kind says what the ledger did; a negative amount is a reversing correction.
SUBSIDY_KINDS = {
    ("committed", False): "SubsidyCommitted",
    ("committed", True): "SubsidyCommitmentReversed",
    ("disbursed", False): "SubsidyPaid",
    ("disbursed", True): "SubsidyPaymentReversed",
}


class RetrofitTimeline:
    """Every step of every case, in order, for the family's and staff's timelines."""

    name = "retrofit_timeline"
    tables = (retrofit_timeline,)
    topics = tuple(get_topic(cls) for cls in DETAILS)

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """Add the entries of a batch of events in one statement."""
        insert_rows(conn, retrofit_timeline, [_entry(event) for event in events])


def _entry(event: Any) -> dict[str, Any]:
    details = {name: getattr(event, name) for name in DETAILS[type(event)]}
    kind = type(event).__name__
    if isinstance(event, E.SubsidyRecorded):
        kind, details["amount"] = _subsidy(event)
    return {
        "case_id": event.originator_id,
        "version": event.originator_version,
        "occurred_at": event.timestamp,
        "actor_id": event.actor_id,
        "kind": kind,
        "details": json_text(details),
    }


def _subsidy(event: Any) -> tuple[str, str]:
    """The entry's kind and the amount as a family reads it (fen, no sign)."""
    reversed_ = event.amount < 0
    return SUBSIDY_KINDS[(event.kind, reversed_)], f"{abs(event.amount):.2f}"
