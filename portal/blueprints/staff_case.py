"""The staff case page, and the one way every staff step form is handled."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from flask import Response
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage
from wtforms import SelectChoice

from events.clock import CITY_TZ
from events.retrofit import Step
from events.roles import Actor, Role
from portal.forms.staff import (
    ActionForm,
    ApproveForm,
    AssignForm,
    CloseForm,
    ConfirmForm,
    FollowUpForm,
    RectifyForm,
    RejectForm,
    ReturnForm,
    SiteInspectionForm,
)
from portal.people import elder_view
from portal.rendering import page
from portal.runtime import runtime
from portal.steps import load_case, perform
from portal.timeline import describe
from portal.users import current_actor
from projections.retrofit_queries import CaseDetail, timeline
from projections.staff_queries import photos_in
from services.retrofit import ALLOWED

# Step forms on the case page; each key is also the endpoint (staff.<key>) it posts to.
ACTION_FORMS: dict[str, type[ActionForm]] = {
    "approve": ApproveForm,
    "reject": RejectForm,
    "ask_information": ReturnForm,
    "assign": AssignForm,
    "start_works": ConfirmForm,
    "complete_works": ConfirmForm,
    "rectify": RectifyForm,
    "site_inspection": SiteInspectionForm,
    "close": CloseForm,
    "follow_up": FollowUpForm,
}
# What the page offers at each step ("assessment" and "acceptance" are links to their pages).
# The aggregate still decides whether a step is legal; this only avoids offering dead forms.
STEP_ACTIONS: dict[str, tuple[str, ...]] = {
    Step.SUBMITTED: ("approve", "reject", "ask_information"),
    Step.APPROVED: ("assessment",),
    Step.ASSESSED: ("assessment",),
    Step.PLAN_CONFIRMED: ("assign",),
    Step.CONTRACTOR_ASSIGNED: ("start_works",),
    Step.WORKS_STARTED: ("complete_works", "site_inspection"),
    Step.WORKS_COMPLETED: ("acceptance",),
    Step.RECTIFICATION: ("rectify", "site_inspection"),
    Step.ACCEPTED: ("close",),
    Step.SURVEYED: ("follow_up", "close"),
}
# The service permission (services.retrofit.ALLOWED) behind each action.
PERMISSION: dict[str, str] = {
    "approve": "review",
    "reject": "review",
    "ask_information": "review",
    "assessment": "assess",
    "assign": "assign_contractor",
    "start_works": "works",
    "complete_works": "works",
    "site_inspection": "inspect",
    "acceptance": "inspect",
    "rectify": "rectification",
    "close": "close",
    "follow_up": "follow_up",
}
# Community workers act on the applicant-side pages (/my/cases/<id>); the rest only read here.
ACTING_ROLES = (Role.CASEWORKER, Role.ASSESSOR, Role.INSPECTOR)


def available_actions(case: CaseDetail, actor: Actor) -> tuple[str, ...]:
    """The step forms (or links) this viewer may use on this case now."""
    if actor.role not in ACTING_ROLES:
        return ()
    offered = STEP_ACTIONS.get(case.step, ())
    return tuple(a for a in offered if actor.role in ALLOWED[PERMISSION[a]])


def action_form(action: str, case: CaseDetail, *, submitted: bool) -> ActionForm:
    """A step form: from the posted data, or fresh at the case's current version."""
    cls = ACTION_FORMS[action]
    if submitted:
        form = cls(prefix=action)
    else:
        form = cls(formdata=None, prefix=action, version=str(case.version))
    if isinstance(form, ApproveForm):
        form.assessor_id.choices = _staff_choices(Role.ASSESSOR, case, _("请选择评估员"))
    if isinstance(form, AssignForm):
        form.inspector_id.choices = _staff_choices(Role.INSPECTOR, case, _("请选择验收员"))
    return form


def _staff_choices(role: str, case: CaseDetail, prompt: str) -> list[SelectChoice]:
    people = runtime().accounts.staff(role, case.district)
    return [SelectChoice("", prompt), *[SelectChoice(p.user_id, p.display_name) for p in people]]


def render_case(
    case: CaseDetail,
    *,
    status: int = 200,
    submitted: ActionForm | None = None,
    action: str = "",
    notice: str | None = None,
) -> Response:
    """The case page; a submitted form that was refused is shown again as typed."""
    actor, rt = current_actor(), runtime()
    entries = timeline(rt.engine, case.case_id)
    actions = available_actions(case, actor)
    forms = {
        a: submitted if a == action and submitted else action_form(a, case, submitted=False)
        for a in actions
        if a in ACTION_FORMS
    }
    return page(
        "staff/case.html",
        status=status,
        case=case,
        actions=actions,
        forms=forms,
        open_action=action,
        submitted=submitted,
        notice=notice,
        elder=elder_view(rt.persons, case.person_id, actor),
        needs=rt.persons.needs(case.case_id),
        staff_names=_staff_names(case),
        photos=photos_in(entries),
        timeline=describe(entries),
        applicant_side=actor.role == Role.COMMUNITY_WORKER,
        since=case.step_since.astimezone(CITY_TZ),
        city_tz=CITY_TZ,
    )


def _staff_names(case: CaseDetail) -> dict[str, str]:
    accounts = runtime().accounts
    found = {
        "assessor": accounts.get(case.assessor_id) if case.assessor_id else None,
        "inspector": accounts.get(case.inspector_id) if case.inspector_id else None,
    }
    return {role: account.display_name for role, account in found.items() if account}


def submit_step(
    case_id: UUID,
    action: str,
    command: Callable[[ActionForm, int], object],
    done: str | Callable[[], str],
) -> Response:
    """Handle a case-page step form: one service call, then back to the case page."""
    case = load_case(case_id)
    form = action_form(action, case, submitted=True)

    def again(current: CaseDetail, status: int, notice: str | None) -> Response:
        return render_case(current, status=status, submitted=form, action=action, notice=notice)

    return perform(case, form, lambda version: command(form, version), done, again, "staff.case")


def store_photos(files: list[FileStorage] | None) -> list[dict[str, str]]:
    """Check every upload before storing any, so one bad file stores none of the batch."""
    store = runtime().photos
    contents = [f.read() for f in files or []]
    for content in contents:
        store.check(content)
    return [store.store(content) for content in contents]
