"""One queue for every writer of an SQLite database, across threads and processes.

SQLite lets one transaction write at a time; a writer that finds the lock taken sleeps in
SQLite's busy handler, in steps that grow to 100 ms, and is not woken when the lock frees. Under
load (several web workers and the projection worker writing at once) most of a request's time
went to those sleeps, and one unlucky writer could lose the race many times over (bench
.portal_load: p95 of a submit near 400 ms at a p50 of 60 ms). Here each writer first takes the
gate: threads of a process queue on a lock that hands over as soon as it is released, and
processes take an advisory lock on a file beside the database, retried every few hundred
microseconds. Only then does the writer begin its transaction, which therefore almost never
meets SQLite's lock taken.

Both ways into the database take the gate: SQLAlchemy connections that begin with BEGIN
IMMEDIATE (`GatedConnection`) and the event store's write transactions (`GatedSQLiteFactory`).
A writer that waits longer than the busy timeout gets `WriteGateTimeout`, a storage failure
like "database is locked".
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore, SQLiteFactory

# Longest pause between two tries at another process's lock: short next to a transaction
# (about a millisecond), long enough that a waiting process costs next to nothing.
_MAX_RETRY_S = 0.0005


class WriteGateTimeout(sqlite3.OperationalError):
    """No turn to write came within the busy timeout (the database is too busy or stuck)."""


class WriteGate:
    """The writers' queue of one database file, in one process."""

    def __init__(self, database: str) -> None:
        self._path = f"{database}-writers.lock"
        self._turn = threading.Lock()  # threads of this process, in turn
        self._fd: int | None = None

    def acquire(self, timeout_s: float) -> None:
        """Wait for this thread's turn to write, then for this process's."""
        deadline = time.monotonic() + timeout_s
        if not self._turn.acquire(timeout=timeout_s):
            raise WriteGateTimeout("database is locked (waited for the other writers)")
        try:
            self._lock_file(deadline)
        except BaseException:
            self._turn.release()
            raise

    def release(self) -> None:
        """Let the next writer in (after the transaction has committed or rolled back)."""
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._turn.release()

    def _lock_file(self, deadline: float) -> None:
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        pause = 0.00005
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WriteGateTimeout("database is locked (another process writes)") from None
                time.sleep(pause)
                pause = min(pause * 2, _MAX_RETRY_S)

    @contextmanager
    def held(self, timeout_s: float) -> Iterator[None]:
        """The gate, for the length of a block that writes."""
        self.acquire(timeout_s)
        try:
            yield
        finally:
            self.release()


_gates: dict[tuple[int, str], WriteGate] = {}
_gates_lock = threading.Lock()


def gate_for(database: str) -> WriteGate | None:
    """This process's gate for the database file (None in memory: one connection, no queue).
    Keyed by process too: a lock file opened before a fork would be shared with the child, and
    an advisory lock held through it would let both in at once."""
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    key = (os.getpid(), os.path.abspath(database))
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = WriteGate(key[1])
        return gate


class GatedConnection(sqlite3.Connection):
    """An sqlite3 connection (for SQLAlchemy) that leaves the gate when its transaction ends:
    `begin_writing` takes it before BEGIN IMMEDIATE; commit, rollback or close let it go."""

    _gate: WriteGate | None = None

    def begin_writing(self, gate: WriteGate | None, timeout_s: float) -> None:
        """Take the gate, then start the write transaction."""
        if gate is not None:
            gate.acquire(timeout_s)
            self._gate = gate
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._leave()
            raise

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._leave()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._leave()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._leave()

    def _leave(self) -> None:
        gate, self._gate = self._gate, None
        if gate is not None:
            gate.release()


class GatedSQLiteDatastore(SQLiteDatastore):
    """The event store's SQLite datastore, its write transactions taken in turn at the gate."""

    def __init__(self, db_name: str, lock_timeout: int | None, **kwargs: Any) -> None:
        super().__init__(db_name, lock_timeout=lock_timeout, **kwargs)
        self._timeout_s = float(lock_timeout or 5)

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[SQLiteCursor]:
        if not commit or (gate := gate_for(self.pool.db_name)) is None:
            with super().transaction(commit=commit) as cursor:
                yield cursor
            return
        with gate.held(self._timeout_s), super().transaction(commit=True) as cursor:
            yield cursor


class GatedSQLiteFactory(SQLiteFactory):
    """The library's SQLite persistence, with `GatedSQLiteDatastore` (PERSISTENCE_MODULE)."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        plain = self.datastore
        self.datastore = GatedSQLiteDatastore(
            plain.pool.db_name,
            plain.pool.lock_timeout,
            single_row_tracking=plain.single_row_tracking,
            originator_id_type=plain.originator_id_type,
        )
        plain.close()  # never used: no connection was opened yet
