"""Read models of ledger movements and commitments, for filtered lists and open commitments."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, select

from events.fund import Fund, Movement, Target
from projections.bulk import insert_rows, update_rows
from projections.ledger_tables import ledger_commitments as lc
from projections.ledger_tables import ledger_movements as lm

Key = tuple[UUID, int]  # (fund_id, seq)

KEY = ("fund_id", "seq")


def _movement(e: Any) -> dict[str, Any]:
    return {
        "fund_id": e.originator_id,
        "seq": e.originator_version,
        "recorded_at": e.timestamp,
        "kind": e.kind,
        "amount": e.amount,
        "district": e.district,
        "project": e.project,
        "target_kind": e.target_kind,
        "target_id": e.target_id,
        "person_id": e.person_id,
        "voucher": e.voucher,
        "commitment": e.commitment,
        "reverses": e.reverses,
        "reversed_by": None,
    }


def _commitment(e: Any) -> dict[str, Any]:
    is_case = e.target_kind == Target.RETROFIT_CASE
    return {
        "fund_id": e.originator_id,
        "seq": e.originator_version,
        "target_kind": e.target_kind,
        "target_id": e.target_id,
        "case_id": UUID(e.target_id) if is_case else None,
        "district": e.district,
        "amount": e.amount,
        "paid": Decimal("0.00"),
        "reversed": False,
        "committed_at": e.timestamp,
    }


def _touched_commitment(e: Any) -> int:
    """The earlier commitment an event changes (0 for none): a payment, its reversal, or the
    reversal of the commitment itself."""
    if e.kind == Movement.DISBURSED:
        return e.commitment
    if e.kind == Movement.COMMITTED and e.reverses:
        return e.reverses
    return 0


class LedgerMovements:
    """Every movement of every fund, and every commitment with what is paid against it."""

    name = "ledger_movements"
    tables = (lm, lc)
    topics = (get_topic(Fund.MovementRecorded),)

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """Insert the batch's movements in one statement, then mark reversed originals and
        fold payments into commitments (loaded once per batch, summed in exact decimals)."""
        insert_rows(conn, lm, [_movement(e) for e in events])
        reversals = [
            {"fund_id": e.originator_id, "seq": e.reverses, "reversed_by": e.originator_version}
            for e in events
            if e.reverses
        ]
        update_rows(conn, lm, KEY, reversals)
        self._commitments(conn, events)

    @staticmethod
    def _commitments(conn: Connection, events: Sequence[Any]) -> None:
        new: dict[Key, dict[str, Any]] = {}
        touched = {(e.originator_id, s) for e in events if (s := _touched_commitment(e))}
        rows = _load(conn, touched)
        for e in events:
            if e.kind == Movement.COMMITTED and not e.reverses:
                new[(e.originator_id, e.originator_version)] = _commitment(e)
                continue
            key = (e.originator_id, _touched_commitment(e))
            row = new.get(key) or rows.get(key)
            if row is None:
                continue  # not a commitment's business (received, allocated, returned)
            if e.kind == Movement.DISBURSED:
                row["paid"] += e.amount
            else:
                row["reversed"] = True
        insert_rows(conn, lc, list(new.values()))
        changed = [
            {"fund_id": k[0], "seq": k[1], "paid": r["paid"], "reversed": r["reversed"]}
            for k, r in rows.items()
            if k not in new
        ]
        update_rows(conn, lc, KEY, changed)


def _load(conn: Connection, keys: set[Key]) -> dict[Key, dict[str, Any]]:
    if not keys:
        return {}
    # Two plain INs walk the primary key; a row-value IN of hundreds of pairs is planned as a
    # scan on PostgreSQL. A batch touches few funds, so the superset is small: keep the asked.
    fund_ids, seqs = {k[0] for k in keys}, {k[1] for k in keys}
    query = select(lc).where(lc.c.fund_id.in_(fund_ids), lc.c.seq.in_(seqs))
    found = ((r["fund_id"], r["seq"], r) for r in conn.execute(query).mappings())
    return {(f, s): dict(r) for f, s, r in found if (f, s) in keys}
