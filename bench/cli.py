"""The command line a benchmark prints beside its figures, so every table says how it was made."""

from __future__ import annotations

import sys


def command_line(module: str, argv: list[str] | None) -> str:
    """`python -m <module>` and the arguments it was run with (sys.argv when argv is None)."""
    args = sys.argv[1:] if argv is None else argv
    return f"python -m {module} {' '.join(args)}".rstrip()
