"""The demo city's targets: this year's tasks for the city and every district, one revised,
judged on the dashboard with the demo's own figures."""

from __future__ import annotations

from collections import Counter

from events import clock
from events.districts import DISTRICTS
from portal.runtime import Runtime
from projections.supervision_queries import progress_at, targets_at
from services.demo import Programmes, seed_demo
from services.demo_targets import CITY_TARGETS, DISTRICT_TARGETS


def test_the_demo_sets_this_years_targets_and_the_dashboard_judges_them(rt: Runtime) -> None:
    programmes = Programmes(rt.facilities, rt.meals, rt.home_care, rt.ledger, rt.targets)
    seed_demo(rt.accounts, rt.retrofit, rt.photos, cases=80, programmes=programmes)
    rt.catch_up()
    today = clock.today()
    targets = targets_at(rt.engine, today)
    per_district = 1 + len(DISTRICT_TARGETS)
    assert len(targets) == len(DISTRICTS) * per_district + len(CITY_TARGETS)
    revised = [t for t in targets if t.version == 2]
    assert len(revised) == 1 and revised[0].metric == "retrofit_accepted"
    rows = progress_at(rt.engine, today)
    assert len(rows) == len(targets)
    accepted = {r.target.district: r for r in rows if r.target.metric == "retrofit_accepted"}
    assert all(r.actual is not None and r.actual > 0 for r in accepted.values())
    # The districts' tasks differ in size, so the dashboard has more than one colour to show.
    assert len(Counter(r.judgement.colour for r in rows)) >= 2
