"""A family's home care case: where it stands, this month's visits and hours, and its actions."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Response, abort, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from events import clock
from events.home_care import CareStep
from portal import labels
from portal.blueprints.family import (
    APPLICANTS,
    act_on,
    bp,
    last_detail,
    survey_page,
    withdraw_page,
)
from portal.forms.family import CaseActionForm, SupplyInformationForm, WithdrawForm
from portal.forms.family_home_care import CareSurveyForm
from portal.people import elder_view
from portal.rendering import page_or_fragment
from portal.runtime import runtime
from portal.timeline import describe
from portal.users import current_actor, roles_required
from projections.family_queries import facility_names
from projections.home_care_queries import (
    CareCaseDetail,
    CareHours,
    care_case_detail,
    care_timeline,
    case_visits,
    hours_per_case,
)

SERVING = (CareStep.IN_SERVICE, CareStep.CLOSED)  # visits have been (or may be) made

# What the family reads at each step: where the case is, and what happens next.
NEXT_STEP = {
    CareStep.SUBMITTED: _l("审核员会尽快受理申请,受理后会安排评估员上门评估。"),
    CareStep.RETURNED: _l("审核员需要您补充一些信息。请看下面的要求,填好后提交。"),
    CareStep.REJECTED: _l(
        "很抱歉,申请没有通过审核,原因写在下面的办理进度里。如有疑问,请联系所在社区。"
    ),
    CareStep.ASSESSOR_ASSIGNED: _l(
        "评估员会打电话和您约定上门时间,看看老人需要哪些照护。请保持电话畅通。"
    ),
    CareStep.ASSESSED: _l("评估已经完成,审核员正在审核评估结果。"),
    CareStep.APPROVED: _l("审核通过了,我们正在安排上门照护服务机构。"),
    CareStep.IN_SERVICE: _l(
        "服务机构的护理员会按约定上门服务。每次服务后,请老人或家属确认。"
        "本月的服务记录和时长显示在下面。"
    ),
    CareStep.CLOSED: _l("上门照护服务已经结束,原因写在下面的办理进度里。"),
    CareStep.WITHDRAWN: _l("这个申请已经撤回。如果还需要上门照护,可以重新申请。"),
}


def load_care_case(case_id: UUID) -> CareCaseDetail:
    """The case if the signed-in user may see it; 404 otherwise, as if it did not exist."""
    found = care_case_detail(runtime().engine, current_actor(), case_id)
    if found is None:
        abort(404)
    return found


@bp.get("/my/care/<uuid:case_id>")
@roles_required(*APPLICANTS)
def care_case(case_id: UUID) -> Response:
    """Where the case stands, the care granted, this month's visits and hours, its history."""
    return _care_page(load_care_case(case_id))


def _care_page(
    detail: CareCaseDetail,
    status: int = 200,
    form: CaseActionForm | None = None,
    stale: str | None = None,
) -> Response:
    return page_or_fragment(
        "family/care_case.html",
        "family/_care_case_live.html",
        status,
        **_care_context(detail, form, stale),
        elder=elder_view(runtime().persons, detail.person_id, current_actor()),
        needs=runtime().persons.needs(detail.case_id),
    )


def _care_context(
    detail: CareCaseDetail, form: CaseActionForm | None, stale: str | None
) -> dict[str, Any]:
    """What the live part shows: status, care granted, this month's service, action, history."""
    engine = runtime().engine
    entries = care_timeline(engine, detail.case_id)
    supply = form if isinstance(form, SupplyInformationForm) else None
    visits = _visits_this_month(detail)
    return {
        "case": detail,
        "next_step": NEXT_STEP.get(detail.step, ""),
        "provider_name": facility_names(engine, [detail.provider_id]).get(detail.provider_id, "")
        if detail.provider_id
        else "",
        "hours": _hours_this_month(detail),
        "visits": visits,
        "timeline": describe(entries, programme="home_care"),
        "request_text": last_detail(entries, "ReturnedForInformation", "request"),
        "supply_form": supply or SupplyInformationForm(formdata=None, version=detail.version),
        "can_withdraw": detail.step in CareStep.WITHDRAWABLE,
        "can_survey": _can_survey(detail),
        "submitted": form,
        "stale": stale,
    }


