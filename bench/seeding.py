"""Seeding for the benchmarks: a throwaway database, and retrofit cases at realistic steps."""

from __future__ import annotations

import random
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from events import clock
from events.checklist import MCA_2020
from events.districts import DISTRICTS
from events.elder import clean_profile
from events.national_id import check_digit
from events.retrofit import SURVEY_QUESTIONS, RetrofitCase, Step
from events.roles import Actor, Role
from portal.runtime import Runtime, build_runtime
from services.demo import GIVEN, SURNAMES
from services.references import reference_for
from services.settings import Settings

# How many cases of every hundred stop at each step (roughly a programme in mid-year).
TARGETS: dict[str, int] = {
    Step.SUBMITTED: 15,
    Step.RETURNED: 5,
    Step.REJECTED: 5,
    Step.APPROVED: 10,
    Step.ASSESSED: 10,
    Step.PLAN_CONFIRMED: 5,
    Step.CONTRACTOR_ASSIGNED: 5,
    Step.WORKS_STARTED: 10,
    Step.WORKS_COMPLETED: 5,
    Step.RECTIFICATION: 5,
    Step.ACCEPTED: 8,
    Step.SURVEYED: 7,
    Step.CLOSED: 5,
    Step.WITHDRAWN: 5,
}
LINES = [
    {"code": "T01", "quantity": 2, "unit_price": Decimal("200")},
    {"code": "F01", "quantity": 12, "unit_price": Decimal("60")},
    {"code": "A01", "quantity": 1, "unit_price": Decimal("100")},
]
PHOTOS = [{"sha256": "0" * 64, "media_type": "image/jpeg"}]
SCORES = dict.fromkeys(SURVEY_QUESTIONS, 5)


@contextmanager
def bench_runtime(database_url: str | None) -> Iterator[Runtime]:
    """A runtime on a fresh database: SQLite in a temp dir, or a new schema in PostgreSQL."""
    with tempfile.TemporaryDirectory(prefix="anlao-bench-") as folder:
        url, schema = _fresh_url(database_url, Path(folder))
        settings = Settings(instance_path=Path(folder) / "instance", database_url=url,
                            secret_key="bench")  # fmt: skip
        rt = build_runtime(settings)
        try:
            yield rt
        finally:
            rt.dispose()
            if schema:
                _drop_schema(database_url or "", schema)


def _fresh_url(database_url: str | None, folder: Path) -> tuple[str, str]:
    if not database_url:
        return f"sqlite:///{folder / 'bench.sqlite3'}", ""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" or "schema" in url.query:
        return database_url, ""
    schema = f"bench_{uuid.uuid4().hex[:10]}"  # ours alone: dropped when the bench ends
    return url.update_query_dict({"schema": schema}).render_as_string(False), schema


def _drop_schema(database_url: str, schema: str) -> None:
    url = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def pick_target(rng: random.Random) -> str:
    """A step to take a case to, with the mid-year distribution above."""
    return rng.choices(list(TARGETS), weights=list(TARGETS.values()))[0]


def elder_answers(i: int, rng: random.Random) -> dict[str, Any]:
    """The i-th distinct elder (ID numbers never repeat for i below 240,000)."""
    born = date(1930, 1, 1) + timedelta(days=i % 12_000)
    region = rng.choice(["110105", "320106", "440305", "510107"])
    first17 = f"{region}{born:%Y%m%d}{100 + i // 12_000:03d}"
    return {
        "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
        "national_id": first17 + check_digit(first17),
        "phone": f"139{i:08d}",
        "address": f"幸福路{i % 400 + 1}号{i % 7 + 1}单元{i % 30 + 101}室",
        "household_category": rng.choice(["tekun", "dibao", "dibao_edge"]),
        "disability_level": rng.choice(["none", "semi", "full", "certified"]),
        "living_situation": rng.choice(["alone", "spouse", "family"]),
    }


def place(rng: random.Random) -> tuple[str, str, str]:
    """(district, street, community) somewhere in the city."""
    district = rng.choice(DISTRICTS)
    street, community = rng.choice(district.communities)
    return district.code, street, community


