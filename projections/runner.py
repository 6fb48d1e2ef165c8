"""Catches projections up with the event log, exactly once, in batches; rebuilds them."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from eventsourcing.application import Application
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier
from sqlalchemy import Connection, Engine, Table, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from events import clock
from projections.tables import metadata, positions

log = logging.getLogger(__name__)
# Log events read, decoded and applied per transaction (all read models together). Far behind
# the head (a cold start, a rebuild), bigger batches write each index page touched once per
# batch instead of once per 1,000 events: a third less CPU and a third of the bytes written
# than 1,000 on SQLite (measured on a 50,000-event log). The price: on SQLite a web worker
# writing meanwhile waits for the batch's transaction (a few tenths of a second); near the
# head a batch is only the few new events.
BATCH_SIZE = 5000
# The same for the projection worker's loop and a rebuild: far behind the head (a cold start,
# a rebuild, a long stop), batches four times as big apply 30% more events per second on
# SQLite (12,400-13,500 to 16,900-17,300 at 200,000 events, bench.projection_catchup): each
# index page is written once per batch. The price, only while far behind: a web worker's write
# waits for one batch's transaction (a second or two on SQLite), and the worker holds the
# batch's decoded events (about 50 MB more). A request that catches up keeps to BATCH_SIZE.
WORKER_BATCH_SIZE = 20000
# SQLite page cache (KiB) of the connection writing a batch; SQLite's own default after it.
BATCH_CACHE_KIB = 256 * 1024
_DEFAULT_CACHE = -2000
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

    def catch_up(self, batch_size: int | None = None) -> int:
        """Apply every event not yet projected, up to `batch_size` log events a transaction
        (default BATCH_SIZE); returns how many events were applied (an event counts once for
        each read model that reads it)."""
        applied = 0
        while True:
            with _collector_paused():
                count = self._project_batch(batch_size or BATCH_SIZE)
            if count is None:
                return applied
            applied += count

    def _project_batch(self, batch_size: int) -> int | None:
        """Project one batch of the log into every read model that stands at its start: the
        batch is read and decoded once for all of them and written in one transaction (one
        commit instead of one per read model). None when every read model is at the head."""
        # Read the log first and only then take the write lock, never the other way round: on
        # SQLite the library's writers hold its connection pool while they wait for that lock,
        # so a read from the pool under the lock can wait for them in a circle (broken only by
        # the pool's 5 s timeout, as an error). Up to date: no write transaction at all.
        head = self._recorder.max_notification_id() or 0
        stored = self._positions()
        starts = sorted({at for p in self.projections if (at := stored.get(p.name, 0)) < head})
        if not starts:
            return None
        start = starts[0]
        # Stop where the next read models stand, so that the laggards join them there and from
        # then on share their batches.
        stop = starts[1] if len(starts) > 1 else head
        group = [p for p in self.projections if stored.get(p.name, 0) == start]
        notifications = self._recorder.select_notifications(
            start=start, stop=stop, limit=batch_size,
            topics=_union_of_topics(group), inclusive_of_start=False,
        )  # fmt: skip
        events = self._decode(notifications, group)
        reached = notifications[-1].id if len(notifications) == batch_size else stop
        with self._engine.connect() as conn, _batch_page_cache(conn):
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                ready = self._lock_positions(conn, group, start, stored)
                applied, failure = self._apply_each(conn, ready, events, reached)
        if failure is not None:
            raise failure
        return applied

    def _decode(
        self, notifications: Sequence[Any], group: Sequence[Projection]
    ) -> dict[str, list[Any]]:
        """Each read model's events of the batch, in log order; each event decoded once."""
        events: dict[str, list[Any]] = {p.name: [] for p in group}
        readers: dict[str, list[list[Any]]] = {}
        for notification in notifications:
            topic = notification.topic
            lists = readers.get(topic)
            if lists is None:
                lists = readers[topic] = [
                    events[p.name] for p in group if not p.topics or topic in p.topics
                ]
            if lists:
                event = self._mapper.to_domain_event(notification)
                for found in lists:
                    found.append(event)
        return events

    @staticmethod
    def _apply_each(
        conn: Connection, ready: Sequence[Projection], events: dict[str, list[Any]], reached: int
    ) -> tuple[int, Exception | None]:
        """Apply the batch to each read model and move its position, each in a savepoint: one
        that fails leaves its rows and position as they were and the others still commit (a
        bug in one read model must not hold up the rest); the failure is raised after."""
        applied, done, failure = 0, [], None
        for projection in ready:
            mine = events[projection.name]
            try:
                if mine:  # none of its events in the batch: only its position moves
                    with conn.begin_nested():
                        projection.apply(conn, mine)
            except Exception as error:
                failure = failure or error
                continue
            applied += len(mine)
            done.append({"_name": projection.name, "position": reached})
        if done:
            conn.execute(_MOVE_POSITION, done)
        return applied, failure

    @staticmethod
    def _lock_positions(
        conn: Connection, group: Sequence[Projection], start: int, stored: dict[str, int]
    ) -> list[Projection]:
        """The read models of the group still at `start`, their position rows locked (another
        worker may have moved some on meanwhile: those are left for the next round)."""
        # Two projectors starting on a fresh table must not both insert a row (on PostgreSQL
        # the loser would fail on the primary key): insert the missing ones if still missing.
        missing = [{"name": p.name, "position": 0} for p in group if p.name not in stored]
        if missing:
            dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            statement = dialect_insert(positions).on_conflict_do_nothing(
                index_elements=[positions.c.name]
            )
            conn.execute(statement, missing)
        # Locked in name order, as every projector does: two never wait for each other in a circle.
        names = sorted(p.name for p in group)
        query = (
            select(positions.c.name, positions.c.position)
            .where(positions.c.name.in_(names))
            .order_by(positions.c.name)
            .with_for_update()
        )
        locked = {name: int(position) for name, position in conn.execute(query)}
        return [p for p in group if locked.get(p.name) == start]

    def _positions(self) -> dict[str, int]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(positions.c.name, positions.c.position))
            return {name: int(position) for name, position in rows}

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
        return self.catch_up(WORKER_BATCH_SIZE)

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
                        if not self.catch_up(WORKER_BATCH_SIZE):
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


_MOVE_POSITION = (
    positions.update()
    .where(positions.c.name == bindparam("_name"))
    .values(position=bindparam("position"))
)


def _union_of_topics(group: Sequence[Projection]) -> tuple[str, ...]:
    """The topics any of the group reads (none: read everything, if one of them does)."""
    if any(not p.topics for p in group):
        return ()
    return tuple(sorted({t for p in group for t in p.topics}))


@contextmanager
def _batch_page_cache(conn: Connection) -> Iterator[None]:
    """On SQLite, a large page cache for the batch's connection while it writes, back to the
    default after (the connection returns to a pool that web requests share). A batch
    updates index pages all over the read models' tables; with SQLite's default 2 MB cache it
    reads many of them again for each statement (a fifth of a cold catch-up's time at a
    million events, bench.projection_catchup)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.driver_connection  # a PRAGMA through SQLAlchemy would open a transaction
    raw.execute(f"PRAGMA cache_size=-{BATCH_CACHE_KIB}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size={_DEFAULT_CACHE}")


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold off the cyclic garbage collector while a batch runs. A batch allocates hundreds of
    thousands of short-lived objects (decoded events, rows, parameters), which trigger many
    collections that each walk the older objects too (about 15% of a catch-up's time), yet
    reference counting frees them all; any cycles are collected between batches."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
