"""The projection worker tails the log while several processes append: it applies every
notification id exactly once, skipping none, even where PostgreSQL hands out ids in one order
and commits them in another.

On PostgreSQL a writer takes its ids from a sequence when it inserts and they become visible
when it commits, so a reader could see id 7 committed while id 6 is still in flight and move
past it for good. The eventsourcing library's recorder prevents that by taking an EXCLUSIVE
lock on the events table for each insert (commit order = id order); the runner relies on it by
advancing to the highest committed id. These tests would catch either one going wrong."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from sqlalchemy.engine import make_url

from portal.runtime import Runtime, build_runtime
from projections.runner import Projector
from services.settings import Settings
from tests.reliability.support_processes import SPAWN, Workers
from tests.reliability.support_tailing import (
    NAME,
    AppliedEvents,
    all_notifications,
    applied,
    applied_rows,
    follow_until_stopped,
)
from tests.reliability.support_writers import (
    EVENTS_PER_CASE,
    new_cases,
    save_batches,
    save_contested_batches,
)

FOLLOWERS = 2  # two projection workers on one projection, as when a worker is restarted late
WRITERS = 3
POLL_S = 0.01


def follow_while(
    rt: Runtime, settings: Settings, writers: list[tuple[Callable[..., Any], tuple[Any, ...]]]
) -> list[tuple[str, int, int]]:
    """Start FOLLOWERS projection workers; once they are tailing, run the writer processes;
    stop the workers when they have applied the whole log. The test projection's rows."""
    ready, stop = SPAWN.Barrier(FOLLOWERS + 1), SPAWN.Event()
    followers = Workers(settings, [(follow_until_stopped, (ready, stop, POLL_S))] * FOLLOWERS)
    try:
        ready.wait(60)
        Workers(settings, writers).results()
        head = rt.retrofit.recorder.max_notification_id() or 0
        deadline = time.monotonic() + 60
        while rt.projector.position(NAME) < head:
            assert time.monotonic() < deadline, "the projection workers did not catch up"
            time.sleep(0.05)
    finally:
        stop.set()
    followers.results()
    return applied_rows(rt)


def notification_ids(rt: Runtime) -> dict[tuple[str, int], int]:
    """Each stored event's notification id, by (originator id, version)."""
    return {(str(n.originator_id), n.originator_version): n.id for n in all_notifications(rt)}


@pytest.mark.slow
def test_workers_tailing_the_log_while_processes_append_apply_ids_1_to_n_once_each(
    rt: Runtime, settings: Settings
) -> None:
    applied.create(rt.engine)
    threads, batches, size = 2, 40, 3
    rows = follow_while(rt, settings, [(save_batches, ("tail", threads, batches, size))] * WRITERS)

    stored = notification_ids(rt)
    total = WRITERS * threads * batches * size * EVENTS_PER_CASE
    assert sorted(stored.values()) == list(range(1, total + 1))  # no writer rolled back
    seen = Counter((case, v) for case, v, _ in rows)
    assert [k for k, n in seen.items() if n > 1] == []  # none twice
    assert sorted(stored[k] for k in seen) == list(range(1, total + 1))  # none skipped


@pytest.mark.slow
def test_rolled_back_writers_leave_gaps_that_the_workers_pass_without_losing_a_neighbour(
    rt: Runtime, settings: Settings
) -> None:
    """Writers collide on purpose: the losers' ids are taken and rolled back (on PostgreSQL a
    sequence never gives a number back), so the log has gaps between committed ids; the
    workers apply exactly the committed ids, each once."""
    applied.create(rt.engine)
    batches, size = 40, 3
    barrier = SPAWN.Barrier(WRITERS)
    writers = [(save_contested_batches, (barrier, "contested", batches, size))] * WRITERS
    rows = follow_while(rt, settings, writers)

    stored = notification_ids(rt)
    assert len(stored) == batches * size * EVENTS_PER_CASE  # each batch saved by one writer
    seen = Counter((case, v) for case, v, _ in rows)
    assert [k for k, n in seen.items() if n > 1] == []
    assert sorted(stored[k] for k in seen) == sorted(stored.values())


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
@pytest.mark.parametrize(
    "stray_setting",
    ["", "POSTGRES_ENABLE_DB_FUNCTIONS", "ANLAO_POSTGRES_ENABLE_DB_FUNCTIONS"],
    ids=["as-configured", "db-functions-set", "db-functions-set-for-anlao"],
)
def test_a_write_still_in_flight_with_a_lower_id_is_not_passed_over(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, stray_setting: str
) -> None:
    """The pitfall itself, step by step: a transaction has taken the next id and not committed;
    a writer of ours comes next; the worker catches up in between. Our writer must wait for the
    one in flight (the library's table lock), else it would commit the higher id first and the
    worker would move past the lower one for good. The library also reads os.environ, where a
    setting that inserts without the lock must change nothing."""
    if stray_setting:
        monkeypatch.setenv(stray_setting, "y")
    rt = build_runtime(settings)
    try:
        catch_up_around_a_write_in_flight(rt, settings)
        stored = notification_ids(rt)
        seen = Counter((case, v) for case, v, _ in applied_rows(rt))
    finally:
        rt.dispose()
    assert sorted(stored[k] for k in seen) == sorted(stored.values())
    assert max(seen.values()) == 1


def catch_up_around_a_write_in_flight(rt: Runtime, settings: Settings) -> None:
    """Hold an insert open, let one of our saves queue behind it, catch up, commit, catch up."""
    applied.create(rt.engine)
    projector = Projector(rt.engine, rt.retrofit, [AppliedEvents(0)])
    rt.retrofit.save(*new_cases("before", 0, 2))
    url = make_url(settings.database_url)
    conninfo = url.set(query={}).render_as_string(hide_password=False)
    with psycopg.connect(conninfo, options=f"-csearch_path={url.query['schema']}") as in_flight:
        in_flight.execute(  # takes the next id; visible only when it commits
            "INSERT INTO anlao_events (originator_id, originator_version, topic, state) "
            "SELECT %s, originator_version, topic, state FROM anlao_events "
            "WHERE notification_id = 1",
            (uuid4(),),
        )
        ours = threading.Thread(target=rt.retrofit.save, args=new_cases("after", 0, 1))
        ours.start()
        ours.join(timeout=1.0)  # it should be waiting; had it committed, the trap would be set
        projector.catch_up()
        in_flight.commit()
    ours.join(timeout=30)
    assert not ours.is_alive()
    projector.catch_up()
