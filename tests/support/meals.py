"""Builders for meal-service tests: canteens walked to opening, providers, enrolments."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Engine

from events import clock
from events.clock import CITY_TZ
from events.facility import MILESTONES, FacilityProject, Kind
from events.roles import Actor, Role
from portal.runtime import Runtime
from projections.meal_days import meal_days, meals_served
from projections.meal_enrolments import meal_enrolments
from projections.meal_timeline import meal_timeline
from services.meals import MealService
from tests.support.actors import CASEWORKER, CASEWORKER_D02, FAMILY, table_rows
from tests.support.scenario import elder

PLACES = {
    "D01": ("和平街道", "春晖社区"),
    "D02": ("南湖街道", "南湖社区"),
}
CASEWORKERS = {"D01": CASEWORKER, "D02": CASEWORKER_D02}
OPENED_ON = "2024-06-01"


def open_canteen(
    rt: Runtime,
    *,
    district: str = "D01",
    kind: str = Kind.CANTEEN,
    up_to: str = "in_operation",
    name: str = "春晖社区老年食堂",
) -> UUID:
    """Register a facility and walk it through its milestones up to `up_to` (saved directly,
    since FacilityService's commands are another area's)."""
    street, community = PLACES[district]
    project = FacilityProject.register(
        facility_id=uuid4(),
        kind=kind,
        name=name,
        district=district,
        street=street,
        community=community,
        deadline="2026-12-31",
        planned_on="2024-01-02",
        actor_id="admin-1",
    )
    for milestone in MILESTONES[1 : MILESTONES.index(up_to) + 1]:
        project.reach_milestone(
            milestone=milestone, on=OPENED_ON, today=date.today(), actor_id="admin-1"
        )
    rt.facilities.save(project)
    return project.id


def provider_of(canteen_id: UUID, district: str = "D01") -> Actor:
    """The provider account of one canteen."""
    return Actor(f"provider-{canteen_id.hex[:8]}", Role.PROVIDER, district, "", str(canteen_id))


def apply_meal(
    rt: Runtime,
    actor: Actor,
    canteen_id: UUID,
    *,
    key: str | None = None,
    district: str = "D01",
    **overrides: Any,
) -> UUID:
    """Submit a valid meal-service application for an elder of the canteen's district."""
    street, community = PLACES[district]
    values: dict[str, Any] = {
        "idempotency_key": key or str(uuid4()),
        "elder": elder(),
        "relation": "child",
        "canteen_id": canteen_id,
        "mode": "dine_in",
        "subsidy_category": "dibao",
        "district": district,
        "street": street,
        "community": community,
        "dietary_needs": "糖尿病,少糖少盐",
    } | overrides
    return rt.meals.submit_application(actor, **values)


def enrol(
    rt: Runtime,
    canteen_id: UUID,
    *,
    family: Actor = FAMILY,
    district: str = "D01",
    on: date | None = None,
    **overrides: Any,
) -> UUID:
    """Apply and have the district's caseworker approve (enrolled from `on`, default today)."""
    case_id = apply_meal(rt, family, canteen_id, district=district, **overrides)
    with clock.frozen_at(at_noon(on or rt.meals.today())):
        rt.meals.approve(CASEWORKERS[district], case_id, 1)
    return case_id


def at_noon(day: date) -> datetime:
    """Lunchtime in the city on `day`, as an aware instant (for clock.frozen_at)."""
    return datetime.combine(day, time(12, 0), tzinfo=CITY_TZ)


def days_ago(n: int) -> date:
    """The city's date `n` days before today, as the meal service counts days."""
    return MealService.today() - timedelta(days=n)


def meal_read_models(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """The full contents of every meal-service read model."""
    tables = (meal_enrolments, meal_timeline, meal_days, meals_served)
    return {t.name: table_rows(engine, t) for t in tables}
