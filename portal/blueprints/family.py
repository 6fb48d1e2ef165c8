"""Families (and community workers for an elder): apply, follow cases, confirm, answer surveys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from flask import Blueprint, Response, abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from events import clock
from events.clock import CITY_TZ
from events.errors import DomainError
from events.retrofit import Step
from events.roles import Actor, Role
from portal.forms.family import (
    PAGE_OF_FIELD,
    PAGES,
    AddressForm,
    CaseActionForm,
    ConfirmPlanForm,
    QuestionForm,
    SupplyInformationForm,
    SurveyForm,
    WithdrawForm,
    place_of,
    question_form,
    submission,
)
from portal.messages import field_for, message_for
from portal.people import elder_view
from portal.rendering import page, page_or_fragment
from portal.runtime import runtime
from portal.steps import load_case, perform
from portal.timeline import describe
from portal.users import current_actor, roles_required
from projections.retrofit_queries import CaseDetail, case_detail, list_cases, timeline

bp = Blueprint("family", __name__)

APPLICANTS = (Role.FAMILY, Role.COMMUNITY_WORKER)

TITLES = {
    "elder": _l("老人的姓名和身份证号码"),
    "phone": _l("老人的联系电话"),
    "address": _l("老人的住址"),
    "household": _l("家庭类别"),
    "health": _l("老人的身体状况"),
    "living": _l("老人的居住情况"),
    "relation": _l("您和老人的关系"),
    "needs": _l("改造需求"),
}

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


# -- starting ----------------------------------------------------------------------------------


@bp.get("/apply")
def start() -> Response:
    """What the service is and who can apply; visitors are asked to sign in or register."""
    if current_user.is_authenticated and current_user.role not in APPLICANTS:
        abort(403)
    return page("family/start.html")


@bp.post("/apply/start")
@roles_required(*APPLICANTS)
def begin() -> Response:
    """A new server-side draft: its id is also the final submission's idempotency key."""
    draft_id = runtime().drafts.start(current_actor().user_id)
    return redirect(url_for(".question", draft_id=draft_id, name=PAGES[0]), 303)


# -- the question pages ------------------------------------------------------------------------


@bp.route("/apply/<draft_id>/<name>", methods=["GET", "POST"])
@roles_required(*APPLICANTS)
def question(draft_id: str, name: str) -> Response:
    """One question (or a small group) a page; each answer is saved to the draft as it comes."""
    if name not in PAGES:
        abort(404)
    actor = current_actor()
    answers = _draft_or_done(actor, draft_id)
    if isinstance(answers, Response):
        return answers
    changing = request.args.get("change") == "1"
    form = question_form(name, actor, answers if request.method == "GET" else None)
    if request.method == "POST" and form.validate():
        runtime().drafts.save(actor.user_id, draft_id, form.answers())
        return redirect(_after(draft_id, name, changing), 303)
    _narrow_places(form)
    status = 422 if form.errors else 200
    context = _question_context(actor, draft_id, name, changing, form)
    if name == "address":
        return page_or_fragment("family/question.html", "family/_place.html", status, **context)
    return page("family/question.html", status, **context)


def _draft_or_done(actor: Actor, draft_id: str) -> dict[str, Any] | Response:
    """The draft's answers; once submitted (draft gone), the case it became; else 404."""
    answers = runtime().drafts.load(actor.user_id, draft_id)
    if answers is not None:
        return answers
    case_id = runtime().retrofit.application_id(actor, draft_id)
    runtime().catch_up()
    if case_detail(runtime().engine, actor, case_id) is None:
        abort(404)
    return redirect(url_for(".done", case_id=case_id), 303)


def _narrow_places(form: QuestionForm) -> None:
    # htmx asks again when the district changes: list only that district's communities.
    # Without script (and after an error, to keep the choice made) all are listed, by district.
    chosen = request.args.get("district")
    if isinstance(form, AddressForm) and request.method == "GET" and chosen is not None:
        form.district.process(None, chosen)
        form.show_places_of(chosen or None)


def _after(draft_id: str, name: str, changing: bool) -> str:
    if changing or name == PAGES[-1]:
        return url_for(".check", draft_id=draft_id)
    return url_for(".question", draft_id=draft_id, name=PAGES[PAGES.index(name) + 1])


