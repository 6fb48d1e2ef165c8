"""Connections to the one database that holds events, read models and personal data."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import psycopg
from eventsourcing import persistence as es
from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url

from services.settings import Settings
from services.write_gate import GatedConnection, WriteGateTimeout, gate_for

SQLITE_BUSY_TIMEOUT_S = 15
# How long a new connection to PostgreSQL may take before the request gives up (503).
POSTGRES_CONNECT_TIMEOUT_S = 5
# How long the event store waits for a connection from its pool. The library retries every read
# and write up to 10 times, 0.2 s apart, each attempt waiting this long: while PostgreSQL is
# away a request learns so after about 22 s (the library's 30 s default made it 5 minutes), within
# gunicorn's 60 s. 1 s was too short for a new connection on a machine whose cores are busy
# (the pool's first connection also sets up types): a CLI command failed that way in a test run.
EVENT_STORE_POOL_WAIT_S = 2
# The database is down, unreachable, busy or out of space: the operation did not complete and
# may succeed if tried again later. The portal answers these with 503 (portal/errors.py).
STORAGE_FAILURES: tuple[type[Exception], ...] = (
    exc.OperationalError,  # SQLAlchemy: connection lost or refused, disk full, database locked
    exc.InterfaceError,  # SQLAlchemy: a connection that was closed under us
    exc.TimeoutError,  # SQLAlchemy: no pooled connection came free in time
    es.OperationalError,  # the event store: the same, and its pool timing out
    es.InterfaceError,  # the event store could not open a connection at all
    psycopg.OperationalError,  # PostgreSQL errors that reach us untranslated
    WriteGateTimeout,  # SQLite: no turn to write came in time (services/write_gate.py)
)
_SQLITE_FULL = 13  # SQLITE_FULL: "database or disk is full" (also max_page_count reached)
# Any fixed number, the same in every process: the PostgreSQL advisory lock held while tables,
# indexes and the library's functions are created (services/application.py takes it too).
SCHEMA_LOCK = 0x616E6C616F  # "anlao"
# Connections that will write pass this execution option (see `_sqlite_begin`).
WRITE_OPTION = "anlao_write"


def make_engine(settings: Settings) -> Engine:
    """SQLAlchemy engine for read models and the person store, on SQLite (WAL) or PostgreSQL."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        Path(url.database or "").parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "factory": GatedConnection},
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", partial(_sqlite_begin, url.database or ""))
        return engine
    url = url.set(drivername="postgresql+psycopg")
    schema = url.query.get("schema")
    connect_args: dict[str, object] = {"connect_timeout": POSTGRES_CONNECT_TIMEOUT_S}
    if schema:
        connect_args["options"] = f"-csearch_path={schema}"
    # pre-ping: after a database restart, pooled connections are dead; each is tested and
    # replaced on checkout instead of failing the request that happens to draw it.
    # hide_parameters: statement values (names, ID numbers, phones) never reach error messages
    # or logs.
    return create_engine(
        url.difference_update_query(["schema"]),
        connect_args=connect_args,
        pool_pre_ping=True,
        hide_parameters=True,
    )


def _sqlite_begin(database: str, conn: Connection) -> None:
    # A read-then-write transaction that starts deferred can fail to upgrade its lock
    # ("database is locked") however long the busy timeout; writers say so up front, and
    # queue at the write gate first (services/write_gate.py).
    if conn.get_execution_options().get(WRITE_OPTION):
        raw = conn.connection.driver_connection
        raw.begin_writing(gate_for(database), SQLITE_BUSY_TIMEOUT_S)  # type: ignore[union-attr]
    else:
        conn.exec_driver_sql("BEGIN")


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see make_engine)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def event_store_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing library's environment for the same database as the read models."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        env = {
            "PERSISTENCE_MODULE": "services.write_gate:GatedSQLiteFactory",
            "SQLITE_DBNAME": url.database or "",
            "SQLITE_LOCK_TIMEOUT": str(SQLITE_BUSY_TIMEOUT_S),
        }
    else:
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.database or "",
            "POSTGRES_HOST": url.host or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "postgres",
            "POSTGRES_PASSWORD": url.password or "",
            "POSTGRES_SCHEMA": str(url.query.get("schema", "")),
            # Every programme's service keeps its own pool: one idle connection each, a few
            # more under load, so a worker holds ~7 at rest instead of the library's 35.
            "POSTGRES_POOL_SIZE": "1",
            "POSTGRES_MAX_OVERFLOW": "4",
            # Test each pooled connection before use, so that a restart of PostgreSQL does not
            # fail one request per connection that died with it; and wait a bounded time for
            # a connection while the server is away (the portal then answers 503).
            "POSTGRES_PRE_PING": "y",
            "POSTGRES_CONNECT_TIMEOUT": str(EVENT_STORE_POOL_WAIT_S),
        }
    if settings.event_cipher_key:
        env |= {
            "CIPHER_TOPIC": "eventsourcing.cipher:AESCipher",
            "CIPHER_KEY": settings.event_cipher_key,
        }
    return env


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction (BEGIN IMMEDIATE on SQLite): commits on success, else rolls back."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn


def ensure_schema(engine: Engine, settings: Settings) -> None:
    """Create the PostgreSQL schema named by `?schema=` in the URL, if any (tests use one each)."""
    schema = make_url(settings.database_url).query.get("schema")
    if schema and not settings.is_sqlite:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))


@contextmanager
def schema_changes(engine: Engine) -> Iterator[None]:
    """One process at a time creates missing tables and indexes: web workers and the projection
    worker starting together on a fresh PostgreSQL database would otherwise race to create the
    same ones and fail. SQLite serialises writers already."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK})
            conn.commit()


def storage_full(error: BaseException) -> bool:
    """Whether a storage failure means "out of space" (SQLite's SQLITE_FULL, PostgreSQL's
    disk_full), as opposed to the database being unreachable or busy."""
    for cause in _causes(error):
        if isinstance(cause, sqlite3.Error) and cause.sqlite_errorcode & 0xFF == _SQLITE_FULL:
            return True
        if isinstance(cause, psycopg.errors.DiskFull):
            return True
    return False


def describe_failure(error: BaseException) -> str:
    """A one-line account of a storage failure for the log: the driver's own message, never
    the statement or its values."""
    driver = next((c for c in _causes(error) if isinstance(c, sqlite3.Error | psycopg.Error)), None)
    message = str(driver if driver is not None else error).strip().splitlines()
    return f"{type(error).__name__}: {message[0] if message else ''}"


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, what it wraps (SQLAlchemy's `orig`), and what it was raised from."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        wrapped = getattr(current, "orig", None)
        current = wrapped if isinstance(wrapped, BaseException) else current.__cause__
