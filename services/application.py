"""The base of every programme's service: one city-wide log, and one way to change an aggregate."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    ApplicationRecorder,
    EventStore,
    InfrastructureFactory,
    IntegrityError,
)
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment, EnvType

from services.database import SCHEMA_LOCK, STORAGE_FAILURES, describe_failure
from services.errors import StaleCase

A = TypeVar("A", bound=Aggregate)
log = logging.getLogger(__name__)


class AnlaoApplication(Application):
    """Shared by every programme's service: all write to one ordered log named "Anlao"."""

    name = "Anlao"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # The library names each subclass after itself, which on PostgreSQL would give every
        # programme its own table; Anlao keeps one ordered log, so every service keeps this name.
        super().__init_subclass__(**kwargs)
        cls.name = "Anlao"

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """The library's settings, with its optional database functions always off: they insert
        events without the table lock that makes commit order follow notification order, and
        the projection runner relies on that order (the library also reads os.environ)."""
        environment = super().construct_env(name, env)
        for key in environment.create_keys("POSTGRES_ENABLE_DB_FUNCTIONS"):
            environment[key] = "n"
        return environment

    def construct_recorder(self) -> ApplicationRecorder:
        """The event store's recorder, its tables created by one process at a time."""
        with _one_at_a_time(self.factory):
            return super().construct_recorder()

    def construct_snapshot_store(self) -> EventStore[Any]:
        """The snapshot store, its tables created by one process at a time."""
        with _one_at_a_time(self.factory):
            return super().construct_snapshot_store()

    def _take_snapshots(self, processing_event: ProcessingEvent[Any]) -> None:
        """Snapshots are taken after the events are stored. One that cannot be written (the
        database failing just then) must not fail the command, whose events are already
        saved: the user would be told to try again a change that was made. A missing snapshot
        costs only a longer replay, until the next interval's snapshot."""
        try:
            super()._take_snapshots(processing_event)
        except STORAGE_FAILURES as e:
            log.warning("snapshot not taken (the events are saved): %s", describe_failure(e))

    def _exists(self, aggregate_id: UUID) -> bool:
        try:
            self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return False
        return True

    def _save_new(self, aggregate: Aggregate) -> None:
        """Save a just-opened aggregate whose id came from an idempotency key: the same
        submission arriving twice at once stores one, and the other finds it stored."""
        try:
            self.save(aggregate)
        except IntegrityError:
            if not self._exists(aggregate.id):
                raise

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


@contextmanager
def _one_at_a_time(factory: InfrastructureFactory[Any]) -> Iterator[None]:
    """Hold an advisory lock while the library creates its tables. On every start it replaces
    its insert function, and two processes doing so at once (web workers and the projection
    worker starting together) fail with "tuple concurrently updated"."""
    if not isinstance(factory, PostgresFactory) or not factory.env_create_table():
        yield
        return
    # A transaction-scoped lock on a connection of its own: released however this ends.
    with factory.datastore.transaction(commit=False) as curs:
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        yield