def _question_context(
    actor: Actor, draft_id: str, name: str, changing: bool, form: QuestionForm
) -> dict[str, Any]:
    index = PAGES.index(name)
    if changing:
        back = url_for(".check", draft_id=draft_id)
    elif index == 0:
        back = url_for(".start")
    else:
        back = url_for(".question", draft_id=draft_id, name=PAGES[index - 1])
    return {
        "form": form,
        "name": name,
        "title": TITLES[name],
        "number": index + 1,
        "total": len(PAGES),
        "back": back,
        "action": url_for(
            ".question", draft_id=draft_id, name=name, change="1" if changing else None
        ),
        "fixed_place": place_of(actor, {}) if actor.role == Role.COMMUNITY_WORKER else None,
        "draft_id": draft_id,
    }


# -- check your answers, submit, confirmation --------------------------------------------------


@bp.route("/apply/<draft_id>/check", methods=["GET", "POST"])
@roles_required(*APPLICANTS)
def check(draft_id: str) -> Response:
    """Check every answer, then submit once: a repeated submit lands on the same case."""
    actor = current_actor()
    answers = _draft_or_done(actor, draft_id)
    if isinstance(answers, Response):
        return answers
    if request.method == "GET":
        return _check_page(actor, draft_id, answers)
    try:
        case_id = runtime().retrofit.submit_application(
            actor, idempotency_key=draft_id, **submission(actor, answers)
        )
    except DomainError as e:
        return _check_page(actor, draft_id, answers, 422, e)
    runtime().catch_up()
    runtime().drafts.discard(actor.user_id, draft_id)
    return redirect(url_for(".done", case_id=case_id), 303)


def _check_page(
    actor: Actor,
    draft_id: str,
    answers: dict[str, Any],
    status: int = 200,
    error: DomainError | None = None,
) -> Response:
    fix = PAGE_OF_FIELD.get(field_for(error) or "", "elder") if error else None
    return page(
        "family/check.html",
        status,
        answers=answers,
        place=place_of(actor, answers),
        draft_id=draft_id,
        error=message_for(error) if error else None,
        fix_url=url_for(".question", draft_id=draft_id, name=fix, change="1") if fix else None,
    )


@bp.get("/apply/done/<uuid:case_id>")
@roles_required(*APPLICANTS)
def done(case_id: UUID) -> Response:
    """The confirmation: the reference number to quote, and what happens next."""
    return page("family/done.html", case=load_case(case_id))


# -- following cases ---------------------------------------------------------------------------


@bp.get("/my/cases")
@roles_required(Role.FAMILY)
def my_cases() -> Response:
    """A family's own applications, with where each one stands."""
    actor = current_actor()
    try:
        found = list_cases(
            runtime().engine, actor, now=clock.now(), cursor=request.args.get("cursor") or None
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
        "request_text": _last(entries, "ReturnedForInformation", "request"),
        "subsidy_cap": _last(entries, "HomeAssessed", "subsidy_cap"),
        "supply_form": supply or SupplyInformationForm(formdata=None, version=version),
        "confirm_form": confirm or ConfirmPlanForm(formdata=None, version=version),
        "can_withdraw": detail.step in Step.WITHDRAWABLE,
        "submitted": form,
        "stale": stale,
    }


def _last(entries: tuple[Any, ...], kind: str, key: str) -> Any:
    return next((e.details.get(key) for e in reversed(entries) if e.kind == kind), None)


# -- acting on a case --------------------------------------------------------------------------

Render = Callable[..., Response]


def _act(
    case_id: UUID,
    form: CaseActionForm,
    command: Callable[[Actor, int], object],
    render: Render,
    done_message: str,
) -> Response:
    """Handle one applicant-side step form through the portal's one way (portal.steps)."""
    return perform(
        load_case(case_id),
        form,
        lambda version: command(current_actor(), version),
        done_message,
        lambda current, status, stale: render(current, status, form, stale=stale),
        "family.case",
    )


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
    can_answer = detail.step == Step.ACCEPTED
    return page(
        "family/survey.html",
        status,
        case=detail,
        form=form,
        can_answer=can_answer,
        submitted=form if form.errors else None,
        stale=stale,
    )


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
    can_withdraw = detail.step in Step.WITHDRAWABLE
    return page(
        "family/withdraw.html", status, case=detail, form=form, can_withdraw=can_withdraw,
        submitted=form, stale=stale,
    )  # fmt: skip
