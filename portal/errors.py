"""Error pages: every failure gets a plain message and the right status, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, Response
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from portal.rendering import page
from services.errors import CaseNotFound, NotPermitted, StorageUnavailable

log = logging.getLogger(__name__)


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

    @app.errorhandler(StorageUnavailable)
    @app.errorhandler(OperationalError)
    def storage_down(e: Exception) -> Response:
        log.error("storage unavailable: %s", e)
        return _error(503, _("系统暂时忙"), _("您填写的内容没有丢失,请稍等一两分钟后再试。"))

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


def _error(status: int, title: str, text: str) -> Response:
    return page("error.html", status=status, title=title, text=text, bare=True)
