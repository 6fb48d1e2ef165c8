"""How fast a projection worker starting cold brings every read model up to a long log.

    python -m bench.projection_catchup [--events N] [--database-url URL] [--json PATH]

Seeds about N events (default 1,000,000) of every programme, built as aggregates by the
bench seeders (bench.seeding, bench.programme_seeding, bench.ledger_replay): retrofit cases at
mixed steps over a year (55%), home-care cases visited every three days (30%), canteens
recording every day's meals (10%), a fund's movements (5%), and a target for every metric. The
events are stored in the order they happened, every aggregate interleaved by time, as a city's
log would hold them. Then a new process (spawned, as the projection worker starts) builds its
runtime and catches up from position 0 for every read model in the worker's batches
(`catch_up(WORKER_BATCH_SIZE)`, as its loop does), timed until every read model is at the
head of the log. Beside it, in the same run and database, a
raw-SQL baseline: as many rows as the log has events, as wide as a timeline row and keyed by
random UUIDs like the read models, inserted by the bare driver (sqlite3 or psycopg) 1,000 a
transaction with a position row updated in each.

"events/s" is log events per second of wall time, from the cold start until every read model
has applied the whole log. Each event is applied by every read model that reads it (2.8 of
the 16 on average with this mix): the "applications" line counts those.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import psutil
import psycopg
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

from bench.cli import command_line, write_figures
from bench.ledger_replay import seed as seed_fund
from bench.programme_seeding import seed_canteen_year, seed_care_year, set_targets
from bench.seeding import bench_runtime, seed_in_batches
from events import clock
from portal.runtime import Runtime, build_runtime
from projections.runner import WORKER_BATCH_SIZE
from services.settings import Settings

RAW_BATCH = 1000  # rows per transaction in the baseline (the 500-1,000)
EVENTS_PER_CASE = 4.96  # retrofit events per seeded case, measured on the TARGETS mix
EVENTS_PER_CARE_CASE = 127  # opened, assessed, approved, assigned, a visit every three days
EVENTS_PER_CANTEEN = 369  # registered, milestones reached, 365 days of meals
SHARES = {"retrofit": 0.55, "home_care": 0.30, "canteens": 0.10, "ledger": 0.05}
TARGETS = {"events_per_s": 40_000, "ratio_to_raw": 0.5}


class _NewPersonIds:
    """Stands in for the person store while seeding: read models see only `person_id`, and
    writing each elder's profile in its own transaction would make seeding the slow part."""

    def record(self, profile: dict[str, str]) -> uuid.UUID:
        """A fresh id for each elder (seeded elders never repeat)."""
        return uuid.uuid4()


class _LogInTimeOrder:
    """Takes what the seeders save and stores it in the order it happened. The seeders build
    each aggregate's whole history and save it in one go, so their log runs aggregate by
    aggregate; a real city's log interleaves every case, visit and canteen day by time, which
    changes what a batch of it holds (a case's steps fall in different batches; a day's
    visits in the same one)."""

    def __init__(self, mapper: Any) -> None:
        self.mapper = mapper
        self.stored: list[tuple[datetime, int, Any]] = []

    def save(self, *aggregates: Any) -> None:
        """Keep the aggregates' new events (encoded, as the store would write them)."""
        for aggregate in aggregates:
            for e in aggregate.collect_events():
                self.stored.append((e.timestamp, len(self.stored), self.mapper.to_stored_event(e)))

    def write(self, recorder: Any, chunk: int = 5_000) -> int:
        """Store everything kept, oldest first (each aggregate's events stay in version order:
        their timestamps ascend, and ties keep the order they were saved in)."""
        self.stored.sort(key=lambda kept: (kept[0], kept[1]))
        for i in range(0, len(self.stored), chunk):
            recorder.insert_events([kept[2] for kept in self.stored[i : i + chunk]])
        written, self.stored = len(self.stored), []
        return written


class _SeedingRuntime:
    """The runtime as the seeders use it: saves go to the log kept in time order, and elders
    get fresh person ids instead of person-store rows."""

    def __init__(self, rt: Runtime, log: _LogInTimeOrder) -> None:
        self._rt = rt
        self.persons = _NewPersonIds()
        self.retrofit = self.meals = self.home_care = self.ledger = log

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rt, name)


@dataclass(frozen=True)
class CatchUp:
    """What the cold catch-up did and took, in the projection worker's process."""

    events: int  # log events, every one applied by every read model that reads it
    applications: int  # (event, read model) pairs applied
    read_models: int
    batches: int  # write transactions
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float  # the worker process's peak resident memory
    rss_at_start_mb: float  # after building its runtime, before catching up
    written_mb: float  # bytes the worker wrote to storage (SQLite's WAL and checkpoints)

    @property
    def events_per_s(self) -> float:
        """Log events per second of wall time until every read model is at the head."""
        return self.events / self.seconds


