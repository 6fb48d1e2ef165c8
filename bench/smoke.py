"""Every benchmark runs to the end with its one command, at a tiny size, one after another.

CI runs this after the test suite (`.ci/run`), on its own: inside the test run the benchmarks
competed with the tests for the two cores and made both fail by timing out. The figures of a
smoke run mean nothing; what it catches is a benchmark broken by a change elsewhere (two
were, unnoticed, before it ran in CI). Real figures come from the full-size commands in the
README, on an idle machine.

    python -m bench.smoke [--database-url URL] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# module: tiny arguments (every one of these benchmarks takes --json and --database-url)
# fmt: off
BENCHMARKS: dict[str, list[str]] = {
    "aggregate_load": ["--sizes", "10,100", "--loads", "3", "--seconds", "1"],
    "case_list": ["--cases", "200", "--requests", "3"],
    "command_throughput": ["--applications", "20", "--lifecycles", "4", "--writers", "1,2"],
    "dashboard": ["--cases", "300", "--canteens-per-district", "1", "--care-cases", "10",
                  "--requests", "2"],
    "ledger_replay": ["--movements", "2000", "--moments", "2", "--checked", "1"],
    "portal_load": ["--cases", "1500", "--duration", "1", "--families", "4"],
    "projection_catchup": ["--events", "3000"],
    "projection_throughput": ["--cases", "50", "--repeat", "1"],
}
# fmt: on
# Each benchmark's own time limit at these sizes (a hang fails the run instead of stalling CI).
TIMEOUT_S = 300


def main(argv: list[str] | None = None) -> None:
    """Run the chosen benchmarks in turn; exit 1 naming those that failed."""
    args = _parse(argv)
    names = args.only or sorted(BENCHMARKS)
    failed = []
    with tempfile.TemporaryDirectory(prefix="anlao-smoke-") as folder:
        for name in names:
            started = time.perf_counter()
            problem = _run(name, args.database_url, Path(folder) / f"{name}.json")
            took = time.perf_counter() - started
            verdict = "ok  " if problem is None else "FAIL"
            print(f"{verdict} bench.{name} ({took:.0f} s)", flush=True)
            if problem is not None:
                print(problem, flush=True)
                failed.append(name)
    if failed:
        sys.exit(f"benchmarks that did not run to the end: {', '.join(failed)}")


def _run(name: str, database_url: str, figures: Path) -> str | None:
    """None when the benchmark ran, printed how it was run and wrote figures; else why not."""
    if name == "portal_load" and shutil.which("wrk") is None:
        return "bench.portal_load drives wrk: apt-get install wrk (.ci/run installs it)"
    args = [*BENCHMARKS[name], "--json", str(figures)]
    if database_url:
        args += ["--database-url", database_url]
    try:
        done = subprocess.run(
            [sys.executable, "-m", f"bench.{name}", *args],
            cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_S, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as e:
        return f"no end after {TIMEOUT_S} s:\n{_tail(e.stdout)}{_tail(e.stderr)}"
    if done.returncode != 0:
        return f"exit status {done.returncode}:\n{_tail(done.stdout)}{_tail(done.stderr)}"
    if f"command: python -m bench.{name} " not in done.stdout:
        return f"it did not print the command that made its figures:\n{_tail(done.stdout)}"
    try:
        json.loads(figures.read_text())
    except (OSError, ValueError) as e:
        return f"no figures written to {figures.name}: {e}"
    return None


def _tail(output: str | bytes | None, chars: int = 3000) -> str:
    if isinstance(output, bytes):
        output = output.decode(errors="replace")
    return (output or "")[-chars:]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL; default: temp SQLite")
    parser.add_argument(
        "--only", action="append", choices=sorted(BENCHMARKS), help="this benchmark only"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
