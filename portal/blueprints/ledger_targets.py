"""What the funds paid for: a retrofit case's subsidy or a facility's money, each with its
movements across funds as at a moment; the queue of accepted cases awaiting their subsidy; and
the refused double-subsidy attempts auditors follow up."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Response, abort, request
from flask_babel import gettext as _

from events import clock
from events.checklist import CURRENT_CHECKLIST_VERSION
from portal import labels
from portal.blueprints.ledger import (
    READERS,
    bad_link,
    bad_query,
    bp,
    display_names,
    movement_page,
)
from portal.forms.ledger import AsAtForm, DistrictFilterForm
from portal.rendering import page, page_or_fragment
from portal.runtime import runtime
from portal.users import current_actor, roles_required
from projections.facility_queries import FacilityStatus, facility_progress, list_facilities
from projections.ledger_queries import (
    AwaitingSubsidy,
    case_subsidy,
    cases_awaiting_subsidy,
    double_subsidy_attempts,
    list_funds,
    open_commitments,
)

TARGET_PAGE = ("ledger/target.html", "ledger/_target_ledger.html")


@bp.get("/cases/<uuid:case_id>")
@roles_required(*READERS)
def case(case_id: UUID) -> Response:
    """A retrofit case's subsidy (assessed, committed, paid) and its movements in every fund."""
    subsidy = load_subsidy(case_id)
    heading = _("适老化改造案件 %(reference)s", reference=subsidy.reference)
    return _target_page("ledger.case", str(case_id), case_id=case_id, subsidy=subsidy,
                        heading=heading)  # fmt: skip


@bp.get("/facilities/<uuid:facility_id>")
@roles_required(*READERS)
def facility(facility_id: UUID) -> Response:
    """A facility's commitments and payments in every fund, as at a moment."""
    found = load_facility(facility_id)
    return _target_page("ledger.facility", str(facility_id), facility_id=facility_id,
                        facility=found, heading=found.name)  # fmt: skip


def _target_page(endpoint: str, target_id: str, **header: Any) -> Response:
    form = AsAtForm(formdata=request.args)
    link = {k: v for k, v in header.items() if k.endswith("_id")}
    context = {**header, "target_id": target_id, "endpoint": endpoint, "link": link}
    if not form.validate():
        return bad_query(*TARGET_PAGE, as_at=form, **context)
    found = movement_page(endpoint, form, target_id=target_id, **link)
    if found is None:
        return bad_link()
    return page_or_fragment(
        *TARGET_PAGE, as_at=form, moment=form.moment(), **context, **found,
        commitments=open_commitments(runtime().engine, target_id=target_id),
    )  # fmt: skip


def load_subsidy(case_id: UUID) -> AwaitingSubsidy:
    """The case's subsidy as the read models hold it; 404 when there is no such case."""
    found = case_subsidy(runtime().engine, case_id)
    if found is None:
        abort(404)
    return found


def load_facility(facility_id: UUID) -> FacilityStatus:
    """The facility if this user may see it; 404 otherwise, as if it did not exist."""
    found = facility_progress(runtime().engine, current_actor(), facility_id, today=clock.today())
    if found is None:
        abort(404)
    return found


@bp.get("/facilities/")
@roles_required(*READERS)
def facilities() -> Response:
    """The facilities this user may see, each leading to its money in the ledger."""
    found = list_facilities(runtime().engine, current_actor(), today=clock.today())
    return page("ledger/facilities.html", found=found)


# -- accepted cases awaiting their subsidy --------------------------------------------------
@bp.get("/subsidies")
@roles_required(*READERS)
def subsidies() -> Response:
    """Accepted retrofit cases whose subsidy is not yet fully committed, oldest first."""
    form = DistrictFilterForm(formdata=request.args)
    if not form.validate():
        return bad_query("ledger/subsidies.html", "ledger/_subsidy_rows.html", form=form,
                         found=None)  # fmt: skip
    found = cases_awaiting_subsidy(runtime().engine, district=form.district.data or None)
    return page_or_fragment(
        "ledger/subsidies.html", "ledger/_subsidy_rows.html", form=form, found=found
    )


# -- refused double subsidies ---------------------------------------------------------------
@bp.get("/attempts")
@roles_required(*READERS)
def attempts() -> Response:
    """Refused second subsidies for items an elder already had: which items, which cases."""
    found = double_subsidy_attempts(runtime().engine)
    cases = {t for a in found for t in (a.target_id, *a.held_by)}
    return page(
        "ledger/attempts.html",
        found=found,
        references=case_references(cases),
        items={a: _item_names(a.items) for a in found},
        names=display_names({a.actor_id for a in found}),
        fund_titles={f.fund_id: f.title for f in list_funds(runtime().engine)},
    )


def case_references(case_ids: set[str]) -> dict[str, str]:
    """Case ids as their references (SL-...), for the cases the read models know."""
    found: dict[str, str] = {}
    for case_id in case_ids:
        try:
            subsidy = case_subsidy(runtime().engine, UUID(case_id))
        except ValueError:
            continue
        if subsidy is not None:
            found[case_id] = subsidy.reference
    return found


def _item_names(codes: tuple[str, ...]) -> str:
    return labels.listed(labels.item_name(code, CURRENT_CHECKLIST_VERSION) for code in codes)