def staff(district: str) -> dict[str, Actor]:
    """One caseworker, assessor and inspector per district."""
    return {
        role: Actor(f"bench-{role}-{district}", role, district)
        for role in (Role.CASEWORKER, Role.ASSESSOR, Role.INSPECTOR)
    }


def _path_to(target: str, rng: random.Random) -> list[str]:
    """The actions that take a new case to `target`."""
    happy = ["approve", "assess", "confirm", "contract", "start", "complete", "accept", "survey",
             "close"]  # fmt: skip
    reached = {
        Step.SUBMITTED: 0, Step.APPROVED: 1, Step.ASSESSED: 2, Step.PLAN_CONFIRMED: 3,
        Step.CONTRACTOR_ASSIGNED: 4, Step.WORKS_STARTED: 5, Step.WORKS_COMPLETED: 6,
        Step.ACCEPTED: 7, Step.SURVEYED: 8, Step.CLOSED: 9,
    }  # fmt: skip
    special = {
        Step.RETURNED: ["return"],
        Step.REJECTED: ["return", "supply", "reject"],
        Step.RECTIFICATION: [*happy[:6], "fail", "rectify", "fail"],
        Step.WITHDRAWN: ["approve", "assess", "withdraw"],
    }
    if target in special:
        return special[target]
    path = happy[: reached[target]]
    # Some accepted cases passed only at the second inspection.
    return (
        [*path[:6], "fail", "rectify", *path[6:]] if len(path) > 6 and rng.random() < 0.3 else path
    )


def service_actions(
    rt: Runtime, family: Actor, team: dict[str, Actor]
) -> dict[str, Callable[..., int]]:
    """Each action through the real service: (case_id, version) -> new version."""
    r, cw, ass, ins = rt.retrofit, team[Role.CASEWORKER], team[Role.ASSESSOR], team[Role.INSPECTOR]
    checked = [{"code": x["code"], "installed": True, "works": True, "safe": True} for x in LINES]
    failed = [dict(checked[0], safe=False), *checked[1:]]
    return {
        "approve": lambda c, v: r.approve(cw, c, v, assessor_id=ass.user_id),
        "return": lambda c, v: r.return_for_information(cw, c, v, request="请补充低保证明"),
        "supply": lambda c, v: r.supply_information(family, c, v, reply="已补充"),
        "reject": lambda c, v: r.reject(cw, c, v, reason="不符合困难老年人家庭条件"),
        "assess": lambda c, v: r.assess(ass, c, v, lines=LINES),
        "confirm": lambda c, v: r.confirm_plan(family, c, v),
        "contract": lambda c, v: r.assign_contractor(cw, c, v, contractor="安居装修公司",
                                                     inspector_id=ins.user_id),
        "start": lambda c, v: r.start_works(cw, c, v),
        "complete": lambda c, v: r.complete_works(cw, c, v),
        "accept": lambda c, v: r.inspect_acceptance(ins, c, v, results=checked, photos=PHOTOS),
        "fail": lambda c, v: r.inspect_acceptance(ins, c, v, results=failed, photos=PHOTOS),
        "rectify": lambda c, v: r.complete_rectification(cw, c, v, note="已整改"),
        "survey": lambda c, v: r.answer_survey(family, c, v, scores=SCORES, comment="满意"),
        "close": lambda c, v: r.close_case(cw, c, v),
        "withdraw": lambda c, v: r.withdraw(family, c, v, reason="老人搬家"),
    }  # fmt: skip


def seed_through_services(rt: Runtime, cases: int, seed: int = 7) -> int:
    """Apply and take `cases` cases to mixed steps via RetrofitService; returns events written."""
    rng = random.Random(seed)
    events = 0
    for i in range(cases):
        district, street, community = place(rng)
        family = Actor(f"bench-family-{i}", Role.FAMILY)
        case_id = rt.retrofit.submit_application(
            family, idempotency_key=str(i), elder=elder_answers(i, rng), relation="child",
            district=district, street=street, community=community, needs="需要扶手",
        )  # fmt: skip
        actions = service_actions(rt, family, staff(district))
        version = 1
        for name in _path_to(pick_target(rng), rng):
            version = actions[name](case_id, version)
        events += version
    return events


