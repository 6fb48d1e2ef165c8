"""Home care (上门照护) for staff: the case queue, a case's page, and the steps on it: send an
assessor, grade the care level, approve or reject, assign a provider, follow up, close."""

from __future__ import annotations

from datetime import date
from functools import partial
from uuid import UUID

from flask import Response, abort, request
from flask_babel import gettext as _
from wtforms import SelectChoice

from events import clock
from events.clock import CITY_TZ
from events.facility import Kind
from events.home_care import CareStep
from events.roles import Actor, Role
from portal import labels
from portal.blueprints.staff import CARE_READERS, WORKLIST_FIRST, bp, show_queue, with_choices
from portal.blueprints.staff_programme import StepForms, by_step
from portal.forms.staff import ActionForm
from portal.forms.staff_programmes import (
    AssignProviderForm,
    CareAssessForm,
    CareCloseForm,
    CareFollowUpForm,
    NoteForm,
    ProgrammeFilterForm,
    RejectForm,
    ReturnForm,
    SendAssessorForm,
)
from portal.people import elder_view
from portal.rendering import page
from portal.runtime import runtime
from portal.timeline import describe
from portal.users import current_actor, roles_required
from projections.facility_queries import facility_progress, list_facilities
from projections.home_care_queries import (
    WORK_STEPS,
    CareCaseDetail,
    CareHours,
    care_case_detail,
    care_timeline,
    case_visits,
    count_by_step,
    hours_per_case,
    list_care_cases,
)
from services.home_care import ALLOWED


@bp.get("/cases/care")
@roles_required(*CARE_READERS)
def care_queue() -> Response:
    """Home care cases this role may see, longest waiting first, a page at a time."""
    actor, engine = current_actor(), runtime().engine
    default_view = "mine" if actor.role in WORKLIST_FIRST else "all"
    form = ProgrammeFilterForm(formdata=request.args, view=default_view)
    counts = partial(count_by_step, engine, actor)
    with_choices(form, actor, labels.CARE_STEPS, counts, worklist=actor.role in WORK_STEPS)
    return show_queue(
        "home_care",
        form,
        lambda cursor, filters: list_care_cases(
            engine, actor, now=clock.now(), cursor=cursor, **filters
        ),
        "staff/_care_rows.html",
    )


@bp.get("/cases/care/<uuid:case_id>")
@roles_required(*CARE_READERS)
def care_case(case_id: UUID) -> Response:
    """One home care case for staff: the elder, the care granted, this month's visits, the
    history, and what this role may do now."""
    return render_care_case(load_care_case(case_id))


def load_care_case(case_id: UUID) -> CareCaseDetail:
    """The case if the signed-in user may see it; 404 otherwise, as if it did not exist."""
    found = care_case_detail(runtime().engine, current_actor(), case_id)
    if found is None:
        abort(404)
    return found


def render_care_case(
    case: CareCaseDetail,
    *,
    status: int = 200,
    submitted: ActionForm | None = None,
    action: str = "",
    notice: str | None = None,
) -> Response:
    """The case page; a submitted form that was refused is shown again as typed."""
    actor, rt, today = current_actor(), runtime(), clock.today()
    actions = CARE_STEPS.available(case, actor)
    month = today.replace(day=1)
    visits = [v for v in case_visits(rt.engine, case.case_id) if month <= v.visit_date <= today]
    hours = hours_per_case(rt.engine, start=month, end=today, case_id=case.case_id).get(
        case.case_id, CareHours(0, 0)
    )
    return page(
        "staff/care_case.html",
        status=status,
        case=case,
        actions=actions,
        forms=CARE_STEPS.forms_for(case, actions, submitted, action),
        open_action=action,
        submitted=submitted,
        notice=notice,
        elder=elder_view(rt.persons, case.person_id, actor),
        needs=rt.persons.needs(case.case_id),
        assessor=_display_name(case.assessor_id),
        provider=_provider_name(actor, case.provider_id, today),
        visits=visits,
        hours=hours,
        month=month,
        timeline=describe(care_timeline(rt.engine, case.case_id)),
        since=case.step_since.astimezone(CITY_TZ),
    )


def _display_name(user_id: str | None) -> str:
    account = runtime().accounts.get(user_id) if user_id else None
    return account.display_name if account else ""


def _provider_name(actor: Actor, provider_id: UUID | None, today: date) -> str:
    if provider_id is None:
        return ""
    found = facility_progress(runtime().engine, actor, provider_id, today=today)
    return found.name if found else _("(其他区县的服务机构)")


def _choices(form: ActionForm, case: CareCaseDetail) -> None:
    """Fill the people and organisations a form chooses from (this case's district)."""
    if isinstance(form, SendAssessorForm):
        people = runtime().accounts.staff(Role.ASSESSOR, case.district)
        options = [SelectChoice(p.user_id, p.display_name) for p in people]
        form.assessor_id.choices = [SelectChoice("", _("请选择评估员")), *options]
    if isinstance(form, AssignProviderForm):
        found = list_facilities(
            runtime().engine, current_actor(), today=clock.today(), kind=Kind.HOME_CARE_PROVIDER
        )
        options = [SelectChoice(str(f.facility_id), f.name) for f in found if f.in_operation]
        form.provider_id.choices = [SelectChoice("", _("请选择服务机构")), *options]