def _hours_this_month(detail: CareCaseDetail) -> CareHours | None:
    if detail.step not in SERVING:
        return None
    today = clock.today()
    found = hours_per_case(
        runtime().engine, start=today.replace(day=1), end=today, case_id=detail.case_id
    )
    return found.get(detail.case_id, CareHours(0, 0))


def _visits_this_month(detail: CareCaseDetail) -> tuple[Any, ...]:
    if detail.step not in SERVING:
        return ()
    first = clock.today().replace(day=1)
    visits = case_visits(runtime().engine, detail.case_id)
    return tuple(v for v in visits if not v.cancelled and v.visit_date >= first)


def _can_survey(detail: CareCaseDetail) -> bool:
    """Offer the survey once visits have been made (the service judges "since the last one")."""
    if detail.step not in SERVING:
        return False
    return any(not v.cancelled for v in case_visits(runtime().engine, detail.case_id))


@bp.post("/my/care/<uuid:case_id>/supply")
@roles_required(*APPLICANTS)
def care_supply_information(case_id: UUID) -> Response:
    """The family answers the caseworker's request; the case goes back to review."""
    form = SupplyInformationForm()
    return act_on(
        load_care_case,
        case_id,
        form,
        lambda actor, v: runtime().home_care.supply_information(
            actor, case_id, v, reply=form.reply.data
        ),
        _care_page,
        _("谢谢,补充的信息已经交给审核员。"),
        "family.care_case",
    )


@bp.route("/my/care/<uuid:case_id>/withdraw", methods=["GET", "POST"])
@roles_required(*APPLICANTS)
def care_withdraw(case_id: UUID) -> Response:
    """Withdraw the application, saying why; possible until a provider is assigned."""
    if request.method == "GET":
        detail = load_care_case(case_id)
        return _withdraw_page(detail, 200, WithdrawForm(formdata=None, version=detail.version))
    form = WithdrawForm()
    return act_on(
        load_care_case,
        case_id,
        form,
        lambda actor, v: runtime().home_care.withdraw(actor, case_id, v, reason=form.reason.data),
        _withdraw_page,
        _("申请已经撤回。"),
        "family.care_case",
    )


def _withdraw_page(
    detail: CareCaseDetail, status: int, form: Any, stale: str | None = None
) -> Response:
    return withdraw_page(
        detail, status, form, stale,
        can_withdraw=detail.step in CareStep.WITHDRAWABLE,
        step_label=labels.CARE_STEPS.get(detail.step, detail.step),
        action=url_for(".care_withdraw", case_id=detail.case_id),
        back=url_for(".care_case", case_id=detail.case_id),
        lead=_("撤回以后,这个申请就不再办理了。如果以后还需要上门照护,可以重新申请。"),
        cannot=_(
            "服务机构已经开始上门服务,或申请已经结束,不能再撤回了。"
            "如需停止服务,请联系所在社区或审核员。"
        ),
    )  # fmt: skip


@bp.route("/my/care/<uuid:case_id>/survey", methods=["GET", "POST"])
@roles_required(*APPLICANTS)
def care_survey(case_id: UUID) -> Response:
    """The satisfaction survey on the visits made: five 1-5 questions and a comment."""
    if request.method == "GET":
        detail = load_care_case(case_id)
        return _survey_page(detail, 200, CareSurveyForm(formdata=None, version=detail.version))
    form = CareSurveyForm()
    return act_on(
        load_care_case,
        case_id,
        form,
        lambda actor, v: runtime().home_care.answer_survey(
            actor, case_id, v, scores=form.scores(), comment=form.comment.data or ""
        ),
        _survey_page,
        _("谢谢您的评价!"),
        "family.care_case",
    )


def _survey_page(
    detail: CareCaseDetail, status: int, form: Any, stale: str | None = None
) -> Response:
    return survey_page(
        detail, status, form, stale,
        can_answer=_can_survey(detail),
        step_label=labels.CARE_STEPS.get(detail.step, detail.step),
        action=url_for(".care_survey", case_id=detail.case_id),
        back=url_for(".care_case", case_id=detail.case_id),
        lead=_(
            "请根据老人和家人的实际感受,为上门照护服务打分:1分最不满意,5分最满意。"
        ),
        cannot=_("护理员上门服务以后,才能评价服务。"),
    )  # fmt: skip
