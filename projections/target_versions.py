"""Every version of every supervision target, with when it took effect: targets as at any moment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, select

from events.target import SupervisionTarget as T
from projections.bulk import insert_rows
from projections.supervision_tables import target_versions

_FIELDS = ("metric", "programme", "district", "value", "start", "deadline", "withdrawn")


class TargetVersions:
    """One row per target event: the target as that event left it."""

    name = "target_versions"
    tables = (target_versions,)
    topics = tuple(get_topic(t) for t in (T.Set, T.Revised, T.Withdrawn, T.SetAgain))

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """Append one row per event, each carrying forward the target's other fields."""
        latest = _latest(conn, {e.originator_id for e in events if not isinstance(e, T.Set)})
        rows = []
        for e in events:
            current = _next(latest.get(e.originator_id), e)
            latest[e.originator_id] = current
            rows.append(
                current
                | {
                    "target_id": e.originator_id,
                    "version": e.originator_version,
                    "recorded_at": e.timestamp,
                    "actor_id": e.actor_id,
                    "reason": getattr(e, "reason", "") or getattr(e, "note", ""),
                }
            )
        insert_rows(conn, target_versions, rows)


def _latest(conn: Connection, ids: set[Any]) -> dict[Any, dict[str, Any]]:
    if not ids:
        return {}
    t = target_versions.c
    query = select(target_versions).where(t.target_id.in_(ids)).order_by(t.version)
    return {r["target_id"]: {f: r[f] for f in _FIELDS} for r in conn.execute(query).mappings()}


def _next(previous: dict[str, Any] | None, e: Any) -> dict[str, Any]:
    if isinstance(e, T.Set):
        return {
            "metric": e.metric_code, "programme": e.programme, "district": e.district,
            "value": e.value, "start": date.fromisoformat(e.start),
            "deadline": date.fromisoformat(e.deadline), "withdrawn": False,
        }  # fmt: skip
    current = dict(previous or {})
    if isinstance(e, T.Withdrawn):
        return current | {"withdrawn": True}
    current |= {"value": e.value, "deadline": date.fromisoformat(e.deadline), "withdrawn": False}
    if isinstance(e, T.SetAgain):
        current["start"] = date.fromisoformat(e.start)
    return current
