"""Staff rooms: the worklist and the case page; step forms live in the staff_* modules."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from flask import Blueprint, Response, request, url_for
from flask_babel import gettext as _
from wtforms import SelectChoice

from events import clock
from events.districts import DISTRICTS
from events.retrofit import Step
from events.roles import Actor, Role
from portal import labels
from portal.blueprints.staff_case import render_case
from portal.extensions import htmx
from portal.forms.staff import QueueFilterForm
from portal.rendering import page, page_or_fragment
from portal.runtime import runtime
from portal.steps import load_case
from portal.users import current_actor, roles_required
from projections.retrofit_queries import WORK_STEPS, count_by_step, list_cases

bp = Blueprint("staff", __name__)

LATE_AFTER_DAYS = 10  # a case waiting longer than this in one step is tagged as late
WORKLIST_FIRST = (Role.CASEWORKER, Role.ASSESSOR, Role.INSPECTOR)
SEES_DISTRICTS = (Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)


@bp.app_template_filter("yuan")
def yuan(amount: Decimal | str | None) -> str:
    """Money as people read it: 3,000.00."""
    return "" if amount is None else f"{Decimal(str(amount)):,.2f}"


@bp.get("/cases")
@roles_required(*Role.STAFF)
def queue() -> Response:
    """The worklist: cases this role may see, longest waiting first, filtered, a page at a time."""
    actor = current_actor()
    form = _filter_form(actor)
    if not form.validate():
        return _bad_filters(form)
    cursor = request.args.get("cursor") or None
    try:
        found = list_cases(
            runtime().engine, actor, now=clock.now(), cursor=cursor, **form.filters()
        )
    except ValueError:  # a cursor we did not write: an edited or truncated link
        return page("error.html", status=400, title=_("这一页的链接不完整"),
                    text=_("请回到工作台第一页,再点“下一页”。"))  # fmt: skip
    more = found.next_cursor
    return page_or_fragment(
        "staff/queue.html", "staff/_case_rows.html", form=form, found=found,
        names=runtime().persons.names([row.person_id for row in found.rows]),
        next_url=url_for("staff.queue", **form.query_args(), cursor=more) if more else None,
        first_url=url_for("staff.queue", **form.query_args()) if cursor else None,
        late_after=LATE_AFTER_DAYS, applicant_side=actor.role == Role.COMMUNITY_WORKER,
        several_districts=actor.role in SEES_DISTRICTS,
    )  # fmt: skip


def _filter_form(actor: Actor) -> QueueFilterForm:
    """The filters from the query string, with choices (and step counts) for this actor."""
    default_view = "mine" if actor.role in WORKLIST_FIRST else "all"
    form = QueueFilterForm(formdata=request.args, view=default_view)
    if actor.role not in WORK_STEPS:
        del form.view
    if actor.role in SEES_DISTRICTS:
        names = [SelectChoice(d.code, labels.district_name(d.code)) for d in DISTRICTS]
        form.district.choices = [SelectChoice("", _("全部区县")), *names]
    else:
        del form.district
    known = {d.code for d in DISTRICTS}
    district = form.district.data if form.district and form.district.data in known else ""
    counts = count_by_step(runtime().engine, actor, district=district)
    steps = [SelectChoice(s, f"{labels.STEPS[s]}({counts.get(s, 0)})") for s in Step.ALL]
    form.step.choices = [SelectChoice("", _("全部环节")), *steps]
    return form


def _bad_filters(form: QueueFilterForm) -> Response:
    """Filter values we cannot use: say which, clearly, with status 400."""
    if htmx:
        # htmx does not swap a 400: load the whole page, which shows the message.
        response = Response(status=400)
        response.headers["HX-Redirect"] = request.full_path
        return response
    return page("staff/queue.html", status=400, form=form, found=None)


@bp.get("/cases/<uuid:case_id>")
@roles_required(*Role.STAFF)
def case(case_id: UUID) -> Response:
    """One case for staff: the elder, the plan, the history, and what this role may do now."""
    return render_case(load_case(case_id))


# The step forms attach their routes to `bp` (imported last: they import `bp` from here).
from portal.blueprints import staff_assessment, staff_inspection, staff_review  # noqa: E402, F401
