"""The command line a benchmark prints beside its figures, so every table says how it was made."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def command_line(module: str, argv: list[str] | None) -> str:
    """`python -m <module>` and the arguments it was run with (sys.argv when argv is None)."""
    args = sys.argv[1:] if argv is None else argv
    return f"python -m {module} {' '.join(args)}".rstrip()


def write_figures(name: str, backend: str, figures: dict[str, Any], path: str = "") -> Path:
    """Write a run's figures as JSON: to `path` (--json), else bench/results/<name>-<backend>.json
    (git ignores that folder: the README holds the figures that count)."""
    out = Path(path or f"bench/results/{name}-{backend.lower()}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, ensure_ascii=False, indent=2, default=str))
    return out
