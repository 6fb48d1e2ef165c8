"""Where event timestamps come from: the wall clock, or a fixed time for demos and tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_fixed_now: ContextVar[datetime | None] = ContextVar("anlao_fixed_now", default=None)


def now() -> datetime:
    """The timestamp for a new event: timezone-aware UTC."""
    return _fixed_now.get() or datetime.now(tz=UTC)


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Record events as if they happened at `moment` (seeding a realistic history, tests)."""
    if moment.tzinfo is None:
        raise ValueError("frozen_at needs a timezone-aware datetime")
    token = _fixed_now.set(moment.astimezone(UTC))
    try:
        yield
    finally:
        _fixed_now.reset(token)
