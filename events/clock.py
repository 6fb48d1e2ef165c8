"""Where event timestamps come from: the wall clock, or a fixed time for demos and tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

# The city's calendar: business dates (meals served, visits made, "today") are local dates.
CITY_TZ = ZoneInfo("Asia/Shanghai")

_fixed_now: ContextVar[datetime | None] = ContextVar("anlao_fixed_now", default=None)


def now() -> datetime:
    """The timestamp for a new event: timezone-aware UTC."""
    return _fixed_now.get() or datetime.now(tz=UTC)


def local(moment: datetime) -> datetime:
    """A timestamp in the city's time zone, for dates and times people read and type."""
    return moment.astimezone(CITY_TZ)


def today() -> date:
    """The city's date now: a 07:30 breakfast in Beijing is today, not yesterday in UTC."""
    return local(now()).date()


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
