"""Families (and community workers for an elder): apply, follow cases, confirm, answer surveys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from flask import Blueprint, Response, abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from events.clock import CITY_TZ
from events.errors import DomainError
from events.retrofit import Step
from events.roles import Actor, Role
from portal import labels
from portal.forms.family import (
    AddressForm,
    CaseActionForm,
    ConfirmPlanForm,
    QuestionForm,
    SupplyInformationForm,
    SurveyForm,
    WithdrawForm,
    place_of,
)
from portal.forms.family_programmes import BY_CODE, PROGRAMMES, Programme, question_form
from portal.messages import message_for
from portal.people import elder_view
from portal.rendering import page, page_or_fragment
from portal.runtime import runtime
from portal.steps import load_case, perform
from portal.timeline import describe
from portal.users import current_actor, roles_required
from projections.family_queries import family_cases
from projections.retrofit_queries import CaseDetail, timeline

bp = Blueprint("family", __name__)

APPLICANTS = (Role.FAMILY, Role.COMMUNITY_WORKER)

# Each wizard route serves retrofit at its first address (/apply/...) and the later
# programmes under their own segment (/apply/meal/..., /apply/home-care/...).
RETROFIT = {"programme": "retrofit"}
OTHERS = (
    "any(" + ", ".join(f'"{slug}"' for slug in PROGRAMMES if slug != "retrofit") + "):programme"
)

# What the family reads at each step: where the case is, and what happens next.
NEXT_STEP = {
    Step.SUBMITTED: _l("审核员会在10个工作日内审核申请,结果会显示在这里。"),
    Step.RETURNED: _l("审核员需要您补充一些信息。请看下面的要求,填好后提交。"),
    Step.REJECTED: _l(
        "很抱歉,申请没有通过审核,原因写在下面的办理进度里。如有疑问,请联系所在社区。"
    ),
    Step.APPROVED: _l("评估员会打电话和您约定上门时间,请保持电话畅通。"),
    Step.ASSESSED: _l("评估员已经定好改造方案。请看下面的项目和费用,没有问题就点“确认改造方案”。"),
    Step.PLAN_CONFIRMED: _l("我们正在安排施工单位,安排好后会显示在这里。"),
    Step.CONTRACTOR_ASSIGNED: _l("施工单位会联系您约定开工时间。"),
    Step.WORKS_STARTED: _l("正在施工。施工期间可能有工作人员上门检查。"),
    Step.WORKS_COMPLETED: _l("施工已经完成,验收员会上门逐项验收。"),
    Step.RECTIFICATION: _l("验收时有项目需要整改,施工单位会上门整改,之后再次验收。"),
    Step.ACCEPTED: _l("验收通过了。请花两分钟填写满意度回访,帮助我们做得更好。"),
    Step.SURVEYED: _l("谢谢您的评价。以后工作人员可能还会回访,了解改造是否好用。"),
    Step.CLOSED: _l("这个申请已经办结。"),
    Step.WITHDRAWN: _l("这个申请已经撤回。如果还需要改造,可以重新申请。"),
}


# Each programme's start page, and the names of its steps.
START_PAGES = {
    "retrofit": "family/start.html",
    "meal": "family/start_meal.html",
    "home_care": "family/start_home_care.html",
}
STEP_LABELS = {"retrofit": labels.STEPS, "meal": labels.MEAL_STEPS, "home_care": labels.CARE_STEPS}


def programme_of(slug: str) -> Programme:
    """The programme an address names (the routes only let known ones through)."""
    return PROGRAMMES[slug]


# -- starting ----------------------------------------------------------------------------------


@bp.get("/apply", defaults=RETROFIT)
@bp.get(f"/apply/<{OTHERS}>")
def start(programme: str) -> Response:
    """What the service is and who can apply; visitors are asked to sign in or register."""
    if current_user.is_authenticated and current_user.role not in APPLICANTS:
        abort(403)
    chosen = programme_of(programme)
    return page(START_PAGES[chosen.code], programme=chosen)


@bp.post("/apply/start", defaults=RETROFIT)
@bp.post(f"/apply/<{OTHERS}>/start")
@roles_required(*APPLICANTS)
def begin(programme: str) -> Response:
    """A new server-side draft: its id is also the final submission's idempotency key."""
    chosen = programme_of(programme)
    user_id = current_actor().user_id
    draft_id = runtime().drafts.start(user_id)
    if chosen.code != "retrofit":  # drafts from before other programmes are retrofit ones
        runtime().drafts.save(user_id, draft_id, {"programme": chosen.code})
    return redirect(_page_url(chosen, draft_id, chosen.names[0]), 303)


