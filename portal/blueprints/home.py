"""The front door: a plain landing page, and each signed-in user's own starting room."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, url_for
from flask_login import current_user

from events.roles import Role
from portal.rendering import page

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> Response:
    """Families land on their cases, staff on their worklist, visitors on the landing page."""
    if not current_user.is_authenticated:
        return page("home/index.html")
    if current_user.role == Role.FAMILY:
        return redirect(url_for("family.my_cases"))
    if current_user.role == Role.PROVIDER:
        return redirect(url_for("provider.room"))
    return redirect(url_for("staff.queue"))
