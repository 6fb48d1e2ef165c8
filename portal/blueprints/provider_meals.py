"""A canteen's meals: tick the enrolled elders served on a day and count the walk-ins, once;
afterwards only a correction with a reason changes the day."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Response, abort, request, url_for
from flask_babel import gettext as _

from events import clock
from events.facility import Kind
from events.meal_day import DayAlreadyRecorded
from events.roles import Role
from portal.blueprints.provider import (
    bad_query,
    bp,
    carry_version,
    own_facility,
    picked_day,
    submit,
)
from portal.forms.provider import CorrectMealDayForm, DayPicker, MealDayForm
from portal.rendering import page_or_fragment
from portal.runtime import runtime
from portal.users import current_actor, roles_required
from projections.facility_queries import FacilityStatus
from projections.meal_queries import (
    EnrolledElder,
    MealDay,
    canteen_day,
    canteen_days,
    enrolled_elders,
)

HISTORY_DAYS = 14  # the list under the form: the canteen's last two weeks


def _canteen() -> FacilityStatus:
    return own_facility((Kind.CANTEEN,), _("只有老年助餐食堂登记每天的用餐情况。"))


@bp.get("/meals")
@roles_required(Role.PROVIDER)
def meals() -> Response:
    """A day of the canteen (today unless asked): the elders to tick, or the figures recorded."""
    canteen = _canteen()
    picker, day = picked_day()
    if day is None:
        return bad_query("provider/meals.html", canteen=canteen, picker=picker, day=None)
    return _page(canteen, day)


@bp.post("/meals")
@roles_required(Role.PROVIDER)
def record_meals() -> Response:
    """Record the day's meals (once; a day recorded meanwhile comes back as a correction)."""
    canteen, form = _canteen(), MealDayForm()
    day = _posted_day(form)
    return submit(
        form,
        lambda: runtime().meals.record_day(
            current_actor(), canteen.facility_id, day, form.served_ids(), form.walk_ins()
        ),
        _("已登记 %(day)s 的用餐情况。", day=day.isoformat()),
        lambda status, notice: _page(canteen, day, status, notice, form),
        url_for("provider.meals", day=day.isoformat()),
        conflicts=(DayAlreadyRecorded,),
    )


@bp.post("/meals/correct")
@roles_required(Role.PROVIDER)
def correct_meals() -> Response:
    """Replace a recorded day's figures by a correction that says why."""
    canteen, form = _canteen(), CorrectMealDayForm()
    day = _posted_day(form)
    return submit(
        form,
        lambda: runtime().meals.correct_day(
            current_actor(),
            canteen.facility_id,
            day,
            int(form.version.data),
            form.served_ids(),
            form.walk_ins(),
            form.reason.data or "",
        ),
        _("已更正 %(day)s 的用餐情况。", day=day.isoformat()),
        lambda status, notice: _page(canteen, day, status, notice, form),
        url_for("provider.meals", day=day.isoformat()),
    )


def _posted_day(form: MealDayForm) -> date:
    """The day the form was rendered for; a form without a readable one is not ours (400)."""
    try:
        return date.fromisoformat(form.day.data or "")
    except ValueError:
        abort(400)


def _page(
    canteen: FacilityStatus,
    day: date,
    status: int = 200,
    notice: str | None = None,
    submitted: MealDayForm | None = None,
) -> Response:
    """The meals page (or, for htmx, the day's panel) as the records now stand."""
    actor, rt, today = current_actor(), runtime(), clock.today()
    recorded = canteen_day(rt.engine, actor, canteen.facility_id, day)
    elders = enrolled_elders(rt.engine, actor, canteen.facility_id, day)
    return page_or_fragment(
        "provider/meals.html",
        "provider/_meal_day.html",
        status=status,
        canteen=canteen,
        picker=DayPicker(formdata=None, day=day.isoformat()),
        day=day,
        today=today,
        future=day > today,
        recorded=recorded,
        elders=elders,
        names=rt.persons.names([e.person_id for e in elders]),
        form=_form(day, recorded, elders, submitted, refresh=status == 409),
        submitted=submitted,
        notice=notice,
        history=_history(canteen, today),
    )


def _form(
    day: date,
    recorded: MealDay | None,
    elders: tuple[EnrolledElder, ...],
    submitted: MealDayForm | None,
    *,
    refresh: bool,
) -> MealDayForm:
    """The record form for a new day; for a recorded one the correction form, prefilled."""
    if recorded is None:
        if submitted is not None and not isinstance(submitted, CorrectMealDayForm):
            return submitted
        return MealDayForm(formdata=None, day=day.isoformat())
    if isinstance(submitted, CorrectMealDayForm):
        if refresh:
            carry_version(submitted, recorded.version)
        return submitted
    if submitted is not None:  # recorded meanwhile: keep what was ticked, as a correction
        form = CorrectMealDayForm(formdata=request.form)
    else:
        served = [str(e.case_id) for e in elders if e.served]
        form = CorrectMealDayForm(
            formdata=None, day=day.isoformat(), served=served, walk_in_count=str(recorded.walk_ins)
        )
    carry_version(form, recorded.version)
    return form


def _history(canteen: FacilityStatus, today: date) -> list[tuple[date, MealDay | None]]:
    """The last two weeks, newest first; a day not recorded shows as such."""
    start = today - timedelta(days=HISTORY_DAYS - 1)
    found = canteen_days(
        runtime().engine, current_actor(), canteen.facility_id, start=start, end=today
    )
    by_day = {d.day: d for d in found}
    return [
        (today - timedelta(days=n), by_day.get(today - timedelta(days=n)))
        for n in range(HISTORY_DAYS)
    ]
