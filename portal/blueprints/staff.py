"""Staff rooms: the district queue, case pages and each role's step forms."""

from __future__ import annotations

from flask import Blueprint, Response

from events.roles import Role
from portal.rendering import page
from portal.users import roles_required

bp = Blueprint("staff", __name__)


@bp.get("/cases")
@roles_required(*Role.STAFF)
def queue() -> Response:
    """The worklist (placeholder)."""
    return page("home/index.html")
