"""How fast the read models rebuild from the event log.

    python -m bench.projection_throughput [--cases N] [--database-url URL]

Seeds N cases through the real RetrofitService (SQLite file in a temp dir, or a fresh schema
in the PostgreSQL database given), then times Projector.rebuild() and prints events/s.
"""

from __future__ import annotations

import argparse
import time

from bench.cli import command_line, write_figures
from bench.seeding import bench_runtime, seed_through_services


def main(argv: list[str] | None = None) -> None:
    """Seed, rebuild, report."""
    args = _parse(argv)
    with bench_runtime(args.database_url) as rt:
        backend = "SQLite" if rt.settings.is_sqlite else "PostgreSQL"
        started = time.perf_counter()
        events = seed_through_services(rt, args.cases)
        seeding = time.perf_counter() - started
        rt.catch_up()  # as a running portal would have it; the rebuild then starts from scratch

        rebuilds = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            applied = rt.projector.rebuild()
            rebuilds.append(time.perf_counter() - started)
        best = min(rebuilds)
        projections = len(rt.projector.projections)
        lag = rt.projector.lag()  # each read model reads only its topics: check the positions
        if lag.events_behind:
            raise SystemExit(f"rebuild stopped short of the head: {lag}")

    print(f"command: {command_line('bench.projection_throughput', argv)}")
    print(f"backend: {backend}; cases: {args.cases}; events in the log: {events}")
    print(f"seeding through the services: {seeding:.1f} s ({events / seeding:,.0f} events/s)")
    print(f"rebuild of {projections} projections, best of {args.repeat}: {best:.2f} s "
          f"(runs: {', '.join(f'{r:.2f}' for r in rebuilds)})")  # fmt: skip
    print(f"  log events/s:        {events / best:,.0f}")
    print(
        f"  applications/s:      {applied / best:,.0f}  (an event once per read model reading it)"
    )
    write_figures(
        "projection_throughput", backend,
        {
            "backend": backend, "cases": args.cases, "events": events, "read_models": projections,
            "seeding_s": round(seeding, 2), "seeding_events_per_s": round(events / seeding),
            "rebuilds_s": [round(r, 3) for r in rebuilds], "best_s": round(best, 3),
            "log_events_per_s": round(events / best), "applications_per_s": round(applied / best),
        },
        args.json,
    )  # fmt: skip


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000, help="cases to seed (default 2000)")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL; default: temp SQLite")
    parser.add_argument("--repeat", type=int, default=3, help="rebuilds to time (default 3)")
    parser.add_argument("--json", default="", help="where to write the figures")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
