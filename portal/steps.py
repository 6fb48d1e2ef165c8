"""The one way a form that changes a case is handled: one service call, catch up, redirect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort, flash, redirect, url_for
from flask_wtf import FlaskForm

from events.errors import DomainError, InvalidAcceptance, InvalidAssessment
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


def perform(
    case: CaseDetail,
    form: FlaskForm,
    command: Callable[[int], object],
    done: str | Callable[[], str],
    rerender: Rerender,
    back_to: str,
    reload: Callable[[Any], Any] = load_case,
) -> Response:
    """Validate, make the one service call with the form's version, catch up and redirect 303;
    or show the form again: 422 with why, or 409 with the case as it now stands.
    `reload` fetches that current state (404 if gone) for records other than retrofit cases."""
    if not form.validate():
        if form.version.errors:
            abort(400)  # not a form we rendered: it lacks the version it was rendered from
        return rerender(case, 422, None)
    try:
        command(int(form.version.data))
    except StaleCase as e:
        runtime().catch_up()
        current = reload(case.case_id)
        # Resubmitting now means "I have seen the new state": carry the current version.
        form.version.data, form.version.raw_data = current.version, [str(current.version)]
        return rerender(current, 409, message_for(e))
    except (CaseNotFound, NotPermitted):
        raise  # the app's handlers answer 404 and 403
    except (DomainError, ServiceError) as e:
        attach_error(form, e)
        return rerender(case, 422, None)
    runtime().catch_up()
    flash(done() if callable(done) else done, "success")
    return redirect(url_for(back_to, case_id=case.case_id), 303)


def attach_error(form: FlaskForm, error: DomainError | ServiceError) -> None:
    """Put a refusal's message next to the field it is about, else at the top of the form."""
    name = error_field(error)
    target = form._fields.get(name) if name else None
    if target is None or name in ("version", "csrf_token"):
        form.form_errors.append(message_for(error))
    else:
        target.errors = [*target.errors, message_for(error)]


def error_field(error: DomainError | ServiceError) -> str | None:
    """The form field a refusal is about (photos and checklist lines besides the usual)."""
    match error:
        case InvalidPhoto() | InvalidAcceptance(detail="photos"):
            return "photos"
        case InvalidAssessment(detail="quantity" | "unit_price"):
            kind = "qty" if error.detail == "quantity" else "price"
            return f"{kind}_{error.params.get('code')}"
        case InvalidAssessment():
            return None
    return field_for(error)
