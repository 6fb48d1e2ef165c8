"""Unfinished applications, kept server-side page by page so nothing typed is lost."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import Engine, select

from services.database import writing
from services.tables import drafts


class DraftStore:
    """A family's in-progress answers; deleted once the application is submitted."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def start(self, user_id: str) -> str:
        """A new empty draft; its id doubles as the submission's idempotency key."""
        draft_id = str(uuid4())
        with writing(self._engine) as conn:
            conn.execute(
                drafts.insert().values(
                    draft_id=draft_id, user_id=user_id, answers="{}", updated_at=datetime.now(UTC)
                )
            )
        return draft_id

    def load(self, user_id: str, draft_id: str) -> dict[str, Any] | None:
        """The answers so far, or None if the draft is not this user's (or gone)."""
        with self._engine.connect() as conn:
            found = conn.execute(
                select(drafts.c.answers).where(
                    drafts.c.draft_id == draft_id, drafts.c.user_id == user_id
                )
            ).scalar_one_or_none()
        return None if found is None else json.loads(found)

    def save(self, user_id: str, draft_id: str, answers: dict[str, Any]) -> bool:
        """Merge one page's answers into the draft; False if the draft is not this user's."""
        with writing(self._engine) as conn:
            found = conn.execute(
                select(drafts.c.answers).where(
                    drafts.c.draft_id == draft_id, drafts.c.user_id == user_id
                )
            ).scalar_one_or_none()
            if found is None:
                return False
            merged = json.loads(found) | answers
            conn.execute(
                drafts.update()
                .where(drafts.c.draft_id == draft_id)
                .values(
                    answers=json.dumps(merged, ensure_ascii=False), updated_at=datetime.now(UTC)
                )
            )
        return True

    def discard(self, user_id: str, draft_id: str) -> None:
        """Forget a submitted or abandoned draft."""
        with writing(self._engine) as conn:
            conn.execute(
                drafts.delete().where(drafts.c.draft_id == draft_id, drafts.c.user_id == user_id)
            )
