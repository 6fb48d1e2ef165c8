"""Liveness and readiness probes, and the projection lag they and `anlao projections status`
report: events behind and the age of the oldest event not yet applied."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from click.testing import CliRunner

from events import clock
from portal.cli import main
from tests.support.actors import FAMILY
from tests.support.scenario import apply


def test_liveness_answers_without_touching_anything(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "alive"}
    assert "Set-Cookie" not in response.headers


def test_readiness_reports_the_database_and_the_projection_lag(client, app_rt) -> None:
    moment = clock.now() - timedelta(minutes=5)
    with clock.frozen_at(moment):
        apply(app_rt, FAMILY)
        apply(app_rt, FAMILY)
    head = app_rt.retrofit.recorder.max_notification_id()

    behind = client.get("/readyz").get_json()
    assert behind["status"] == "ready" and behind["database"] == "ok"
    assert behind["projections"]["events_behind"] == 2 == head - behind["projections"]["position"]
    assert 299 <= behind["projections"]["seconds_behind"] < 400  # the oldest is 5 minutes old

    app_rt.catch_up()
    caught_up = client.get("/readyz").get_json()["projections"]
    assert caught_up == {"events_behind": 0, "seconds_behind": 0.0, "head": head, "position": head}


def test_projections_status_exits_1_when_too_far_behind(rt, settings, monkeypatch) -> None:
    monkeypatch.setenv("ANLAO_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ANLAO_INSTANCE_PATH", str(settings.instance_path))
    monkeypatch.setenv("ANLAO_SECRET_KEY", settings.secret_key)
    with clock.frozen_at(clock.now() - timedelta(minutes=10)):
        apply(rt, FAMILY)
    late = CliRunner().invoke(main, ["projections", "status", "--max-seconds-behind", "60"])
    assert late.exit_code == 1, late.output
    assert "1 events and" in late.output
    rt.catch_up()
    fine = CliRunner().invoke(main, ["projections", "status", "--max-seconds-behind", "60"])
    assert fine.exit_code == 0, fine.output
    assert "0 events and 0.0s behind" in fine.output


def test_the_worker_wakes_on_each_write_not_on_its_poll(rt) -> None:
    """With a poll of a minute, a write still reaches the read models within seconds on
    PostgreSQL (NOTIFY wakes the worker); SQLite has no notification and waits for the poll."""
    if rt.settings.is_sqlite:
        pytest.skip("SQLite has no LISTEN/NOTIFY: the worker polls")
    stop = threading.Event()
    worker = threading.Thread(target=rt.projector.follow, args=(stop, 60.0))
    worker.start()
    try:
        time.sleep(1)  # the worker has caught up and is waiting
        apply(rt, FAMILY)
        deadline = time.monotonic() + 20
        while rt.projector.lag().events_behind and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rt.projector.lag().events_behind == 0
    finally:
        stop.set()
        worker.join(timeout=90)
