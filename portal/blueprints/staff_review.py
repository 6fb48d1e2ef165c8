"""Caseworkers' (and inspectors') step forms on the case page: review, contractor, works, close."""

from __future__ import annotations

from uuid import UUID

from flask import Response
from flask_babel import gettext as _

from portal.blueprints.staff import bp
from portal.blueprints.staff_case import submit_step
from portal.runtime import runtime
from portal.users import current_actor, roles_required
from services.retrofit import ALLOWED


@bp.post("/cases/<uuid:case_id>/approve")
@roles_required(*ALLOWED["review"])
def approve(case_id: UUID) -> Response:
    """Eligible: the chosen assessor will visit the home."""
    return submit_step(
        case_id,
        "approve",
        lambda f, v: runtime().retrofit.approve(
            current_actor(), case_id, v, assessor_id=f.assessor_id.data, note=f.note.data or ""
        ),
        _("已审核通过。评估员会联系老人家里约定上门时间。"),
    )


@bp.post("/cases/<uuid:case_id>/reject")
@roles_required(*ALLOWED["review"])
def reject(case_id: UUID) -> Response:
    """Not eligible, with the reason the family will read."""
    return submit_step(
        case_id,
        "reject",
        lambda f, v: runtime().retrofit.reject(
            current_actor(), case_id, v, reason=f.reason.data or ""
        ),
        _("已记录审核不通过。申请人会看到您写的原因。"),
    )


@bp.post("/cases/<uuid:case_id>/ask-information")
@roles_required(*ALLOWED["review"])
def ask_information(case_id: UUID) -> Response:
    """Return the application to the family, saying what is missing."""
    return submit_step(
        case_id,
        "ask_information",
        lambda f, v: runtime().retrofit.return_for_information(
            current_actor(), case_id, v, request=f.request.data or ""
        ),
        _("已退回申请人补充材料。补充后案件会回到待审核。"),
    )


@bp.post("/cases/<uuid:case_id>/assign")
@roles_required(*ALLOWED["assign_contractor"])
def assign(case_id: UUID) -> Response:
    """Name the contractor and the inspector who will accept the works."""
    return submit_step(
        case_id,
        "assign",
        lambda f, v: runtime().retrofit.assign_contractor(
            current_actor(),
            case_id,
            v,
            contractor=f.contractor.data or "",
            inspector_id=f.inspector_id.data,
        ),
        _("已安排施工单位和验收员。"),
    )


@bp.post("/cases/<uuid:case_id>/works/start")
@roles_required(*ALLOWED["works"])
def start_works(case_id: UUID) -> Response:
    """Works have begun at the home (from now on the family can no longer withdraw)."""
    return submit_step(
        case_id,
        "start_works",
        lambda _f, v: runtime().retrofit.start_works(current_actor(), case_id, v),
        _("已记录开工。"),
    )


@bp.post("/cases/<uuid:case_id>/works/complete")
@roles_required(*ALLOWED["works"])
def complete_works(case_id: UUID) -> Response:
    """The works are finished and wait for the acceptance inspection."""
    return submit_step(
        case_id,
        "complete_works",
        lambda _f, v: runtime().retrofit.complete_works(current_actor(), case_id, v),
        _("已记录完工,等待验收。"),
    )


@bp.post("/cases/<uuid:case_id>/rectification")
@roles_required(*ALLOWED["rectification"])
def rectify(case_id: UUID) -> Response:
    """Failed items were redone: the case goes back for acceptance."""
    return submit_step(
        case_id,
        "rectify",
        lambda f, v: runtime().retrofit.complete_rectification(
            current_actor(), case_id, v, note=f.note.data or ""
        ),
        _("已记录整改完成,等待再次验收。"),
    )


@bp.post("/cases/<uuid:case_id>/close")
@roles_required(*ALLOWED["close"])
def close(case_id: UUID) -> Response:
    """File the finished case."""
    return submit_step(
        case_id,
        "close",
        lambda f, v: runtime().retrofit.close_case(
            current_actor(), case_id, v, note=f.note.data or ""
        ),
        _("案件已办结。"),
    )


@bp.post("/cases/<uuid:case_id>/follow-up")
@roles_required(*ALLOWED["follow_up"])
def follow_up(case_id: UUID) -> Response:
    """A later visit or call: are the items still there and used?"""
    return submit_step(
        case_id,
        "follow_up",
        lambda f, v: runtime().retrofit.record_follow_up(
            current_actor(),
            case_id,
            v,
            note=f.note.data or "",
            still_in_use=f.still_in_use.data == "yes",
        ),
        _("跟踪回访已记录。"),
    )
