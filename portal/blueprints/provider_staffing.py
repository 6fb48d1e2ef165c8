"""A facility's staffing reports: one per month, then only corrections with a reason; and the
workforce figures derived from them (elders per caregiver, annual turnover)."""

from __future__ import annotations

import re

from flask import Response, abort, request, url_for
from flask_babel import gettext as _
from wtforms import SelectChoice

from events import clock
from events.roles import Role
from events.workforce import FIGURES, AlreadyReported, period_index, period_of
from portal.blueprints.provider import (
    STAFFING_KINDS,
    bad_query,
    bp,
    carry_version,
    own_facility,
    submit,
)
from portal.forms.provider import PERIOD, CorrectStaffingForm, PeriodPicker, StaffingForm
from portal.rendering import page_or_fragment
from portal.runtime import runtime
from portal.users import current_actor, roles_required
from projections.facility_queries import FacilityStatus
from projections.workforce_queries import (
    StaffingRow,
    WorkforceFigures,
    facility_workforce,
    staffing_history,
    staffing_report,
)

RECENT_MONTHS = 12  # the months the picker offers, this one included
_MONTH = re.compile(PERIOD)


def _reporter() -> FacilityStatus:
    return own_facility(STAFFING_KINDS, _("助餐食堂不需要填报护理员情况。"))


@bp.get("/staffing")
@roles_required(Role.PROVIDER)
def staffing() -> Response:
    """The reports so far with their ratios, and the form for the month chosen."""
    facility = _reporter()
    period = request.args.get("period") or _first_unreported(facility)
    if not _MONTH.match(period):
        picker = _picker(facility, "")
        picker.period.errors = [_("请从列表中选择填报月份。")]
        return bad_query("provider/staffing.html", facility=facility, picker=picker, period="")
    return _page(facility, period)


@bp.post("/staffing")
@roles_required(Role.PROVIDER)
def report_staffing() -> Response:
    """Report a month's figures (once; a month reported meanwhile comes back as a correction)."""
    facility, form = _reporter(), StaffingForm()
    period = _posted_period(form)
    return submit(
        form,
        lambda: runtime().facilities.report_staffing(
            current_actor(),
            organisation_id=facility.facility_id,
            period=period,
            **form.figures(),
        ),
        _("已填报 %(period)s 的护理员情况。", period=period),
        lambda status, notice: _page(facility, period, status, notice, form),
        url_for("provider.staffing", period=period),
        conflicts=(AlreadyReported,),
    )


@bp.post("/staffing/correct")
@roles_required(Role.PROVIDER)
def correct_staffing() -> Response:
    """Replace a reported month's figures by a correction that says why."""
    facility, form = _reporter(), CorrectStaffingForm()
    period = _posted_period(form)
    return submit(
        form,
        lambda: runtime().facilities.correct_staffing(
            current_actor(),
            facility.facility_id,
            period,
            int(form.version.data),
            reason=form.reason.data or "",
            **form.figures(),
        ),
        _("已更正 %(period)s 的护理员情况。", period=period),
        lambda status, notice: _page(facility, period, status, notice, form),
        url_for("provider.staffing", period=period),
    )


def _posted_period(form: StaffingForm) -> str:
    """The month the form was rendered for; a form without a readable one is not ours (400)."""
    period = form.period.data or ""
    if not _MONTH.match(period):
        abort(400)
    return period


def _page(
    facility: FacilityStatus,
    period: str,
    status: int = 200,
    notice: str | None = None,
    submitted: StaffingForm | None = None,
) -> Response:
    """The staffing page (or, for htmx, the chosen month's panel) as the reports now stand."""
    actor, engine = current_actor(), runtime().engine
    report = staffing_report(engine, actor, facility.facility_id, period)
    return page_or_fragment(
        "provider/staffing.html",
        "provider/_staffing_panel.html",
        status=status,
        facility=facility,
        period=period,
        period_label=_month_label(period, False),
        report=report,
        picker=_picker(facility, period),
        future=period_index(period) > _this_month(),
        notice=notice,
        submitted=submitted,
        form=_form(period, report, submitted, refresh=status == 409),
        history=_history(facility),
    )


def _form(
    period: str, report: StaffingRow | None, submitted: StaffingForm | None, *, refresh: bool
) -> StaffingForm:
    """The report form for a new month; for a reported one the correction form, prefilled."""
    if report is None:
        if submitted is not None and not isinstance(submitted, CorrectStaffingForm):
            return submitted
        return StaffingForm(formdata=None, period=period)
    if isinstance(submitted, CorrectStaffingForm):
        if refresh:
            carry_version(submitted, report.version)
        return submitted
    if submitted is not None:  # reported meanwhile: keep what was typed, as a correction
        form = CorrectStaffingForm(formdata=request.form)
    else:
        figures = {name: str(getattr(report, name)) for name in FIGURES}
        form = CorrectStaffingForm(formdata=None, period=period, **figures)
    carry_version(form, report.version)
    return form


def _history(facility: FacilityStatus) -> list[tuple[StaffingRow, WorkforceFigures]]:
    """Every month reported, newest first, with the ratio and turnover as at that month."""
    actor, engine = current_actor(), runtime().engine
    rows = staffing_history(engine, actor, facility.facility_id)
    return [
        (row, facility_workforce(engine, actor, facility.facility_id, row.period))
        for row in reversed(rows)
    ]


def _this_month() -> int:
    today = clock.today()
    return today.year * 12 + today.month - 1


def _recent() -> list[str]:
    """This month and the eleven before it, newest first."""
    return [period_of(_this_month() - n) for n in range(RECENT_MONTHS)]


def _reported(facility: FacilityStatus) -> set[str]:
    rows = staffing_history(runtime().engine, current_actor(), facility.facility_id)
    return {row.period for row in rows}


def _first_unreported(facility: FacilityStatus) -> str:
    """The newest recent month not yet reported (this month if every one is)."""
    reported = _reported(facility)
    return next((p for p in _recent() if p not in reported), _recent()[0])


def _picker(facility: FacilityStatus, period: str) -> PeriodPicker:
    """The month picker: recent months (and the one asked for), each marked if reported."""
    reported = _reported(facility)
    months = sorted({*_recent(), *([period] if period else [])}, reverse=True)
    picker = PeriodPicker(formdata=None, period=period)
    picker.period.choices = [SelectChoice(p, _month_label(p, p in reported)) for p in months]
    return picker


def _month_label(period: str, reported: bool) -> str:
    year, month = period.split("-")
    label = _("%(year)s年%(month)s月", year=year, month=int(month))
    return _("%(month)s(已填报)", month=label) if reported else label
