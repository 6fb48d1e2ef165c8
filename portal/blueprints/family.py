"""Families (and community workers for an elder): apply, follow cases, confirm, answer surveys."""

from __future__ import annotations

from flask import Blueprint, Response

from events.roles import Role
from portal.rendering import page
from portal.users import roles_required

bp = Blueprint("family", __name__)


@bp.get("/apply")
def start() -> Response:
    """Start page of the application (placeholder until the wizard lands)."""
    return page("home/index.html")


@bp.get("/my/cases")
@roles_required(Role.FAMILY)
def my_cases() -> Response:
    """A family's cases (placeholder)."""
    return page("home/index.html")
