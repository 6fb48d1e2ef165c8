"""The demo city's facilities: every milestone on the board, a backdated history with
inspections, acceptance and six months of staffing reports, and read models that rebuild."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from events.districts import DISTRICTS
from events.facility import MILESTONES, Kind
from events.roles import Actor, Role
from portal.runtime import Runtime
from projections.facility_inspections import InspectionKind, facility_inspections
from projections.facility_progress import facility_progress
from projections.facility_queries import count_by_milestone, inspections, list_facilities
from projections.workforce import staffing_reports
from projections.workforce_queries import staffing_history, workforce_by_district
from services.demo import demo_photo_png, seed_facilities
from tests.support.actors import table_rows

ADMIN = Actor("admin-demo", Role.ADMIN)
SUPERVISOR = Actor("supervisor-demo", Role.SUPERVISOR)
INSPECTORS = {d.code: Actor(f"inspector-{d.code}", Role.INSPECTOR, d.code) for d in DISTRICTS}


def test_demo_facilities_cover_every_milestone_with_a_history(rt: Runtime) -> None:
    made = seed_facilities(
        rt.facilities,
        seed=2026,
        admin=ADMIN,
        inspectors=INSPECTORS,
        photo=rt.photos.store(demo_photo_png()),
    )
    rt.catch_up()
    today = datetime.now(UTC).date()

    counts = count_by_milestone(rt.engine, SUPERVISOR)
    assert set(counts) == set(MILESTONES), (
        f"milestones without a facility: {set(MILESTONES) - set(counts)}"
    )
    assert {kind: len(ids) for kind, ids in made.items()} == {
        Kind.CARE_CENTRE: len(DISTRICTS), Kind.CANTEEN: len(DISTRICTS),
        Kind.INSTITUTION: len(DISTRICTS), Kind.HOME_CARE_PROVIDER: 2,
    }  # fmt: skip
    rows = list_facilities(rt.engine, SUPERVISOR, today=today)
    assert len(rows) == sum(counts.values()) == 3 * len(DISTRICTS) + 2
    for district in DISTRICTS:  # three different milestones in every district
        built = [r.milestone for r in rows if r.district == district.code and r.kind in Kind.BUILT]
        assert len(built) == len(set(built)) == 3
    assert min(r.reached_on(MILESTONES[0]) or today for r in rows) < today  # backdated
    assert any(r.kind == Kind.CANTEEN and r.in_operation for r in rows)

    kinds = Counter(i.kind for r in rows for i in inspections(rt.engine, SUPERVISOR, r.facility_id))
    assert set(kinds) == set(InspectionKind.ALL)
    institutions = [r for r in rows if r.kind == Kind.INSTITUTION]
    assert all(r.beds_after is not None and r.rooms_added for r in institutions)
    opened = [r for r in institutions if r.in_operation]
    assert opened and all(r.acceptance_passed and r.acceptance_rounds == 2 for r in opened)
    assert any(r.acceptance_passed is False for r in institutions)  # one awaits re-inspection

    reporting = made[Kind.HOME_CARE_PROVIDER] + [
        r.facility_id
        for r in rows
        if r.kind in (Kind.CARE_CENTRE, Kind.INSTITUTION) and r.in_operation
    ]
    for org in reporting:
        assert len(staffing_history(rt.engine, SUPERVISOR, org)) == 6
    history = [staffing_history(rt.engine, SUPERVISOR, org) for org in reporting]
    assert sum(row.corrections for rows_ in history for row in rows_) == 1
    last_period = history[0][-1].period
    figures = workforce_by_district(rt.engine, SUPERVISOR, last_period)
    assert figures and all(f.annual_turnover is not None for f in figures.values())

    live = {
        t.name: table_rows(rt.engine, t)
        for t in (facility_progress, facility_inspections, staffing_reports)
    }
    rt.projector.rebuild()
    assert {
        t.name: table_rows(rt.engine, t)
        for t in (facility_progress, facility_inspections, staffing_reports)
    } == live
