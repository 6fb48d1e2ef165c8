"""Accounts: families register with a mobile number; staff are created by an admin or the CLI.

Signing in goes through the login guard (throttling and the login log) and opens a
server-side session; both modules' tables are registered on `services.tables.metadata` by
importing them here, before the runtime creates the tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import uuid4

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from events.districts import district as find_district
from events.roles import Role
from services.database import writing
from services.errors import AccountExists, InvalidAccount, ServiceError
from services.login_guard import LoginGuard, login_key, security_log
from services.password_policy import check_password
from services.sessions import SessionStore
from services.tables import accounts

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LOGIN = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")


class WrongPassword(ServiceError):
    """The current password given to confirm a change did not match."""

    code = "wrong_password"


@dataclass(frozen=True)
class Account:
    """A signed-in user as the portal needs it (never the password hash)."""

    user_id: str
    login: str
    display_name: str
    role: str
    district: str
    community: str
    facility_id: str = ""


class AccountService:
    """Creates accounts, checks passwords (argon2id), signs people in and out."""

    def __init__(self, engine: Engine, hasher: PasswordHasher | None = None) -> None:
        self._engine = engine
        self._hasher = hasher or PasswordHasher()
        self.sessions = SessionStore(engine)
        self.guard = LoginGuard(engine)

    def register_family(self, *, mobile: str, password: str, display_name: str) -> str:
        """A family member signs up with a mainland mobile number; returns the user id."""
        mobile = (mobile or "").strip()
        if not MOBILE.match(mobile):
            raise InvalidAccount("mobile")
        return self._create(mobile, password, display_name, Role.FAMILY, "", "")

    def create_staff(
        self,
        *,
        login: str,
        password: str,
        display_name: str,
        role: str,
        district: str = "",
        community: str = "",
        facility_id: str = "",
    ) -> str:
        """An admin adds a staff member with a role and, where the role has one, a district."""
        if role not in Role.STAFF:
            raise InvalidAccount("role")
        if not LOGIN.match(login or ""):
            raise InvalidAccount("login")
        if district and find_district(district) is None:
            raise InvalidAccount("district")
        if role == Role.PROVIDER and not facility_id:
            raise InvalidAccount("facility")
        return self._create(login, password, display_name, role, district, community, facility_id)

    def _create(
        self,
        login: str,
        password: str,
        name: str,
        role: str,
        district: str,
        community: str,
        facility_id: str = "",
    ) -> str:
        check_password(password, login)
        name = (name or "").strip()
        if not name or len(name) > 60:
            raise InvalidAccount("display_name")
        user_id = str(uuid4())
        try:
            with writing(self._engine) as conn:
                conn.execute(
                    accounts.insert().values(
                        user_id=user_id,
                        login=login,
                        password_hash=self._hasher.hash(password),
                        display_name=name,
                        role=role,
                        district=district,
                        community=community,
                        facility_id=facility_id,
                        created_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            raise AccountExists(login) from None
        return user_id

    def authenticate(self, login: str, password: str) -> Account | None:
        """The account if the password matches, else None (same answer for unknown logins)."""
        with self._engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.login == login_key(login))).first()
        if row is None:
            self._hasher.hash(password or "")  # same work either way: no user enumeration by timing
            return None
        try:
            self._hasher.verify(row.password_hash, password or "")
        except (VerificationError, InvalidHashError):
            return None
        if self._hasher.check_needs_rehash(row.password_hash):
            with writing(self._engine) as conn:
                conn.execute(
                    update(accounts)
                    .where(accounts.c.user_id == row.user_id)
                    .values(password_hash=self._hasher.hash(password))
                )
        return _account(row)

    def sign_in(self, login: str, password: str, ip: str) -> Account | None:
        """`authenticate`, throttled and logged: raises LoginThrottled while the login or the
        address is locked; every attempt is recorded whatever its outcome."""
        attempt = self.guard.reserve(login, ip)
        account = None
        try:
            account = self.authenticate(login, password)
        finally:
            self.guard.settle(attempt, account.user_id if account else None)
        return account

    def change_password(self, user_id: str, current: str, new: str, ip: str) -> None:
        """Replace the password after re-checking the current one, and end every session of
        the user (the caller opens a fresh one for the browser that made the change)."""
        account = self.get(user_id)
        if account is None:
            raise WrongPassword()
        check_password(new, account.login)
        if self.sign_in(account.login, current, ip) is None:
            raise WrongPassword()
        with writing(self._engine) as conn:
            conn.execute(
                update(accounts)
                .where(accounts.c.user_id == user_id)
                .values(password_hash=self._hasher.hash(new))
            )
        ended = self.sessions.end_all(user_id)
        security_log.info("password changed user=%s sessions_ended=%d", user_id, ended)

    def get(self, user_id: str) -> Account | None:
        """The account behind a session's user id."""
        with self._engine.connect() as conn:
            row = conn.execute(select(accounts).where(accounts.c.user_id == user_id)).first()
        return _account(row) if row else None

    def staff(self, role: str, district: str) -> list[Account]:
        """Staff of one role in one district: whom a caseworker can assign work to."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(accounts)
                .where(accounts.c.role == role, accounts.c.district == district)
                .order_by(accounts.c.display_name)
            )
            return [_account(r) for r in rows]


def _account(row) -> Account:  # type: ignore[no-untyped-def]
    return Account(
        row.user_id,
        row.login,
        row.display_name,
        row.role,
        row.district,
        row.community,
        row.facility_id,
    )
