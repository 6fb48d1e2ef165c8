"""Staff rooms: the worklists of the three programmes and the retrofit case page; step forms
and the other programmes' pages live in the staff_* modules."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import partial
from typing import Any, Protocol
from uuid import UUID

from flask import Blueprint, Response, current_app, g, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
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
from projections.position_cache import PositionCache
from projections.retrofit_cases import RetrofitCaseList
from projections.retrofit_queries import WORK_STEPS, count_by_step, list_cases

bp = Blueprint("staff", __name__)

_PLACEHOLDER = UUID(int=0)
LATE_AFTER_DAYS = 10  # a case waiting longer than this in one step is tagged as late
WORKLIST_FIRST = (Role.CASEWORKER, Role.ASSESSOR, Role.INSPECTOR)
SEES_DISTRICTS = (Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)
# Who may open each programme's queue (the read models still scope the rows), and where it is.
MEAL_READERS = (Role.COMMUNITY_WORKER, Role.CASEWORKER, *SEES_DISTRICTS)
CARE_READERS = (Role.COMMUNITY_WORKER, Role.CASEWORKER, Role.ASSESSOR, *SEES_DISTRICTS)
QUEUES: dict[str, tuple[str, tuple[str, ...]]] = {
    "retrofit": ("staff.queue", Role.STAFF),
    "meal": ("staff.meal_queue", MEAL_READERS),
    "home_care": ("staff.care_queue", CARE_READERS),
}


class FoundPage(Protocol):
    """What every programme's list query returns: a page of rows and the next cursor."""

    rows: tuple[Any, ...]
    next_cursor: str | None


@bp.app_template_filter("yuan")
def yuan(amount: Decimal | str | None) -> str:
    """Money as people read it: 3,000.00."""
    return "" if amount is None else f"{Decimal(str(amount)):,.2f}"


@bp.app_template_filter("days_waiting")
def days_waiting(days: int, late_after: int) -> Markup:
    """A queue row's days in its step, tagged when late. A filter rather than a macro or an
    include, with the sentence translated once a page: done on every row, those took about a
    sixth of a 50-row queue page."""
    late, plain = _day_sentences()
    if days > late_after:
        return Markup('<span class="tag tag-late">%s</span>') % (late % {"n": days})
    return escape(plain % {"n": days})


def _day_sentences() -> tuple[str, str]:
    found = g.get("day_sentences")
    if found is None:
        found = g.day_sentences = (_("%(n)s 天,已超时"), _("%(n)s 天"))
    return found


@bp.app_template_global("link_base")
def link_base(endpoint: str, key: str) -> str:
    """The address of `endpoint` without its final id part, built once for a list's links
    (`link_base("staff.case", "case_id") ~ row.case_id`) instead of once per row."""
    return url_for(endpoint, **{key: _PLACEHOLDER}).removesuffix(str(_PLACEHOLDER))


@bp.app_template_filter("resolved")
def resolved(names: Mapping[str, Any]) -> dict[str, str]:
    """A table of lazily translated labels, translated once for the page instead of on every
    row that shows one."""
    return {key: str(label) for key, label in names.items()}


@bp.get("/cases")
@roles_required(*Role.STAFF)
def queue() -> Response:
    """The retrofit worklist: cases this role may see, longest waiting first, a page at a time."""
    actor = current_actor()
    default_view = "mine" if actor.role in WORKLIST_FIRST else "all"
    form = QueueFilterForm(formdata=request.args, view=default_view)
    steps = {s: labels.STEPS[s] for s in Step.ALL}
    with_choices(form, actor, steps, _step_counts(actor), worklist=actor.role in WORK_STEPS)
    return show_queue(
        "retrofit",
        form,
        lambda cursor, filters: list_cases(
            runtime().engine, actor, now=clock.now(), cursor=cursor, **filters
        ),
        "staff/_case_rows.html",
        applicant_side=actor.role == Role.COMMUNITY_WORKER,
    )


