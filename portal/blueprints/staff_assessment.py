"""The assessor's checklist picker, with a running total priced by the domain's own rules."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from itertools import groupby
from typing import Any
from uuid import UUID

from flask import Response, flash, redirect, url_for
from flask_babel import gettext as _

from events.checklist import CHECKLISTS, CURRENT_CHECKLIST_VERSION, Checklist
from events.errors import InvalidAssessment
from events.retrofit import price_assessment
from portal.blueprints.staff import bp
from portal.blueprints.staff_case import available_actions
from portal.forms.staff import AssessmentForm, assessment_form
from portal.labels import item_name
from portal.messages import message_for
from portal.rendering import page
from portal.runtime import runtime
from portal.steps import load_case, perform
from portal.users import current_actor, roles_required
from projections.retrofit_queries import CaseDetail
from services.retrofit import ALLOWED

ZERO = Decimal("0")


@dataclass(frozen=True)
class AssessmentTotals:
    """What the running total shows: the domain's split of the cost, or why it cannot split."""

    cap: Decimal
    total: Decimal = ZERO
    subsidy: Decimal = ZERO
    household_share: Decimal = ZERO
    basic_total: Decimal = ZERO
    chosen: int = 0
    error: str = ""

    @property
    def over_cap(self) -> bool:
        """Basic items cost more than the cap: the family pays the difference."""
        return self.basic_total > self.cap


def _checklist() -> Checklist:
    return CHECKLISTS[CURRENT_CHECKLIST_VERSION]  # the picker always offers the current version


@bp.get("/cases/<uuid:case_id>/assessment")
@roles_required(*ALLOWED["assess"])
def assessment(case_id: UUID) -> Response:
    """The picker, prefilled from an earlier assessment of this case if there is one."""
    case = load_case(case_id)
    if "assessment" not in available_actions(case, current_actor()):
        flash(_("这个案件现在不在入户评估环节。"), "info")
        return redirect(url_for("staff.case", case_id=case_id), 303)
    form = assessment_form(
        _checklist(), case.assessment_items, formdata=None, version=str(case.version)
    )
    return _page(case, form)


@bp.post("/cases/<uuid:case_id>/assessment")
@roles_required(*ALLOWED["assess"])
def assess(case_id: UUID) -> Response:
    """Record the assessment: the chosen items, quantities and prices."""
    case = load_case(case_id)
    form = assessment_form(_checklist())
    return perform(
        case,
        form,
        lambda v: runtime().retrofit.assess(
            current_actor(), case_id, v, lines=form.lines(), note=form.note.data or ""
        ),
        _("评估结果已保存。请家属确认改造方案。"),
        lambda current, status, notice: _page(current, form, status, notice),
        "staff.case",
    )


@bp.post("/cases/<uuid:case_id>/assessment/preview")
@roles_required(*ALLOWED["assess"])
def assessment_preview(case_id: UUID) -> Response:
    """The running total while items are picked (htmx), never saved."""
    load_case(case_id)
    totals = _totals(assessment_form(_checklist()).lines())
    status = 422 if totals.error else 200
    return page("staff/_assessment_total.html", status=status, totals=totals)


def _page(
    case: CaseDetail, form: AssessmentForm, status: int = 200, notice: str | None = None
) -> Response:
    items = form.checklist.items
    groups = [(c, list(i)) for c, i in groupby(items, key=lambda i: i.category)]
    return page(
        "staff/assessment.html",
        status=status,
        case=case,
        form=form,
        groups=groups,
        totals=_totals(form.lines()),
        notice=notice,
        may_assess="assessment" in available_actions(case, current_actor()),
        elder_name=runtime().persons.names([case.person_id]).get(case.person_id) or "",
    )


def _totals(lines: list[dict[str, Any]]) -> AssessmentTotals:
    """Price the lines with the domain's `price_assessment` against this city's cap."""
    cap = runtime().settings.subsidy_cap
    if not lines:
        return AssessmentTotals(cap=cap)
    try:
        priced = price_assessment(_checklist(), lines, cap)
    except InvalidAssessment as e:
        code = str(e.params.get("code") or "")
        where = f"{item_name(code, CURRENT_CHECKLIST_VERSION)}:" if code else ""
        return AssessmentTotals(cap=cap, chosen=len(lines), error=where + message_for(e))
    basic = sum((p["amount"] for p in priced["items"] if p["basic"]), ZERO)
    return AssessmentTotals(
        cap=cap,
        total=priced["total"],
        subsidy=priced["subsidy"],
        household_share=priced["household_share"],
        basic_total=basic,
        chosen=len(lines),
    )
