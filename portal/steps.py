"""The one way a form that changes a case is handled: one service call, catch up, redirect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort, flash, redirect, url_for
from flask_wtf import FlaskForm

from events.errors import (
    DomainError,
    InvalidAcceptance,
    InvalidApplication,
    InvalidAssessment,
    ReasonRequired,
)
from events.home_care import InvalidVisit, VisitOverlaps
from events.meal_day import InvalidMealRecord
from events.workforce import FIGURES, InvalidStaffingReport
from portal.messages import field_for, message_for
from portal.runtime import runtime
from portal.users import current_actor
from projections.retrofit_queries import CaseDetail, case_detail
from services.errors import CaseNotFound, NotPermitted, ServiceError, StaleCase
from services.photos import InvalidPhoto

# Re-render the page of a refused form: (case as it now stands, status, stale-case notice).
Rerender = Callable[[CaseDetail, int, str | None], Response]


def load_case(case_id: object) -> CaseDetail:
    """The case if the signed-in user may see it; 404 otherwise, as if it did not exist."""
    found = case_detail(runtime().engine, current_actor(), case_id)  # type: ignore[arg-type]
    if found is None:
        abort(404)
    return found


def submit(
    form: FlaskForm,
    command: Callable[[], object],
    done: str | Callable[[], str],
    rerender: Callable[[int, str | None], Response],
    redirect_to: str,
    *,
    conflicts: tuple[type[Exception], ...] = (),
    stale_notice: str | None = None,
) -> Response:
    """The one way a form that changes a record is handled: validate, make the one service
    call, catch up and redirect 303; or show the form again: 422 with why (at the field), or
    409 with the notice of what changed meanwhile (stale versions and `conflicts`)."""
    if not form.validate():
        if any(_hidden(f) and f.errors for f in form):
            abort(400)  # not a form we rendered: a hidden field (its version) was changed
        return rerender(422, None)
    try:
        command()
    except StaleCase as e:
        runtime().catch_up()
        return rerender(409, stale_notice or message_for(e))
    except conflicts as e:
        runtime().catch_up()
        return rerender(409, message_for(e))
    except (CaseNotFound, NotPermitted):
        raise  # the app's handlers answer 404 and 403
    except (DomainError, ServiceError) as e:
        attach_error(form, e)
        return rerender(422, None)
    runtime().catch_up()
    flash(done() if callable(done) else done, "success")
    return redirect(redirect_to, 303)


def perform(
    case: CaseDetail,
    form: FlaskForm,
    command: Callable[[int], object],
    done: str | Callable[[], str],
    rerender: Rerender,
    back_to: str,
    reload: Callable[[Any], Any] = load_case,
) -> Response:
    """`submit` for a form on a case page: the command gets the form's version, and a stale
    form is shown again with the case as it now stands (`reload`) and its current version."""

    def again(status: int, notice: str | None) -> Response:
        if status != 409:
            return rerender(case, status, notice)
        current = reload(case.case_id)
        # Resubmitting now means "I have seen the new state": carry the current version.
        form.version.data, form.version.raw_data = current.version, [str(current.version)]
        return rerender(current, status, notice)

    return submit(
        form,
        lambda: command(int(form.version.data)),
        done,
        again,
        url_for(back_to, case_id=case.case_id),
    )


def _hidden(field: Any) -> bool:
    return getattr(field.widget, "input_type", "") == "hidden"


def attach_error(form: FlaskForm, error: DomainError | ServiceError) -> None:
    """Put a refusal's message next to the field it is about, else at the top of the form."""
    message = message_for(error)
    if isinstance(error, ReasonRequired) and getattr(form, "reason_missing", None):
        message = str(form.reason_missing)  # the shared sentence speaks of an applicant
    name = error_field(error)
    target = form._fields.get(name) if name else None
    if target is None or _hidden(target):
        form.form_errors.append(message)
    else:
        target.errors = [*target.errors, message]


def error_field(error: DomainError | ServiceError) -> str | None:
    """The form field a refusal is about (photos, checklist lines, visits, meals, staffing)."""
    match error:
        case InvalidVisit():
            return error.field
        case VisitOverlaps():
            return "start"
        case InvalidMealRecord(detail="walk_in_count"):
            return "walk_in_count"
        case InvalidMealRecord(detail="served" | "duplicate" | "not_enrolled"):
            return "served"
        case InvalidMealRecord():
            return None
        case InvalidStaffingReport() if error.detail in (*FIGURES, "reason"):
            return error.detail
        case ReasonRequired(detail="reason") | InvalidApplication(detail="reason"):
            return "reason"
        case InvalidPhoto() | InvalidAcceptance(detail="photos"):
            return "photos"
        case InvalidAssessment(detail="quantity" | "unit_price"):
            kind = "qty" if error.detail == "quantity" else "price"
            return f"{kind}_{error.params.get('code')}"
        case InvalidAssessment():
            return None
    return field_for(error)
