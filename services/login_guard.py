"""Login throttling and the login log, kept in the database so every web worker sees the same.

A per-process counter lets an attacker multiply their guesses by the number of workers; a
table shared by all of them does not. Each attempt is reserved as `pending` inside a
transaction that holds the table's write lock, so even attempts racing on several workers
cannot verify more than the limit of passwords. The same rows are the log of every attempt:
who (login name as typed, never the password), when, from which address, and the outcome.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    String,
    Table,
    func,
    select,
    text,
    update,
)

from events import clock
from services.database import writing
from services.errors import ServiceError
from services.log_safety import loggable
from services.tables import metadata

security_log = logging.getLogger("anlao.security")

login_attempts = Table(
    "login_attempts",
    metadata,
    Column("attempt_id", Integer, primary_key=True, autoincrement=True),
    Column("login", String(100), nullable=False),  # as typed, cut to 100 characters
    Column("ip", String(45), nullable=False),
    Column("outcome", String(10), nullable=False),  # pending, success, failure, throttled
    Column("user_id", String(36)),  # set on success
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_login_attempts_login", "login", "at"),
    Index("ix_login_attempts_ip", "ip", "at"),
)

PENDING, SUCCESS, FAILURE, THROTTLED = "pending", "success", "failure", "throttled"


@dataclass(frozen=True)
class Limit:
    """`failures` within `window` lock the key for `lock` counted from the last of them."""

    failures: int
    window: timedelta
    lock: timedelta


# One login: 5 wrong passwords in 15 minutes lock it for 15 minutes (OWASP ASVS 5.0 V6.3.1).
PER_LOGIN = Limit(5, timedelta(minutes=15), timedelta(minutes=15))
# One address: password spraying across many logins. A community centre's shared connection
# serves many families, so the limit is generous.
PER_IP = Limit(20, timedelta(minutes=15), timedelta(minutes=15))


class LoginThrottled(ServiceError):
    """Too many failed sign-ins for this login or from this address; try again later."""

    code = "login_throttled"

    def __init__(self, until: datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until

    def minutes_left(self) -> int:
        """Whole minutes to wait, at least one: what the message tells the user."""
        seconds = (self.until - clock.now()).total_seconds()
        return max(1, -(-int(seconds) // 60))


class LoginGuard:
    """Reserves, records and refuses sign-in attempts."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def reserve(self, login: str, ip: str) -> int:
        """Book an attempt before the password is checked; raise LoginThrottled if locked."""
        login, ip, now = login_key(login), (ip or "")[:45], clock.now()
        with writing(self._engine) as conn:
            _serialise(conn)
            until = _locked_until(conn, login, ip, now)
            outcome = THROTTLED if until else PENDING
            attempt_id = conn.execute(
                login_attempts.insert().values(login=login, ip=ip, outcome=outcome, at=now)
            ).inserted_primary_key[0]
        if until:
            _log(THROTTLED, login, ip)
            raise LoginThrottled(until)
        return int(attempt_id)

    def settle(self, attempt_id: int, user_id: str | None) -> None:
        """Record how a reserved attempt ended: success with the user's id, or failure."""
        outcome = SUCCESS if user_id else FAILURE
        t = login_attempts.c
        with writing(self._engine) as conn:
            conn.execute(
                update(login_attempts)
                .where(t.attempt_id == attempt_id)
                .values(outcome=outcome, user_id=user_id)
            )
            row = conn.execute(select(t.login, t.ip).where(t.attempt_id == attempt_id)).one()
        _log(outcome, row.login, row.ip, user_id)


def _locked_until(conn: Connection, login: str, ip: str, now: datetime) -> datetime | None:
    """The later end of the login's and the address's locks, or None when neither holds."""
    # A success wipes the login's slate (ids, not times: attempts in one instant still order).
    last_success = conn.execute(
        select(func.max(login_attempts.c.attempt_id)).where(
            login_attempts.c.login == login, login_attempts.c.outcome == SUCCESS
        )
    ).scalar_one()
    ends = [
        _lock_end(conn, login_attempts.c.login == login, PER_LOGIN, now, last_success or 0),
        _lock_end(conn, login_attempts.c.ip == ip, PER_IP, now, 0),
    ]
    live = [end for end in ends if end is not None and end > now]
    return max(live) if live else None


def _lock_end(conn, key, limit: Limit, now: datetime, after_id: int) -> datetime | None:  # type: ignore[no-untyped-def]
    """When `limit` failures (pending ones count) fall within its window, the lock's end."""
    recent = conn.execute(
        select(login_attempts.c.at)
        .where(
            key,
            login_attempts.c.outcome.in_((FAILURE, PENDING)),
            login_attempts.c.at > now - limit.window - limit.lock,
            login_attempts.c.attempt_id > after_id,
        )
        .order_by(login_attempts.c.at.desc())
        .limit(limit.failures)
    ).scalars()
    times = [_aware(t) for t in recent]
    if len(times) < limit.failures or times[0] - times[-1] > limit.window:
        return None
    return times[0] + limit.lock


def _serialise(conn: Connection) -> None:
    """One attempt at a time decides, across workers: SQLite's BEGIN IMMEDIATE already holds
    the write lock; PostgreSQL needs a lock that conflicts with itself but not with readers."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE login_attempts IN SHARE ROW EXCLUSIVE MODE"))


def login_key(login: str) -> str:
    """A login as looked up and recorded: trimmed, cut to 100 characters, control characters
    (which no login contains, and which PostgreSQL refuses in text: NUL) made U+FFFD."""
    trimmed = (login or "").strip()[:100]
    return "".join(c if c.isprintable() else "\ufffd" for c in trimmed)


def _log(outcome: str, login: str, ip: str, user_id: str | None = None) -> None:
    level = logging.INFO if outcome == SUCCESS else logging.WARNING
    security_log.log(
        level,
        "login %s login=%r ip=%s user=%s",
        outcome,
        loggable(login),
        ip or "-",
        user_id or "-",
    )


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