def aggregate_actions(
    team: dict[str, Actor], family: str
) -> dict[str, Callable[[RetrofitCase], Any]]:
    """The same actions taken directly on the aggregate (bulk seeding, saved in batches)."""
    cw, ass, ins = (team[r].user_id for r in (Role.CASEWORKER, Role.ASSESSOR, Role.INSPECTOR))
    checked = [{"code": x["code"], "installed": True, "works": True, "safe": True} for x in LINES]
    failed = [dict(checked[0], safe=False), *checked[1:]]
    cap = Decimal("3000")
    return {
        "approve": lambda c: c.approve(actor_id=cw, assessor_id=ass),
        "return": lambda c: c.return_for_information(actor_id=cw, request="请补充低保证明"),
        "supply": lambda c: c.supply_information(actor_id=family, reply="已补充"),
        "reject": lambda c: c.reject(actor_id=cw, reason="不符合困难老年人家庭条件"),
        "assess": lambda c: c.assess(actor_id=ass, checklist=MCA_2020, lines=LINES,
                                     subsidy_cap=cap),
        "confirm": lambda c: c.confirm_plan(actor_id=family),
        "contract": lambda c: c.assign_contractor(actor_id=cw, contractor="安居装修公司",
                                                  inspector_id=ins),
        "start": lambda c: c.start_works(actor_id=cw),
        "complete": lambda c: c.complete_works(actor_id=cw),
        "accept": lambda c: c.inspect_acceptance(actor_id=ins, results=checked, photos=PHOTOS),
        "fail": lambda c: c.inspect_acceptance(actor_id=ins, results=failed, photos=PHOTOS),
        "rectify": lambda c: c.complete_rectification(actor_id=cw, note="已整改"),
        "survey": lambda c: c.answer_survey(actor_id=family, scores=SCORES, comment="满意"),
        "close": lambda c: c.close_case(actor_id=cw),
        "withdraw": lambda c: c.withdraw(actor_id=family, reason="老人搬家"),
    }  # fmt: skip


def build_case(rt: Runtime, i: int, rng: random.Random, now: datetime) -> RetrofitCase:
    """One case, applied some time in the past year and taken to a random step at later dates."""
    applied_at = now - timedelta(days=rng.uniform(0, 365))
    district, street, community = place(rng)
    family = f"bench-family-{i}"
    with clock.frozen_at(applied_at):
        profile, elder_id = clean_profile(elder_answers(i, rng), applied_at.date())
        case_id = uuid.uuid4()
        case = RetrofitCase.open(
            case_id=case_id, reference=reference_for(case_id), person_id=rt.persons.record(profile),
            elder_id=elder_id, today=applied_at.date(), channel="online",
            applicant_user_id=family, relation="child", district=district, street=street,
            community=community, actor_id=family,
        )  # fmt: skip
    actions, moment = aggregate_actions(staff(district), family), applied_at
    for name in _path_to(pick_target(rng), rng):
        moment = min(moment + timedelta(days=rng.uniform(0.5, 12)), now - timedelta(minutes=1))
        with clock.frozen_at(moment):
            actions[name](case)
    return case


def seed_in_batches(rt: Runtime, cases: int, *, batch: int = 250, seed: int = 11,
                    now: datetime | None = None) -> int:  # fmt: skip
    """Cases spread over the past year, `batch` aggregates per transaction; returns events."""
    rng, now, events = random.Random(seed), now or clock.now(), 0
    pending: list[RetrofitCase] = []
    for i in range(cases):
        pending.append(build_case(rt, i, rng, now))
        if len(pending) == batch or i == cases - 1:
            events += sum(c.version for c in pending)
            rt.retrofit.save(*pending)
            pending = []
    return events
