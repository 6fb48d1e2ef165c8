"""The aggregate base every Anlao aggregate extends: timestamps from our clock."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import Aggregate

from events import clock


class AnlaoAggregate(Aggregate):
    """An aggregate whose events take their time from `events.clock` (real or frozen)."""

    class Event(Aggregate.Event):
        @staticmethod
        def create_timestamp() -> datetime:
            return clock.now()

    class Created(Event, Aggregate.Created):
        pass
