"""What auditors take away or look back on: the ledger as at a moment as CSV or XLSX, a case's
evidence pack, and the log of every page auditors opened."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from flask import Response, abort, request
from flask_babel import gettext as _

from events import clock
from events.roles import Role
from portal.blueprints.ledger import (
    TAKE_AWAY,
    bad_link,
    bp,
    display_names,
    fund_balance,
)
from portal.blueprints.ledger_targets import load_subsidy
from portal.forms.ledger import AsAtForm
from portal.rendering import page
from portal.runtime import runtime
from portal.users import roles_required
from services import audit_trail
from services.evidence_pack import evidence_pack
from services.ledger import LedgerService
from services.ledger_export import export_csv, export_xlsx

CSV = "text/csv"  # Flask adds "; charset=utf-8" to text types
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"
TRAIL_PAGE = 100
TRAIL_READERS = (Role.AUDITOR, Role.ADMIN)
Exporter = Callable[[LedgerService, datetime | None, UUID | None], bytes]


@bp.get("/export.csv")
@roles_required(*TAKE_AWAY)
def export_csv_file() -> Response:
    """Every movement up to the moment (one fund, or all) with totals, for spreadsheets."""
    return _export(export_csv, CSV, "csv")


@bp.get("/export.xlsx")
@roles_required(*TAKE_AWAY)
def export_xlsx_file() -> Response:
    """The balances and every movement up to the moment, as an Excel workbook."""
    return _export(export_xlsx, XLSX, "xlsx")


def _export(write: Exporter, mimetype: str, extension: str) -> Response:
    form = AsAtForm(formdata=request.args)
    if not form.validate():
        return page("error.html", status=400, title=_("时间填写有误"), text=form.at.errors[0])
    fund_id = _fund_asked()
    moment = form.moment()
    content = write(runtime().ledger, moment, fund_id)
    stamp = clock.local(moment or clock.now()).strftime("%Y%m%d-%H%M")
    return download(content, mimetype, f"ledger-{stamp}.{extension}")


def _fund_asked() -> UUID | None:
    """The fund named by `fund=` (404 when it names none), or None for every fund."""
    raw = request.args.get("fund")
    if not raw:
        return None
    try:
        fund_id = UUID(raw)
    except ValueError:
        abort(404)
    return fund_balance(fund_id, None).fund_id


@bp.get("/cases/<uuid:case_id>/evidence.zip")
@roles_required(*TAKE_AWAY)
def evidence(case_id: UUID) -> Response:
    """One household's subsidy evidence (events, acceptance photo hashes, payments, chain
    checks) as a ZIP with a manifest of hashes."""
    subsidy = load_subsidy(case_id)
    rt = runtime()
    content = evidence_pack(rt.ledger, rt.photos, case_id, clock.now())
    return download(content, ZIP, f"evidence-{subsidy.reference}.zip")


def download(content: bytes, mimetype: str, filename: str) -> Response:
    """A file to save, never kept in a shared cache."""
    response = Response(content, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["Cache-Control"] = "no-store"
    return response


# -- the auditors' view log -----------------------------------------------------------------
@bp.get("/audit-trail")
@roles_required(*TRAIL_READERS)
def audit_log() -> Response:
    """Who among the auditors looked at what, and when: newest first, a page at a time."""
    raw = request.args.get("before")
    if raw is not None and not (raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31):
        return bad_link()
    before = int(raw) if raw else None
    views = audit_trail.recent(runtime().engine, TRAIL_PAGE + 1, before=before)
    more = views[TRAIL_PAGE - 1].view_id if len(views) > TRAIL_PAGE else None
    views = views[:TRAIL_PAGE]
    return page(
        "ledger/audit_trail.html",
        views=views,
        names=display_names({v.user_id for v in views}),
        more=more,
        first=before is not None,
    )
