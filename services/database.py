"""Connections to the one database that holds events, read models and personal data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from services.settings import Settings

SQLITE_BUSY_TIMEOUT_S = 15
# Connections that will write pass this execution option (see `_sqlite_begin`).
WRITE_OPTION = "anlao_write"


def make_engine(settings: Settings) -> Engine:
    """SQLAlchemy engine for read models and the person store, on SQLite (WAL) or PostgreSQL."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        Path(url.database or "").parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    url = url.set(drivername="postgresql+psycopg")
    schema = url.query.get("schema")
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    return create_engine(
        url.difference_update_query(["schema"]), connect_args=connect_args, pool_pre_ping=True
    )


def _sqlite_begin(conn: Connection) -> None:
    # A read-then-write transaction that starts deferred can fail to upgrade its lock
    # ("database is locked") however long the busy timeout; writers say so up front.
    immediate = conn.get_execution_options().get(WRITE_OPTION)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


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
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
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
