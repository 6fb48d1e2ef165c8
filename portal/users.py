"""The signed-in user as Flask-Login sees it, and the role checks views use."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import UserMixin, current_user, login_required

from events.roles import Actor
from services.accounts import Account

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
