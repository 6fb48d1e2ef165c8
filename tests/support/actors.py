"""Actors for service-level tests: plain ids with the scope of their role (no accounts needed)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Engine, Table, select

from events.roles import Actor, Role
from portal.runtime import Runtime
from projections.tables import retrofit_cases, retrofit_timeline
from tests.support.scenario import walk_to

FAMILY = Actor("family-a", Role.FAMILY)
OTHER_FAMILY = Actor("family-b", Role.FAMILY)
CASEWORKER = Actor("caseworker-d01", Role.CASEWORKER, "D01")
CASEWORKER_D02 = Actor("caseworker-d02", Role.CASEWORKER, "D02")
ASSESSOR = Actor("assessor-d01", Role.ASSESSOR, "D01")
OTHER_ASSESSOR = Actor("assessor-d01-b", Role.ASSESSOR, "D01")
INSPECTOR = Actor("inspector-d01", Role.INSPECTOR, "D01")
OTHER_INSPECTOR = Actor("inspector-d01-b", Role.INSPECTOR, "D01")
WORKER = Actor("worker-chunhui", Role.COMMUNITY_WORKER, "D01", "春晖社区")
WORKER_SONGHE = Actor("worker-songhe", Role.COMMUNITY_WORKER, "D01", "松鹤社区")
WORKER_D02 = Actor("worker-nanhu", Role.COMMUNITY_WORKER, "D02", "南湖社区")
AUDITOR = Actor("auditor-1", Role.AUDITOR)
SUPERVISOR = Actor("supervisor-1", Role.SUPERVISOR)
ADMIN = Actor("admin-1", Role.ADMIN)
PROVIDER = Actor("provider-1", Role.PROVIDER, "D01")
FINANCE = Actor("finance-1", Role.FINANCE, "D01")

# Staff who take a D01 case along its happy path.
D01_TEAM: dict[str, Actor] = {
    "caseworker": CASEWORKER,
    "assessor": ASSESSOR,
    "inspector": INSPECTOR,
}


def walk(rt: Runtime, step: str, *, family: Actor = FAMILY, **kwargs: Any) -> UUID:
    """`walk_to` with the D01 team: apply as `family` and go to `step`."""
    return walk_to(rt, step, family=family, **(D01_TEAM | kwargs))


def table_rows(engine: Engine, table: Table) -> list[tuple[Any, ...]]:
    """Every row of a read-model table in primary-key order, for whole-table comparisons."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key))]


def read_models(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """The full contents of both retrofit read models."""
    return {t.name: table_rows(engine, t) for t in (retrofit_cases, retrofit_timeline)}
