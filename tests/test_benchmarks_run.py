"""Every benchmark still runs to the end with its one command (issue 7: "the benchmarks run
green from a fresh clone"), here at tiny sizes on SQLite: their figures are measured by hand on
an idle machine (README), but a benchmark broken by a change elsewhere is caught here."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# module: (tiny arguments, writes JSON with --json)
BENCHMARKS = {
    "aggregate_load": (["--sizes", "10,100", "--loads", "3", "--seconds", "1"], True),
    "case_list": (["--cases", "200", "--requests", "3"], False),
    "command_throughput": (["--applications", "20", "--lifecycles", "4", "--writers", "1,2"], True),
    "dashboard": (
        ["--cases", "300", "--canteens-per-district", "1", "--care-cases", "10", "--requests", "2"],
        True,
    ),
    "ledger_replay": (["--movements", "2000", "--moments", "2", "--checked", "1"], False),
    "portal_load": (["--cases", "1500", "--duration", "1", "--families", "4"], True),
    "projection_catchup": (["--events", "3000"], True),
    "projection_throughput": (["--cases", "50", "--repeat", "1"], False),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_the_benchmark_runs_to_the_end_and_says_how_it_was_run(name: str, tmp_path: Path) -> None:
    if name == "portal_load" and shutil.which("wrk") is None:
        pytest.skip("bench.portal_load drives wrk: apt-get install wrk (.ci/run installs it)")
    args, writes_json = BENCHMARKS[name]
    if writes_json:
        args = [*args, "--json", str(tmp_path / "figures.json")]
    done = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert f"command: python -m bench.{name} {' '.join(args)}" in done.stdout
    if writes_json:
        assert json.loads((tmp_path / "figures.json").read_text())  # figures, not an empty file
