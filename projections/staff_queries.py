"""Read-side questions only staff pages ask: which photos belong to a case."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from sqlalchemy import Engine, select

from projections.retrofit_queries import TimelineEntry
from projections.tables import retrofit_timeline as tl

# Timeline entries whose details carry photos ({"sha256", "media_type"} each).
PHOTO_KINDS = ("AcceptanceInspected", "SiteInspectionLogged")


@dataclass(frozen=True)
class CasePhoto:
    """A photo recorded on one of a case's inspections."""

    sha256: str
    media_type: str
    kind: str
    occurred_at: datetime


def case_photos(engine: Engine, case_id: UUID) -> tuple[CasePhoto, ...]:
    """Photos of a case's inspections, oldest first; call only after `case_detail` allowed it."""
    query = (
        select(tl.c.kind, tl.c.occurred_at, tl.c.details)
        .where(tl.c.case_id == case_id, tl.c.kind.in_(PHOTO_KINDS))
        .order_by(tl.c.version)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return tuple(
        CasePhoto(photo["sha256"], photo["media_type"], row.kind, _aware(row.occurred_at))
        for row in rows
        for photo in json.loads(row.details).get("photos", [])
    )


def photos_in(entries: tuple[TimelineEntry, ...]) -> tuple[CasePhoto, ...]:
    """The same photos taken from a timeline the page has already read (one query fewer)."""
    return tuple(
        CasePhoto(photo["sha256"], photo["media_type"], entry.kind, entry.occurred_at)
        for entry in entries
        if entry.kind in PHOTO_KINDS
        for photo in entry.details.get("photos", [])
    )


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
