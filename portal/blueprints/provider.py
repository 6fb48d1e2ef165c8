"""The provider's room: its own facility only — today's meals, the visit log, staffing reports."""

from __future__ import annotations

from flask import Blueprint, Response

from events.roles import Role
from portal.rendering import page
from portal.users import roles_required

bp = Blueprint("provider", __name__, url_prefix="/provider")


@bp.get("/")
@roles_required(Role.PROVIDER)
def room() -> Response:
    """The provider's start page (placeholder until the room lands)."""
    return page("home/index.html")
