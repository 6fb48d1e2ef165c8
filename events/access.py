"""Who may see a case: one rule, used by the services and by the read side."""

from __future__ import annotations

from typing import Protocol

from events.roles import Actor, Role

READ_EVERYTHING = (Role.AUDITOR, Role.SUPERVISOR, Role.ADMIN)


class CaseScope(Protocol):
    """The fields of a case (aggregate or read-model row) that decide who may see it."""

    applicant_user_id: str
    channel: str
    district: str
    community: str
    assessor_id: str | None
    inspector_id: str | None


def may_see(actor: Actor, case: CaseScope) -> bool:
    """Families see their own cases, staff those of their district or assigned to them."""
    role = actor.role
    if role == Role.FAMILY:
        return case.applicant_user_id == actor.user_id
    if role == Role.COMMUNITY_WORKER:
        return case.district == actor.district and case.community == actor.community
    if role == Role.CASEWORKER:
        return case.district == actor.district
    if role == Role.ASSESSOR:
        return case.assessor_id == actor.user_id
    if role == Role.INSPECTOR:
        return case.inspector_id == actor.user_id
    return role in READ_EVERYTHING
