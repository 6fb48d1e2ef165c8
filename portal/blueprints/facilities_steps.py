"""The step forms on a facility's page: milestones and deadline, beds and rooms (caseworkers
of the district, admins), and inspections with photos (inspectors of the district)."""

from __future__ import annotations

from uuid import UUID

from flask import Response
from flask_babel import gettext as _

from portal.blueprints.facilities import FACILITY_STEPS, bp, load_facility
from portal.blueprints.staff_case import store_photos
from portal.runtime import runtime
from portal.users import current_actor, roles_required
from services.facilities import ALLOWED


@bp.post("/<uuid:case_id>/milestone")
@roles_required(*ALLOWED["milestone"])
def milestone(case_id: UUID) -> Response:
    """Record the next milestone on its date; one out of order is refused with the reason."""
    return FACILITY_STEPS.submit(
        case_id,
        "milestone",
        lambda f, v: runtime().facilities.reach_milestone(
            current_actor(), case_id, v, milestone=f.milestone.data or "", on=f.on.data or ""
        ),
        _("进度节点已登记。"),
    )


@bp.post("/<uuid:case_id>/deadline")
@roles_required(*ALLOWED["deadline"])
def deadline(case_id: UUID) -> Response:
    """Move the project's deadline, saying why."""
    return FACILITY_STEPS.submit(
        case_id,
        "deadline",
        lambda f, v: runtime().facilities.revise_deadline(
            current_actor(), case_id, v, deadline=f.deadline.data or "", reason=f.reason.data or ""
        ),
        _("完工期限已调整。"),
    )


@bp.post("/<uuid:case_id>/beds")
@roles_required(*ALLOWED["capacity"])
def beds(case_id: UUID) -> Response:
    """An institution's beds before and after renovation, and its nursing beds."""
    return FACILITY_STEPS.submit(
        case_id,
        "beds",
        lambda f, v: runtime().facilities.record_beds(current_actor(), case_id, v, **f.counts()),
        _("床位情况已保存。"),
    )


@bp.post("/<uuid:case_id>/rooms")
@roles_required(*ALLOWED["capacity"])
def rooms(case_id: UUID) -> Response:
    """The functional rooms the renovation adds."""
    return FACILITY_STEPS.submit(
        case_id,
        "rooms",
        lambda f, v: runtime().facilities.record_rooms(
            current_actor(), case_id, v, rooms=list(f.rooms.data or [])
        ),
        _("功能用房已保存。"),
    )


@bp.post("/<uuid:case_id>/site-inspection")
@roles_required(*ALLOWED["inspect"])
def site_inspection(case_id: UUID) -> Response:
    """A supervision visit: findings, whether follow-up is needed, photos."""
    return FACILITY_STEPS.submit(
        case_id,
        "site_inspection",
        lambda f, v: runtime().facilities.log_site_inspection(
            current_actor(),
            case_id,
            v,
            findings=f.findings.data or "",
            follow_up_required=f.follow_up_required.data == "yes",
            photos=store_photos(f.photos.data),
            inspected_on=f.inspected_on.data or "",
        ),
        _("现场检查已记录。"),
    )


@bp.post("/<uuid:case_id>/food-safety")
@roles_required(*ALLOWED["inspect"])
def food_safety(case_id: UUID) -> Response:
    """A canteen's food-safety check: passed or not, what was found, photos."""
    return FACILITY_STEPS.submit(
        case_id,
        "food_safety",
        lambda f, v: runtime().facilities.log_food_safety_inspection(
            current_actor(),
            case_id,
            v,
            passed=f.passed.data == "yes",
            findings=f.findings.data or "",
            photos=store_photos(f.photos.data),
            inspected_on=f.inspected_on.data or "",
        ),
        _("食品安全检查已记录。"),
    )


@bp.post("/<uuid:case_id>/acceptance")
@roles_required(*ALLOWED["inspect"])
def acceptance(case_id: UUID) -> Response:
    """An institution's acceptance check: safe, functional, well managed; a photo at least."""
    return FACILITY_STEPS.submit(
        case_id,
        "acceptance",
        lambda f, v: runtime().facilities.inspect_acceptance(
            current_actor(),
            case_id,
            v,
            safe=bool(f.safe.data),
            functional=bool(f.functional.data),
            well_managed=bool(f.well_managed.data),
            photos=store_photos(f.photos.data),
            remarks=f.remarks.data or "",
            inspected_on=f.inspected_on.data or "",
        ),
        lambda: _acceptance_outcome(case_id),
    )


def _acceptance_outcome(case_id: UUID) -> str:
    if load_facility(case_id).status.acceptance_passed:
        return _("验收通过。现在可以登记“投入运营”了。")
    return _("验收未通过,已记录需要整改的问题。整改后请再次验收。")
