"""The step forms of a staff page (meal and home-care cases, facilities), and the one way a
submitted one is handled."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from flask import Response

from events.roles import Actor
from portal.forms.staff import ActionForm
from portal.steps import perform

# What `render` draws: the case, and (after a refusal) the submitted form, its action,
# the status and the stale-case notice.
Render = Callable[..., Response]
# Which actions a page offers this viewer on this record now (the aggregate still decides).
Offer = Callable[[Any, Actor], tuple[str, ...]]


def by_step(
    steps: Mapping[str, tuple[str, ...]],
    permission: Mapping[str, str],
    allowed: Mapping[str, tuple[str, ...]],
) -> Offer:
    """Offer the actions of the case's step that the viewer's role may take: `steps` maps a
    step to its actions, `permission` an action to its key in the service's `allowed`."""

    def offer(case: Any, actor: Actor) -> tuple[str, ...]:
        return tuple(a for a in steps.get(case.step, ()) if actor.role in allowed[permission[a]])

    return offer


def _nothing_to_prepare(_form: ActionForm, _case: Any) -> None:
    return None


@dataclass(frozen=True)
class StepForms:
    """A page's step forms: which are offered to whom, and how a submitted one becomes one
    service call (through `portal.steps.perform`). The record needs `case_id` and `version`."""

    forms: Mapping[str, type[ActionForm]]
    offer: Offer
    load: Callable[[UUID], Any]  # the record as this actor may see it; 404 otherwise
    render: Render
    page_endpoint: str  # the record's page (its parameter is `case_id`): done steps go back
    prepare: Callable[[ActionForm, Any], None] = field(default=_nothing_to_prepare)

    def available(self, case: Any, actor: Actor) -> tuple[str, ...]:
        """The step forms this viewer may use on this record now."""
        return self.offer(case, actor)

    def forms_for(
        self, case: Any, actions: tuple[str, ...], submitted: ActionForm | None, action: str
    ) -> dict[str, ActionForm]:
        """A form per action at the case's current version; a refused one as it was typed."""
        forms: dict[str, ActionForm] = {}
        for name in actions:
            if name == action and submitted is not None:
                forms[name] = submitted
                continue
            form = self.forms[name](formdata=None, prefix=name, version=str(case.version))
            self.prepare(form, case)
            forms[name] = form
        return forms

    def submit(
        self,
        case_id: UUID,
        action: str,
        command: Callable[[Any, int], object],
        done: str | Callable[[], str],
    ) -> Response:
        """Handle a posted step form: one service call, then back to the case page."""
        case = self.load(case_id)
        form = self.forms[action](prefix=action)
        self.prepare(form, case)

        def again(current: Any, status: int, notice: str | None) -> Response:
            return self.render(current, status=status, submitted=form, action=action, notice=notice)

        return perform(
            case,
            form,
            lambda version: command(form, version),
            done,
            again,
            self.page_endpoint,
            reload=self.load,
        )