def _page_url(programme: Programme, draft_id: str, name: str, **query: str | None) -> str:
    return url_for(".question", programme=programme.slug, draft_id=draft_id, name=name, **query)


# -- the question pages ------------------------------------------------------------------------


@bp.route("/apply/<draft_id>/<name>", defaults=RETROFIT, methods=["GET", "POST"])
@bp.route(f"/apply/<{OTHERS}>/<draft_id>/<name>", methods=["GET", "POST"])
@roles_required(*APPLICANTS)
def question(programme: str, draft_id: str, name: str) -> Response:
    """One question (or a small group) a page; each answer is saved to the draft as it comes."""
    chosen = programme_of(programme)
    if name not in chosen.pages:
        abort(404)
    actor = current_actor()
    answers = _draft_or_done(actor, chosen, draft_id)
    if isinstance(answers, Response):
        return answers
    changing = request.args.get("change") == "1"
    form = question_form(chosen, name, actor, answers if request.method == "GET" else None)
    extra = form.setup(runtime().engine, actor, answers)
    if request.method == "POST" and form.validate():
        runtime().drafts.save(actor.user_id, draft_id, form.answers())
        return redirect(_after(chosen, draft_id, name, changing, form), 303)
    _narrow_places(form)
    status = 422 if form.errors else 200
    context = _question_context(actor, chosen, draft_id, name, changing, form) | extra
    if name == "address":
        return page_or_fragment("family/question.html", "family/_place.html", status, **context)
    return page("family/question.html", status, **context)


def _draft_or_done(actor: Actor, programme: Programme, draft_id: str) -> dict[str, Any] | Response:
    """The draft's answers; once submitted (draft gone), the case it became; else 404."""
    answers = runtime().drafts.load(actor.user_id, draft_id)
    if answers is not None:
        if answers.get("programme", "retrofit") != programme.code:
            abort(404)  # another programme's draft: its own pages serve it
        return answers
    case_id = programme.case_id_for(runtime(), actor, draft_id)
    if _own_case(programme, actor, case_id) is None:
        abort(404)
    return redirect(url_for(".done", programme=programme.slug, case_id=case_id), 303)


def _own_case(programme: Programme, actor: Actor, case_id: UUID) -> Any:
    """The case's read-model detail as the actor may see it; a case the actor has just
    submitted may not be projected yet (the projection worker is a moment behind): then the
    read models are caught up here, only on that miss, and asked once more."""
    found = programme.find(runtime().engine, actor, case_id)
    if found is None:
        runtime().catch_up()
        found = programme.find(runtime().engine, actor, case_id)
    return found


def _narrow_places(form: QuestionForm) -> None:
    # htmx asks again when the district changes: list only that district's communities,
    # keeping a community already picked if it is in that district (a quick hand can pick one
    # from the full list before the narrowed one arrives). Without script (and after an error,
    # to keep the choice made) all are listed, by district.
    chosen = request.args.get("district")
    if isinstance(form, AddressForm) and request.method == "GET" and chosen is not None:
        form.district.process(None, chosen)
        form.show_places_of(chosen or None)
        picked = request.args.get("place", "")
        if picked in {str(c.value) for c in form.place.choices}:
            form.place.process(None, picked)


def _after(
    programme: Programme, draft_id: str, name: str, changing: bool, form: QuestionForm
) -> str:
    if form.blocker() is not None:
        return url_for(
            ".cannot_continue", programme=programme.slug, draft_id=draft_id, name=name,
            change="1" if changing else None,
        )  # fmt: skip
    if changing or name == programme.names[-1]:
        return url_for(".check", programme=programme.slug, draft_id=draft_id)
    return _page_url(programme, draft_id, programme.names[programme.names.index(name) + 1])


