"""How many commands per second the service layer takes, from one and from several writers.

    python -m bench.command_throughput [--applications N] [--lifecycles M] [--writers 1,4]
                                       [--database-url URL] [--json PATH]

Each writer is a separate process (started with `spawn`, as a web worker is its own process;
nothing is inherited, so no connection is open before it starts) that builds its own runtime
from the same Settings, submits a few warm-up commands, waits for the others at a barrier,
then runs its share of:

- applications: `RetrofitService.submit_application` with the real validation, person store
  and event store, each a different elder (N in all, split between the writers);
- lifecycles: an application taken through every step to closing (approve, assess, confirm
  the plan, assign a contractor, start and complete works, pass acceptance, answer the survey,
  close: 10 commands), each step through the services as `bench.seeding.service_actions`
  does (M in all).

Throughput is commands done by all writers over the wall time from the barrier until the last
writer finishes; p50/p95 are per command (per application; per lifecycle and per step).
Beside it, in the same run and database, a raw baseline with the bare driver (sqlite3 or
psycopg): per submission one transaction inserting the rows a submission stores (the event, the
person, the application's needs), of the same sizes, from as many writer processes.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench.cli import command_line, write_figures
from bench.seeding import bench_runtime, elder_answers, place, service_actions, staff
from events.roles import Actor, Role
from portal.runtime import Runtime, build_runtime
from services.settings import Settings
from services.tables import application_details, persons

LIFECYCLE = ["approve", "assess", "confirm", "contract", "start", "complete", "accept", "survey",
             "close"]  # fmt: skip
WARM_UP = 3  # commands each writer runs before the barrier (connections, caches, imports)
# Sizes of what one submission stores, for the raw baseline: the Applied event's state, the
# person row's values, the needs text (checked against the database after the run).
EVENT_BYTES, PERSON_BYTES, NEEDS_TEXT = 490, 260, "需要扶手"


@dataclass(frozen=True)
class Job:
    """One writer's share of a run."""

    settings: Settings
    kind: str  # "applications", "lifecycles" or "raw"
    first: int  # the first elder index this writer uses (elders never repeat)
    count: int


@dataclass(frozen=True)
class Timed:
    """What one writer did after the barrier."""

    started: float  # time.perf_counter(): CLOCK_MONOTONIC, comparable between processes
    ended: float
    latencies_ms: list[float]  # per application, per lifecycle or per raw submission
    step_latencies_ms: list[float]  # lifecycles only: each step after the application


@dataclass(frozen=True)
class Result:
    """A run's figures: all writers together."""

    kind: str
    writers: int
    done: int
    seconds: float
    per_s: float
    p50_ms: float
    p95_ms: float
    step_p50_ms: float | None = None
    step_p95_ms: float | None = None


def main(argv: list[str] | None = None) -> None:
    """Create a database, run every workload with each writer count, print and write JSON."""
    args = _parse(argv)
    writer_counts = [int(w) for w in args.writers.split(",")]
    with bench_runtime(args.database_url) as rt:
        backend = "sqlite" if rt.settings.is_sqlite else "postgresql"
        rt.dispose()  # the writers open their own connections; this process keeps none open
        create_raw_tables(rt.settings)
        results, first = [], 0
        workloads = {"applications": args.applications, "lifecycles": args.lifecycles,
                     "raw": args.applications}  # fmt: skip
        for kind, total in workloads.items():
            for writers in writer_counts:
                results.append(run(rt.settings, kind, writers, total, first))
                first += total + writers * WARM_UP
                print(_line(results[-1]), flush=True)
        stored = _stored_sizes(rt.settings)
    command = {"command": command_line("bench.command_throughput", argv)}
    figures = command | _figures(args, backend, results, stored)
    _print(figures)
    write_figures("command_throughput", backend, figures, args.json)


def run(settings: Settings, kind: str, writers: int, total: int, first: int) -> Result:
    """`total` commands of one kind split between `writers` spawned processes."""
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(writers), context.Queue()
    share = total // writers
    jobs = [Job(settings, kind, first + w * (share + WARM_UP), share) for w in range(writers)]
    processes = [context.Process(target=_writer, args=(job, barrier, results)) for job in jobs]
    for process in processes:
        process.start()
    timed = [results.get(timeout=3600) for _ in processes]
    for process in processes:
        process.join()
        if process.exitcode:
            raise SystemExit(f"a {kind} writer failed (exit code {process.exitcode})")
    return _summary(kind, writers, timed)


