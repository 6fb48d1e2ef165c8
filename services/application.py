"""The base of every programme's service: one city-wide log, and one way to change an aggregate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from services.errors import StaleCase

A = TypeVar("A", bound=Aggregate)


class AnlaoApplication(Application):
    """Shared by every programme's service: all write to one ordered log named "Anlao"."""

    name = "Anlao"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # The library names each subclass after itself, which on PostgreSQL would give every
        # programme its own table; Anlao keeps one ordered log, so every service keeps this name.
        super().__init_subclass__(**kwargs)
        cls.name = "Anlao"

    def _exists(self, aggregate_id: UUID) -> bool:
        try:
            self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return False
        return True

    def _change(self, aggregate: A, expected: int, change: Callable[[A], Any]) -> int:
        """Apply `change` to the version the form was rendered from and save it; a stale form,
        or a save that lost the race, raises StaleCase and writes nothing."""
        if aggregate.version != expected:
            raise StaleCase(aggregate.id, expected=expected, current=aggregate.version)
        change(aggregate)
        return self._save(aggregate, expected)

    def _save(self, aggregate: Aggregate, expected: int) -> int:
        try:
            self.save(aggregate)
        except IntegrityError:
            current = self.repository.get(aggregate.id).version
            raise StaleCase(aggregate.id, expected=expected, current=current) from None
        return aggregate.version
