"""A session-wide watch on the logs (issue 6, item 15): every log record the whole test suite
writes is scanned for a Chinese national ID number or a mobile number, and the session fails
if any is found. Wired into pytest by `tests/conftest.py`.

False positives are kept out the way a reader would: an ID number must be exactly 18
characters not touching other letters or digits (so UUIDs, SHA-256 hashes and long counters,
whose digit runs always touch hex letters or more digits, never match), carry a valid GB 11643
check character and a real birth date. A mobile number must be 11 digits starting 13-19, alone
(an optional +86 and the usual 3-4-4 separators are allowed).
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from datetime import date

import pytest

from events.national_id import check_digit, mask_national_id, mask_phone

_ALONE_BEFORE = r"(?<![0-9A-Za-z])"
_ALONE_AFTER = r"(?![0-9A-Za-z])"
NATIONAL_ID = re.compile(_ALONE_BEFORE + r"(\d{17}[\dXx])" + _ALONE_AFTER)
MOBILE = re.compile(
    _ALONE_BEFORE + r"(?:\+?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})" + _ALONE_AFTER
)
# Loggers whose INFO and DEBUG records are made visible to the scan (their own level, when
# set explicitly, is left alone). SQLAlchemy's are not: at INFO it would log every statement.
WATCHED = ("anlao", "portal", "services", "projections", "events", "werkzeug", "flask")
# Tests that show a leak this change does not own, each strict-xfail: their findings are
# reported but do not fail the session (a fix makes the test pass, and strict xfail then fails
# it, so the entry is removed with the marker).
KNOWN_OPEN_TESTS: tuple[str, ...] = ()
# Attributes every LogRecord has; anything else came in through `extra=` and is scanned too.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def is_national_id(candidate: str) -> bool:
    """A well-formed GB 11643 number: right check character and a birth date that exists."""
    number = candidate.upper()
    if check_digit(number[:17]) != number[17]:
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return 1880 <= born.year <= 2100


def personal_numbers(text: str) -> list[str]:
    """National ID and mobile numbers in `text`, masked (the report must not leak them)."""
    found = [
        mask_national_id(m.group(1).upper())
        for m in NATIONAL_ID.finditer(text)
        if is_national_id(m.group(1))
    ]
    found += [mask_phone("".join(m.groups())) for m in MOBILE.finditer(text)]
    return found


def record_text(record: logging.LogRecord) -> str:
    """Everything a log record carries that a handler could write: the message with its
    arguments, the exception and stack, and any extra fields."""
    try:
        parts = [record.getMessage()]
    except Exception:  # a malformed record still gets its raw parts scanned
        parts = [str(record.msg), repr(record.args)]
    formatter = logging.Formatter()
    if record.exc_info:
        parts.append(formatter.formatException(record.exc_info))
    if record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(formatter.formatStack(record.stack_info))
    parts += [f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD]
    return "\n".join(parts)


@dataclass(frozen=True)
class Finding:
    """One record with personal numbers in it: where it came from, and what (masked)."""

    test: str
    logger: str
    level: str
    numbers: tuple[str, ...]


class PersonalDataScanner(logging.Handler):
    """Collects findings from every record that reaches the root logger."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.findings: list[Finding] = []
        self.records_seen = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.records_seen += 1
        numbers = personal_numbers(record_text(record))
        if numbers:
            test = os.environ.get("PYTEST_CURRENT_TEST", "(outside a test)")
            self.findings.append(Finding(test, record.name, record.levelname, tuple(numbers)))


_installed: list[PersonalDataScanner] = []
# Findings sent back by pytest-xdist workers: only the controller decides the run's outcome.
_from_workers: list[Finding] = []
_WORKER_OUTPUT = "personal_data_findings"


def start(config: pytest.Config) -> None:
    """Attach the scanner to the root logger and let the watched loggers' records through."""
    scanner = PersonalDataScanner()
    logging.getLogger().addHandler(scanner)
    for name in WATCHED:
        watched = logging.getLogger(name)
        if watched.level == logging.NOTSET:
            watched.setLevel(logging.DEBUG)
    _installed.append(scanner)
    config.stash[_KEY] = scanner


def finish(session: pytest.Session) -> None:
    """Fail the session if any log record of any test held an ID or mobile number."""
    scanner = session.config.stash.get(_KEY, None)
    if scanner is None:
        return
    logging.getLogger().removeHandler(scanner)
    worker_output = getattr(session.config, "workeroutput", None)
    if worker_output is not None:  # an xdist worker: hand the findings to the controller
        worker_output[_WORKER_OUTPUT] = [
            (f.test, f.logger, f.level, list(f.numbers)) for f in scanner.findings
        ]
        return
    findings = scanner.findings + _from_workers
    known = [f for f in findings if f.test.split(" ")[0].split("[")[0] in KNOWN_OPEN_TESTS]
    failing = [f for f in findings if f not in known]
    if not findings:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = [
        f"{len(failing)} log record(s) contain a national ID or mobile number "
        f"(issue 6, item 15; values masked here), and {len(known)} in known-open tests:"
    ]
    lines += [
        f"  {'(known open) ' if f in known else ''}{f.test}: logger {f.logger} {f.level}: "
        f"{', '.join(f.numbers)}"
        for f in findings[:50]
    ]
    if reporter is not None:
        reporter.ensure_newline()
        reporter.section("personal data in logs", sep="=", red=True, bold=True)
        for line in lines:
            reporter.write_line(line)
    if failing:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def collect(worker_output: dict[str, object]) -> None:
    """Take the findings an xdist worker sent back when it finished."""
    for test, logger, level, numbers in worker_output.get(_WORKER_OUTPUT, ()):  # type: ignore[attr-defined]
        _from_workers.append(Finding(test, logger, level, tuple(numbers)))


def installed() -> PersonalDataScanner | None:
    """The scanner of this session, if the hook is wired in (tests check that it is)."""
    return _installed[-1] if _installed else None


_KEY = pytest.StashKey[PersonalDataScanner]()
