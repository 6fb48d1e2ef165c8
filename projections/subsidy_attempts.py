"""Read model of refused double subsidies: who tried to subsidise which items a second time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, select

from events.subsidy_claims import ElderSubsidies
from projections.bulk import insert_rows
from projections.ledger_tables import double_subsidy_attempts, subsidy_claimants

E = ElderSubsidies


def _attempt(e: Any, person_id: UUID) -> dict[str, Any]:
    return {
        "claims_id": e.originator_id,
        "version": e.originator_version,
        "person_id": person_id,
        "items": ",".join(e.items),
        "target_id": e.target_id,
        "fund_id": UUID(str(e.fund_id)),
        "held_by": ",".join(e.held_by),
        "actor_id": e.actor_id,
        "attempted_at": e.timestamp,
    }


class DoubleSubsidyAttempts:
    """Every refused second subsidy for an item, across funds and programmes, for auditors."""

    name = "double_subsidy_attempts"
    tables = (subsidy_claimants, double_subsidy_attempts)
    topics = (get_topic(E.Opened), get_topic(E.DoubleSubsidyRefused))

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """Note each elder's guard as it opens; a refusal names only the guard, so its elder is
        looked up once per batch, among the guards the batch did not open itself."""
        opened = {
            e.originator_id: UUID(str(e.person_id)) for e in events if isinstance(e, E.Opened)
        }
        refused = [e for e in events if isinstance(e, E.DoubleSubsidyRefused)]
        if opened:
            claimants = [{"claims_id": c, "person_id": p} for c, p in opened.items()]
            insert_rows(conn, subsidy_claimants, claimants)
        if not refused:
            return
        people = opened | _people(conn, {e.originator_id for e in refused} - opened.keys())
        rows = [_attempt(e, people[e.originator_id]) for e in refused]
        insert_rows(conn, double_subsidy_attempts, rows)


def _people(conn: Connection, claims_ids: set[UUID]) -> dict[UUID, UUID]:
    if not claims_ids:
        return {}
    query = select(subsidy_claimants).where(subsidy_claimants.c.claims_id.in_(claims_ids))
    return {claims_id: person_id for claims_id, person_id in conn.execute(query)}
