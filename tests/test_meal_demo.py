"""The demo city's meal service, seeded on a small scale against real databases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from events.meal import EnrolmentStep
from events.roles import Actor, Role
from portal.runtime import Runtime
from projections.meal_days import meals_served
from projections.meal_queries import (
    count_enrolments_by_step,
    meals_per_day_by_canteen,
    meals_per_day_by_district,
)
from services.demo import seed_meals
from tests.support.actors import AUDITOR, CASEWORKER, CASEWORKER_D02
from tests.support.meals import meal_read_models, open_canteen, provider_of


def test_seed_meals_enrols_elders_and_records_every_day(rt: Runtime) -> None:
    canteens = [
        open_canteen(rt),
        open_canteen(rt, name="松鹤社区老年食堂"),
        open_canteen(rt, district="D02", name="南湖社区老年食堂"),
    ]
    unopened = open_canteen(rt, up_to="fit_out", name="福寿社区老年食堂")
    districts = {canteens[0]: "D01", canteens[1]: "D01", canteens[2]: "D02", unopened: "D01"}
    providers = {c: provider_of(c, d) for c, d in districts.items()}
    families = [Actor(f"demo-family-{i}", Role.FAMILY) for i in range(5)]

    seed_meals(
        rt.meals,
        seed=7,
        canteens=[*canteens, unopened],
        families=families,
        caseworkers={"D01": CASEWORKER, "D02": CASEWORKER_D02},
        providers=providers,
        days=20,
    )
    rt.catch_up()

    steps = count_enrolments_by_step(rt.engine, AUDITOR)
    assert 18 <= sum(steps.values()) <= 30  # 6 to 10 elders at each open canteen
    assert steps[EnrolmentStep.APPROVED] >= 10
    today = rt.meals.today()
    start, end = today - timedelta(days=20), today - timedelta(days=1)
    days = meals_per_day_by_canteen(rt.engine, AUDITOR, start=start, end=end)
    assert len(days) == 3 * 20
    assert {d.canteen_id for d in days} == set(canteens)  # the unopened canteen serves nothing
    assert sum(d.corrected for d in days) == 3  # day 5 of every 17, at each canteen
    assert all(d.total == d.enrolled_served + d.walk_ins and d.walk_ins >= 3 for d in days)
    assert sum(d.enrolled_served for d in days) > 0
    by_district = meals_per_day_by_district(rt.engine, AUDITOR, start=start, end=end)
    assert sum(d.total for d in by_district) == sum(d.total for d in days)
    with rt.engine.connect() as conn:
        served_rows = conn.execute(select(func.count()).select_from(meals_served)).scalar_one()
    assert served_rows == sum(d.enrolled_served for d in days)

    live = meal_read_models(rt.engine)
    rt.projector.rebuild()
    assert meal_read_models(rt.engine) == live
