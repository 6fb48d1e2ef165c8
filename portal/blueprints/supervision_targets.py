"""Admins set, revise and withdraw supervision targets (目标任务); every change is an event, so
the dashboard can show any past day's targets. Routes attach to the supervision blueprint."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from uuid import UUID

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from events import clock
from events.roles import Role
from events.target import TargetWithdrawn
from portal import steps
from portal import supervision_labels as sl
from portal.blueprints.supervision import bp
from portal.forms.supervision import (
    ReviseTargetForm,
    SetTargetForm,
    TargetAction,
    WithdrawTargetForm,
)
from portal.rendering import page
from portal.runtime import runtime
from portal.users import current_actor, roles_required
from projections.supervision_queries import targets_at
from projections.target_queries import TargetState, current_target, withdrawn_targets

STALE = _l("在您填写期间,这个目标已经被调整了。下面是最新的目标,请核对后再提交。")


@bp.get("/targets")
@roles_required(Role.ADMIN)
def targets() -> Response:
    """The targets in force today, each with revise and withdraw, and the withdrawn ones."""
    engine = runtime().engine
    return page(
        "supervision/targets.html",
        live=targets_at(engine, clock.today()),
        withdrawn=withdrawn_targets(engine),
        sl=sl,
    )


@bp.get("/targets/new")
@roles_required(Role.ADMIN)
def new_target() -> Response:
    """The form for a new target (prefilled when setting a withdrawn one again)."""
    form = SetTargetForm(
        formdata=None,
        metric=request.args.get("metric", ""),
        district=request.args.get("district", ""),
    )
    return _form_page("new", form)


@bp.post("/targets/new")
@roles_required(Role.ADMIN)
def set_target() -> Response:
    """Set a target; the straight line to it starts today."""
    form = SetTargetForm()
    return steps.submit(
        form,
        lambda: runtime().targets.set_target(
            current_actor(),
            metric_code=form.metric.data or "",
            district=form.district_code,
            value=form.value.data or "",
            deadline=form.deadline.data or "",
            note=form.note.data or "",
        ),
        _("已设定目标。"),
        lambda status, notice: _form_page("new", form, status=status, notice=notice),
        url_for("supervision.targets"),
    )


@bp.get("/targets/<uuid:target_id>/revise")
@roles_required(Role.ADMIN)
def revise_form(target_id: UUID) -> Response:
    """The target's value and deadline, to change with a reason."""
    target = _live(target_id)
    form = ReviseTargetForm(
        formdata=None,
        version=str(target.version),
        value=_plain(target.value),
        deadline=target.deadline.isoformat(),
    )
    return _form_page("revise", form, target)


@bp.post("/targets/<uuid:target_id>/revise")
@roles_required(Role.ADMIN)
def revise(target_id: UUID) -> Response:
    """Change the value or deadline at the version the form showed."""
    form = ReviseTargetForm()
    return _change(
        target_id,
        form,
        "revise",
        lambda: runtime().targets.revise(
            current_actor(),
            target_id,
            int(form.version.data),
            value=form.value.data or "",
            deadline=form.deadline.data or "",
            reason=form.reason.data or "",
        ),
        _("已调整目标。"),
    )


@bp.get("/targets/<uuid:target_id>/withdraw")
@roles_required(Role.ADMIN)
def withdraw_form(target_id: UUID) -> Response:
    """Confirm withdrawing a target, with a reason."""
    target = _live(target_id)
    return _form_page(
        "withdraw", WithdrawTargetForm(formdata=None, version=str(target.version)), target
    )


@bp.post("/targets/<uuid:target_id>/withdraw")
@roles_required(Role.ADMIN)
def withdraw(target_id: UUID) -> Response:
    """Withdraw the target at the version the form showed (it stays in the history)."""
    form = WithdrawTargetForm()
    return _change(
        target_id,
        form,
        "withdraw",
        lambda: runtime().targets.withdraw(
            current_actor(), target_id, int(form.version.data), reason=form.reason.data or ""
        ),
        _("已撤销目标。"),
    )


# -- helpers -----------------------------------------------------------------------------------
def _change(
    target_id: UUID,
    form: ReviseTargetForm | WithdrawTargetForm,
    mode: str,
    command: Callable[[], object],
    done: str,
) -> Response:
    """`submit` for a form on one target: a stale form comes back with the target as it now
    stands and its current version."""
    target = _known(target_id)

    def again(status: int, notice: str | None) -> Response:
        current = _known(target_id) if status == 409 else target
        if status == 409:
            form.version.data, form.version.raw_data = str(current.version), [str(current.version)]
        return _form_page(mode, form, current, status=status, notice=notice)

    return steps.submit(
        form,
        command,
        done,
        again,
        url_for("supervision.targets"),
        conflicts=(TargetWithdrawn,) if mode == "withdraw" else (),
        stale_notice=str(STALE),
    )


def _known(target_id: UUID) -> TargetState:
    """The target as the projection holds it; 404 if no such target was ever set."""
    found = current_target(runtime().engine, target_id)
    if found is None:
        abort(404)
    return found


def _live(target_id: UUID) -> TargetState:
    """A target that is in force; a withdrawn one sends the admin back to the list."""
    found = _known(target_id)
    if found.withdrawn:
        flash(_("这个目标已经撤销。如需继续督导,请重新设定目标。"), "error")
        abort(redirect(url_for("supervision.targets"), 303))
    return found


def _plain(value: Decimal) -> str:
    """A value as typed into the form: 100, 92.5."""
    return format(value.normalize(), "f")


def _form_page(
    mode: str,
    form: TargetAction,
    target: TargetState | None = None,
    *,
    status: int = 200,
    notice: str | None = None,
) -> Response:
    return page(
        "supervision/target_form.html",
        status=status,
        mode=mode,
        form=form,
        target=target,
        notice=notice,
        sl=sl,
        submitted=form if status >= 400 else None,
    )
