"""`anlao serve` under gunicorn: the master opens no database before forking its workers (each
builds its own app), the workers answer, and with in-process projections (the embedded
default) a write made elsewhere reaches the read models without anyone asking."""

from __future__ import annotations

import signal
import time

import psutil
import pytest

from tests.support.actors import FAMILY
from tests.support.live_http import Client, free_port, start, wait_ready
from tests.support.scenario import apply


def database_files(process: psutil.Process, database: str) -> list[str]:
    """The database's files this process holds open (the SQLite file, its WAL)."""
    return [f.path for f in process.open_files() if f.path.startswith(database)]


def test_the_master_opens_no_database_and_each_worker_its_own(rt, settings, tmp_path) -> None:
    if not rt.settings.is_sqlite:
        pytest.skip("checked on the SQLite file; PostgreSQL sockets follow the same code path")
    port, log = free_port(), tmp_path / "serve.log"
    server = start(
        ["serve", "--port", str(port), "--workers", "2", "--threads", "2"], settings, log
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, server, log)
        db = settings.database_url.removeprefix("sqlite:///")
        master = psutil.Process(server.pid)
        workers = master.children()
        assert len(workers) == 2
        for _ in range(20):  # a few requests, so both workers have served
            assert Client(base).get("/readyz").status == 200
        assert database_files(master, db) == []
        assert all(database_files(w, db) for w in workers)

        # Each worker follows the log in the background (the embedded default): an application
        # saved by another process appears in the read models with no request asking for it.
        case_id = apply(rt, FAMILY)
        deadline = time.monotonic() + 30
        while rt.projector.position("retrofit_cases") < rt.retrofit.recorder.max_notification_id():
            assert time.monotonic() < deadline, "the workers never projected the new event"
            time.sleep(0.1)
        assert rt.retrofit.repository.get(case_id).version == 1
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(30) == 0, log.read_text()[-2000:]
