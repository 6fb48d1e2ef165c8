"""The supervision dashboard (倒排工期、挂图作战) for supervisors, admins and auditors: targets
against actuals as at a day, late and stuck work, the district leaderboard; and the same as a
workbook and as a printable page. Admins' target pages live in supervision_targets."""

from __future__ import annotations

from io import BytesIO
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, request, send_file
from flask_babel import gettext as _

from events.roles import Role
from portal import supervision_labels as sl
from portal.extensions import htmx
from portal.forms.supervision import DashboardFilterForm
from portal.rendering import page, page_or_fragment
from portal.runtime import runtime
from portal.supervision_board import Board, build_board
from portal.supervision_report import XLSX, workbook
from portal.users import roles_required

bp = Blueprint("supervision", __name__, url_prefix="/supervision")

READERS = (Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR)


@bp.get("")
@roles_required(*READERS)
def dashboard() -> Response:
    """Every target judged as at the chosen day, with charts, late work and the leaderboard;
    htmx gets only the results region."""
    form = DashboardFilterForm(formdata=request.args)
    if not form.validate():
        return _bad_filters(form)
    return page_or_fragment(
        "supervision/dashboard.html",
        "supervision/_results.html",
        form=form,
        board=_board(form),
        **_words(),
    )


@bp.get("/report.xlsx")
@roles_required(*READERS)
def report() -> Response:
    """The dashboard's tables as a workbook: one sheet per programme, Chinese headers."""
    form = DashboardFilterForm(formdata=request.args)
    if not form.validate():
        return _bad_filters(form)
    board = _board(form)
    day = board.filters.as_at.isoformat()
    response = send_file(
        BytesIO(workbook(board)), mimetype=XLSX, as_attachment=True,
        download_name=f"supervision-{day}.xlsx",
    )  # fmt: skip
    # The Chinese name for browsers that read RFC 6266's filename*, the ASCII one for the rest.
    name = quote(_("督导看板-%(day)s.xlsx", day=day))
    response.headers["Content-Disposition"] += f"; filename*=UTF-8''{name}"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/print")
@roles_required(*READERS)
def print_page() -> Response:
    """The dashboard for the monthly meeting: tables per programme, a page each, no navigation."""
    form = DashboardFilterForm(formdata=request.args)
    if not form.validate():
        return _bad_filters(form)
    return page("supervision/print.html", board=_board(form), **_words())


def _board(form: DashboardFilterForm) -> Board:
    rt = runtime()
    return build_board(rt.engine, rt.settings.step_limits, form.filters())


def _words() -> dict[str, Any]:
    return {"sl": sl, "legend": sl.legend()}


def _bad_filters(form: DashboardFilterForm) -> Response:
    """Filter values we cannot use: say which, clearly, with status 400."""
    if htmx:
        # htmx does not swap a 400: load the whole page, which shows the message.
        response = Response(status=400)
        response.headers["HX-Redirect"] = request.full_path
        return response
    return page("supervision/dashboard.html", status=400, form=form, board=None, **_words())


# The admins' target pages attach their routes to `bp` (imported last: they import it).
from portal.blueprints import supervision_targets  # noqa: E402, F401
