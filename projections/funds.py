"""Read model of funds: one row per fund with its running totals, for the finance lists."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, select

from events.fund import Fund, Movement
from projections.bulk import insert_rows, update_rows
from projections.ledger_tables import funds

_TOTALS = Movement.ALL  # the columns named after movement kinds
_ZERO = Decimal("0.00")


def _opened(e: Any) -> dict[str, Any]:
    return {
        "fund_id": e.originator_id,
        "source": e.source,
        "programme": e.programme,
        "year": e.year,
        "title": e.title,
        "matching_ratio": e.matching_ratio,
        **dict.fromkeys(_TOTALS, _ZERO),
        "movements": 0,
        "opened_at": e.timestamp,
        "last_at": e.timestamp,
    }


class Funds:
    """Every fund's totals by kind of movement (reversals net off), as the aggregate keeps them."""

    name = "funds"
    tables = (funds,)
    topics = (get_topic(Fund.Opened), get_topic(Fund.MovementRecorded))

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """Fold a batch in memory and write each touched fund once.

        Totals are summed here in exact decimals, not by `total + :delta` in SQL: SQLite keeps
        NUMERIC as binary floats, and adding to them over years of movements would drift."""
        rows = self._load(conn, {e.originator_id for e in events if not _is_opening(e)})
        created = set()
        for e in events:
            if _is_opening(e):
                rows[e.originator_id] = _opened(e)
                created.add(e.originator_id)
                continue
            row = rows[e.originator_id]
            row[e.kind] += e.amount
            row["movements"] += 1
            row["last_at"] = e.timestamp
        new = [r for i, r in rows.items() if i in created]
        changed = [_changes(r) for i, r in rows.items() if i not in created]
        insert_rows(conn, funds, new)
        update_rows(conn, funds, ("fund_id",), changed)

    @staticmethod
    def _load(conn: Connection, fund_ids: set[Any]) -> dict[Any, dict[str, Any]]:
        if not fund_ids:
            return {}
        found = conn.execute(select(funds).where(funds.c.fund_id.in_(fund_ids))).mappings()
        return {r["fund_id"]: dict(r) for r in found}


_CHANGED = ("fund_id", *_TOTALS, "movements", "last_at")


def _changes(row: dict[str, Any]) -> dict[str, Any]:
    return {name: row[name] for name in _CHANGED}


def _is_opening(event: Any) -> bool:
    return isinstance(event, Fund.Opened)