def _question_context(
    actor: Actor,
    programme: Programme,
    draft_id: str,
    name: str,
    changing: bool,
    form: QuestionForm,
) -> dict[str, Any]:
    index = programme.names.index(name)
    if changing:
        back = url_for(".check", programme=programme.slug, draft_id=draft_id)
    elif index == 0:
        back = url_for(".start", programme=programme.slug)
    else:
        back = _page_url(programme, draft_id, programme.names[index - 1])
    return {
        "form": form,
        "name": name,
        "title": programme.title(name),
        "number": index + 1,
        "total": len(programme.pages),
        "back": back,
        "action": _page_url(programme, draft_id, name, change="1" if changing else None),
        "fixed_place": place_of(actor, {}) if actor.role == Role.COMMUNITY_WORKER else None,
        "draft_id": draft_id,
        "programme": programme,
    }


@bp.get("/apply/<draft_id>/<name>/cannot-continue", defaults=RETROFIT)
@bp.get(f"/apply/<{OTHERS}>/<draft_id>/<name>/cannot-continue")
@roles_required(*APPLICANTS)
def cannot_continue(programme: str, draft_id: str, name: str) -> Response:
    """An answer means the elder does not qualify: say why and what else may help."""
    chosen = programme_of(programme)
    if name not in chosen.pages:
        abort(404)
    answers = _draft_or_done(current_actor(), chosen, draft_id)
    if isinstance(answers, Response):
        return answers
    form = question_form(chosen, name, current_actor(), answers)
    reason = form.blocker()
    changing = request.args.get("change") == "1"
    if reason is None:  # the answer was changed meanwhile: carry on from that page
        return redirect(_page_url(chosen, draft_id, name, change="1" if changing else None), 303)
    return page(
        "family/cannot_continue.html",
        programme=chosen,
        reason=message_for(reason),
        change_url=_page_url(chosen, draft_id, name, change="1" if changing else None),
    )


# -- check your answers, submit, confirmation --------------------------------------------------


@bp.route("/apply/<draft_id>/check", defaults=RETROFIT, methods=["GET", "POST"])
@bp.route(f"/apply/<{OTHERS}>/<draft_id>/check", methods=["GET", "POST"])
@roles_required(*APPLICANTS)
def check(programme: str, draft_id: str) -> Response:
    """Check every answer, then submit once: a repeated submit lands on the same case."""
    chosen = programme_of(programme)
    actor = current_actor()
    answers = _draft_or_done(actor, chosen, draft_id)
    if isinstance(answers, Response):
        return answers
    if request.method == "GET":
        return _check_page(actor, chosen, draft_id, answers)
    try:
        case_id = chosen.submit(runtime(), actor, draft_id, answers)
    except DomainError as e:
        return _check_page(actor, chosen, draft_id, answers, 422, e)
    # No catching up here: the confirmation page does it only if the worker has not yet.
    runtime().drafts.discard(actor.user_id, draft_id)
    return redirect(url_for(".done", programme=chosen.slug, case_id=case_id), 303)


def _check_page(
    actor: Actor,
    programme: Programme,
    draft_id: str,
    answers: dict[str, Any],
    status: int = 200,
    error: DomainError | None = None,
) -> Response:
    fix = programme.page_to_fix(error) if error else None
    extras = (
        programme.check_extras(runtime().engine, actor, answers) if programme.check_extras else {}
    )
    return page(
        "family/check.html",
        status,
        answers=answers,
        place=place_of(actor, answers),
        draft_id=draft_id,
        programme=programme,
        error=message_for(error) if error else None,
        fix_url=_page_url(programme, draft_id, fix, change="1") if fix else None,
        **extras,
    )


@bp.get("/apply/done/<uuid:case_id>", defaults=RETROFIT)
@bp.get(f"/apply/<{OTHERS}>/done/<uuid:case_id>")
@roles_required(*APPLICANTS)
def done(programme: str, case_id: UUID) -> Response:
    """The confirmation: the reference number to quote, and what happens next."""
    chosen = programme_of(programme)
    found = _own_case(chosen, current_actor(), case_id)
    if found is None:
        abort(404)
    return page("family/done.html", case=found, programme=chosen)


