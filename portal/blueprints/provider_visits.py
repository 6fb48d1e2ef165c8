"""A home-care provider's visits: the day's log, its clients in service, and logging, correcting
and cancelling visits. A case served by another organisation is not found (404)."""

from __future__ import annotations

from uuid import UUID, uuid4

from flask import Response, abort, flash, redirect, url_for
from flask_babel import gettext as _

from events import clock
from events.facility import Kind
from events.roles import Actor, Role
from portal.blueprints.provider import (
    bad_query,
    bp,
    carry_version,
    own_facility,
    picked_day,
    submit,
)
from portal.forms.provider import CancelVisitForm, CorrectVisitForm, LogVisitForm, VisitForm
from portal.people import elder_view
from portal.rendering import page, page_or_fragment
from portal.runtime import runtime
from portal.users import current_actor, roles_required
from projections.facility_queries import FacilityStatus
from projections.home_care_queries import (
    CareCaseSummary,
    CareHours,
    ProviderCaseView,
    Visit,
    case_visits,
    hours_per_case,
    list_care_cases,
    provider_case,
    visit_log,
)


def _organisation() -> FacilityStatus:
    return own_facility((Kind.HOME_CARE_PROVIDER,), _("只有上门照护服务机构登记上门服务。"))


@bp.get("/visits")
@roles_required(Role.PROVIDER)
def visits() -> Response:
    """The day's visits (today unless asked) and the elders this organisation serves."""
    organisation = _organisation()
    picker, day = picked_day()
    if day is None:
        return bad_query("provider/visits.html", organisation=organisation, picker=picker)
    actor, rt = current_actor(), runtime()
    logged = visit_log(rt.engine, actor, day)
    cases = _cases_in_service(actor)
    people = {v.person_id for v in logged} | {c.person_id for c in cases}
    return page_or_fragment(
        "provider/visits.html",
        "provider/_visit_log.html",
        organisation=organisation,
        picker=picker,
        day=day,
        visits=logged,
        cases=cases,
        hours=_hours_this_month(),
        names=rt.persons.names(list(people)),
    )


@bp.get("/cases/<uuid:case_id>")
@roles_required(Role.PROVIDER)
def case(case_id: UUID) -> Response:
    """One elder this organisation serves: how to reach them, the hours, every visit."""
    _organisation()
    return _case_page(_case(case_id))


@bp.get("/cases/<uuid:case_id>/visits/new")
@roles_required(Role.PROVIDER)
def new_visit(case_id: UUID) -> Response:
    """The visit form; the visit's id is fixed now, so posting it twice logs one visit."""
    _organisation()
    found = _case(case_id)
    form = LogVisitForm(
        formdata=None,
        version=str(found.version),
        visit_id=str(uuid4()),
        visit_date=clock.today().isoformat(),
    )
    return _visit_page(found, form)


@bp.post("/cases/<uuid:case_id>/visits/new")
@roles_required(Role.PROVIDER)
def log_visit(case_id: UUID) -> Response:
    """Log a visit made (a repeated submit of the same form finds its visit and adds nothing)."""
    _organisation()
    found, form = _case(case_id), LogVisitForm()
    if _already_logged(case_id, form.visit_id.data):
        return _logged(case_id)

    def again(status: int, notice: str | None) -> Response:
        if status == 409 and _already_logged(case_id, form.visit_id.data):
            return _logged(case_id)  # the same form, posted twice at once: the first one won
        return _visit_page(_case(case_id), form, status, notice, refresh=status == 409)

    return submit(
        form,
        lambda: runtime().home_care.log_visit(
            current_actor(),
            case_id,
            int(form.version.data),
            visit_id=form.visit_id.data,
            **form.visit(),
        ),
        _("已登记这次上门服务。"),
        again,
        url_for("provider.case", case_id=found.case_id),
    )


@bp.get("/cases/<uuid:case_id>/visits/<uuid:visit_id>/correct")
@roles_required(Role.PROVIDER)
def correct_visit_form(case_id: UUID, visit_id: UUID) -> Response:
    """The visit's record, ready to be corrected."""
    _organisation()
    found, visit = _case(case_id), _active_visit(case_id, visit_id)
    form = CorrectVisitForm(
        formdata=None,
        version=str(found.version),
        visit_date=visit.visit_date.isoformat(),
        start=visit.start,
        end=visit.end,
        items=list(visit.items),
        caregiver=visit.caregiver,
        confirmed_by=visit.confirmed_by,
    )
    return _visit_page(found, form, visit=visit)


@bp.post("/cases/<uuid:case_id>/visits/<uuid:visit_id>/correct")
@roles_required(Role.PROVIDER)
def correct_visit(case_id: UUID, visit_id: UUID) -> Response:
    """Correct a logged visit: a new record with the reason; the first one stays in history."""
    _organisation()
    _case(case_id)
    visit, form = _active_visit(case_id, visit_id), CorrectVisitForm()
    return submit(
        form,
        lambda: runtime().home_care.correct_visit(
            current_actor(),
            case_id,
            int(form.version.data),
            visit_id=visit_id,
            reason=form.reason.data or "",
            **form.visit(),
        ),
        _("已更正这次上门服务的记录。"),
        lambda status, notice: _visit_page(
            _case(case_id), form, status, notice, visit=visit, refresh=status == 409
        ),
        url_for("provider.case", case_id=case_id),
    )