def main(argv: list[str] | None = None) -> None:
    """Seed, catch up cold, run the raw baseline, print a table and write JSON."""
    args = _parse(argv)
    with bench_runtime(args.database_url) as rt:
        backend = "sqlite" if rt.settings.is_sqlite else "postgresql"
        started = time.perf_counter()
        mix = seed(rt, args.events)
        seeding = time.perf_counter() - started
        print(f"seeded {sum(mix.values()):,} events in {seeding:.0f} s", flush=True)
        result = cold_catch_up(rt.settings)
        print(f"caught up in {result.seconds:.0f} s", flush=True)
        raw = raw_baseline(rt, result.events)
    command = {"command": command_line("bench.projection_catchup", argv)}
    figures = command | _figures(args, backend, mix, seeding, result, raw)
    _print(figures)
    write_figures("projection_catchup", backend, figures, args.json)


def seed(rt: Runtime, events: int) -> dict[str, int]:
    """About `events` events of every programme, stored in time order; the events of each."""
    now, log = clock.now(), _LogInTimeOrder(rt.retrofit.mapper)
    seeding: Any = _SeedingRuntime(rt, log)
    cases = max(1, round(events * SHARES["retrofit"] / EVENTS_PER_CASE))
    care = max(1, round(events * SHARES["home_care"] / EVENTS_PER_CARE_CASE))
    canteens = max(1, round(events * SHARES["canteens"] / EVENTS_PER_CANTEEN / 4))
    movements = max(10, round(events * SHARES["ledger"]))
    mix = {
        "retrofit": seed_in_batches(seeding, cases, now=now),
        "home_care": seed_care_year(seeding, cases=care, now=now),
        "canteens": seed_canteen_year(seeding, per_district=canteens, now=now),
    }
    seed_fund(log, movements, batch=500)  # type: ignore[arg-type]  # it only calls save()
    mix["ledger"] = movements + 1
    stored = log.write(rt.retrofit.recorder)
    if stored != sum(mix.values()):
        raise SystemExit(f"seeders saved {stored} events, expected {sum(mix.values())}")
    mix["targets"] = set_targets(rt, now)  # through the service: the library writes these
    return mix