def _writer(job: Job, barrier: Any, results: Any) -> None:
    """One writer process: its own runtime (or bare connection), warm-up, barrier, the work."""
    if job.kind == "raw":
        command, close = _raw_submitter(job.settings)
    else:
        rt = build_runtime(job.settings)
        command = _submit(rt) if job.kind == "applications" else _lifecycle(rt)
        close = rt.dispose
    try:
        for i in range(job.first, job.first + WARM_UP):
            command(i)
        barrier.wait(timeout=600)
        started, latencies, steps = time.perf_counter(), [], []
        for i in range(job.first + WARM_UP, job.first + WARM_UP + job.count):
            began = time.perf_counter()
            steps += command(i) or []
            latencies.append((time.perf_counter() - began) * 1000)
        results.put(Timed(started, time.perf_counter(), latencies, steps))
    finally:
        close()


def _application(rt: Runtime, i: int) -> tuple[Actor, uuid.UUID, str]:
    rng = random.Random(i)
    district, street, community = place(rng)
    family = Actor(f"bench-family-{i}", Role.FAMILY)
    case_id = rt.retrofit.submit_application(
        family, idempotency_key=str(i), elder=elder_answers(i, rng), relation="child",
        district=district, street=street, community=community, needs=NEEDS_TEXT,
    )  # fmt: skip
    return family, case_id, district


def _submit(rt: Runtime) -> Callable[[int], None]:
    def submit(i: int) -> None:
        _application(rt, i)

    return submit


def _lifecycle(rt: Runtime) -> Callable[[int], list[float]]:
    """Apply, then every step to closing; returns each step's milliseconds."""

    def lifecycle(i: int) -> list[float]:
        family, case_id, district = _application(rt, i)
        actions, version, steps = service_actions(rt, family, staff(district)), 1, []
        for name in LIFECYCLE:
            began = time.perf_counter()
            version = actions[name](case_id, version)
            steps.append((time.perf_counter() - began) * 1000)
        return steps

    return lifecycle


