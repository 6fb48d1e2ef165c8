"""How long loading one long-lived aggregate takes as its history grows, with snapshots and without.

    python -m bench.aggregate_load [--sizes 10,100,1000,10000,100000] [--loads N]
                                   [--seconds S] [--database-url URL] [--json PATH]

For a canteen (weekly food-safety checks; FacilityService snapshots facilities every 100 events)
and a provincial fund (the ledger_replay bench's realistic movements; LedgerService snapshots
funds every 500), builds one aggregate per history size on a fresh SQLite file or PostgreSQL
schema, saved 1,000 events a transaction through the real service (which takes the snapshots as
it saves). Then times `repository.get(id)`, p50/p95 of up to N loads or S seconds a cell:
- with snapshots at the head (the newest snapshot, then the events after it);
- with snapshots at the version before the head: for a history that is a multiple of the
  interval, the worst case (a snapshot, then interval - 1 events);
- without snapshots: the same service class told IS_SNAPSHOTTING_ENABLED=n, reading the same
  store, so every event is read and applied.
Each size is first checked: the aggregate loaded from snapshots equals the full replay.
Prints a table and writes bench/results/aggregate_load-<backend>.json.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from bench import ledger_replay
from bench.cli import command_line, write_figures
from bench.seeding import bench_runtime
from events import clock
from events.facility import MILESTONES, FacilityProject, Kind
from events.fund import Fund
from services.application import AnlaoApplication
from services.database import event_store_env
from services.facilities import SNAPSHOT_INTERVAL as FACILITY_INTERVAL
from services.facilities import FacilityService
from services.ledger import SNAPSHOT_INTERVAL as FUND_INTERVAL
from services.ledger import LedgerService

SIZES = (10, 100, 1_000, 10_000, 100_000)
BATCH = 1_000  # events saved a transaction while building
ACTOR = "bench-inspector"
OPENED = date(2000, 1, 3)  # the canteen opened long ago; its check dates cycle through since
TODAY = date(2026, 11, 29)
WEEKS = (TODAY - OPENED).days // 7
PHOTO = {"sha256": "c" * 64, "media_type": "image/jpeg"}


@dataclass(frozen=True)
class Timing:
    """Load times of one cell, in milliseconds, and how many loads they summarise."""

    p50: float
    p95: float
    loads: int


@dataclass(frozen=True)
class Row:
    """One aggregate of one history size, loaded three ways."""

    aggregate: str
    events: int
    snapshots: int
    snapshot_bytes: int
    head: Timing
    before_head: Timing
    without: Timing


def main(argv: list[str] | None = None) -> None:
    """Build the histories, time the loads, print a table and write JSON."""
    args = _parse(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    started = time.perf_counter()
    with bench_runtime(args.database_url) as rt:
        backend = "sqlite" if rt.settings.is_sqlite else "postgresql"
        env = event_store_env(rt.settings)
        plain_facilities = FacilityService(env | {"IS_SNAPSHOTTING_ENABLED": "n"})
        plain_ledger = LedgerService(env | {"IS_SNAPSHOTTING_ENABLED": "n"})
        try:
            rows, building = _measure_all(rt, (plain_facilities, plain_ledger), sizes, args)
        finally:
            plain_facilities.close()
            plain_ledger.close()
    figures = {
        "command": command_line("bench.aggregate_load", argv), "backend": backend, "cpus": _cpus(),
        "load_average": round(os.getloadavg()[0], 1), "batch": BATCH,
        "intervals": {"facility": FACILITY_INTERVAL, "fund": FUND_INTERVAL},
        "building_s": round(building, 1), "total_s": round(time.perf_counter() - started, 1),
        "rows": [asdict(row) for row in rows],
    }  # fmt: skip
    _print(figures, rows)
    write_figures("aggregate_load", backend, figures, args.json)


def _measure_all(
    rt: Any, plain: tuple[FacilityService, LedgerService], sizes: list[int], args: Any
) -> tuple[list[Row], float]:
    """Every row, and the seconds spent building histories (not part of any timing)."""
    builders: dict[str, tuple[AnlaoApplication, AnlaoApplication, Callable[[int], UUID]]] = {
        "facility (canteen)": (rt.facilities, plain[0], lambda n: canteen(rt.facilities, n)),
        "fund": (rt.ledger, plain[1], lambda n: fund(rt.ledger, n)),
    }
    rows, building = [], 0.0
    for label, (app, without, build) in builders.items():
        for size in sizes:
            started = time.perf_counter()
            aggregate_id = build(size)
            building += time.perf_counter() - started
            rows.append(_row(label, app, without, aggregate_id, args))
            print(f"  {label}, {size:,} events: done", file=sys.stderr, flush=True)
    return rows, building


def canteen(app: FacilityService, events: int) -> UUID:
    """A canteen open since 2000 with `events` events, most of them weekly food-safety checks."""
    facility = FacilityProject.register(
        facility_id=uuid4(), kind=Kind.CANTEEN, name="春晖老年助餐食堂", district="D01",
        street="和平街道", community="春晖社区", deadline="2000-12-31",
        planned_on=OPENED.isoformat(), actor_id=ACTOR,
    )  # fmt: skip
    for milestone in MILESTONES[1:]:  # open (9 events), then checked
        facility.reach_milestone(milestone=milestone, on=OPENED.isoformat(), today=TODAY,
                                 actor_id=ACTOR)  # fmt: skip
    week = 0
    while facility.version < events:
        checked = date.fromordinal(OPENED.toordinal() + 7 * (week % WEEKS))
        facility.log_food_safety_inspection(
            passed=week % 13 != 0, findings="后厨整洁,留样规范;排风罩油污需清洗。",
            photos=[PHOTO], inspected_on=checked.isoformat(), today=TODAY, actor_id=ACTOR,
        )  # fmt: skip
        week += 1
        if len(facility.pending_events) >= BATCH:
            app.save(facility)
    app.save(facility)
    return facility.id


def fund(ledger: LedgerService, events: int) -> UUID:
    """A provincial retrofit fund of `events` events (opened, then `events - 1` movements of the
    ledger_replay bench's year), one year per size: a fund's id is its source, programme, year."""
    year = 2000 + len(str(events))
    with clock.frozen_at(ledger_replay.START - timedelta(days=1)):
        opened = Fund.open(source="provincial", programme="retrofit", year=year,
                           title=f"{year}年省级适老化改造补助资金", matching_ratio=Decimal("1"),
                           actor_id=ledger_replay.ACTOR)  # fmt: skip
    ledger_replay._Seeder(ledger, opened, events - 1, BATCH).run()
    return opened.id


def _row(
    label: str, app: AnlaoApplication, without: AnlaoApplication, aggregate_id: UUID, args: Any
) -> Row:
    head = app.repository.get(aggregate_id)
    _check_equal(head, without.repository.get(aggregate_id), label)
    snapshots = app.snapshots.recorder  # type: ignore[union-attr]
    stored = snapshots.select_events(aggregate_id)  # counted, not decoded
    before = max(head.version - 1, 1)
    return Row(
        aggregate=label,
        events=head.version,
        snapshots=len(stored),
        snapshot_bytes=len(stored[-1].state) if stored else 0,
        **_timed(
            {
                "head": lambda: app.repository.get(aggregate_id),
                "before_head": lambda: app.repository.get(aggregate_id, version=before),
                "without": lambda: without.repository.get(aggregate_id),
            },
            args,
        ),
    )


def _check_equal(loaded: Any, replayed: Any, label: str) -> None:
    """A figure for a load that builds the wrong state would mean nothing: stop instead."""
    if {k: repr(v) for k, v in vars(loaded).items()} != {
        k: repr(v) for k, v in vars(replayed).items()
    }:
        raise SystemExit(f"{label} v{loaded.version}: loaded from snapshots differs from replay")


def _timed(loads: dict[str, Callable[[], Any]], args: Any) -> dict[str, Timing]:
    """p50/p95 of each way of loading, after one warm-up load each. The ways take turns, so
    that a change in the machine's load weighs on all of them alike; each stops after
    `args.loads` loads or `args.seconds` of its own time, and has at least three."""
    samples: dict[str, list[float]] = {name: [] for name in loads}
    for load in loads.values():
        load()
    while True:
        due = [name for name, taken in samples.items() if _wants_more(taken, args)]
        if not due:
            break
        for name in due:
            started = time.perf_counter()
            loads[name]()
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: _summary(taken) for name, taken in samples.items()}


def _wants_more(taken: list[float], args: Any) -> bool:
    return len(taken) < 3 or (len(taken) < args.loads and sum(taken) < args.seconds * 1000)


def _summary(taken: list[float]) -> Timing:
    ordered = sorted(taken)
    return Timing(_rank(ordered, 0.50), _rank(ordered, 0.95), len(ordered))


def _rank(ordered: list[float], share: float) -> float:
    """The nearest-rank percentile: a value that was measured, whatever the number of loads."""
    return round(ordered[max(math.ceil(share * len(ordered)) - 1, 0)], 3)


def _print(figures: dict[str, Any], rows: list[Row]) -> None:
    print(f"command: {figures['command']}")
    print(f"backend: {figures['backend']}; {figures['cpus']} CPUs, load average "
          f"{figures['load_average']} at the end; snapshots every {FACILITY_INTERVAL} facility "
          f"events, every {FUND_INTERVAL} fund events; histories built in "
          f"{figures['building_s']} s ({BATCH:,} events a transaction)")  # fmt: skip
    print(f"\n{'aggregate':<20}{'events':>9}{'snaps':>7}{'snap B':>8}"
          f"{'head p50 / p95 ms':>24}{'head-1 p50 / p95 ms':>24}{'no snapshots p50 / p95 ms':>28}"
          f"{'x':>8}")  # fmt: skip
    for r in rows:
        speedup = r.without.p50 / r.head.p50 if r.head.p50 else 0
        print(f"{r.aggregate:<20}{r.events:>9,}{r.snapshots:>7,}{r.snapshot_bytes:>8,}"
              f"{_cell(r.head):>24}{_cell(r.before_head):>24}{_cell(r.without):>28}"
              f"{speedup:>8,.0f}")  # fmt: skip
    print("(loads timed in brackets; x: p50 without snapshots / p50 with, at the head; head-1 "
          "is the worst case when the history is a multiple of the interval)")  # fmt: skip


def _cell(t: Timing) -> str:
    return f"{t.p50:.2f} / {t.p95:.2f} ({t.loads})"


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="events per history")
    parser.add_argument("--loads", type=int, default=200, help="loads timed per cell, at most")
    parser.add_argument("--seconds", type=float, default=5.0, help="time per cell, at most")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL; default: temp SQLite")
    parser.add_argument("--json", default="", help="where to write the figures")
    args = parser.parse_args(argv)
    if min(int(s) for s in args.sizes.split(",")) < len(MILESTONES):
        parser.error(f"histories start at {len(MILESTONES)} events: a canteen opens in that many")
    return args


if __name__ == "__main__":
    main()
