"""The fund ledger for finance officers and auditors: funds and matching, a fund or a district
as at any moment, and the hash chain checked on request. Balances and movements are read from
the event history; the read models only find which movements to read."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from flask import Blueprint, Response, abort, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from events import clock
from events.districts import DISTRICTS
from events.districts import district as known_district
from events.fund import Target
from events.roles import Role
from portal import ledger_labels
from portal.extensions import htmx
from portal.forms.ledger import AsAtForm, MovementForm, fund_forms, moment_value
from portal.rendering import page, page_or_fragment
from portal.runtime import runtime
from portal.users import current_actor, roles_required
from projections.facility_queries import facility_progress
from projections.ledger_queries import (
    KeyPage,
    case_subsidy,
    list_funds,
    movement_keys,
    open_commitments,
)
from services.errors import FundNotFound
from services.ledger_history import (
    FundBalance,
    LedgerLine,
    balance_at,
    balances_at,
    district_at,
    lines_for,
    lines_up_to,
    matching_at,
    verify,
    version_at,
)

bp = Blueprint("ledger", __name__, url_prefix="/ledger")

READERS = (Role.FINANCE, Role.AUDITOR, Role.SUPERVISOR, Role.ADMIN)
TAKE_AWAY = (Role.FINANCE, Role.AUDITOR)  # exports and evidence packs leave the system
PAGE_SIZE = 50
HASH_SHOWN = 12  # characters of a link hash in the table; the whole hash is in its title


@bp.app_template_filter("city_time")
def city_time(moment: datetime | None) -> str:
    """A recorded time as people in the city read it, to the second."""
    return "" if moment is None else clock.local(moment).strftime("%Y-%m-%d %H:%M:%S")


@bp.app_template_filter("ratio")
def ratio(value: Decimal) -> str:
    """A matching ratio as typed: 1, 0.5 (never 1.0000 or 1E+1)."""
    return f"{value.normalize():f}"


@bp.context_processor
def _ledger_globals() -> dict[str, Any]:
    role = getattr(current_user, "role", None)
    return {
        "ledger_labels": ledger_labels,
        "may_write": role == Role.FINANCE,
        "may_take_away": role in TAKE_AWAY,
        "hash_shown": HASH_SHOWN,
    }


# -- the funds and the matching table ------------------------------------------------------
@bp.get("/")
@roles_required(*READERS)
def index() -> Response:
    """Every fund with its balances now; per district, whether local matching keeps pace
    with provincial money as at the moment chosen."""
    form = AsAtForm(formdata=request.args)
    context: dict[str, Any] = {"funds": list_funds(runtime().engine), "districts": DISTRICTS}
    if not form.validate():
        return bad_query("ledger/index.html", "ledger/_matching.html", as_at=form, **context)
    moment = form.moment()
    matching = matching_at(balances_at(runtime().ledger, moment))
    return page_or_fragment(
        "ledger/index.html", "ledger/_matching.html", as_at=form, moment=moment,
        matching=matching, **context,
    )  # fmt: skip


# -- one fund as at a moment ---------------------------------------------------------------
@bp.get("/funds/<uuid:fund_id>")
@roles_required(*READERS)
def fund(fund_id: UUID) -> Response:
    """A fund as at a moment: balances, each district's figures, every movement up to then
    (newest first, a page at a time); htmx redraws only the ledger."""
    form = AsAtForm(formdata=request.args)
    if not form.validate():
        header = fund_balance(fund_id, None)
        return bad_query("ledger/fund.html", "ledger/_fund_ledger.html", as_at=form, fund=header)
    before = _before()
    if before == 0:
        return bad_link()
    return render_fund(fund_id, form, before)


def render_fund(
    fund_id: UUID,
    form: AsAtForm,
    before: int | None = None,
    *,
    status: int = 200,
    submitted: MovementForm | None = None,
    action: str = "",
) -> Response:
    """The fund page (or its ledger fragment); a finance form refused is shown as typed."""
    moment = form.moment()
    writes = current_actor().role == Role.FINANCE
    balance = fund_balance(fund_id, moment)
    lines = lines_up_to(
        runtime().ledger, fund_id, balance.version, before=before, limit=PAGE_SIZE + 1
    )
    more = lines[PAGE_SIZE - 1].seq if len(lines) > PAGE_SIZE else None
    lines = lines[:PAGE_SIZE]
    link = {"fund_id": fund_id, "at": form.at.data or None}
    return page_or_fragment(
        "ledger/fund.html", "ledger/_fund_ledger.html", status=status, as_at=form,
        moment=moment, fund=balance, lines=lines, **line_context(lines, moment),
        next_url=url_for("ledger.fund", **link, before=more) if more else None,
        first_url=url_for("ledger.fund", **link) if before else None,
        commitments=open_commitments(runtime().engine, fund_id=fund_id), submitted=submitted,
        open_action=action, forms=fund_forms(submitted, action) if writes else {},
    )  # fmt: skip


def fund_balance(fund_id: UUID, moment: datetime | None) -> FundBalance:
    """The fund's balances as at `moment`; 404 when there is no such fund."""
    try:
        return balance_at(runtime().ledger, fund_id, moment)
    except FundNotFound:
        abort(404)


def _before() -> int | None:
    """The keyset of the movements' pages: show those numbered below this (0: unreadable)."""
    raw = request.args.get("before")
    if raw is None:
        return None
    return int(raw) if raw.isascii() and raw.isdigit() and 1 < int(raw) < 10**9 else 0


