"""The provider's room: its own facility only — today's meals, the visit log, staffing reports.

Every page acts for `current_actor().facility_id`; no facility id is ever read from the URL or
a form, so a provider cannot even name another facility's records. The pages of each kind of
work live in provider_meals, provider_visits and provider_staffing, attached to this blueprint.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from flask import Blueprint, Response, abort, request
from flask_babel import gettext as _

from events import clock
from events.facility import Kind
from events.roles import Actor, Role
from portal import labels, steps
from portal.extensions import htmx
from portal.forms.provider import DayPicker, ProviderForm
from portal.rendering import page
from portal.runtime import runtime
from portal.users import current_actor, roles_required
from projections.facility_queries import FacilityStatus, facility_progress
from projections.home_care_queries import count_by_step
from projections.meal_queries import canteen_day
from projections.workforce_queries import staffing_history
from services.facilities import REPORTS_STAFFING

bp = Blueprint("provider", __name__, url_prefix="/provider")

# The work of each kind of facility, as the room links to it (endpoint, in this order).
ROOM_LINKS: dict[str, tuple[str, ...]] = {
    Kind.CANTEEN: ("provider.meals",),
    Kind.HOME_CARE_PROVIDER: ("provider.visits", "provider.staffing"),
    Kind.INSTITUTION: ("provider.staffing",),
    Kind.CARE_CENTRE: ("provider.staffing",),
}
STAFFING_KINDS = REPORTS_STAFFING

# Re-render the page of a refused form: (status, notice about a newer state or None).
Rerender = Callable[[int, str | None], Response]


@bp.get("/")
@roles_required(Role.PROVIDER)
def room() -> Response:
    """The provider's start page: which facility this is, and the work it does here."""
    facility = own_facility()
    return page(
        "provider/room.html",
        facility=facility,
        links=ROOM_LINKS.get(facility.kind, ()),
        work=_room_status(current_actor(), facility),
    )


def _room_status(actor: Actor, facility: FacilityStatus) -> dict[str, object]:
    """A line per kind of work: today's meals recorded, clients in service, last report."""
    engine, today = runtime().engine, clock.today()
    work: dict[str, object] = {}
    if facility.kind == Kind.CANTEEN:
        work["meals_today"] = canteen_day(engine, actor, facility.facility_id, today)
    if facility.kind == Kind.HOME_CARE_PROVIDER:
        work["in_service"] = sum(count_by_step(engine, actor).values())
    if facility.kind in STAFFING_KINDS:
        reports = staffing_history(engine, actor, facility.facility_id)
        work["last_report"] = reports[-1].period if reports else None
    return work


# -- the facility every page acts for ------------------------------------------------------------
def own_facility(kinds: tuple[str, ...] = (), refusal: str = "") -> FacilityStatus:
    """The signed-in provider's facility; a plain 403 page when it has none or is another kind."""
    actor = current_actor()
    found = _facility_of(actor)
    if found is None:
        abort(
            _explain(
                _("账户还没有关联机构"),
                _("您的账户还没有关联到服务机构,暂时不能办理业务。请联系系统管理员。"),
            )
        )
    if kinds and found.kind not in kinds:
        kind = labels.FACILITY_KINDS.get(found.kind, found.kind)
        abort(
            _explain(_("本机构不办理这项业务"), str(refusal) + _("本机构是:%(kind)s。", kind=kind))
        )
    return found


def _facility_of(actor: Actor) -> FacilityStatus | None:
    try:
        facility_id = UUID(actor.facility_id)
    except ValueError:
        return None
    return facility_progress(runtime().engine, actor, facility_id, today=clock.today())


def _explain(title: str, text: str) -> Response:
    return page("provider/explain.html", status=403, title=title, text=text)


# -- a day or a month asked for in the query string ----------------------------------------------
def picked_day() -> tuple[DayPicker, date | None]:
    """The day picker from the query string and the day it names (today if none; None if bad)."""
    picker = DayPicker(formdata=request.args)
    day = picker.chosen(clock.today()) if picker.validate() else None
    return picker, day


def bad_query(template: str, **context: object) -> Response:
    """A link we cannot read: say so with status 400 (htmx: load the page, which says why)."""
    if htmx:
        # htmx does not swap a 400: load the whole page, which shows the message.
        response = Response(status=400)
        response.headers["HX-Redirect"] = request.full_path
        return response
    return page(template, status=400, **context)


def submit(*args: Any, **kwargs: Any) -> Response:
    """`portal.steps.submit`, telling of a changed record (a day, a visit, a month's report)."""
    notice = _("在您填写期间,这条记录已经被更新了。下面是最新的情况,请核对后再提交。")
    return steps.submit(*args, stale_notice=notice, **kwargs)


def carry_version(form: ProviderForm, version: int) -> None:
    """Resubmitting after a conflict means "I have seen the new state": carry its version."""
    form.version.data, form.version.raw_data = str(version), [str(version)]


# The pages of each kind of work attach their routes to `bp` (imported last: they import it).
from portal.blueprints import provider_meals, provider_staffing, provider_visits  # noqa: E402, F401
