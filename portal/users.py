"""The signed-in user as Flask-Login sees it, and the role checks views use."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, flash, request, session
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_required, login_user, logout_user

from events.roles import Actor
from portal.runtime import runtime
from services.accounts import Account
from services.sessions import POLICIES, session_kind

F = TypeVar("F", bound=Callable[..., Any])


class PortalUser(UserMixin):
    """Wraps an account; `actor` is what services and queries take."""

    def __init__(self, account: Account) -> None:
        self.account = account

    def get_id(self) -> str:
        return self.account.user_id

    @property
    def role(self) -> str:
        return self.account.role

    @property
    def actor(self) -> Actor:
        """The command/query scope of this user."""
        a = self.account
        return Actor(
            user_id=a.user_id,
            role=a.role,
            district=a.district,
            community=a.community,
            facility_id=a.facility_id,
        )


# The keys Flask-Login and we keep in the cookie for a signed-in user; the rest (language,
# CSRF token) is not about who is signed in.
SIGN_IN_KEYS = ("_user_id", "_fresh", "_id", "_remember", "sid")


def start_session(account: Account, remember: bool = False) -> None:
    """A fresh session for a sign-in: the old cookie's contents are dropped (no fixation), a new
    random token is issued and recorded server-side; the language chosen before is kept."""
    lang = session.get("lang")
    session.clear()
    kind = session_kind(account.role, remember)
    session["sid"] = runtime().accounts.sessions.start(account.user_id, kind)
    session.permanent = POLICIES[kind].persistent_cookie  # only a family's remember-me
    if lang:
        session["lang"] = lang
    login_user(PortalUser(account))


def end_session() -> None:
    """Sign-out: the server forgets the token first, so a replayed cookie finds nothing."""
    runtime().accounts.sessions.end(session.get("sid"))
    logout_user()
    session.clear()


def load_user(user_id: str) -> PortalUser | None:
    """Flask-Login's loader, run on every request that asks who is signed in: the user only
    while their server-side session lives (not signed out, not timed out, password unchanged)."""
    found = runtime().accounts.sessions.signed_in(session.get("sid"), user_id)
    if not found.live:
        for key in SIGN_IN_KEYS:
            session.pop(key, None)
        flash(_("为了安全,您的登录已经结束(较长时间没有操作,或已在别处退出)。请重新登录。"), "info")
        return None
    return PortalUser(Account(**found.account)) if found.account else None


def client_ip() -> str:
    """The address a sign-in came from, for throttling and the login log."""
    return request.remote_addr or ""


def current_actor() -> Actor:
    """The signed-in user's actor (views behind `roles_required` only)."""
    return current_user.actor


def roles_required(*roles: str) -> Callable[[F], F]:
    """Signed in, and in one of these roles; otherwise 403 (or the login page)."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate
