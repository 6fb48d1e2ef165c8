"""Meal service (老年助餐) for staff: the enrolment queue, an enrolment's page and the
caseworker's steps on it (approve, reject, return for information, end the service)."""

from __future__ import annotations

from functools import partial
from uuid import UUID

from flask import Response, abort, request
from flask_babel import gettext as _

from events import clock
from events.clock import CITY_TZ
from events.facility import Kind
from events.meal import EnrolmentStep
from events.roles import Actor
from portal import labels
from portal.blueprints.staff import MEAL_READERS, bp, show_queue, with_choices
from portal.blueprints.staff_programme import StepForms, by_step
from portal.forms.staff import ActionForm
from portal.forms.staff_programmes import (
    EndEnrolmentForm,
    NoteForm,
    ProgrammeFilterForm,
    RejectForm,
    ReturnForm,
)
from portal.people import elder_view
from portal.rendering import page
from portal.runtime import runtime
from portal.timeline import describe
from portal.users import current_actor, roles_required
from projections.facility_queries import facility_progress, list_facilities
from projections.meal_queries import (
    EnrolmentDetail,
    count_enrolments_by_step,
    enrolment_detail,
    enrolment_timeline,
    list_enrolments,
    meals_of_enrolment,
)
from services.meals import ALLOWED


@bp.get("/cases/meals")
@roles_required(*MEAL_READERS)
def meal_queue() -> Response:
    """Meal-service applications and enrolments this role may see, longest waiting first."""
    actor, engine = current_actor(), runtime().engine
    form = ProgrammeFilterForm(formdata=request.args)
    counts = partial(count_enrolments_by_step, engine, actor)
    with_choices(form, actor, labels.MEAL_STEPS, counts, worklist=False)
    return show_queue(
        "meal",
        form,
        lambda cursor, filters: list_enrolments(
            engine, actor, now=clock.now(), cursor=cursor, **filters
        ),
        "staff/_meal_rows.html",
        canteens=_canteen_names(actor),
    )


def _canteen_names(actor: Actor) -> dict[UUID, str]:
    found = list_facilities(runtime().engine, actor, today=clock.today(), kind=Kind.CANTEEN)
    return {f.facility_id: f.name for f in found}


@bp.get("/cases/meals/<uuid:case_id>")
@roles_required(*MEAL_READERS)
def meal_case(case_id: UUID) -> Response:
    """One enrolment for staff: the elder, the canteen, the history, and what to do now."""
    return render_meal_case(load_enrolment(case_id))


def load_enrolment(case_id: UUID) -> EnrolmentDetail:
    """The enrolment if the signed-in user may see it; 404 otherwise, as if it did not exist."""
    found = enrolment_detail(runtime().engine, current_actor(), case_id)
    if found is None:
        abort(404)
    return found


def render_meal_case(
    case: EnrolmentDetail,
    *,
    status: int = 200,
    submitted: ActionForm | None = None,
    action: str = "",
    notice: str | None = None,
) -> Response:
    """The enrolment page; a submitted form that was refused is shown again as typed."""
    actor, rt, today = current_actor(), runtime(), clock.today()
    actions = MEAL_STEPS.available(case, actor)
    served = meals_of_enrolment(rt.engine, case.case_id, start=today.replace(day=1), end=today)
    return page(
        "staff/meal_case.html",
        status=status,
        case=case,
        actions=actions,
        forms=MEAL_STEPS.forms_for(case, actions, submitted, action),
        open_action=action,
        submitted=submitted,
        notice=notice,
        elder=elder_view(rt.persons, case.person_id, actor),
        needs=rt.persons.needs(case.case_id),
        canteen=facility_progress(rt.engine, actor, case.canteen_id, today=today),
        meals_this_month=len(served),
        timeline=describe(enrolment_timeline(rt.engine, case.case_id)),
        since=case.step_since.astimezone(CITY_TZ),
    )


MEAL_STEPS = StepForms(
    forms={
        "approve": NoteForm,
        "reject": RejectForm,
        "ask_information": ReturnForm,
        "end": EndEnrolmentForm,
    },
    offer=by_step(
        {
            EnrolmentStep.SUBMITTED: ("approve", "reject", "ask_information"),
            EnrolmentStep.APPROVED: ("end",),
        },
        {"approve": "review", "reject": "review", "ask_information": "review", "end": "end"},
        ALLOWED,
    ),
    load=load_enrolment,
    render=render_meal_case,
    page_endpoint="staff.meal_case",
)


@bp.post("/cases/meals/<uuid:case_id>/approve")
@roles_required(*ALLOWED["review"])
def meal_approve(case_id: UUID) -> Response:
    """Enrol the elder from today: the canteen may count their meals."""
    return MEAL_STEPS.submit(
        case_id,
        "approve",
        lambda f, v: runtime().meals.approve(current_actor(), case_id, v, note=f.note.data or ""),
        _("已开通助餐。从今天起,食堂可以为老人登记用餐。"),
    )


@bp.post("/cases/meals/<uuid:case_id>/reject")
@roles_required(*ALLOWED["review"])
def meal_reject(case_id: UUID) -> Response:
    """Not enrolled, with the reason the family will read."""
    return MEAL_STEPS.submit(
        case_id,
        "reject",
        lambda f, v: runtime().meals.reject(
            current_actor(), case_id, v, reason=f.reason.data or ""
        ),
        _("已记录审核不通过。申请人会看到您写的原因。"),
    )


@bp.post("/cases/meals/<uuid:case_id>/ask-information")
@roles_required(*ALLOWED["review"])
def meal_ask_information(case_id: UUID) -> Response:
    """Return the application to the family, saying what is missing."""
    return MEAL_STEPS.submit(
        case_id,
        "ask_information",
        lambda f, v: runtime().meals.return_for_information(
            current_actor(), case_id, v, request=f.request.data or ""
        ),
        _("已退回申请人补充材料。补充后申请会回到待审核。"),
    )


@bp.post("/cases/meals/<uuid:case_id>/end")
@roles_required(*ALLOWED["end"])
def meal_end(case_id: UUID) -> Response:
    """Stop an enrolled elder's meals, saying why."""
    return MEAL_STEPS.submit(
        case_id,
        "end",
        lambda f, v: runtime().meals.end_enrolment(
            current_actor(), case_id, v, reason=f.reason.data or ""
        ),
        _("已停止这位老人的助餐服务。"),
    )
