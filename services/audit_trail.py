"""The auditors' view log: every page an auditor opened, kept so that who looked at which
records, and when, can be answered later. Rows are only ever added, never changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select

from services.database import writing
from services.tables import audit_views as av

PATH_LIMIT = 2000  # a longer query string is cut: the endpoint and the start still say enough
MAX_PAGE = 500


@dataclass(frozen=True)
class AuditView:
    """One page an auditor opened: who, what (endpoint and path with its query), when."""

    view_id: int
    user_id: str
    endpoint: str
    path: str
    viewed_at: datetime


def record(engine: Engine, *, user_id: str, endpoint: str, path: str, at: datetime) -> None:
    """Log one view; the caller decides what to do if the log cannot be written."""
    with writing(engine) as conn:
        conn.execute(
            insert(av).values(
                user_id=user_id,
                endpoint=endpoint[:100],
                path=path[:PATH_LIMIT],
                viewed_at=at.astimezone(UTC),
            )
        )


def recent(engine: Engine, limit: int = 100, *, before: int | None = None) -> list[AuditView]:
    """The latest views, newest first; `before` (a view id) pages further back by keyset."""
    query = select(av).order_by(av.c.view_id.desc()).limit(max(1, min(limit, MAX_PAGE)))
    if before is not None:
        query = query.where(av.c.view_id < before)
    with engine.connect() as conn:
        return [
            AuditView(r.view_id, r.user_id, r.endpoint, r.path, _aware(r.viewed_at))
            for r in conn.execute(query)
        ]


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
