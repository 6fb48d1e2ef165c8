"""Facility projects for staff: progress against deadlines, a facility's milestones,
inspections and staffing, registering a new project, and inspection photos."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from flask import Blueprint, Response, abort, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from wtforms import SelectChoice

from events import clock
from events.districts import DISTRICTS
from events.errors import DomainError
from events.facility import MILESTONES, InvalidFacility, Kind
from events.roles import Actor, Role
from portal import labels
from portal.blueprints.staff_programme import StepForms
from portal.extensions import htmx
from portal.forms.facilities import (
    PLACE_SEPARATOR,
    AcceptanceForm,
    BedsForm,
    DeadlineForm,
    FacilityFilterForm,
    FoodSafetyForm,
    MilestoneForm,
    RegisterFacilityForm,
    RoomsForm,
    SiteInspectionForm,
)
from portal.forms.staff import ActionForm
from portal.messages import message_for
from portal.rendering import page, page_or_fragment
from portal.runtime import runtime
from portal.steps import attach_error
from portal.users import current_actor, roles_required
from projections.facility_queries import (
    FacilityStatus,
    facility_progress,
    inspections,
    list_facilities,
)
from projections.workforce_queries import (
    WorkforceFigures,
    facility_workforce,
    staffing_history,
)
from services.errors import CaseNotFound, NotPermitted, ServiceError
from services.facilities import ALLOWED, REPORTS_STAFFING

bp = Blueprint("facilities", __name__, url_prefix="/facilities")

FACILITY_ROLES = (Role.CASEWORKER, Role.INSPECTOR, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)
SEES_DISTRICTS = (Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)
REGISTERS = ALLOWED["milestone"]  # caseworkers (their district) and admins register projects


@dataclass(frozen=True)
class Facility:
    """A facility as the step forms handle it: `perform` redirects by `case_id` and checks
    `version`; the page reads `status`."""

    case_id: UUID
    version: int
    status: FacilityStatus


@bp.get("/")
@roles_required(*FACILITY_ROLES)
def index() -> Response:
    """Facility projects this user may see: milestone, deadline, days left, late ones flagged."""
    actor = current_actor()
    form = _filter_form(actor)
    if not form.validate():
        return _bad_filters(form)
    found = list_facilities(runtime().engine, actor, today=clock.today(), **form.filters())
    return page_or_fragment(
        "facilities/index.html",
        "facilities/_rows.html",
        form=form,
        found=found,
        several_districts=actor.role in SEES_DISTRICTS,
        may_register=actor.role in REGISTERS,
    )


def _filter_form(actor: Actor) -> FacilityFilterForm:
    form = FacilityFilterForm(formdata=request.args)
    if actor.role in SEES_DISTRICTS:
        names = [SelectChoice(d.code, labels.district_name(d.code)) for d in DISTRICTS]
        form.district.choices = [SelectChoice("", _("全部区县")), *names]
    else:
        del form.district  # one district: nothing to choose
    return form


def _bad_filters(form: FacilityFilterForm) -> Response:
    """Filter values we cannot use: say which, clearly, with status 400."""
    if htmx:
        # htmx does not swap a 400: load the whole page, which shows the message.
        response = Response(status=400)
        response.headers["HX-Redirect"] = request.full_path
        return response
    return page("facilities/index.html", status=400, form=form, found=None)


# -- registering a project -------------------------------------------------------------------
@bp.get("/new")
@roles_required(*REGISTERS)
def new() -> Response:
    """The registration form; its key makes a double submit register one project."""
    form = _register_form(formdata=None, idempotency_key=str(uuid4()))
    return page("facilities/new.html", form=form)


@bp.post("/new")
@roles_required(*REGISTERS)
def register() -> Response:
    """Register a care centre, canteen or institution project, then show its page."""
    form = _register_form()
    if not form.validate():
        if form.idempotency_key.errors:
            abort(400)  # not a form we rendered
        return page("facilities/new.html", status=422, form=form)
    try:
        facility_id = runtime().facilities.register_facility(
            current_actor(), idempotency_key=form.idempotency_key.data, kind=form.kind.data or "",
            name=form.name.data or "", planned_on=form.planned_on.data or "",
            deadline=form.deadline.data or "", **form.place_parts(),
        )  # fmt: skip
    except (CaseNotFound, NotPermitted):
        raise  # the app's handlers answer 404 and 403
    except (DomainError, ServiceError) as e:
        _attach_registration_error(form, e)
        return page("facilities/new.html", status=422, form=form)
    runtime().catch_up()
    flash(_("已登记新的设施项目。"), "success")
    return redirect(url_for("facilities.facility", case_id=facility_id), 303)


def _register_form(**kwargs: object) -> RegisterFacilityForm:
    """The form with the places this user may register in (a caseworker: its district)."""
    form = RegisterFacilityForm(**kwargs)
    actor = current_actor()
    form.place.choices = [SelectChoice("", _("请选择"))] + [
        SelectChoice(
            PLACE_SEPARATOR.join((d.code, street, community)),
            f"{labels.district_name(d.code)} {street} {community}",
        )
        for d in DISTRICTS
        if actor.role == Role.ADMIN or d.code == actor.district
        for street, community in d.communities
    ]
    return form


def _attach_registration_error(
    form: RegisterFacilityForm, error: DomainError | ServiceError
) -> None:
    """A refused registration's message goes next to the answer it is about."""
    fields = {"kind": "kind", "name": "name", "community": "place", "planned_on": "planned_on",
              "deadline": "deadline"}  # fmt: skip
    name = fields.get(error.detail) if isinstance(error, InvalidFacility) else None
    if name is None:
        attach_error(form, error)
        return
    form[name].errors = [*form[name].errors, message_for(error)]


