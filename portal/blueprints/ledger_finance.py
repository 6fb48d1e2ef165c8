"""The finance officer's forms: open a fund; record receipts, allocations and returns; commit
money to a retrofit case or a facility; pay against a commitment; reverse a mistaken movement.
Each goes through `portal.steps.submit`; a refusal comes back with the ledger's figures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from flask import Response, abort, request, url_for
from flask_babel import gettext as _
from wtforms import SelectChoice

from events.fund import InsufficientFunds, Target, yuan
from events.roles import Role
from events.subsidy_claims import DoubleSubsidy
from portal import labels
from portal.blueprints.ledger import bp, render_fund
from portal.blueprints.ledger_targets import case_references, load_facility, load_subsidy
from portal.forms.ledger import (
    FUND_FORMS,
    AsAtForm,
    CommitForm,
    MovementForm,
    OpenFundForm,
    PayForm,
    ReverseForm,
)
from portal.messages_ledger import money
from portal.rendering import page
from portal.runtime import runtime
from portal.steps import submit
from portal.users import current_actor, roles_required
from projections.ledger_queries import CommitmentRow, list_funds, open_commitments
from services.ledger import FACILITY_KINDS
from services.ledger_history import LedgerLine, line_of


class Recorded:
    """The number of the movement a command recorded, for the confirmation after it."""

    seq = 0

    def __init__(self, command: Callable[[], int], action: str = "") -> None:
        self._command, self._action = command, action

    def __call__(self) -> None:
        try:
            self.seq = self._command()
        except InsufficientFunds as e:
            if self._action:  # the sentence names what was done, not only what overflowed
                e.params.setdefault("action", self._action)
            raise
        except DoubleSubsidy as e:
            held = {claim["target_id"] for claim in e.params.get("existing", {}).values()}
            e.params["references"] = sorted(case_references(held).values())
            raise


# -- opening a fund -------------------------------------------------------------------------
@bp.get("/funds/new")
@roles_required(Role.FINANCE)
def new_fund() -> Response:
    """The form to open a fund for one source, programme and year."""
    return page("ledger/new_fund.html", form=OpenFundForm(formdata=None))


@bp.post("/funds/new")
@roles_required(Role.FINANCE)
def open_fund() -> Response:
    """Open the fund, then show its (empty) ledger."""
    form = OpenFundForm()
    opened: dict[str, UUID] = {}

    def command() -> None:
        opened["id"] = runtime().ledger.open_fund(current_actor(), **form.values())

    response = submit(
        form, command, lambda: _("已建立资金“%(title)s”。", title=form.title.data),
        lambda status, _notice: page("ledger/new_fund.html", status=status, form=form),
        url_for("ledger.index"),
    )  # fmt: skip
    if response.status_code == 303 and "id" in opened:  # the new fund's own page, not the list
        response.headers["Location"] = url_for("ledger.fund", fund_id=opened["id"])
    return response


# -- receipts, allocations and returns on a fund's page ---------------------------------------
@bp.post("/funds/<uuid:fund_id>/<any(receive, allocate, return):action>")
@roles_required(Role.FINANCE)
def record(fund_id: UUID, action: str) -> Response:
    """Record money received, allocated to a district, or returned to its source."""
    form: MovementForm = FUND_FORMS[action](prefix=action)
    ledger, actor = runtime().ledger, current_actor()
    verbs = {"receive": ledger.receive, "allocate": ledger.allocate,
             "return": ledger.return_to_source}  # fmt: skip
    told = "return" if action == "return" else ""  # a return shrinks what was received
    recorded = Recorded(lambda: verbs[action](actor, fund_id, **form.values()), told)
    return submit(
        form, recorded, lambda: _recorded_text(action, form, recorded.seq),
        lambda status, _notice: render_fund(fund_id, AsAtForm(formdata=None), status=status,
                                            submitted=form, action=action),
        url_for("ledger.fund", fund_id=fund_id),
    )  # fmt: skip


def _recorded_text(action: str, form: MovementForm, seq: int) -> str:
    amount = money(yuan(form.values()["amount"]))
    if action == "allocate":
        district = labels.district_name(form.values()["district"])
        return _("已下达 %(amount)s 元到%(district)s,是这笔资金的第%(seq)s笔记录。",
                 amount=amount, district=district, seq=seq)  # fmt: skip
    if action == "return":
        return _("已登记退回 %(amount)s 元,是这笔资金的第%(seq)s笔记录。", amount=amount, seq=seq)
    return _("已登记到账 %(amount)s 元,是这笔资金的第%(seq)s笔记录。", amount=amount, seq=seq)


# -- reversing a mistaken movement --------------------------------------------------------------
@bp.get("/funds/<uuid:fund_id>/movements/<int:seq>/reverse")
@roles_required(Role.FINANCE)
def confirm_reverse(fund_id: UUID, seq: int) -> Response:
    """Show the movement and ask why it is to be reversed."""
    return _reverse_page(fund_id, seq, ReverseForm(formdata=None))


@bp.post("/funds/<uuid:fund_id>/movements/<int:seq>/reverse")
@roles_required(Role.FINANCE)
def reverse(fund_id: UUID, seq: int) -> Response:
    """Record the reversing entry (红字冲销); the original stays in the ledger."""
    form = ReverseForm()
    _movement(fund_id, seq)  # 404 before anything for a movement that does not exist
    recorded = Recorded(
        lambda: runtime().ledger.reverse(current_actor(), fund_id, seq, **form.values()),
        "reverse",
    )
    return submit(
        form, recorded,
        lambda: _("已冲销第%(original)s笔,冲销记录是第%(seq)s笔。", original=seq,
                  seq=recorded.seq),
        lambda status, _notice: _reverse_page(fund_id, seq, form, status),
        url_for("ledger.fund", fund_id=fund_id),
    )  # fmt: skip


def _reverse_page(fund_id: UUID, seq: int, form: ReverseForm, status: int = 200) -> Response:
    line = _movement(fund_id, seq)
    return page("ledger/reverse.html", status=status, form=form, line=line,
                fund_title=_fund_title(fund_id))  # fmt: skip


def _movement(fund_id: UUID, seq: int) -> LedgerLine:
    """One movement from the event history (CaseNotFound, hence 404, when there is none)."""
    if seq < 2:
        abort(404)  # version 1 opened the fund: it is not a movement
    return line_of(runtime().ledger.movement(fund_id, seq))


def _fund_title(fund_id: UUID) -> str:
    titles = {f.fund_id: f.title for f in list_funds(runtime().engine)}
    return titles.get(fund_id, str(fund_id))


# -- committing money to a retrofit case or a facility ----------------------------------------
@bp.route("/cases/<uuid:case_id>/commit", methods=["GET", "POST"])
@roles_required(Role.FINANCE)
def commit_case(case_id: UUID) -> Response:
    """Commit (part of) an accepted household's subsidy from a retrofit fund; the amount
    offered is what is still to be committed."""
    subsidy = load_subsidy(case_id)
    outstanding = max(subsidy.subsidy - subsidy.committed, 0)
    form = _commit_form(("retrofit",), amount=str(outstanding) if outstanding else "")
    recorded = Recorded(
        lambda: runtime().ledger.commit_retrofit_subsidy(
            current_actor(), UUID(form.fund.data), case_id, **form.values()
        )
    )
    context = {"subsidy": subsidy, "outstanding": outstanding, "back": url_for("ledger.case",
               case_id=case_id)}  # fmt: skip
    return _commit(form, recorded, context, url_for("ledger.case", case_id=case_id))


@bp.route("/facilities/<uuid:facility_id>/commit", methods=["GET", "POST"])
@roles_required(Role.FINANCE)
def commit_facility(facility_id: UUID) -> Response:
    """Commit money to a facility from a fund whose programme pays for its kind."""
    facility = load_facility(facility_id)
    programmes = tuple(p for p, kinds in FACILITY_KINDS.items() if facility.kind in kinds)
    form = _commit_form(programmes)
    recorded = Recorded(
        lambda: runtime().ledger.commit_to_facility(
            current_actor(), UUID(form.fund.data), facility_id, **form.values()
        )
    )
    back = url_for("ledger.facility", facility_id=facility_id)
    return _commit(form, recorded, {"facility": facility, "back": back}, back)


def _commit_form(programmes: tuple[str, ...], **defaults: Any) -> CommitForm:
    """The commit form (fresh on GET, as posted otherwise) offering the funds that may pay."""
    form = CommitForm() if request.method == "POST" else CommitForm(formdata=None, **defaults)
    funds = [f for f in list_funds(runtime().engine) if f.programme in programmes]
    form.fund.choices = [
        SelectChoice("", _("请选择")),
        *[SelectChoice(str(f.fund_id), f.title) for f in funds],
    ]
    if len(funds) == 1 and request.method != "POST":
        form.fund.data = str(funds[0].fund_id)  # the only fund that can pay: chosen already
    return form


def _commit(form: CommitForm, recorded: Recorded, context: dict[str, Any], back: str) -> Response:
    def render(status: int, _notice: str | None = None) -> Response:
        return page("ledger/commit.html", status=status, form=form, **context)

    if request.method == "GET":
        return render(200)
    return submit(
        form, recorded,
        lambda: _("已核定 %(amount)s 元,是资金“%(fund)s”的第%(seq)s笔记录。",
                  amount=money(yuan(form.values()["amount"])),
                  fund=_fund_title(UUID(form.fund.data)), seq=recorded.seq),
        render, back,
    )  # fmt: skip


# -- paying against a commitment ----------------------------------------------------------------
@bp.route("/funds/<uuid:fund_id>/commitments/<int:seq>/pay", methods=["GET", "POST"])
@roles_required(Role.FINANCE)
def pay(fund_id: UUID, seq: int) -> Response:
    """Pay a payee against an open commitment, with the voucher; the amount offered is what
    the commitment still has unpaid."""
    line, open_row = _commitment(fund_id, seq)
    if request.method == "GET":
        if open_row is None:
            abort(404)
        form = PayForm(formdata=None, amount=str(open_row.remaining))
        return _pay_page(form, line, open_row)
    form = PayForm()
    recorded = Recorded(
        lambda: runtime().ledger.disburse(current_actor(), fund_id, seq, **form.values())
    )
    return submit(
        form, recorded,
        lambda: _("已拨付 %(amount)s 元给%(payee)s,是资金“%(fund)s”的第%(seq)s笔记录。",
                  amount=money(yuan(form.values()["amount"])), payee=form.payee.data,
                  fund=_fund_title(fund_id), seq=recorded.seq),
        lambda status, _notice: _pay_page(form, line, _commitment(fund_id, seq)[1], status),
        _target_url(line) or url_for("ledger.fund", fund_id=fund_id),
    )  # fmt: skip


def _commitment(fund_id: UUID, seq: int) -> tuple[LedgerLine, CommitmentRow | None]:
    """The commitment as recorded, and what is still unpaid on it (None: nothing is)."""
    line = _movement(fund_id, seq)
    if line.kind != "committed" or line.reverses:
        abort(404)
    rows = open_commitments(runtime().engine, fund_id=fund_id)
    return line, next((r for r in rows if r.seq == seq), None)


def _pay_page(
    form: PayForm, line: LedgerLine, open_row: CommitmentRow | None, status: int = 200
) -> Response:
    return page("ledger/pay.html", status=status, form=form, line=line, open_row=open_row,
                fund_title=_fund_title(line.fund_id), back=_target_url(line))  # fmt: skip


def _target_url(line: LedgerLine) -> str:
    """The ledger page of what a movement paid for."""
    if line.target_kind == Target.RETROFIT_CASE:
        return url_for("ledger.case", case_id=line.target_id)
    if line.target_kind == Target.FACILITY:
        return url_for("ledger.facility", facility_id=line.target_id)
    return ""