# -- the raw baseline -------------------------------------------------------------------------
def _raw_submitter(settings: Settings) -> tuple[Callable[[int], None], Callable[[], None]]:
    """Per submission, one transaction inserting an event-, a person- and a needs-sized row."""
    url = make_url(settings.database_url)
    event_state, person = os.urandom(EVENT_BYTES // 2).hex().encode(), "x" * PERSON_BYTES
    if url.get_backend_name() == "sqlite":
        import sqlite3

        db = sqlite3.connect(url.database or "", isolation_level=None, timeout=15)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")  # as the application's connections run

        def submit_sqlite(i: int) -> None:
            db.execute("BEGIN IMMEDIATE")
            _raw_rows(db.execute, "?", i, event_state, person)
            db.execute("COMMIT")

        return submit_sqlite, db.close
    schema = url.query.get("schema")
    plain = url.difference_update_query(["schema"]).set(drivername="postgresql")
    options = f"-csearch_path={schema}" if schema else ""
    conn = psycopg.connect(plain.render_as_string(hide_password=False), options=options)

    def submit_postgres(i: int) -> None:
        with conn.transaction():
            _raw_rows(conn.execute, "%s", i, event_state, person)

    return submit_postgres, conn.close


def _raw_rows(execute: Callable[..., Any], mark: str, i: int, state: bytes, person: str) -> None:
    case_id = uuid.uuid5(uuid.NAMESPACE_OID, f"raw-{i}")
    values = ", ".join([mark] * 4)
    execute(f"INSERT INTO raw_events VALUES ({values})", (str(case_id), 1, "Applied", state))
    execute(f"INSERT INTO raw_persons VALUES ({mark}, {mark})", (str(case_id), person))
    execute(f"INSERT INTO raw_needs VALUES ({mark}, {mark})", (str(case_id), NEEDS_TEXT))


def create_raw_tables(settings: Settings) -> None:
    """The bare tables the raw baseline writes to, keyed like the real ones."""
    rt = build_runtime(settings)
    blob = "BLOB" if settings.is_sqlite else "BYTEA"
    try:
        with rt.engine.begin() as conn:
            conn.exec_driver_sql(
                f"CREATE TABLE IF NOT EXISTS raw_events (originator_id VARCHAR(36), "
                f"originator_version INTEGER, topic TEXT, state {blob}, "
                f"PRIMARY KEY (originator_id, originator_version))"
            )
            for table in ("raw_persons", "raw_needs"):
                conn.exec_driver_sql(
                    f"CREATE TABLE IF NOT EXISTS {table} (id VARCHAR(36) PRIMARY KEY, value TEXT)"
                )
    finally:
        rt.dispose()


# -- report -----------------------------------------------------------------------------------
def _summary(kind: str, writers: int, timed: list[Timed]) -> Result:
    seconds = max(t.ended for t in timed) - min(t.started for t in timed)
    latencies = [ms for t in timed for ms in t.latencies_ms]
    steps = [ms for t in timed for ms in t.step_latencies_ms]
    done = len(latencies)
    p50, p95 = _percentiles(latencies)
    step_p50, step_p95 = _percentiles(steps) if steps else (None, None)
    return Result(kind, writers, done, round(seconds, 2), round(done / seconds, 1), p50, p95,
                  step_p50, step_p95)  # fmt: skip


def _percentiles(samples: list[float]) -> tuple[float, float]:
    if len(samples) < 2:
        return round(samples[0], 2), round(samples[0], 2)
    cuts = statistics.quantiles(samples, n=100)
    return round(cuts[49], 2), round(cuts[94], 2)


def _stored_sizes(settings: Settings) -> dict[str, float]:
    """Average sizes of what the submissions stored, to check the baseline's rows match."""
    rt = build_runtime(settings)
    try:
        with rt.engine.connect() as conn:
            people = conn.execute(select(func.count()).select_from(persons)).scalar_one()
            needs = conn.execute(select(func.count()).select_from(application_details)).scalar_one()
        notifications = rt.retrofit.recorder.select_notifications(start=1, limit=200)
        applied = [n for n in notifications if n.topic.endswith("RetrofitCase.Applied")]
        state = statistics.mean(len(n.state) for n in applied) if applied else 0
        return {"persons": people, "needs_rows": needs, "applied_event_bytes": round(state)}
    finally:
        rt.dispose()


def _figures(
    args: argparse.Namespace, backend: str, results: list[Result], stored: dict[str, float]
) -> dict[str, Any]:
    by = {(r.kind, r.writers): r.per_s for r in results}
    writers = sorted({w for kind, w in by if kind == "raw"})
    ratios = {
        f"applications/raw, {w} writer(s)": round(by[("applications", w)] / by[("raw", w)], 3)
        for w in writers
    }
    return {
        "backend": backend,
        "cpus": os.cpu_count(),
        "results": [asdict(r) for r in results],
        "ratios": ratios,
        "stored": stored,
        "raw_baseline": "per submission one transaction inserting 3 rows (an event of "
        f"{EVENT_BYTES} bytes, a person of {PERSON_BYTES}, the needs text) with the bare driver",
    }


LABELS = {
    "applications": "applications submitted (service layer)",
    "lifecycles": "full retrofit lifecycles (10 commands)",
    "raw": "raw baseline: 3 rows, 1 transaction / submission",
}


def _line(r: Result) -> str:
    steps = f"{r.step_p50_ms:>8.2f}{r.step_p95_ms:>8.2f}" if r.step_p50_ms is not None else ""
    return (f"{LABELS[r.kind]:<50}{r.writers:>8}{r.done:>7}{r.per_s:>10,.1f}"
            f"{r.p50_ms:>9.2f}{r.p95_ms:>9.2f}{steps}")  # fmt: skip


def _print(f: dict[str, Any]) -> None:
    print(f"\ncommand: {f['command']}")
    print(f"backend: {f['backend']}; {f['cpus']} CPUs; writers are separate processes (spawn)")
    print(f"{'what':<50}{'writers':>8}{'done':>7}{'per s':>10}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'step p50':>9}{'p95':>7}")  # fmt: skip
    for r in f["results"]:
        print(_line(Result(**r)))
    for label, ratio in f["ratios"].items():
        print(f"ratio {label}: {ratio:.2f}")
    print(f"stored by the service: {f['stored']}")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=2000, help="applications per run")
    parser.add_argument("--lifecycles", type=int, default=200, help="lifecycles per run")
    parser.add_argument("--writers", default="1,4", help="writer processes, comma-separated")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL; default: temp SQLite")
    parser.add_argument("--json", default="", help="where to write the figures")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
