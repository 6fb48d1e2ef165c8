"""Every page an auditor opens, anywhere in the portal, goes into the view log (who, what,
when): auditors read everything, so what they read must itself be on record."""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from events import clock
from events.roles import Role
from portal.rendering import page
from portal.runtime import runtime
from services import audit_trail

log = logging.getLogger(__name__)
NOT_PAGES = (None, "static")  # stylesheets and scripts are not records anyone looked at


def register_audit(app: Flask) -> None:
    """Attach the hook; registered after the security headers so they still apply to it."""
    app.after_request(record_auditor_views)


def record_auditor_views(response: Response) -> Response:
    """Log a signed-in auditor's successful GET; when the log cannot be written, the page is
    withheld (503) rather than shown unlogged."""
    if not _is_auditor_view(response):
        return response
    try:
        audit_trail.record(
            runtime().engine,
            user_id=current_user.get_id(),
            endpoint=request.endpoint or "",
            path=viewed_path(),
            at=clock.now(),
        )
    except SQLAlchemyError as e:
        log.error("auditor view not logged, page withheld: %s", e)
        return page(
            "error.html",
            status=503,
            title=_("系统暂时忙"),
            text=_("查看记录暂时无法保存,为此没有显示这个页面。请稍等一两分钟后再试。"),
            bare=True,
        )
    return response


def viewed_path() -> str:
    """The path with its query string (which date, which page), as the auditor asked for it."""
    query = request.query_string.decode("utf-8", "replace")
    return f"{request.path}?{query}" if query else request.path


def _is_auditor_view(response: Response) -> bool:
    if request.method != "GET" or not 200 <= response.status_code < 300:
        return False
    if request.endpoint in NOT_PAGES:
        return False
    return bool(current_user.is_authenticated) and current_user.role == Role.AUDITOR
