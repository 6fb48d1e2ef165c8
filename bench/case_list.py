"""How long a caseworker waits for the case list.

    python -m bench.case_list [--cases N] [--requests R] [--database-url URL]

Seeds N cases spread over the past year (aggregates built directly and saved in batches,
elders recorded through the person store), projects them, then times list_cases for a
caseworker of 安康区 (D01): p50/p95 over R requests per query shape.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench.cli import command_line, write_figures
from bench.seeding import bench_runtime, seed_in_batches
from events import clock
from events.retrofit import Step
from events.roles import Actor, Role
from projections.retrofit_queries import count_by_step, list_cases

CASEWORKER = Actor("bench-caseworker-D01", Role.CASEWORKER, "D01")


def main(argv: list[str] | None = None) -> None:
    """Seed, project, time the queries, print a table."""
    args = _parse(argv)
    with bench_runtime(args.database_url) as rt:
        backend = "SQLite" if rt.settings.is_sqlite else "PostgreSQL"
        now = clock.now()
        started = time.perf_counter()
        events = seed_in_batches(rt, args.cases, batch=args.batch, now=now)
        seeding = time.perf_counter() - started
        started = time.perf_counter()
        rt.catch_up()
        projecting = time.perf_counter() - started
        visible = sum(count_by_step(rt.engine, CASEWORKER).values())
        rows = _timings(rt.engine, now, args.requests)

    print(f"command: {command_line('bench.case_list', argv)}")
    print(f"backend: {backend}; cases: {args.cases} ({events} events); "
          f"visible to the D01 caseworker: {visible}")  # fmt: skip
    print(f"seeding: {seeding:.1f} s ({args.cases / seeding:,.0f} cases/s, "
          f"{events / seeding:,.0f} events/s); projecting: {projecting:.1f} s "
          f"({events / projecting:,.0f} events/s)")  # fmt: skip
    print(f"\n{'query (D01 caseworker, page of 50)':<44}{'rows':>6}{'p50 ms':>9}{'p95 ms':>9}")
    for label, count, p50, p95 in rows:
        print(f"{label:<44}{count:>6}{p50:>9.2f}{p95:>9.2f}")
    print(f"({args.requests} requests per line)")
    write_figures(
        "case_list", backend,
        {
            "backend": backend, "cases": args.cases, "events": events, "visible": visible,
            "seeding_s": round(seeding, 2), "projecting_s": round(projecting, 2),
            "requests": args.requests,
            "queries": [
                {"query": label, "rows": count, "p50_ms": round(p50, 3), "p95_ms": round(p95, 3)}
                for label, count, p50, p95 in rows
            ],
        },
        args.json,
    )  # fmt: skip


def _timings(engine: Any, now: Any, requests: int) -> list[tuple[str, int, float, float]]:
    """Each query shape a caseworker's screens use, timed `requests` times."""
    deep = None
    for _ in range(4):  # the cursor a user has after paging forward four times
        deep = list_cases(engine, CASEWORKER, now=now, cursor=deep).next_cursor
    shapes: dict[str, Callable[[], Any]] = {
        "all cases, first page": lambda: list_cases(engine, CASEWORKER, now=now),
        "worklist (my steps), first page": lambda: list_cases(
            engine, CASEWORKER, now=now, worklist=True
        ),
        "submitted and waiting >= 30 days": lambda: list_cases(
            engine, CASEWORKER, now=now, step=Step.SUBMITTED, min_days_in_step=30
        ),
        "all cases, fifth page (keyset cursor)": lambda: list_cases(
            engine, CASEWORKER, now=now, cursor=deep
        ),
        "counts by step (filter labels)": lambda: count_by_step(engine, CASEWORKER),
    }
    return [(label, *_measure(query, requests)) for label, query in shapes.items()]


def _measure(query: Callable[[], Any], requests: int) -> tuple[int, float, float]:
    """(rows of the last answer, p50 ms, p95 ms) after a few warm-up calls."""
    for _ in range(5):
        query()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        answer = query()
        samples.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    rows = len(answer.rows) if hasattr(answer, "rows") else len(answer)
    return rows, cuts[49], cuts[94]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000, help="cases to seed (default 20000)")
    parser.add_argument("--requests", type=int, default=200, help="requests per query shape")
    parser.add_argument("--batch", type=int, default=250, help="aggregates saved per transaction")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL; default: temp SQLite")
    parser.add_argument("--json", default="", help="where to write the figures")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
