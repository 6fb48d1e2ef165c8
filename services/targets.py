"""Supervision targets' application service: admins set, revise and withdraw targets."""

from __future__ import annotations

from uuid import UUID

from events import clock
from events.roles import Actor, Role
from events.target import InvalidTarget, SupervisionTarget, target_id_for
from services.application import AnlaoApplication
from services.errors import CaseNotFound, NotPermitted


class TargetService(AnlaoApplication):
    """The only writer of targets."""

    def set_target(
        self,
        actor: Actor,
        *,
        metric_code: str,
        district: str,
        value: object,
        deadline: object,
        note: str = "",
    ) -> UUID:
        """Set a target for a metric in a district ("" for the whole city); a withdrawn one is
        set again, a live one must be revised instead."""
        _require_admin(actor)
        target_id = target_id_for(metric_code, district)
        if not self._exists(target_id):
            target = SupervisionTarget.set(
                metric_code=metric_code, district=district, value=value, deadline=deadline,
                today=clock.today(), note=note, actor_id=actor.user_id,
            )  # fmt: skip
            self._save(target, 0)
            return target.id
        target = self.target(target_id)
        if not target.withdrawn:
            raise InvalidTarget("exists")
        expected = target.version
        target.set_again(
            value=value, deadline=deadline, today=clock.today(), note=note, actor_id=actor.user_id
        )
        self._save(target, expected)
        return target.id

    def revise(
        self,
        actor: Actor,
        target_id: UUID,
        version: int,
        *,
        value: object,
        deadline: object,
        reason: str,
    ) -> int:
        """Change a target's value or deadline at the version the form showed."""
        _require_admin(actor)
        return self._change(
            self.target(target_id),
            version,
            lambda t: t.revise(
                value=value, deadline=deadline, today=clock.today(), reason=reason,
                actor_id=actor.user_id,
            ),
        )  # fmt: skip

    def withdraw(self, actor: Actor, target_id: UUID, version: int, *, reason: str) -> int:
        """Withdraw a target at the version the form showed."""
        _require_admin(actor)
        return self._change(
            self.target(target_id),
            version,
            lambda t: t.withdraw(reason=reason, actor_id=actor.user_id),
        )

    def target(self, target_id: UUID) -> SupervisionTarget:
        """The target, or not found."""
        if not self._exists(target_id):
            raise CaseNotFound(target_id)
        found = self.repository.get(target_id)
        if not isinstance(found, SupervisionTarget):
            raise CaseNotFound(target_id)
        return found


def _require_admin(actor: Actor) -> None:
    if actor.role != Role.ADMIN:
        raise NotPermitted("targets")
