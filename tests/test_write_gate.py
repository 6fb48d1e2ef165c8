"""SQLite writers queue at one gate across threads and processes (services/write_gate.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select

from services.database import STORAGE_FAILURES, make_engine, writing
from services.settings import Settings
from services.write_gate import GatedSQLiteFactory, WriteGateTimeout, gate_for

ROOT = Path(__file__).resolve().parents[1]
metadata = MetaData()
marks = Table(
    "marks", metadata, Column("n", Integer, primary_key=True), Column("writer", String(10))
)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "gate.sqlite3"


@pytest.fixture
def engine(database: Path, tmp_path: Path):
    engine = make_engine(Settings(tmp_path, f"sqlite:///{database}", "test"))
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def _other_process(database: Path, body: str) -> subprocess.Popen[str]:
    """Another process that takes the gate, says "held", then runs `body` still holding it."""
    script = textwrap.dedent(f"""
        import sqlite3, sys, time
        from services.write_gate import gate_for
        database = {str(database)!r}
        gate_for(database).acquire(5)
        print("held", flush=True)
    """) + textwrap.dedent(body)
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_writer_waits_while_another_process_holds_the_gate(engine, database):
    # The other process begins its own transaction only after a pause; without the gate this
    # process's BEGIN IMMEDIATE would find SQLite's lock free and write first.
    other = _other_process(
        database,
        """
        time.sleep(0.5)
        conn = sqlite3.connect(database, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO marks (writer) VALUES ('other')")
        conn.execute("COMMIT")
        """,
    )
    with writing(engine) as conn:
        conn.execute(marks.insert().values(writer="this"))
    assert other.wait(10) == 0
    other.stdout.close()
    with engine.connect() as conn:
        order = conn.execute(select(marks.c.writer).order_by(marks.c.n)).scalars().all()
    assert order == ["other", "this"]


def test_a_writer_that_cannot_get_in_gets_a_storage_failure_and_a_dead_holder_frees_the_gate(
    engine, database
):
    other = _other_process(database, "time.sleep(60)")
    try:
        store = GatedSQLiteFactory({"SQLITE_DBNAME": str(database), "SQLITE_LOCK_TIMEOUT": "1"})
        with pytest.raises(WriteGateTimeout) as waited, store.datastore.transaction(commit=True):
            pass
        assert isinstance(waited.value, STORAGE_FAILURES)  # the portal answers 503
        pooled = engine.raw_connection()
        with pytest.raises(WriteGateTimeout):
            pooled.driver_connection.begin_writing(gate_for(str(database)), 0.2)
        assert not pooled.driver_connection.in_transaction
        pooled.close()
    finally:
        other.kill()
        other.wait(10)
        other.stdout.close()
    # The kernel drops a killed process's lock: writing goes on.
    with writing(engine) as conn:
        conn.execute(marks.insert().values(writer="after"))
    with store.datastore.transaction(commit=True) as cursor:
        cursor.execute("SELECT 1")
    store.close()


def test_the_gate_is_left_when_a_transaction_commits_fails_or_rolls_back(engine, database):
    gate = gate_for(str(database))
    assert gate is not None
    with writing(engine) as conn:
        conn.execute(marks.insert().values(writer="kept"))
    with pytest.raises(ZeroDivisionError), writing(engine) as conn:
        conn.execute(marks.insert().values(writer="undone"))
        _ = 1 / 0
    with engine.connect() as conn:
        conn.execution_options(anlao_write=True)
        conn.begin()
        conn.execute(marks.insert().values(writer="closed"))
        # closed without commit: the pool rolls back and the gate is left
    # Another thread (threads queue on the process's lock) gets in at once each time.
    got_in: list[bool] = []
    helper = threading.Thread(target=lambda: got_in.append(_try(gate)))
    helper.start()
    helper.join()
    assert got_in == [True]
    with engine.connect() as conn:
        assert conn.execute(select(marks.c.writer)).scalars().all() == ["kept"]


def test_in_memory_databases_have_no_gate():
    assert gate_for(":memory:") is None
    assert gate_for("") is None


def _try(gate) -> bool:  # type: ignore[no-untyped-def]
    try:
        gate.acquire(0.2)
    except WriteGateTimeout:
        return False
    gate.release()
    return True