def cold_catch_up(settings: Settings) -> CatchUp:
    """Catch every read model up from position 0 in a new process, as the projection worker
    starts (spawned: nothing inherited, its memory its own)."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(_catch_up_in_worker, (settings,))


def _catch_up_in_worker(settings: Settings) -> CatchUp:
    worker = build_runtime(settings)
    try:
        at_start, written = psutil.Process().memory_info().rss, _bytes_written()
        with _sampling_rss() as peak, _counting_commits(worker.engine) as commits:
            wall, cpu = time.perf_counter(), time.process_time()
            applied = worker.projector.catch_up(WORKER_BATCH_SIZE)  # as the worker's loop does
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        written = _bytes_written() - written
        lag = worker.projector.lag()
        if lag.events_behind:
            raise RuntimeError(f"catch-up stopped short: {lag}")
        return CatchUp(
            events=lag.head, applications=applied, read_models=len(worker.projector.projections),
            batches=commits[0], seconds=round(wall, 2), cpu_seconds=round(cpu, 2),
            peak_rss_mb=round(peak[0] / 2**20, 1),
            rss_at_start_mb=round(at_start / 2**20, 1), written_mb=round(written / 2**20),
        )  # fmt: skip
    finally:
        worker.dispose()


def _bytes_written() -> int:
    return int(psutil.Process().io_counters().write_bytes)


@contextmanager
def _sampling_rss(every_s: float = 0.1) -> Iterator[list[int]]:
    """The process's peak resident memory while the block runs, sampled on a thread (not
    ru_maxrss: a spawned child's counts the parent's memory at the fork before its exec)."""
    process, peak, done = psutil.Process(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            done.wait(every_s)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()


@contextmanager
def _counting_commits(engine: Engine) -> Iterator[list[int]]:
    """How many transactions the engine commits while the block runs (one per batch)."""
    count = [0]

    def counted(_conn: Any) -> None:
        count[0] += 1

    event.listen(engine, "commit", counted)
    try:
        yield count
    finally:
        event.remove(engine, "commit", counted)


# -- the raw-SQL baseline ---------------------------------------------------------------------
DETAILS = json.dumps(
    {"checklist_version": "MCA-2020", "total": "1620.00", "subsidy": "1458.00",
     "household_share": "162.00", "subsidy_cap": "3000"}
)  # fmt: skip  # about as long as a timeline row's details


def raw_baseline(rt: Runtime, rows: int) -> float:
    """Seconds to insert `rows` timeline-wide rows with the bare driver, RAW_BATCH rows and a
    position update per transaction, in the same database as the read models."""
    url = make_url(rt.settings.database_url)
    if url.get_backend_name() == "sqlite":
        return _raw_sqlite(url.database or "", rows)
    return _raw_postgres(url, rows)


def _raw_rows(batch: int, size: int) -> list[tuple[Any, ...]]:
    occurred, keys = datetime(2026, 1, 1, 8, 0, tzinfo=UTC), random.Random(batch)
    return [
        (uuid.UUID(int=keys.getrandbits(128)), 1 + i % 9, occurred, "bench-caseworker-D01",
         "HomeAssessed", DETAILS)
        for i in range(size)
    ]  # fmt: skip


def _raw_sqlite(path: str, rows: int) -> float:
    import sqlite3

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")  # as the application's engine runs
    db.execute("CREATE TABLE raw_rows (case_id CHAR(32), version INTEGER, occurred_at "
               "DATETIME, actor_id VARCHAR(36), kind VARCHAR(40), details TEXT, "
               "PRIMARY KEY (case_id, version))")  # fmt: skip
    db.execute("CREATE TABLE raw_position (name VARCHAR(60) PRIMARY KEY, position BIGINT)")
    db.execute("INSERT INTO raw_position VALUES ('raw', 0)")
    started = time.perf_counter()
    for batch, done in enumerate(range(0, rows, RAW_BATCH)):
        size = min(RAW_BATCH, rows - done)
        values = [(u.hex, v, t.isoformat(), a, k, d) for u, v, t, a, k, d in _raw_rows(batch, size)]
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO raw_rows VALUES (?, ?, ?, ?, ?, ?)", values)
        db.execute("UPDATE raw_position SET position = ? WHERE name = 'raw'", (done + size,))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def _raw_postgres(url: Any, rows: int) -> float:
    schema = url.query.get("schema")
    plain = url.difference_update_query(["schema"]).set(drivername="postgresql")
    options = f"-csearch_path={schema}" if schema else ""
    with psycopg.connect(plain.render_as_string(hide_password=False), options=options) as db:
        db.execute("CREATE TABLE raw_rows (case_id UUID, version INTEGER, occurred_at "
                   "TIMESTAMPTZ, actor_id VARCHAR(36), kind VARCHAR(40), details TEXT, "
                   "PRIMARY KEY (case_id, version))")  # fmt: skip
        db.execute("CREATE TABLE raw_position (name VARCHAR(60) PRIMARY KEY, position BIGINT)")
        db.execute("INSERT INTO raw_position VALUES ('raw', 0)")
        db.commit()
        started = time.perf_counter()
        for batch, done in enumerate(range(0, rows, RAW_BATCH)):
            size = min(RAW_BATCH, rows - done)
            with db.transaction(), db.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO raw_rows VALUES (%s, %s, %s, %s, %s, %s)", _raw_rows(batch, size)
                )
                cursor.execute(
                    "UPDATE raw_position SET position = %s WHERE name = 'raw'", (done + size,)
                )
        return time.perf_counter() - started


# -- report -----------------------------------------------------------------------------------
def _figures(
    args: argparse.Namespace, backend: str, mix: dict[str, int], seeding: float, result: CatchUp,
    raw: float,
) -> dict[str, Any]:  # fmt: skip
    raw_rate = result.events / raw
    ratio = result.events_per_s / raw_rate
    return {
        "backend": backend,
        "events_definition": "log events per second of wall time, from a cold start (every "
        "read model at position 0) until every read model has applied the whole log",
        "mix": mix,
        "seeding_s": round(seeding, 1),
        "catch_up": asdict(result) | {"events_per_s": round(result.events_per_s)},
        "raw_baseline": {
            "rows": result.events,
            "rows_per_transaction": RAW_BATCH,
            "seconds": round(raw, 2),
            "rows_per_s": round(raw_rate),
        },
        "ratio_to_raw": round(ratio, 2),
        "targets": TARGETS,
        "met": result.events_per_s >= TARGETS["events_per_s"] and ratio >= TARGETS["ratio_to_raw"],
    }


def _print(f: dict[str, Any]) -> None:
    c, raw = f["catch_up"], f["raw_baseline"]
    mix = ", ".join(f"{k} {v:,}" for k, v in f["mix"].items())
    print(f"command: {f['command']}")
    print(f"backend: {f['backend']}; log: {c['events']:,} events ({mix}); "
          f"seeded in {f['seeding_s']} s")  # fmt: skip
    print(f"events/s = {f['events_definition']}\n")
    rows = [
        ("cold catch-up, events/s", f"{c['events_per_s']:,}", ">= 40,000"),
        ("  wall / CPU seconds", f"{c['seconds']} / {c['cpu_seconds']}", ""),
        ("  read models; applications (event x model)",
         f"{c['read_models']}; {c['applications']:,}", ""),
        ("  batches (write transactions)", f"{c['batches']:,}", ""),
        ("  MB the worker wrote (SQLite: WAL, checkpoints)", f"{c['written_mb']:,}", ""),
        ("  worker's peak RSS (MB)", f"{c['peak_rss_mb']} (at start {c['rss_at_start_mb']})", ""),
        (f"raw baseline, rows/s ({raw['rows_per_transaction']:,} a transaction)",
         f"{raw['rows_per_s']:,}", ""),
        ("ratio catch-up / raw", f"{f['ratio_to_raw']:.2f}", ">= 0.50"),
    ]  # fmt: skip
    print(f"{'what':<52}{'figure':>22}{'target':>12}")
    for label, figure, target in rows:
        print(f"{label:<52}{figure:>22}{target:>12}")
    print(f"\ntargets met: {'yes' if f['met'] else 'NO'}")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events to seed (about)")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL; default: temp SQLite")
    parser.add_argument("--json", default="", help="where to write the figures")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
