"""Error pages: every failure gets a plain message and the right status, never a stack trace;
every refusal to show or change someone else's record is logged for security review."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from events import clock
from portal.rendering import page
from services.database import STORAGE_FAILURES, describe_failure, storage_full
from services.errors import CaseNotFound, NotPermitted, StorageUnavailable
from services.log_safety import loggable

log = logging.getLogger(__name__)
# Denials go to their own logger so operators can route them to the security log. A record
# names who (opaque user id and role), which route, which object ids and when; never a login
# name (a family's login is a mobile number), a query string or any form value.
security_log = logging.getLogger("anlao.security")
RETRY_AFTER_S = 60  # what a 503 tells browsers and clients: try again in about a minute


def register_error_handlers(app: Flask) -> None:
    """Attach the handlers; domain refusals are handled in views, next to their forms."""

    @app.errorhandler(CSRFError)
    def csrf_failed(_e: CSRFError) -> Response:
        return _error(400, _("页面已过期"), _("为了安全,请返回上一页,刷新后再提交一次。"))

    @app.errorhandler(CaseNotFound)
    def case_not_found(_e: CaseNotFound) -> Response:
        return _error(404, _("找不到这个页面"), _("请检查网址,或从首页重新进入。"))

    @app.errorhandler(NotPermitted)
    def not_permitted(_e: NotPermitted) -> Response:
        return _error(403, _("没有权限"), _("您的账户不能进行这项操作。"))

    for failure in (StorageUnavailable, *STORAGE_FAILURES):
        app.register_error_handler(failure, storage_failed)

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> Response:
        titles = {
            404: (_("找不到这个页面"), _("请检查网址,或从首页重新进入。")),
            403: (_("没有权限"), _("您的账户不能查看这个页面。")),
            413: (_("文件太大"), _("上传的文件太大,请选择小一些的照片。")),
            405: (_("无法完成操作"), _("请从页面上的按钮进行操作。")),
        }
        title, text = titles.get(e.code or 500, (_("出错了"), _("请返回上一页再试一次。")))
        return _error(e.code or 500, title, text)

    @app.errorhandler(Exception)
    def unexpected(e: Exception) -> Response:
        log.exception("unhandled error", exc_info=e)
        return _error(500, _("系统出错了"), _("我们已记录这个问题。请稍后再试,或联系所在社区。"))

    app.after_request(log_denial)


def storage_failed(e: Exception) -> Response:
    """The database is down, busy or full: 503 with a plain message, whatever layer noticed
    (read models, person store or event store), so the user knows to try again later."""
    if storage_full(e):
        log.error("storage full, write refused: %s", describe_failure(e))
        title, text = (
            _("暂时无法保存"),
            _("系统的存储空间已满,这次提交没有保存。我们已记录这个问题,请过一段时间再试。"),
        )
    else:
        log.error("storage unavailable: %s", describe_failure(e))
        title, text = _("系统暂时忙"), _("您填写的内容没有丢失,请稍等一两分钟后再试。")
    # Templates get `current_user` from Flask-Login, which would load the account from the
    # database that just failed: render this page as for a visitor (it shows no user anyway).
    current_app.login_manager._update_request_context_with_user()  # type: ignore[attr-defined]
    response = _error(503, title, text)
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    return response


def log_denial(response: Response) -> Response:
    """Log every 403, and every 404 on a route that names an object (a case, fund, draft,
    photo...): whether the object is missing or hidden from this user looks the same to them,
    and either may be someone probing for records that are not theirs."""
    status = response.status_code
    names_object = request.url_rule is not None and request.endpoint != "static"
    if status == 403 or (status == 404 and names_object):
        _log_denial(status)
    return response


def _log_denial(status: int) -> None:
    user_id, role = _who()
    # A mistyped or probing URL may carry a phone or ID number where an object id belongs.
    args = sorted((request.view_args or {}).items())
    objects = ",".join(f"{k}={loggable(str(v), limit=80)}" for k, v in args)
    at = clock.now().isoformat()
    route = request.endpoint or ""
    security_log.warning(
        "access denied: status=%s user=%s role=%s route=%s %s objects=%s at=%s",
        status, user_id, role, request.method, route, objects or "-", at,
        extra={"event": "access_denied", "status": status, "user_id": user_id, "role": role,
               "route": route, "method": request.method, "objects": objects, "at": at},
    )  # fmt: skip


def _who() -> tuple[str, str]:
    """The signed-in user's opaque id and role, or anonymous (never the login name)."""
    try:
        if current_user.is_authenticated:
            return str(current_user.get_id()), str(getattr(current_user, "role", ""))
    except STORAGE_FAILURES:
        return "unknown (storage unavailable)", ""
    return "anonymous", ""


def _error(status: int, title: str, text: str) -> Response:
    return page("error.html", status=status, title=title, text=text, bare=True)
