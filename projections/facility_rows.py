"""Folding a batch of events into one read-model row per aggregate, in three statements."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, select

from projections.bulk import insert_rows, update_rows

Row = dict[str, Any]


class RowFolder:
    """Loads the rows a batch touches once, folds every event into them in memory, then writes
    new rows in one insert and changed rows in one executemany update (same transaction as the
    projection's position, so each event counts exactly once)."""

    def __init__(
        self,
        table: Table,
        key: str,
        created: type,
        new_row: Callable[[Any], Row],
        changes: dict[type, Callable[[Row, Any], None]],
        json_columns: Sequence[str] = (),
    ) -> None:
        self.table = table
        self.key = key
        self.created = created
        self.new_row = new_row
        self.changes = changes
        self.json_columns = tuple(json_columns)

    @property
    def event_types(self) -> tuple[type, ...]:
        """Every event type the folder understands (its projection's topics)."""
        return (self.created, *self.changes)

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """Fold `events` (in log order) into the table."""
        existing = {e.originator_id for e in events if not isinstance(e, self.created)}
        rows = self._load(conn, existing)
        created: set[Any] = set()
        for event in events:
            row_id = event.originator_id
            if isinstance(event, self.created):
                rows[row_id] = self.new_row(event)
                created.add(row_id)
                continue
            row = rows[row_id]
            self.changes[type(event)](row, event)
            row |= {"version": event.originator_version, "updated_at": event.timestamp}
        insert_rows(conn, self.table, [self._encode(r) for i, r in rows.items() if i in created])
        changed = [self._encode(r) for i, r in rows.items() if i not in created]
        update_rows(conn, self.table, (self.key,), changed)

    def _load(self, conn: Connection, ids: set[Any]) -> dict[Any, Row]:
        if not ids:
            return {}
        query = select(self.table).where(self.table.c[self.key].in_(ids))
        loaded = {}
        for found in conn.execute(query).mappings():
            row = dict(found)
            for name in self.json_columns:
                row[name] = json.loads(row[name])
            loaded[row[self.key]] = row
        return loaded

    def _encode(self, row: Row) -> Row:
        encoded = dict(row)
        for name in self.json_columns:
            encoded[name] = json.dumps(row[name], ensure_ascii=False)
        return encoded
