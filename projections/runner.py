"""Catches projections up with the event log, exactly once, in batches; rebuilds them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from eventsourcing.application import Application
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier
from sqlalchemy import Connection, Engine, Table, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from events import clock
from projections.tables import metadata, positions

log = logging.getLogger(__name__)
BATCH_SIZE = 1000
# Honoured by services.database.make_engine: start SQLite write transactions IMMEDIATE.
WRITE_OPTION = "anlao_write"


class Projection(Protocol):
    """A read model: its name, the tables it owns, the topics it reads, how it applies a batch."""

    name: str
    tables: Sequence[Table]
    topics: Sequence[str]

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """Apply events in log order, in the caller's transaction (batched for speed)."""
        ...


@dataclass(frozen=True)
class Lag:
    """How far the read models are behind the log, for readiness probes and monitoring."""

    head: int  # the newest notification id in the log
    position: int  # every read model has applied the log up to here
    seconds_behind: float  # age of the oldest event not yet applied (0 when up to date)

    @property
    def events_behind(self) -> int:
        """Events in the log that some read model has not applied yet."""
        return max(0, self.head - self.position)


Waiter = Callable[[threading.Event, float], object]


class Projector:
    """Runs projections over one application's notification log."""

    def __init__(self, engine: Engine, source: Application, projections: Sequence[Projection]):
        self._engine = engine
        self._recorder = source.recorder
        self._mapper = source.mapper
        self.projections = list(projections)

    def create_tables(self) -> None:
        """Create read-model tables and indexes that do not exist yet (idempotent): an index
        added in a later release reaches a database whose tables already exist."""
        metadata.create_all(self._engine)
        with self._engine.begin() as conn:
            for table in metadata.sorted_tables:
                for index in table.indexes:
                    index.create(conn, checkfirst=True)

    def catch_up(self) -> int:
        """Apply every event not yet projected; returns how many events were applied."""
        return sum(self._catch_up_one(p) for p in self.projections)

    def _catch_up_one(self, projection: Projection) -> int:
        applied = 0
        while True:
            count, more = self._project_batch(projection)
            applied += count
            if not more:
                return applied

    def _project_batch(self, projection: Projection) -> tuple[int, bool]:
        # Read the log first and only then take the write lock, never the other way round: on
        # SQLite the library's writers hold its connection pool while they wait for that lock,
        # so a read from the pool under the lock can wait for them in a circle (broken only by
        # the pool's 5 s timeout, as an error). Up to date: no write transaction at all.
        start = self.position(projection.name)
        head = self._recorder.max_notification_id() or 0
        if head <= start:
            return 0, False
        notifications = self._recorder.select_notifications(
            start=start, stop=head, limit=BATCH_SIZE,
            topics=tuple(projection.topics), inclusive_of_start=False,
        )  # fmt: skip
        events = [self._mapper.to_domain_event(n) for n in notifications]
        full = len(notifications) == BATCH_SIZE
        with self._engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                if self._lock_position(conn, projection.name) != start:
                    return 0, True  # another worker moved on meanwhile: read again from there
                if events:
                    projection.apply(conn, events)
                reached = notifications[-1].id if full else head
                conn.execute(
                    positions.update().where(positions.c.name == projection.name)
                    .values(position=reached)
                )  # fmt: skip
                return len(notifications), full

    @staticmethod
    def _lock_position(conn: Connection, name: str) -> int:
        # Two projectors starting on a fresh table must not both insert the row (on PostgreSQL
        # the loser would fail on the primary key): insert if missing, then lock and read.
        dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        conn.execute(
            dialect_insert(positions)
            .values(name=name, position=0)
            .on_conflict_do_nothing(index_elements=[positions.c.name])
        )
        query = select(positions.c.position).where(positions.c.name == name).with_for_update()
        return int(conn.execute(query).scalar_one())

    def position(self, name: str) -> int:
        """How far a projection has got in the log (0 before its first event)."""
        with self._engine.connect() as conn:
            found = conn.execute(select(positions.c.position).where(positions.c.name == name))
            return int(found.scalar_one_or_none() or 0)

    def rebuild(self) -> int:
        """Drop every read model and replay the whole log into fresh tables."""
        with self._engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                for projection in self.projections:
                    for table in projection.tables:
                        table.drop(conn, checkfirst=True)
                    conn.execute(positions.delete().where(positions.c.name == projection.name))
        self.create_tables()
        return self.catch_up()

    def lag(self) -> Lag:
        """How far behind the slowest read model is, in events and in seconds."""
        head = self._recorder.max_notification_id() or 0
        with self._engine.connect() as conn:
            rows = conn.execute(select(positions.c.name, positions.c.position))
            stored = {row.name: row.position for row in rows}
        position = min((stored.get(p.name, 0) for p in self.projections), default=head)
        if position >= head:
            return Lag(head, position, 0.0)
        oldest = self._recorder.select_notifications(
            start=position, limit=1, inclusive_of_start=False
        )
        born = self._mapper.to_domain_event(oldest[0]).timestamp if oldest else clock.now()
        return Lag(head, position, max(0.0, (clock.now() - born).total_seconds()))

    def follow(self, stop: threading.Event, poll_seconds: float = 0.5) -> None:
        """Keep projections current until `stop` is set (the projection worker's loop): woken
        at once by PostgreSQL's NOTIFY of each write, polling every `poll_seconds` otherwise."""
        while not stop.is_set():
            try:
                with self._new_events() as wait:
                    while not stop.is_set():
                        if not self.catch_up():
                            wait(stop, poll_seconds)
            except Exception:  # keep following: the next round retries from the tracked position
                log.exception("projection round failed; retrying")
                stop.wait(poll_seconds)

    @contextmanager
    def _new_events(self) -> Iterator[Waiter]:
        """A way to wait for the next write: LISTEN on the library's channel on PostgreSQL
        (the recorder NOTIFYs it in every write transaction); a plain timed wait on SQLite."""
        recorder = self._recorder
        if not isinstance(recorder, PostgresApplicationRecorder):
            yield lambda stop, seconds: stop.wait(seconds)
            return
        with recorder.datastore.get_connection() as conn:  # autocommit: LISTEN takes effect now
            conn.execute(SQL("LISTEN {0}").format(Identifier(recorder.channel_name)))

            def wait(_stop: threading.Event, seconds: float) -> None:
                for _ in conn.notifies(timeout=seconds, stop_after=1):
                    pass

            yield wait
