"""Seeding a year of programmes 2 and 3 for the benchmarks: canteens serving every day, and
home-care cases visited every few days, built as aggregates and saved in batches."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta

from events import clock
from events.clock import CITY_TZ
from events.districts import DISTRICTS
from events.elder import clean_profile
from events.facility import MILESTONES, FacilityProject, Kind
from events.home_care import HomeCareCase
from events.meal_day import CanteenDay
from events.metrics import METRICS
from events.national_id import check_digit
from events.roles import Actor, Role
from portal.runtime import Runtime
from services.references import reference_for

BATCH = 500  # aggregates per save
ADMIN = Actor("bench-admin", Role.ADMIN)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), CITY_TZ)


def _facility(kind: str, district: str, n: int, opened: date) -> FacilityProject:
    code = next(d for d in DISTRICTS if d.code == district)
    street, community = code.communities[n % len(code.communities)]
    with clock.frozen_at(_midnight(opened - timedelta(days=400))):
        project = FacilityProject.register(
            facility_id=uuid.uuid4(), kind=kind, name=f"{community}{kind}{n}", district=district,
            street=street, community=community, deadline=(opened + timedelta(days=30)).isoformat(),
            planned_on=(opened - timedelta(days=400)).isoformat(), actor_id=ADMIN.user_id,
        )  # fmt: skip
    if kind == Kind.HOME_CARE_PROVIDER:
        return project
    with clock.frozen_at(_midnight(opened)):
        for milestone in MILESTONES[1:]:
            project.reach_milestone(
                milestone=milestone, on=opened.isoformat(), today=opened, actor_id=ADMIN.user_id
            )
    return project


def seed_canteen_year(rt: Runtime, *, per_district: int, now: datetime, seed: int = 3) -> int:
    """`per_district` canteens in each district, each recording a day's meals every day of
    the past year; returns events written."""
    rng, today = random.Random(seed), clock.local(now).date()
    canteens = [
        _facility(Kind.CANTEEN, d.code, n, today - timedelta(days=380))
        for d in DISTRICTS
        for n in range(per_district)
    ]
    rt.meals.save(*canteens)
    events, pending = sum(c.version for c in canteens), []
    for canteen in canteens:
        for back in range(365, 0, -1):
            day = today - timedelta(days=back)
            moment = _midnight(day) + timedelta(hours=20)
            with clock.frozen_at(moment):
                meals = CanteenDay.record(
                    canteen=canteen, day=day, served=[], walk_in_count=rng.randint(20, 90),
                    enrolments={}, today=day, actor_id="bench-cook",
                )  # fmt: skip
                pending.append(meals)
            if len(pending) == BATCH:
                events += _save(rt, pending)
    return events + _save(rt, pending)


def seed_care_year(rt: Runtime, *, cases: int, now: datetime, seed: int = 5) -> int:
    """`cases` home-care cases in service all year, visited every three days; returns events."""
    rng, today = random.Random(seed), clock.local(now).date()
    start = today - timedelta(days=365)
    providers = {d.code: _facility(Kind.HOME_CARE_PROVIDER, d.code, 0, start) for d in DISTRICTS}
    rt.home_care.save(*providers.values())
    events, pending = len(providers), []
    for i in range(cases):
        pending.append(_care_case(rt, i, rng, providers, start, today))
        if len(pending) == BATCH // 10:
            events += _save(rt, pending)
    return events + _save(rt, pending)


def _care_case(
    rt: Runtime, i: int, rng: random.Random, providers: dict, start: date, today: date
) -> HomeCareCase:
    district = rng.choice(DISTRICTS)
    street, community = rng.choice(district.communities)
    born = date(1930, 1, 1) + timedelta(days=i % 9000)
    first17 = f"110105{born:%Y%m%d}{500 + i // 9000:03d}"
    answers = {
        "name": "王秀兰", "national_id": first17 + check_digit(first17), "phone": f"137{i:08d}",
        "address": f"长寿路{i % 300 + 1}号", "household_category": "dibao",
        "disability_level": "full", "living_situation": "alone",
    }  # fmt: skip
    with clock.frozen_at(_midnight(start)):
        profile, elder_id = clean_profile(answers, start)
        case_id = uuid.uuid4()
        case = HomeCareCase.open(
            case_id=case_id, reference=reference_for(case_id), person_id=rt.persons.record(profile),
            elder_id=elder_id, disability_level="full", today=start, channel="online",
            applicant_user_id=f"bench-care-family-{i}", relation="child", district=district.code,
            street=street, community=community, actor_id=f"bench-care-family-{i}",
        )  # fmt: skip
        case.request_assessment(actor_id="bench-cw", assessor_id="bench-assessor")
        case.assess(actor_id="bench-assessor", level="moderate", monthly_hours=30)
        case.approve(actor_id="bench-cw")
        case.assign_provider(actor_id="bench-cw", provider=providers[district.code], today=start)
    for back in range(364, 0, -3):
        day = today - timedelta(days=back)
        moment = _midnight(day) + timedelta(hours=18)
        with clock.frozen_at(moment):
            case.log_visit(
                actor_id="bench-carer", visit_id=uuid.uuid4(), visit_date=day.isoformat(),
                start="09:00", end=f"{10 + rng.randint(0, 1)}:{rng.choice(['00', '30'])}",
                items=["cleaning"], caregiver="护理员", confirmed_by="elder", now=moment,
            )  # fmt: skip
    return case


def set_targets(rt: Runtime, now: datetime) -> int:
    """A target for every metric, city-wide and in each district, set a year ago."""
    set_on = now - timedelta(days=300)
    deadline = (clock.local(now) + timedelta(days=60)).date().isoformat()
    count = 0
    with clock.frozen_at(set_on):
        for m in METRICS:
            value = "90" if m.unit == "percent" else "5" if m.unit == "ratio" else "50000"
            for district in ["", *(d.code for d in DISTRICTS)]:
                rt.targets.set_target(
                    ADMIN, metric_code=m.code, district=district, value=value, deadline=deadline
                )
                count += 1
    return count


def _save(rt: Runtime, pending: list) -> int:
    if not pending:
        return 0
    rt.meals.save(*pending)
    written = sum(a.version for a in pending)
    pending.clear()
    return written
