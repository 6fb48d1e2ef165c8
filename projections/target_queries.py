"""What the target admin pages read: one target as it now stands, and the withdrawn ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, func, select

from projections.supervision_tables import target_versions


@dataclass(frozen=True)
class TargetState:
    """A target's latest version: what a revise or withdraw form is rendered from."""

    target_id: UUID
    version: int
    metric: str
    programme: str
    district: str  # "" for the whole city
    value: Decimal
    start: date
    deadline: date
    withdrawn: bool
    recorded_at: datetime
    reason: str


def current_target(engine: Engine, target_id: UUID) -> TargetState | None:
    """The target's latest version, or None if no such target was ever set."""
    t = target_versions.c
    query = (
        select(target_versions).where(t.target_id == target_id).order_by(t.version.desc()).limit(1)
    )
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return None if row is None else _state(row)


def withdrawn_targets(engine: Engine) -> list[TargetState]:
    """Targets whose latest version withdrew them (they can be set again), newest first."""
    t = target_versions.c
    latest = (
        select(t.target_id, func.max(t.version).label("version")).group_by(t.target_id).subquery()
    )
    query = (
        select(target_versions)
        .join(latest, (t.target_id == latest.c.target_id) & (t.version == latest.c.version))
        .where(t.withdrawn.is_(True))
        .order_by(t.recorded_at.desc(), t.metric, t.district)
    )
    with engine.connect() as conn:
        return [_state(r) for r in conn.execute(query).mappings()]


def _state(r: Any) -> TargetState:
    recorded = r["recorded_at"]
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC.
    recorded = recorded if recorded.tzinfo else recorded.replace(tzinfo=UTC)
    return TargetState(
        r["target_id"],
        r["version"],
        r["metric"],
        r["programme"],
        r["district"],
        Decimal(r["value"]),
        r["start"],
        r["deadline"],
        r["withdrawn"],
        recorded,
        r["reason"],
    )