@bp.get("/funds/<uuid:fund_id>/verify")
@roles_required(*READERS)
def verify_chain(fund_id: UUID) -> Response:
    """Recompute the fund's hash chain from its stored events and say where it first breaks."""
    header = fund_balance(fund_id, None)
    check = verify(runtime().ledger, fund_id)
    return page_or_fragment(
        "ledger/verify.html", "ledger/_chain_check.html", fund=header, check=check
    )


# -- a district as at a moment -------------------------------------------------------------
@bp.get("/districts/<code>")
@roles_required(*READERS)
def district(code: str) -> Response:
    """A district's figures in each fund and its matching, with its movements, as at a moment."""
    if known_district(code) is None:
        abort(404)
    form = AsAtForm(formdata=request.args)
    if not form.validate():
        return bad_query("ledger/district.html", "ledger/_district_ledger.html", as_at=form,
                         code=code)  # fmt: skip
    moment = form.moment()
    balances = balances_at(runtime().ledger, moment)
    found = movement_page("ledger.district", form, district=code, code=code)
    if found is None:
        return bad_link()
    return page_or_fragment(
        "ledger/district.html", "ledger/_district_ledger.html", as_at=form, moment=moment,
        code=code, figures=district_at(balances, code),
        matching=[m for m in matching_at(balances) if m.district == code], **found,
    )  # fmt: skip


def movement_page(
    endpoint: str, form: AsAtForm, *, district: str | None = None, target_id: str | None = None,
    **link: Any,
) -> dict[str, Any] | None:  # fmt: skip
    """One page of a district's or a target's movements up to the moment, read from the event
    history; None when the page link (its cursor) cannot be read."""
    cursor = request.args.get("cursor") or None
    moment = form.moment()
    try:
        keys: KeyPage = movement_keys(
            runtime().engine, district=district, target_id=target_id, up_to=moment,
            cursor=cursor, limit=PAGE_SIZE,
        )  # fmt: skip
    except ValueError:
        return None
    lines = lines_for(runtime().ledger, keys.keys)
    link = {**link, "at": form.at.data or None}
    more = keys.next_cursor
    return {
        "lines": lines,
        **line_context(lines, moment),
        "next_url": url_for(endpoint, **link, cursor=more) if more else None,
        "first_url": url_for(endpoint, **link) if cursor else None,
    }


# -- what every list of movements shows besides the lines themselves -------------------------
def line_context(lines: list[LedgerLine], moment: datetime | None) -> dict[str, Any]:
    """Who recorded each line, what it was for, and which lines were later reversed."""
    return {
        "names": display_names({line.actor_id for line in lines}),
        "targets": target_names(lines),
        "reversed_by": reversals({line.fund_id for line in lines}, moment),
        "fund_titles": {f.fund_id: f.title for f in list_funds(runtime().engine)},
    }


def display_names(user_ids: set[str]) -> dict[str, str]:
    """User ids as the people's names (an id stays as it is if its account is gone)."""
    accounts = (runtime().accounts.get(u) for u in user_ids if u)
    return {a.user_id: a.display_name for a in accounts if a}


def target_names(lines: list[LedgerLine]) -> dict[str, str]:
    """Each case by its reference and each facility by its name, where this user may see it."""
    found: dict[str, str] = {}
    engine, actor, today = runtime().engine, current_actor(), clock.today()
    for target_id in {line.target_id for line in lines if line.target_id}:
        kinds = {line.target_kind for line in lines if line.target_id == target_id}
        if Target.RETROFIT_CASE in kinds:
            case = case_subsidy(engine, UUID(target_id))
            found[target_id] = case.reference if case else ""
        else:
            facility = facility_progress(engine, actor, UUID(target_id), today=today)
            found[target_id] = facility.name if facility else ""
    return found


def reversals(fund_ids: set[UUID], moment: datetime | None) -> dict[tuple[UUID, int], int]:
    """(fund, movement) -> the movement that reversed it, as the funds stood at `moment`."""
    ledger, found = runtime().ledger, {}
    for fund_id in fund_ids:
        version = None if moment is None else version_at(ledger, fund_id, moment)
        if version == 0:
            continue
        fund = ledger.fund(fund_id, version=version)
        found.update({(fund_id, int(seq)): by for seq, by in fund.reversed.items()})
    return found


# -- links and controls we cannot read ------------------------------------------------------
def bad_query(page_template: str, fragment: str, **context: Any) -> Response:
    """An "as at" we cannot read: say so at the control, with status 400. htmx does not swap
    a 400, so it is sent to load the whole page, which shows the message."""
    if htmx:
        response = page_or_fragment(page_template, fragment, status=400, **context)
        response.headers["HX-Redirect"] = request.full_path
        return response
    return page(page_template, status=400, **context)


def bad_link() -> Response:
    """A page link (cursor, page number) we did not write: an edited or truncated link."""
    if htmx:
        response = Response(status=400)
        response.headers["HX-Redirect"] = request.path
        return response
    return page(
        "error.html", status=400, title=_("这一页的链接不完整"),
        text=_("请回到这个台账的第一页,再点“更早的记录”。"),
    )  # fmt: skip


def moment_label(moment: datetime | None) -> str:
    """How the page names the moment it shows."""
    return _("现在") if moment is None else moment_value(moment).replace("T", " ")


bp.add_app_template_global(moment_label, "moment_label")

# The other ledger pages attach their routes to `bp` (imported last: they import it).
from portal.blueprints import ledger_finance, ledger_records, ledger_targets  # noqa: E402, F401
