"""The home care part of the demo city: every step, months of visits, corrections, surveys."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from events.clock import frozen_at
from events.home_care import CareStep
from events.roles import Actor, Role
from portal.runtime import Runtime
from projections.home_care_cases import home_care_cases
from projections.home_care_delivery import home_care_visits
from projections.home_care_queries import count_by_step, hours_per_provider, satisfaction
from services.demo import CARE_TARGETS, seed_home_care
from tests.support.actors import ASSESSOR, AUDITOR, CASEWORKER, CASEWORKER_D02, table_rows
from tests.support.home_care import provider_user, register_provider

NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)
D02_ASSESSOR = Actor("assessor-d02", Role.ASSESSOR, "D02")


def test_demo_home_care_has_every_step_and_a_month_of_visits(rt: Runtime) -> None:
    near, far = register_provider(rt), register_provider(rt, district="D02", name="颐和护理公司")
    no_account = register_provider(rt, name="没有账户的机构")
    families = [Actor(f"demo-family-{i}", Role.FAMILY) for i in range(6)]
    with frozen_at(NOW):
        seed_home_care(
            rt.home_care,
            seed=11,
            providers=[near, far, no_account],
            families=families,
            caseworkers={"D01": CASEWORKER, "D02": CASEWORKER_D02},
            assessors={"D01": ASSESSOR, "D02": D02_ASSESSOR},
            provider_users={near: provider_user(near, "p-near"), far: provider_user(far, "p-far")},
            months=1,
        )
    rt.catch_up()

    counts = count_by_step(rt.engine, AUDITOR)
    assert set(counts) == set(CareStep.ALL)
    assert counts == CARE_TARGETS
    with rt.engine.connect() as conn:
        oldest = conn.execute(
            select(home_care_cases.c.applied_at).order_by(home_care_cases.c.applied_at)
        ).first()
        visits = conn.execute(select(home_care_visits)).all()
    assert (NOW - oldest[0].replace(tzinfo=UTC)).days > 30  # a history, not all made today
    assert len(visits) > 100
    assert max(v.visit_date for v in visits) < NOW.date()
    assert {(v.district, v.provider_id) for v in visits} == {("D01", near), ("D02", far)}
    assert any(v.cancelled for v in visits) and any(v.corrections for v in visits)

    hours = hours_per_provider(rt.engine, start=date(2026, 4, 1), end=NOW.date())
    assert set(hours) == {near, far} and all(h.minutes > 0 for h in hours.values())
    assert satisfaction(rt.engine).surveys > 0

    live = {t.name: table_rows(rt.engine, t) for t in (home_care_cases, home_care_visits)}
    rt.projector.rebuild()
    assert {t.name: table_rows(rt.engine, t) for t in (home_care_cases, home_care_visits)} == live