@bp.get("/cases/<uuid:case_id>/visits/<uuid:visit_id>/cancel")
@roles_required(Role.PROVIDER)
def cancel_visit_form(case_id: UUID, visit_id: UUID) -> Response:
    """Ask why a visit is to be cancelled before striking it out."""
    _organisation()
    found, visit = _case(case_id), _active_visit(case_id, visit_id)
    return _cancel_page(found, visit, CancelVisitForm(formdata=None, version=str(found.version)))


@bp.post("/cases/<uuid:case_id>/visits/<uuid:visit_id>/cancel")
@roles_required(Role.PROVIDER)
def cancel_visit(case_id: UUID, visit_id: UUID) -> Response:
    """Cancel a visit logged in error; it stays in the history but counts no hours."""
    _organisation()
    _case(case_id)
    visit, form = _active_visit(case_id, visit_id), CancelVisitForm()
    return submit(
        form,
        lambda: runtime().home_care.cancel_visit(
            current_actor(),
            case_id,
            int(form.version.data),
            visit_id=visit_id,
            reason=form.reason.data or "",
        ),
        _("已作废这条服务记录。"),
        lambda status, notice: _cancel_page(
            _case(case_id), visit, form, status, notice, refresh=status == 409
        ),
        url_for("provider.case", case_id=case_id),
    )


# -- reading what the organisation may see -------------------------------------------------------
def _case(case_id: UUID) -> ProviderCaseView:
    """The case if this organisation serves it now; 404 otherwise, as if it did not exist."""
    found = provider_case(runtime().engine, current_actor(), case_id)
    if found is None:
        abort(404)
    return found


def _active_visit(case_id: UUID, visit_id: UUID) -> Visit:
    """A visit of this case (404 if none); a cancelled one sends the user back to the case."""
    visits_made = case_visits(runtime().engine, case_id)
    visit = next((v for v in visits_made if v.visit_id == visit_id), None)
    if visit is None:
        abort(404)
    if visit.cancelled:
        flash(_("这条服务记录已经作废,不能再修改或作废。"), "info")
        abort(redirect(url_for("provider.case", case_id=case_id), 303))
    return visit


def _cases_in_service(actor: Actor) -> list[CareCaseSummary]:
    """Every case the organisation serves now (all pages), by reference."""
    rt, found, cursor = runtime(), [], None
    while True:
        batch = list_care_cases(rt.engine, actor, now=clock.now(), cursor=cursor)
        found.extend(batch.rows)
        cursor = batch.next_cursor
        if cursor is None:
            return sorted(found, key=lambda c: c.reference)


def _hours_this_month() -> dict[UUID, CareHours]:
    """Care delivered to each case since the first of this month (the city's calendar)."""
    today = clock.today()
    provider_id = UUID(current_actor().facility_id)
    return hours_per_case(
        runtime().engine, start=today.replace(day=1), end=today, provider_id=provider_id
    )


def _already_logged(case_id: UUID, visit_id: str | None) -> bool:
    return bool(visit_id) and any(
        str(v.visit_id) == str(visit_id).lower() for v in case_visits(runtime().engine, case_id)
    )


def _logged(case_id: UUID) -> Response:
    flash(_("这次上门服务已经登记好了。"), "success")
    return redirect(url_for("provider.case", case_id=case_id), 303)


# -- pages ---------------------------------------------------------------------------------------
def _case_page(found: ProviderCaseView) -> Response:
    actor, rt = current_actor(), runtime()
    visits_made = sorted(
        case_visits(rt.engine, found.case_id), key=lambda v: (v.visit_date, v.start), reverse=True
    )
    return page(
        "provider/case.html",
        case=found,
        elder=elder_view(rt.persons, found.person_id, actor),
        visits=visits_made,
        used=_hours_this_month().get(found.case_id, CareHours(0, 0)),
    )


def _visit_page(
    found: ProviderCaseView,
    form: VisitForm,
    status: int = 200,
    notice: str | None = None,
    *,
    visit: Visit | None = None,
    refresh: bool = False,
) -> Response:
    if refresh:
        carry_version(form, found.version)
    name = runtime().persons.names([found.person_id]).get(found.person_id)
    return page(
        "provider/visit_form.html",
        status=status,
        case=found,
        form=form,
        visit=visit,
        notice=notice,
        elder_name=name,
        today=clock.today(),
    )


def _cancel_page(
    found: ProviderCaseView,
    visit: Visit,
    form: CancelVisitForm,
    status: int = 200,
    notice: str | None = None,
    *,
    refresh: bool = False,
) -> Response:
    if refresh:
        carry_version(form, found.version)
    name = runtime().persons.names([found.person_id]).get(found.person_id)
    return page(
        "provider/cancel_visit.html",
        status=status,
        case=found,
        form=form,
        visit=visit,
        notice=notice,
        elder_name=name,
    )
