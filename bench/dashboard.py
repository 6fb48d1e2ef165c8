"""How long the supervision dashboard takes to render for a city-sized history.

    python -m bench.dashboard [--cases N] [--canteens-per-district C] [--care-cases H]
                              [--requests R] [--database-url URL]

Seeds N retrofit cases over the past year, C canteens per district serving every day of the
year, H home-care cases visited every three days all year, and a target for every metric in
the city and each district; projects everything; then times the dashboard's queries and the
page itself (server time through the Flask test client, signed in as a supervisor): p50/p95.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher, profiles

from bench.cli import command_line, write_figures
from bench.programme_seeding import seed_canteen_year, seed_care_year, set_targets
from bench.seeding import bench_runtime, seed_in_batches
from events import clock
from events.roles import Role
from portal import create_app
from projections.late_work import late_facilities, on_time_by_district, stuck_cases
from projections.supervision_queries import progress_at

PASSWORD = "dashboard-load-2026-anlao"  # nosec B105 # a throwaway account; must not contain the login


def main(argv: list[str] | None = None) -> None:
    """Seed, project, time the queries and the page, print a table and write JSON."""
    args = _parse(argv)
    with bench_runtime(args.database_url) as rt:
        backend = "SQLite" if rt.settings.is_sqlite else "PostgreSQL"
        now = clock.now()
        started = time.perf_counter()
        events = seed_in_batches(rt, args.cases, now=now)
        events += seed_canteen_year(rt, per_district=args.canteens_per_district, now=now)
        events += seed_care_year(rt, cases=args.care_cases, now=now)
        targets = set_targets(rt, now)
        seeding = time.perf_counter() - started
        print(f"seeded {events:,} events in {seeding:.0f} s", flush=True)
        started = time.perf_counter()
        rt.catch_up()
        projecting = time.perf_counter() - started
        print(f"projected in {projecting:.0f} s", flush=True)
        if not rt.settings.is_sqlite:
            _vacuum(rt.engine)
        rows = _timings(rt, now, args.requests)
    figures = {
        "backend": backend, "cases": args.cases, "care_cases": args.care_cases,
        "canteen_days": args.canteens_per_district * 4 * 365, "events": events,
        "targets": targets, "seeding_s": round(seeding, 1), "projecting_s": round(projecting, 1),
        "timings_ms": {label: {"p50": p50, "p95": p95} for label, p50, p95 in rows},
    }  # fmt: skip
    _print(argv, figures)
    write_figures("dashboard", backend, figures, args.json)


def _timings(rt: Any, now: Any, requests: int) -> list[tuple[str, float, float]]:
    today = clock.local(now).date()
    limits = rt.settings.step_limits
    shapes: dict[str, Callable[[], Any]] = {
        "targets vs actuals, whole city": lambda: progress_at(rt.engine, today),
        "targets vs actuals, one district": lambda: progress_at(rt.engine, today, district="D01"),
        "as at 30 days ago": lambda: progress_at(rt.engine, today - timedelta(days=30)),
        "stuck cases (100 most overdue)": lambda: stuck_cases(rt.engine, limits, now=now),
        "late projects": lambda: late_facilities(rt.engine, today=today),
        "on-time leaderboard": lambda: on_time_by_district(rt.engine, limits, now=now, today=today),
    }
    rows = [(label, *_measure(query, requests)) for label, query in shapes.items()]
    client = _supervisor_client(rt)
    if client is not None:
        pages = {
            "dashboard page (full)": lambda: _get(client, "/supervision"),
            "dashboard, district filter (htmx)": lambda: _get(
                client, "/supervision?district=D01", {"HX-Request": "true"}
            ),
        }
        rows += [(label, *_measure(page, requests)) for label, page in pages.items()]
    return rows


def _vacuum(engine: Any) -> None:
    """What autovacuum does on a live server after a bulk load: planner statistics, and the
    visibility map that lets counts read an index alone."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")


def _supervisor_client(rt: Any) -> Any:
    """A test client signed in as a supervisor, or None before the dashboard exists."""
    app = create_app(
        {
            "ANLAO_SETTINGS": rt.settings, "TESTING": True, "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASHER": PasswordHasher.from_parameters(profiles.CHEAPEST),
        }
    )  # fmt: skip
    if "supervision" not in app.blueprints:
        return None
    app.extensions["anlao"].accounts.create_staff(
        login="bench-supervisor", password=PASSWORD, display_name="督导", role=Role.SUPERVISOR
    )
    client = app.test_client()
    client.post("/login", data={"login": "bench-supervisor", "password": PASSWORD})
    return client


def _get(client: Any, path: str, headers: dict[str, str] | None = None) -> Any:
    response = client.get(path, headers=headers or {})
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code}")
    return response


def _measure(query: Callable[[], Any], requests: int) -> tuple[float, float]:
    """(p50 ms, p95 ms) after a few warm-up calls."""
    for _ in range(3):
        query()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        query()
        samples.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    return round(cuts[49], 2), round(cuts[94], 2)


def _print(argv: list[str] | None, f: dict[str, Any]) -> None:
    print(f"command: {command_line('bench.dashboard', argv)}")
    print(f"backend: {f['backend']}; retrofit cases: {f['cases']:,}; home-care cases: "
          f"{f['care_cases']:,}; canteen days: {f['canteen_days']:,}; events: {f['events']:,}; "
          f"targets: {f['targets']}")  # fmt: skip
    print(f"seeding: {f['seeding_s']} s; projecting: {f['projecting_s']} s")
    print(f"\n{'dashboard part':<40}{'p50 ms':>9}{'p95 ms':>9}")
    for label, t in f["timings_ms"].items():
        print(f"{label:<40}{t['p50']:>9.2f}{t['p95']:>9.2f}")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="retrofit cases")
    parser.add_argument("--canteens-per-district", type=int, default=10)
    parser.add_argument("--care-cases", type=int, default=2_000, help="home-care cases")
    parser.add_argument("--requests", type=int, default=100, help="requests per line")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL; default: temp SQLite")
    parser.add_argument("--json", default="", help="where to write the figures")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