# -- following cases ---------------------------------------------------------------------------


@bp.get("/my/cases")
@roles_required(Role.FAMILY)
def my_cases() -> Response:
    """A family's own cases in every programme, newest activity first, with where each stands."""
    try:
        found = family_cases(
            runtime().engine, current_actor(), cursor=request.args.get("cursor") or None
        )
    except ValueError:
        abort(404)  # a cursor not made by us
    names = runtime().persons.names([row.person_id for row in found.rows])
    return page_or_fragment(
        "family/my_cases.html",
        "family/_case_rows.html",
        rows=found.rows,
        names=names,
        next_cursor=found.next_cursor,
        city_tz=CITY_TZ,
        programmes=BY_CODE,
        step_labels=STEP_LABELS,
    )


@bp.get("/my/cases/<uuid:case_id>")
@roles_required(*APPLICANTS)
def case(case_id: UUID) -> Response:
    """Where the case stands, what happens next, what the family can do now, and its history."""
    return _case_page(load_case(case_id))


def _case_page(
    detail: CaseDetail,
    status: int = 200,
    form: CaseActionForm | None = None,
    stale: str | None = None,
) -> Response:
    return page_or_fragment(
        "family/case.html",
        "family/_case_live.html",
        status,
        **_case_context(detail, form, stale),
        elder=elder_view(runtime().persons, detail.person_id, current_actor()),
        needs=runtime().persons.needs(detail.case_id),
    )


def _case_context(
    detail: CaseDetail, form: CaseActionForm | None, stale: str | None
) -> dict[str, Any]:
    """What the live part of a case page shows: status, the action of this step, history."""
    entries = timeline(runtime().engine, detail.case_id)
    version = detail.version
    supply = form if isinstance(form, SupplyInformationForm) else None
    confirm = form if isinstance(form, ConfirmPlanForm) else None
    return {
        "case": detail,
        "next_step": NEXT_STEP.get(detail.step, ""),
        "timeline": describe(entries),
        "request_text": last_detail(entries, "ReturnedForInformation", "request"),
        "subsidy_cap": last_detail(entries, "HomeAssessed", "subsidy_cap"),
        "supply_form": supply or SupplyInformationForm(formdata=None, version=version),
        "confirm_form": confirm or ConfirmPlanForm(formdata=None, version=version),
        "can_withdraw": detail.step in Step.WITHDRAWABLE,
        "submitted": form,
        "stale": stale,
    }


# -- acting on a case --------------------------------------------------------------------------

Render = Callable[..., Response]


def act_on(
    load: Callable[[UUID], Any],
    case_id: UUID,
    form: CaseActionForm,
    command: Callable[[Actor, int], object],
    render: Render,
    done_message: str,
    back_to: str,
) -> Response:
    """Handle one applicant-side step form of any programme through portal.steps.perform:
    `load` gives the case as this user may see it (404 otherwise), before and after a clash."""
    return perform(
        load(case_id),
        form,
        lambda version: command(current_actor(), version),
        done_message,
        lambda current, status, stale: render(current, status, form, stale=stale),
        back_to,
        reload=load,
    )


def _act(
    case_id: UUID,
    form: CaseActionForm,
    command: Callable[[Actor, int], object],
    render: Render,
    done_message: str,
) -> Response:
    return act_on(load_case, case_id, form, command, render, done_message, "family.case")


@bp.post("/my/cases/<uuid:case_id>/supply")
@roles_required(*APPLICANTS)
def supply_information(case_id: UUID) -> Response:
    """The family answers a caseworker's request; the case goes back to review."""
    form = SupplyInformationForm()
    return _act(
        case_id,
        form,
        lambda actor, v: runtime().retrofit.supply_information(
            actor, case_id, v, reply=form.reply.data
        ),
        _case_page,
        _("谢谢,补充的信息已经交给审核员。"),
    )