def _step_counts(actor: Actor) -> Callable[..., dict[str, int]]:
    """count_by_step for this actor, kept while the case list's read model has not moved on:
    counting a district's cases on every queue page would cost more than the rest of it."""
    rt = runtime()
    cache = current_app.extensions.setdefault("anlao.step_counts", PositionCache())
    position = rt.projector.position(RetrofitCaseList.name)  # read before counting

    def counts(district: str = "") -> dict[str, int]:
        return cache.get(
            (actor, district), position, partial(count_by_step, rt.engine, actor, district=district)
        )

    return counts


def with_choices(
    form: FlaskForm,
    actor: Actor,
    steps: Mapping[str, str],
    counts: Callable[..., dict[str, int]],
    *,
    worklist: bool,
) -> FlaskForm:
    """Give a queue's filters their choices (and step counts) for this actor; drop the filters
    that mean nothing to it (no worklist, or a single district)."""
    if not worklist:
        del form.view
    if actor.role in SEES_DISTRICTS:
        names = [SelectChoice(d.code, labels.district_name(d.code)) for d in DISTRICTS]
        form.district.choices = [SelectChoice("", _("全部区县")), *names]
    else:
        del form.district
    known = {d.code for d in DISTRICTS}
    district = form.district.data if form.district and form.district.data in known else ""
    found = counts(district=district)
    choices = [SelectChoice(s, f"{label}({found.get(s, 0)})") for s, label in steps.items()]
    form.step.choices = [SelectChoice("", _("全部环节")), *choices]
    return form


def show_queue(
    programme: str,
    form: FlaskForm,
    lister: Callable[[str | None, dict[str, Any]], FoundPage],
    rows_template: str,
    **context: Any,
) -> Response:
    """Any programme's queue: check the filters, fetch one keyset page, render page or rows."""
    endpoint = QUEUES[programme][0]
    if not form.validate():
        return _bad_filters(form, programme)
    cursor = request.args.get("cursor") or None
    try:
        found = lister(cursor, form.filters())
    except ValueError:  # a cursor we did not write: an edited or truncated link
        return page("error.html", status=400, title=_("这一页的链接不完整"),
                    text=_("请回到工作台第一页,再点“下一页”。"))  # fmt: skip
    more = found.next_cursor
    return page_or_fragment(
        "staff/queue.html", rows_template, form=form, found=found,
        names=runtime().persons.names([row.person_id for row in found.rows]),
        next_url=url_for(endpoint, **form.query_args(), cursor=more) if more else None,
        first_url=url_for(endpoint, **form.query_args()) if cursor else None,
        late_after=LATE_AFTER_DAYS, several_districts=current_actor().role in SEES_DISTRICTS,
        **_queue_frame(programme, rows_template), **context,
    )  # fmt: skip


def _queue_frame(programme: str, rows_template: str) -> dict[str, Any]:
    """What the queue page around the rows needs: where it posts, and the programme switch."""
    role = current_actor().role
    switch = [(code, url_for(endpoint)) for code, (endpoint, roles) in QUEUES.items()
              if role in roles]  # fmt: skip
    return {
        "programme": programme,
        "queue_url": url_for(QUEUES[programme][0]),
        "rows_template": rows_template,
        "switch": switch if len(switch) > 1 else [],
    }


def _bad_filters(form: FlaskForm, programme: str) -> Response:
    """Filter values we cannot use: say which, clearly, with status 400."""
    if htmx:
        # htmx does not swap a 400: load the whole page, which shows the message.
        response = Response(status=400)
        response.headers["HX-Redirect"] = request.full_path
        return response
    frame = _queue_frame(programme, "")
    return page("staff/queue.html", status=400, form=form, found=None, **frame)


@bp.get("/cases/<uuid:case_id>")
@roles_required(*Role.STAFF)
def case(case_id: UUID) -> Response:
    """One case for staff: the elder, the plan, the history, and what this role may do now."""
    return render_case(load_case(case_id))


# The step forms and the other programmes attach their routes to `bp` (imported last: they
# import `bp` and the queue helpers from here).
from portal.blueprints import (  # noqa: E402, F401
    staff_assessment,
    staff_home_care,
    staff_inspection,
    staff_meal,
    staff_review,
)
