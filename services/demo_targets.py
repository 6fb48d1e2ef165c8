"""Demo targets for the supervision dashboard: this year's tasks for the city and each district,
set early in the year and revised once, sized so some districts are ahead and some behind."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from uuid import UUID

from events import clock
from events.districts import DISTRICTS
from events.roles import Actor
from services.targets import TargetService

# How hard each district's retrofit task is, as a share of its applications: D01 ahead of the
# plan line, D04 well behind it, the others in between.
RETROFIT_SHARE = {"D01": 0.15, "D02": 0.3, "D03": 0.45, "D04": 0.9}
CITY_TARGETS = {
    "acceptance_failure_rate": "15",
    "retrofit_satisfaction": "90",
    "care_satisfaction": "90",
    "centres_operating": "4",
    "canteens_operating": "6",
    "meals_per_day": "120",
    "institutions_renovated": "3",
    "beds_added": "120",
    "elders_per_caregiver": "6",
    "caregiver_turnover": "20",
}
DISTRICT_TARGETS = {"care_hours": "150", "funds_disbursed": "200000"}


def seed_targets(targets: TargetService, admin: Actor, *, cases: int, now: datetime) -> int:
    """Set the year's targets ten months back, with one revision since; returns how many."""
    today = clock.local(now).date()
    set_on = _morning(today - timedelta(days=300))
    deadline = (today + timedelta(days=60)).isoformat()
    per_district = max(cases // len(DISTRICTS), 1)
    made = []
    with clock.frozen_at(set_on):
        for d in DISTRICTS:
            value = max(round(per_district * RETROFIT_SHARE[d.code]), 1)
            made.append(_set(targets, admin, "retrofit_accepted", d.code, str(value), deadline))
            for code, value in DISTRICT_TARGETS.items():
                made.append(_set(targets, admin, code, d.code, value, deadline))
        for code, value in CITY_TARGETS.items():
            made.append(_set(targets, admin, code, "", value, deadline))
    with clock.frozen_at(_morning(today - timedelta(days=90))):
        first = targets.target(made[0])
        targets.revise(
            admin, first.id, first.version, value=str(first.value + 2), deadline=deadline,
            reason="省厅下达追加任务",
        )  # fmt: skip
    return len(made)


def _set(
    targets: TargetService, admin: Actor, code: str, district: str, value: str, deadline: str
) -> UUID:
    return targets.set_target(
        admin, metric_code=code, district=district, value=value, deadline=deadline,
        note="年度目标任务",
    )  # fmt: skip


def _morning(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), clock.CITY_TZ)
