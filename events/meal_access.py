"""Who may see meal-service records: the access rule of `events.access`, extended to canteens."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from events.access import READ_EVERYTHING
from events.roles import Actor, Role


class EnrolmentScope(Protocol):
    """The fields of an enrolment (aggregate or read-model row) that decide who may see it."""

    applicant_user_id: str
    district: str
    community: str
    canteen_id: UUID


def may_see_enrolment(actor: Actor, enrolment: EnrolmentScope) -> bool:
    """Families see their own, staff their district's, a provider its own canteen's enrolments."""
    role = actor.role
    if role == Role.FAMILY:
        return enrolment.applicant_user_id == actor.user_id
    if role == Role.COMMUNITY_WORKER:
        return enrolment.district == actor.district and enrolment.community == actor.community
    if role == Role.CASEWORKER:
        return enrolment.district == actor.district
    if role == Role.PROVIDER:
        return provides_for(actor, enrolment.canteen_id)
    return role in READ_EVERYTHING


def may_see_canteen(actor: Actor, canteen_id: UUID, district: str) -> bool:
    """A canteen's daily records: its own provider, caseworkers of its district, readers of all."""
    if actor.role == Role.PROVIDER:
        return provides_for(actor, canteen_id)
    if actor.role == Role.CASEWORKER:
        return district == actor.district
    return actor.role in READ_EVERYTHING


def provides_for(actor: Actor, facility_id: UUID) -> bool:
    """Whether the actor is the provider account of this facility (and of no other)."""
    return (
        actor.role == Role.PROVIDER
        and bool(actor.facility_id)
        and (actor.facility_id == str(facility_id))
    )
