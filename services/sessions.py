"""Server-side sign-in sessions: the cookie carries only a random token, the database decides.

Flask's own session is a signed cookie the server cannot revoke; a row per session here is
what lets sign-out, a password change and the timeouts end a session for good, on every web
worker at once. Only a SHA-256 digest of the token is stored, so reading this table does not
hand anyone a live session.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, Engine, String, Table, delete, select, update

from events import clock
from events.roles import Role
from services.database import writing
from services.tables import accounts, metadata

user_sessions = Table(
    "user_sessions",
    metadata,
    Column("token_digest", String(64), primary_key=True),
    Column("user_id", String(36), nullable=False, index=True),
    Column("kind", String(20), nullable=False),  # a key of POLICIES
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class SessionPolicy:
    """How long a session lives without activity (idle) and at most (absolute)."""

    idle: timedelta
    absolute: timedelta
    persistent_cookie: bool  # the cookie survives closing the browser (remember-me)


# The one place session lifetimes are set (OWASP ASVS 5.0 V7.3; level 2 suggests 30 minutes
# idle and 12 hours absolute). Staff reach many families' personal data from shared office
# computers: 30 minutes idle, never remembered. Families see only their own applications and
# are often slow to type, so 2 hours idle; on their own phone they may ask to be remembered
# for 14 days, which bounds that session absolutely.
REMEMBER_FOR = timedelta(days=14)
POLICIES = {
    "staff": SessionPolicy(timedelta(minutes=30), timedelta(hours=12), persistent_cookie=False),
    "family": SessionPolicy(timedelta(hours=2), timedelta(hours=12), persistent_cookie=False),
    "family_remembered": SessionPolicy(REMEMBER_FOR, REMEMBER_FOR, persistent_cookie=True),
}
LONGEST = max(p.absolute for p in POLICIES.values())
# Recording every request's time would make each page view a write; a minute's precision
# on the idle timeout is plenty.
TOUCH_EVERY = timedelta(minutes=1)


# The account columns a signed-in page needs (services.accounts.Account's fields, in order).
ACCOUNT_FIELDS = ("user_id", "login", "display_name", "role", "district", "community",
                  "facility_id")  # fmt: skip


@dataclass(frozen=True)
class SessionCheck:
    """Whether a session lives, and its account's columns (None if the account is gone)."""

    live: bool
    account: dict[str, str] | None


def session_kind(role: str, remember: bool) -> str:
    """Which policy a new session gets: remember-me is for families only."""
    if role != Role.FAMILY:
        return "staff"
    return "family_remembered" if remember else "family"


class SessionStore:
    """Starts, checks and ends sessions; time comes from `events.clock` (frozen in tests)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def start(self, user_id: str, kind: str) -> str:
        """A new session for a fresh sign-in; returns the token to put in the cookie."""
        token = secrets.token_urlsafe(32)
        now = clock.now()
        with writing(self._engine) as conn:
            # Sweep sessions that no policy could still accept: the table stays small.
            conn.execute(delete(user_sessions).where(user_sessions.c.created_at < now - LONGEST))
            conn.execute(
                user_sessions.insert().values(
                    token_digest=_digest(token),
                    user_id=user_id,
                    kind=kind,
                    created_at=now,
                    last_seen_at=now,
                )
            )
        return token

    def check(self, token: str | None, user_id: str) -> bool:
        """True while the session exists, belongs to this user and has timed out neither way."""
        return self.signed_in(token, user_id).live

    def signed_in(self, token: str | None, user_id: str) -> SessionCheck:
        """`check`, and in the same query the account's row: every page asks both, and one
        round trip instead of two is a measurable share of a page (bench.portal_load)."""
        if not token:
            return SessionCheck(live=False, account=None)
        digest = _digest(token)
        query = (
            select(user_sessions, *(accounts.c[name] for name in ACCOUNT_FIELDS[1:]))
            .outerjoin(accounts, accounts.c.user_id == user_sessions.c.user_id)
            .where(user_sessions.c.token_digest == digest)
        )
        with self._engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or row.user_id != user_id:
            return SessionCheck(live=False, account=None)
        if not self._still_live(digest, row):
            return SessionCheck(live=False, account=None)
        account = {name: getattr(row, name) for name in ACCOUNT_FIELDS}
        return SessionCheck(live=True, account=account if row.login is not None else None)

    def _still_live(self, digest: str, row: Any) -> bool:
        """Not timed out (a dead session is deleted); the last-seen time is moved on at most
        once every TOUCH_EVERY."""
        now = clock.now()
        policy = POLICIES.get(row.kind)
        created, seen = _aware(row.created_at), _aware(row.last_seen_at)
        if policy is None or now >= created + policy.absolute or now >= seen + policy.idle:
            self._delete(user_sessions.c.token_digest == digest)
            return False
        if now - seen >= TOUCH_EVERY:
            with writing(self._engine) as conn:
                conn.execute(
                    update(user_sessions)
                    .where(user_sessions.c.token_digest == digest)
                    .values(last_seen_at=now)
                )
        return True

    def end(self, token: str | None) -> None:
        """Sign-out: the token stops working everywhere, even if the cookie is replayed."""
        if token:
            self._delete(user_sessions.c.token_digest == _digest(token))

    def end_all(self, user_id: str) -> int:
        """End every session of a user (password changed or reset); returns how many."""
        return self._delete(user_sessions.c.user_id == user_id)

    def _delete(self, condition) -> int:  # type: ignore[no-untyped-def]
        with writing(self._engine) as conn:
            return conn.execute(delete(user_sessions).where(condition)).rowcount


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
