"""A family's meal-service enrolment: where it stands, the days served, and its actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from flask import Response, abort, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from events import clock
from events.meal import EnrolmentStep
from portal import labels
from portal.blueprints.family import (
    APPLICANTS,
    act_on,
    bp,
    last_detail,
    withdraw_page,
)
from portal.forms.family import CaseActionForm
from portal.forms.family_meal import MealSupplyForm, MealWithdrawForm
from portal.people import elder_view
from portal.rendering import page_or_fragment
from portal.runtime import runtime
from portal.timeline import describe
from portal.users import current_actor, roles_required
from projections.family_queries import facility_names
from projections.meal_queries import (
    EnrolmentDetail,
    enrolment_detail,
    enrolment_timeline,
    meals_of_enrolment,
)

RECENT_DAYS = 30  # how far back the page lists the days the elder was served

# What the family reads at each step: where the enrolment is, and what happens next.
NEXT_STEP = {
    EnrolmentStep.SUBMITTED: _l("审核员会尽快审核申请,结果会显示在这里。"),
    EnrolmentStep.RETURNED: _l("审核员需要您补充一些信息。请看下面的要求,填好后提交。"),
    EnrolmentStep.APPROVED: _l(
        "老人已经开通助餐,可以按选定的方式用餐了。每天的用餐记录会显示在下面。"
    ),
    EnrolmentStep.REJECTED: _l(
        "很抱歉,申请没有通过审核,原因写在下面的办理进度里。如有疑问,请联系所在社区。"
    ),
    EnrolmentStep.WITHDRAWN: _l("这个申请已经撤回。如果还需要助餐,可以重新申请。"),
    EnrolmentStep.ENDED: _l(
        "助餐服务已经停止,原因写在下面的办理进度里。如果还需要助餐,可以重新申请。"
    ),
}


def load_enrolment(case_id: UUID) -> EnrolmentDetail:
    """The enrolment if the signed-in user may see it; 404 otherwise, as if it did not exist."""
    found = enrolment_detail(runtime().engine, current_actor(), case_id)
    if found is None:
        abort(404)
    return found


@bp.get("/my/meals/<uuid:case_id>")
@roles_required(*APPLICANTS)
def meal_case(case_id: UUID) -> Response:
    """Where the enrolment stands, the canteen and mode, the days served, and its history."""
    return _meal_page(load_enrolment(case_id))


def _meal_page(
    detail: EnrolmentDetail,
    status: int = 200,
    form: CaseActionForm | None = None,
    stale: str | None = None,
) -> Response:
    return page_or_fragment(
        "family/meal_case.html",
        "family/_meal_case_live.html",
        status,
        **_meal_context(detail, form, stale),
        elder=elder_view(runtime().persons, detail.person_id, current_actor()),
        dietary_needs=runtime().persons.needs(detail.case_id),
    )


def _meal_context(
    detail: EnrolmentDetail, form: CaseActionForm | None, stale: str | None
) -> dict[str, Any]:
    """What the live part shows: status, canteen and mode, meals served, the action, history."""
    engine = runtime().engine
    entries = enrolment_timeline(engine, detail.case_id)
    supply = form if isinstance(form, MealSupplyForm) else None
    since = clock.today() - timedelta(days=RECENT_DAYS - 1)
    served = meals_of_enrolment(engine, detail.case_id, start=since) if detail.enrolled_on else ()
    return {
        "case": detail,
        "next_step": NEXT_STEP.get(detail.step, ""),
        "canteen_name": facility_names(engine, [detail.canteen_id]).get(detail.canteen_id, ""),
        "served_days": tuple(reversed(served)),
        "recent_days": RECENT_DAYS,
        "timeline": describe(entries, programme="meal"),
        "request_text": last_detail(entries, "ReturnedForInformation", "request"),
        "supply_form": supply or MealSupplyForm(formdata=None, version=detail.version),
        "can_withdraw": detail.step in EnrolmentStep.WITHDRAWABLE,
        "submitted": form,
        "stale": stale,
    }


@bp.post("/my/meals/<uuid:case_id>/supply")
@roles_required(*APPLICANTS)
def meal_supply_information(case_id: UUID) -> Response:
    """The family answers the caseworker's request; the application goes back to review."""
    form = MealSupplyForm()
    return act_on(
        load_enrolment,
        case_id,
        form,
        lambda actor, v: runtime().meals.supply_information(
            actor, case_id, v, reply=form.reply.data
        ),
        _meal_page,
        _("谢谢,补充的信息已经交给审核员。"),
        "family.meal_case",
    )


@bp.route("/my/meals/<uuid:case_id>/withdraw", methods=["GET", "POST"])
@roles_required(*APPLICANTS)
def meal_withdraw(case_id: UUID) -> Response:
    """Withdraw the application, or stop the meals once enrolled, saying why."""
    if request.method == "GET":
        detail = load_enrolment(case_id)
        form = MealWithdrawForm(formdata=None, version=detail.version)
        return _withdraw_page(detail, 200, form)
    form = MealWithdrawForm()
    return act_on(
        load_enrolment,
        case_id,
        form,
        lambda actor, v: runtime().meals.withdraw(actor, case_id, v, reason=form.reason.data),
        _withdraw_page,
        _("已经撤回,食堂不会再为老人安排助餐。"),
        "family.meal_case",
    )


def _withdraw_page(
    detail: EnrolmentDetail, status: int, form: Any, stale: str | None = None
) -> Response:
    enrolled = detail.step == EnrolmentStep.APPROVED
    return withdraw_page(
        detail, status, form, stale,
        can_withdraw=detail.step in EnrolmentStep.WITHDRAWABLE,
        step_label=labels.MEAL_STEPS.get(detail.step, detail.step),
        action=url_for(".meal_withdraw", case_id=detail.case_id),
        back=url_for(".meal_case", case_id=detail.case_id),
        lead=_("撤回以后,从今天起食堂不再为老人安排助餐。如果以后还需要,可以重新申请。")
        if enrolled
        else _("撤回以后,这个申请就不再办理了。如果以后还需要助餐,可以重新申请。"),
        cannot=_("这个申请已经处理完毕或助餐已经结束,不能再撤回。如有困难,请联系所在社区。"),
    )  # fmt: skip