CARE_STEPS = StepForms(
    forms={
        "send_assessor": SendAssessorForm,
        "reject": RejectForm,
        "ask_information": ReturnForm,
        "assess": CareAssessForm,
        "approve": NoteForm,
        "assign_provider": AssignProviderForm,
        "follow_up": CareFollowUpForm,
        "close": CareCloseForm,
    },
    offer=by_step(
        {
            CareStep.SUBMITTED: ("send_assessor", "reject", "ask_information"),
            CareStep.ASSESSOR_ASSIGNED: ("assess", "send_assessor"),
            CareStep.ASSESSED: ("approve", "reject", "assess"),
            CareStep.APPROVED: ("assign_provider",),
            CareStep.IN_SERVICE: ("follow_up", "close"),
            CareStep.CLOSED: ("follow_up",),
        },
        {
            "send_assessor": "review",
            "reject": "review",
            "ask_information": "review",
            "assess": "assess",
            "approve": "review",
            "assign_provider": "assign_provider",
            "follow_up": "follow_up",
            "close": "close",
        },
        ALLOWED,
    ),
    load=load_care_case,
    render=render_care_case,
    page_endpoint="staff.care_case",
    prepare=_choices,
)


@bp.post("/cases/care/<uuid:case_id>/send-assessor")
@roles_required(*ALLOWED["review"])
def care_send_assessor(case_id: UUID) -> Response:
    """Accept the application and send the chosen assessor (or another one)."""
    return CARE_STEPS.submit(
        case_id,
        "send_assessor",
        lambda f, v: runtime().home_care.request_assessment(
            current_actor(), case_id, v, assessor_id=f.assessor_id.data
        ),
        _("已安排评估员。评估员会联系老人家里约定上门评估。"),
    )


@bp.post("/cases/care/<uuid:case_id>/reject")
@roles_required(*ALLOWED["review"])
def care_reject(case_id: UUID) -> Response:
    """Not eligible, with the reason the family will read."""
    return CARE_STEPS.submit(
        case_id,
        "reject",
        lambda f, v: runtime().home_care.reject(
            current_actor(), case_id, v, reason=f.reason.data or ""
        ),
        _("已记录审核不通过。申请人会看到您写的原因。"),
    )


@bp.post("/cases/care/<uuid:case_id>/ask-information")
@roles_required(*ALLOWED["review"])
def care_ask_information(case_id: UUID) -> Response:
    """Return the application to the family, saying what is missing."""
    return CARE_STEPS.submit(
        case_id,
        "ask_information",
        lambda f, v: runtime().home_care.return_for_information(
            current_actor(), case_id, v, request=f.request.data or ""
        ),
        _("已退回申请人补充材料。补充后案件会回到待受理。"),
    )


@bp.post("/cases/care/<uuid:case_id>/assess")
@roles_required(*ALLOWED["assess"])
def care_assess(case_id: UUID) -> Response:
    """The assessor's grading: the care level and the hours a month it grants."""
    return CARE_STEPS.submit(
        case_id,
        "assess",
        lambda f, v: runtime().home_care.assess_care_level(
            current_actor(),
            case_id,
            v,
            level=f.level.data or "",
            monthly_hours=f.hours,
            note=f.note.data or "",
        ),
        _("评估结果已保存,等待审核员审核。"),
    )


@bp.post("/cases/care/<uuid:case_id>/approve")
@roles_required(*ALLOWED["review"])
def care_approve(case_id: UUID) -> Response:
    """Grant the assessed care; a provider is assigned next."""
    return CARE_STEPS.submit(
        case_id,
        "approve",
        lambda f, v: runtime().home_care.approve(
            current_actor(), case_id, v, note=f.note.data or ""
        ),
        _("已审核通过。请为老人安排上门照护服务机构。"),
    )


@bp.post("/cases/care/<uuid:case_id>/assign-provider")
@roles_required(*ALLOWED["assign_provider"])
def care_assign_provider(case_id: UUID) -> Response:
    """Name the provider organisation; from today it may log visits."""
    return CARE_STEPS.submit(
        case_id,
        "assign_provider",
        lambda f, v: runtime().home_care.assign_provider(
            current_actor(), case_id, v, provider_id=f.provider_id.data
        ),
        _("已安排服务机构,上门服务可以开始了。"),
    )


@bp.post("/cases/care/<uuid:case_id>/follow-up")
@roles_required(*ALLOWED["follow_up"])
def care_follow_up(case_id: UUID) -> Response:
    """A follow-up call or visit (回访) during or after the service."""
    return CARE_STEPS.submit(
        case_id,
        "follow_up",
        lambda f, v: runtime().home_care.record_follow_up(
            current_actor(),
            case_id,
            v,
            note=f.note.data or "",
            needs_attention=f.needs_attention.data == "yes",
        ),
        _("回访已记录。"),
    )


@bp.post("/cases/care/<uuid:case_id>/close")
@roles_required(*ALLOWED["close"])
def care_close(case_id: UUID) -> Response:
    """End the service, saying why."""
    return CARE_STEPS.submit(
        case_id,
        "close",
        lambda f, v: runtime().home_care.close_case(
            current_actor(), case_id, v, reason=f.reason.data or ""
        ),
        _("上门照护服务已结束。"),
    )