@bp.post("/my/cases/<uuid:case_id>/confirm")
@roles_required(*APPLICANTS)
def confirm_plan(case_id: UUID) -> Response:
    """The family agrees to the assessed plan and its share of the cost."""
    return _act(
        case_id,
        ConfirmPlanForm(),
        lambda actor, v: runtime().retrofit.confirm_plan(actor, case_id, v),
        _case_page,
        _("您已确认改造方案,我们会尽快安排施工单位。"),
    )


@bp.route("/my/cases/<uuid:case_id>/survey", methods=["GET", "POST"])
@roles_required(*APPLICANTS)
def survey(case_id: UUID) -> Response:
    """Five 1-5 questions after acceptance, and an optional comment."""
    if request.method == "GET":
        detail = load_case(case_id)
        return _survey_page(detail, 200, SurveyForm(formdata=None, version=detail.version))
    form = SurveyForm()
    return _act(
        case_id,
        form,
        lambda actor, v: runtime().retrofit.answer_survey(
            actor, case_id, v, scores=form.scores(), comment=form.comment.data or ""
        ),
        _survey_page,
        _("谢谢您的评价!"),
    )


def _survey_page(detail: CaseDetail, status: int, form: Any, stale: str | None = None) -> Response:
    return survey_page(
        detail, status, form, stale,
        can_answer=detail.step == Step.ACCEPTED,
        step_label=labels.STEPS.get(detail.step, detail.step),
        action=url_for(".survey", case_id=detail.case_id),
        back=url_for(".case", case_id=detail.case_id),
        lead=_("改造已经验收通过。请根据实际感受,为每个问题选一个分数:1分最不满意,5分最满意。"),
        cannot=_("满意度回访在验收通过后填写。"),
    )  # fmt: skip


def survey_page(detail: Any, status: int, form: Any, stale: str | None, **what: Any) -> Response:
    """The survey page of any programme: `what` says whether it can be answered now, and how."""
    return page(
        "family/survey.html", status, case=detail, form=form,
        submitted=form if form.errors else None, stale=stale, **what,
    )  # fmt: skip


@bp.route("/my/cases/<uuid:case_id>/withdraw", methods=["GET", "POST"])
@roles_required(*APPLICANTS)
def withdraw(case_id: UUID) -> Response:
    """Ask for a reason before withdrawing; only possible before works start."""
    if request.method == "GET":
        detail = load_case(case_id)
        return _withdraw_page(detail, 200, WithdrawForm(formdata=None, version=detail.version))
    form = WithdrawForm()
    return _act(
        case_id,
        form,
        lambda actor, v: runtime().retrofit.withdraw(actor, case_id, v, reason=form.reason.data),
        _withdraw_page,
        _("申请已经撤回。"),
    )


def _withdraw_page(
    detail: CaseDetail, status: int, form: Any, stale: str | None = None
) -> Response:
    return withdraw_page(
        detail, status, form, stale,
        can_withdraw=detail.step in Step.WITHDRAWABLE,
        step_label=labels.STEPS.get(detail.step, detail.step),
        action=url_for(".withdraw", case_id=detail.case_id),
        back=url_for(".case", case_id=detail.case_id),
        lead=_("撤回以后,这个申请就不再办理了。如果以后还需要改造,可以重新申请。"),
        cannot=_("施工开始以后,或申请已经结束时,就不能再撤回了。如有困难,请联系所在社区或审核员。"),
    )  # fmt: skip


def withdraw_page(detail: Any, status: int, form: Any, stale: str | None, **what: Any) -> Response:
    """The withdraw page of any programme: `what` says whether it is possible now, and how."""
    return page(
        "family/withdraw.html", status, case=detail, form=form, submitted=form, stale=stale,
        **what,
    )  # fmt: skip


def last_detail(entries: tuple[Any, ...], kind: str, key: str) -> Any:
    """A detail of the latest timeline entry of a kind (e.g. the caseworker's last request)."""
    return next((e.details.get(key) for e in reversed(entries) if e.kind == kind), None)


# The other programmes' case pages attach their routes to `bp` (imported last: they import
# from here).
from portal.blueprints import family_home_care, family_meal  # noqa: E402, F401
