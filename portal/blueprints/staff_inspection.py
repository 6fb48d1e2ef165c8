"""Inspectors: site inspections during works, the acceptance inspection, and case photos."""

from __future__ import annotations

from uuid import UUID

from flask import Response, abort, flash, redirect, send_file, url_for
from flask_babel import gettext as _

from events.roles import Role
from portal.blueprints.staff import bp
from portal.blueprints.staff_case import available_actions, store_photos, submit_step
from portal.forms.staff import AcceptanceForm, acceptance_form
from portal.rendering import page
from portal.runtime import runtime
from portal.steps import load_case, perform
from portal.users import current_actor, roles_required
from projections.retrofit_queries import CaseDetail
from projections.staff_queries import case_photos
from services.retrofit import ALLOWED


@bp.post("/cases/<uuid:case_id>/site-inspection")
@roles_required(*ALLOWED["inspect"])
def site_inspection(case_id: UUID) -> Response:
    """Log a supervision visit while works go on, with optional photos."""
    return submit_step(
        case_id,
        "site_inspection",
        lambda f, v: runtime().retrofit.log_site_inspection(
            current_actor(),
            case_id,
            v,
            findings=f.findings.data or "",
            follow_up_required=f.follow_up_required.data == "yes",
            photos=store_photos(f.photos.data),
        ),
        _("现场检查已记录。"),
    )


@bp.get("/cases/<uuid:case_id>/acceptance")
@roles_required(*ALLOWED["inspect"])
def acceptance(case_id: UUID) -> Response:
    """The acceptance form: every planned item checked (installed, works, safe), photos."""
    case = load_case(case_id)
    if "acceptance" not in available_actions(case, current_actor()):
        flash(_("这个案件现在不在待验收环节。"), "info")
        return redirect(url_for("staff.case", case_id=case_id), 303)
    form = acceptance_form(_planned(case), formdata=None, version=str(case.version))
    return _page(case, form)


@bp.post("/cases/<uuid:case_id>/acceptance")
@roles_required(*ALLOWED["inspect"])
def inspect_acceptance(case_id: UUID) -> Response:
    """Record the acceptance inspection; a fail sends the case to rectification."""
    case = load_case(case_id)
    form = acceptance_form(_planned(case))
    return perform(
        case,
        form,
        lambda v: runtime().retrofit.inspect_acceptance(
            current_actor(),
            case_id,
            v,
            results=form.results(),
            photos=store_photos(form.photos.data),
            remarks=form.remarks.data or "",
        ),
        lambda: _outcome(case_id),
        lambda current, status, notice: _page(current, form, status, notice),
        "staff.case",
    )


@bp.get("/cases/<uuid:case_id>/photos/<sha256>")
@roles_required(*Role.STAFF)
def photo(case_id: UUID, sha256: str) -> Response:
    """A case's inspection photo, only to those who may see the case, only if it is its own."""
    load_case(case_id)
    media_types = {p.sha256: p.media_type for p in case_photos(runtime().engine, case_id)}
    path = runtime().photos.path_for(sha256) if sha256 in media_types else None
    if path is None:
        abort(404)
    response = send_file(path, mimetype=media_types[sha256])
    # Photos of people's homes: kept in no cache, shared or not (portal.security adds no-store).
    response.cache_control.private = True
    return response


def _planned(case: CaseDetail) -> tuple[str, ...]:
    return tuple(str(item["code"]) for item in case.assessment_items)


def _outcome(case_id: UUID) -> str:
    passed = load_case(case_id).last_acceptance_passed
    return _("验收通过") if passed else _("验收未通过,已转入整改")


def _page(
    case: CaseDetail, form: AcceptanceForm, status: int = 200, notice: str | None = None
) -> Response:
    return page(
        "staff/acceptance.html",
        status=status,
        case=case,
        form=form,
        notice=notice,
        may_accept="acceptance" in available_actions(case, current_actor()),
        elder_name=runtime().persons.names([case.person_id]).get(case.person_id) or "",
    )
