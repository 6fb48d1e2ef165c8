"""Static analysis stays honest: `.ci/run` runs bandit over the application code and fails on
any finding; a finding accepted instead of fixed must say which check it silences and why."""

from __future__ import annotations

import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("events", "services", "projections", "portal")
# "# nosec B311 # seeded demo data": bandit reads the ids up to the second "#"; the reason
# follows it (words after the ids would be taken for test names).
JUSTIFIED = re.compile(r"#\s*nosec\s+B\d{3}(\s*,\s*B\d{3})*\s+#\s*\S.{9,}")


def nosec_comments() -> list[tuple[str, int, str]]:
    """Every comment in the application code that mentions nosec, with where it is."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            with path.open("rb") as source:
                for token in tokenize.tokenize(source.readline):
                    if token.type == tokenize.COMMENT and "nosec" in token.string.lower():
                        found.append((f"{path.relative_to(ROOT)}", token.start[0], token.string))
    return found


def test_every_accepted_bandit_finding_names_its_check_and_says_why() -> None:
    unjustified = [c for c in nosec_comments() if not JUSTIFIED.search(c[2])]
    assert not unjustified, "write '# nosec B<id> # reason' (a reason of ten characters or more)"


def test_the_rule_refuses_a_bare_or_unexplained_nosec() -> None:
    assert JUSTIFIED.search("x = 1  # nosec B311 # seeded, repeatable demo data")
    assert JUSTIFIED.search("x = 1  # nosec B608,B611 # fixed table names only")
    for lazy in ("# nosec", "# nosec B311", "# nosec B311 - why", "# nosec # because I say so"):
        assert not JUSTIFIED.search(lazy), lazy


def test_ci_runs_bandit_over_the_application_code_after_the_tests() -> None:
    steps = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert steps[0] == "set -euo pipefail"  # a failing step fails CI
    bandit = steps.index(".venv/bin/bandit -q -r events services projections portal")
    assert bandit > steps.index("./dev test -p no:cacheprovider")
