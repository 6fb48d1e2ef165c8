"""Which passwords Anlao accepts: long enough, not too long, and not among those guessed first.

Following NIST SP 800-63B and OWASP ASVS 5.0 (V6.2): a length floor, a generous ceiling so
passphrases fit, no composition rules, and a refusal of common, repetitive or
context-specific passwords (the login name itself) with a message saying why.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from importlib.resources import files

from services.errors import InvalidAccount

MIN_LENGTH = 8
MAX_LENGTH = 128  # the issue asks that 64 be accepted; passphrases of twice that still fit
MIN_DISTINCT = 3  # "abababab" and "aaaaaaa1" are as weak as one repeated character
# Runs people type as "random": digits, the alphabet and keyboard rows, forwards and back.
RUNS = (
    "0123456789",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmikolp",
)


class WeakPassword(InvalidAccount):
    """The password breaks the policy; `reason` says which rule (too_short, common, ...).
    An InvalidAccount of field "password" (its code is kept for callers such as the CLI)."""

    def __init__(self, reason: str) -> None:
        super().__init__("password")
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def check_password(password: str, login: str = "") -> None:
    """Raise WeakPassword naming the first rule the password breaks; the text is never logged."""
    reason = weakness(password, login)
    if reason:
        raise WeakPassword(reason)


def weakness(password: str, login: str = "") -> str:
    """The rule a password breaks ('' when it is acceptable), for forms and services alike."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if len(password) > MAX_LENGTH:
        return "too_long"
    folded = password.lower()
    if folded in common_passwords():
        return "common"
    if len(set(folded)) < MIN_DISTINCT or _is_run(folded) or _is_date(folded):
        return "pattern"
    name = (login or "").strip().lower()
    if len(name) >= 4 and (name in folded or name[::-1] in folded):
        return "contains_login"
    return ""


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list (services/common_passwords.txt), read once per process."""
    text = files("services").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _is_run(folded: str) -> bool:
    for run in RUNS:
        for direction in (run, run[::-1]):
            # Doubling covers runs that wrap around, such as 78901234.
            repeated = direction * (len(folded) // len(direction) + 2)
            if folded in repeated:
                return True
    return False


def _is_date(folded: str) -> bool:
    """A birthday or wedding day written as 8 digits (19500101, 20260101)."""
    if len(folded) != 8 or not folded.isdigit() or folded[:2] not in ("19", "20"):
        return False
    try:
        date(int(folded[:4]), int(folded[4:6]), int(folded[6:]))
    except ValueError:
        return False
    return True
