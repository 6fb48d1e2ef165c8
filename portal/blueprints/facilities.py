"""Facility projects for staff: progress against deadlines, milestones, inspections, acceptance."""

from __future__ import annotations

from flask import Blueprint, Response

from events.roles import Role
from portal.rendering import page
from portal.users import roles_required

bp = Blueprint("facilities", __name__, url_prefix="/facilities")

FACILITY_ROLES = (Role.CASEWORKER, Role.INSPECTOR, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)


@bp.get("/")
@roles_required(*FACILITY_ROLES)
def index() -> Response:
    """Facility projects this user may see (placeholder until the list lands)."""
    return page("home/index.html")
