"""A test projection that records every event it is handed, and the projection worker's loop
(Projector.follow, as `anlao projections run` runs it) in a child process."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, select

from portal.runtime import Runtime
from projections.runner import Projector

NAME = "reliability_applied"
applied = Table(
    NAME,
    MetaData(),
    Column("originator_id", String(36), nullable=False),
    Column("originator_version", Integer, nullable=False),
    Column("worker", Integer, nullable=False),
)  # no key on purpose: an event applied twice must show, not fail


class AppliedEvents:
    """Records each event it is given and which worker applied it; reads every topic."""

    name = NAME
    tables = (applied,)
    topics: tuple[str, ...] = ()

    def __init__(self, worker: int) -> None:
        self.worker = worker

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """One row per event, in the runner's transaction."""
        conn.execute(
            applied.insert(),
            [
                {
                    "originator_id": str(e.originator_id),
                    "originator_version": e.originator_version,
                    "worker": self.worker,
                }
                for e in events
            ],
        )


def follow_until_stopped(
    rt: Runtime, index: int, ready: Any, stop: Any, poll_seconds: float
) -> int:
    """Say so once started (`ready`, a barrier shared with the test), then tail the log with
    the test projection until `stop` (a process-shared event) is set."""
    ready.wait(60)
    Projector(rt.engine, rt.retrofit, [AppliedEvents(index)]).follow(stop, poll_seconds)
    return index


def applied_rows(rt: Runtime) -> list[tuple[str, int, int]]:
    """(originator id, version, worker) of every event the test projection applied."""
    with rt.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(applied))]  # type: ignore[misc]


def all_notifications(rt: Runtime) -> list[Any]:
    """Every stored event's notification, in log order."""
    found: list[Any] = []
    while batch := rt.retrofit.recorder.select_notifications(
        start=found[-1].id if found else 0, limit=1000, inclusive_of_start=False
    ):
        found += batch
    return found