# -- a facility's page -------------------------------------------------------------------------
@bp.get("/<uuid:case_id>")
@roles_required(*FACILITY_ROLES)
def facility(case_id: UUID) -> Response:
    """One facility: milestones and deadline, inspections, beds and rooms, staffing, and the
    forms this user's role may use now."""
    return render_facility(load_facility(case_id))


def load_facility(case_id: UUID) -> Facility:
    """The facility if the signed-in user may see it; 404 otherwise, as if it did not exist."""
    found = facility_progress(runtime().engine, current_actor(), case_id, today=clock.today())
    if found is None:
        abort(404)
    return Facility(found.facility_id, found.version, found)


def render_facility(
    facility: Facility,
    *,
    status: int = 200,
    submitted: ActionForm | None = None,
    action: str = "",
    notice: str | None = None,
) -> Response:
    """The facility page; a submitted form that was refused is shown again as typed."""
    actor, rt, found = current_actor(), runtime(), facility.status
    actions = FACILITY_STEPS.available(facility, actor)
    checks = inspections(rt.engine, actor, found.facility_id)
    return page(
        "facilities/facility.html",
        status=status,
        facility=found,
        actions=actions,
        forms=FACILITY_STEPS.forms_for(facility, actions, submitted, action),
        open_action=action,
        submitted=submitted,
        notice=notice,
        milestones=MILESTONES if found.kind in Kind.BUILT else ("in_operation",),
        inspections=checks,
        inspectors=_display_names({i.actor_id for i in checks}),
        workforce=_workforce(actor, found),
        city_tz=clock.CITY_TZ,
    )


def _display_names(user_ids: set[str]) -> dict[str, str]:
    accounts = (runtime().accounts.get(u) for u in user_ids)
    return {a.user_id: a.display_name for a in accounts if a}


def _workforce(actor: Actor, found: FacilityStatus) -> WorkforceFigures | None:
    """Staffing as at the latest month the facility reported (None before any report)."""
    if found.kind not in REPORTS_STAFFING:
        return None
    history = staffing_history(runtime().engine, actor, found.facility_id)
    if not history:
        return None
    return facility_workforce(runtime().engine, actor, found.facility_id, history[-1].period)


def offered(facility: Facility, actor: Actor) -> tuple[str, ...]:
    """The forms this role may use on this facility now (the aggregate still decides)."""
    found, role, actions = facility.status, actor.role, []
    if role in ALLOWED["milestone"] and found.kind in Kind.BUILT and not found.in_operation:
        actions += ["milestone", "deadline"]
    if role in ALLOWED["capacity"] and found.kind == Kind.INSTITUTION:
        actions += ["beds", "rooms"]
    if role in ALLOWED["inspect"]:
        actions += _inspections_due(found)
    return tuple(actions)


def _inspections_due(found: FacilityStatus) -> list[str]:
    """Site visits once building has started; food safety and acceptance once completed."""
    since = {m: found.reached_on(m) is not None or found.in_operation
             for m in ("construction_started", "completed")}  # fmt: skip
    due = ["site_inspection"] if since["construction_started"] else []
    if found.kind == Kind.CANTEEN and since["completed"]:
        due.append("food_safety")
    awaiting = since["completed"] and not (found.in_operation or found.acceptance_passed)
    if found.kind == Kind.INSTITUTION and awaiting:
        due.append("acceptance")
    return due


def _prepare(form: ActionForm, facility: Facility) -> None:
    """Milestones still to come (the next one first); beds and rooms as last recorded."""
    found = facility.status
    if isinstance(form, MilestoneForm):
        later = MILESTONES[MILESTONES.index(found.milestone) + 1 :]
        form.milestone.choices = [SelectChoice(m, labels.MILESTONES[m]) for m in later]
    if isinstance(form, RoomsForm) and form.rooms.data is None:  # a fresh form
        form.rooms.data = list(found.rooms_added)
    if isinstance(form, BedsForm) and form.beds_before.data is None:
        for name in ("beds_before", "beds_after", "nursing_beds"):
            recorded = getattr(found, name)
            form[name].data = "" if recorded is None else str(recorded)


FACILITY_STEPS = StepForms(
    forms={
        "milestone": MilestoneForm,
        "deadline": DeadlineForm,
        "beds": BedsForm,
        "rooms": RoomsForm,
        "site_inspection": SiteInspectionForm,
        "food_safety": FoodSafetyForm,
        "acceptance": AcceptanceForm,
    },
    offer=offered,
    load=load_facility,
    render=render_facility,
    page_endpoint="facilities.facility",
    prepare=_prepare,
)


@bp.get("/<uuid:case_id>/photos/<sha256>")
@roles_required(*FACILITY_ROLES)
def photo(case_id: UUID, sha256: str) -> Response:
    """An inspection photo, only to those who may see the facility, only if it is its own."""
    load_facility(case_id)
    found = inspections(runtime().engine, current_actor(), case_id)
    media_types = {p["sha256"]: p["media_type"] for i in found for p in i.photos}
    path = runtime().photos.path_for(sha256) if sha256 in media_types else None
    if path is None:
        abort(404)
    response = send_file(path, mimetype=media_types[sha256])
    # Photos of people's homes: kept in no cache, shared or not (portal.security adds no-store).
    response.cache_control.private = True
    return response


# The step forms attach their routes to `bp` (imported last: they import `bp` from here).
from portal.blueprints import facilities_steps  # noqa: E402, F401
