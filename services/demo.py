"""A realistic demo city: staff of every role, families, and a few hundred cases at every step."""

from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from events import clock
from events.checklist import MCA_2020
from events.districts import DISTRICTS
from events.national_id import check_digit
from events.retrofit import SURVEY_QUESTIONS, Step
from events.roles import Actor, Role
from services.accounts import AccountService
from services.photos import PhotoStore
from services.retrofit import RetrofitService

DEMO_PASSWORD = "anlao-demo-2026"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = (
    "秀英",
    "桂兰",
    "玉珍",
    "淑珍",
    "凤英",
    "建国",
    "国华",
    "德明",
    "福生",
    "永昌",
    "桂芳",
    "玉兰",
    "志强",
    "秀珍",
    "长海",
    "金花",
    "树林",
    "春梅",
    "文华",
    "顺利",
)
CONTRACTORS = ("安居装修工程有限公司", "康宁适老化改造服务中心", "福顺建筑装饰公司")
# How far along the happy path demo cases go, with weights that leave every step populated.
TARGETS = {
    Step.SUBMITTED: 30,
    Step.RETURNED: 8,
    Step.REJECTED: 8,
    Step.APPROVED: 25,
    Step.ASSESSED: 20,
    Step.PLAN_CONFIRMED: 15,
    Step.CONTRACTOR_ASSIGNED: 15,
    Step.WORKS_STARTED: 25,
    Step.WORKS_COMPLETED: 20,
    Step.RECTIFICATION: 10,
    Step.ACCEPTED: 25,
    Step.SURVEYED: 35,
    Step.CLOSED: 40,
    Step.WITHDRAWN: 6,
}
HAPPY_PATH = (
    Step.APPROVED,
    Step.ASSESSED,
    Step.PLAN_CONFIRMED,
    Step.CONTRACTOR_ASSIGNED,
    Step.WORKS_STARTED,
    Step.WORKS_COMPLETED,
    Step.ACCEPTED,
    Step.SURVEYED,
    Step.CLOSED,
)


@dataclass(frozen=True)
class DemoLogin:
    """A printed demo credential."""

    login: str
    role: str
    district: str
    name: str


@dataclass
class _DistrictStaff:
    caseworker: Actor
    assessor: Actor
    inspector: Actor
    community_worker: Actor
    photo: dict[str, str]


def demo_photo_png(width: int = 64, height: int = 48) -> bytes:
    """A small real PNG (a grey tile) so demo acceptance photos open like real ones."""
    raw = b"".join(b"\x00" + bytes((180, 190, 200)) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def seed_demo(
    accounts: AccountService,
    retrofit: RetrofitService,
    photos: PhotoStore,
    *,
    cases: int = 300,
    seed: int = 2026,
) -> list[DemoLogin]:
    """Create demo accounts and `cases` retrofit cases spread over every step; returns logins."""
    rng = random.Random(seed)
    logins: list[DemoLogin] = []
    photo = photos.store(demo_photo_png())
    staff = {d.code: _district_staff(accounts, d.code, logins, photo) for d in DISTRICTS}
    for role, login, name in (
        (Role.SUPERVISOR, "supervisor", "督导 周明"),
        (Role.AUDITOR, "auditor", "审计 孙立"),
        (Role.ADMIN, "admin", "管理员 赵新"),
    ):
        accounts.create_staff(login=login, password=DEMO_PASSWORD, display_name=name, role=role)
        logins.append(DemoLogin(login, role, "", name))
    families = [_family(accounts, f"1380000{i:04d}", f"家属{i}", logins) for i in range(1, 61)]
    now = clock.now()
    for n in range(cases):
        district = DISTRICTS[n % len(DISTRICTS)]
        _demo_case(
            rng,
            retrofit,
            families[n % len(families)],
            staff[district.code],
            district.code,
            district.communities[0],
            now,
        )
    return logins


def _district_staff(
    accounts: AccountService, code: str, logins: list[DemoLogin], photo: dict[str, str]
) -> _DistrictStaff:
    district = next(d for d in DISTRICTS if d.code == code)
    community = district.communities[0][1]
    made: dict[str, Actor] = {}
    for role, label in (
        (Role.CASEWORKER, "审核员"),
        (Role.ASSESSOR, "评估员"),
        (Role.INSPECTOR, "验收员"),
        (Role.COMMUNITY_WORKER, "社区工作者"),
    ):
        login = f"{role.replace('_', '')}-{code.lower()}"
        name = f"{district.name_zh}{label}"
        comm = community if role == Role.COMMUNITY_WORKER else ""
        user_id = accounts.create_staff(
            login=login,
            password=DEMO_PASSWORD,
            display_name=name,
            role=role,
            district=code,
            community=comm,
        )
        made[role] = Actor(user_id, role, code, comm)
        logins.append(DemoLogin(login, role, code, name))
    return _DistrictStaff(
        made[Role.CASEWORKER],
        made[Role.ASSESSOR],
        made[Role.INSPECTOR],
        made[Role.COMMUNITY_WORKER],
        photo,
    )


def _family(accounts: AccountService, mobile: str, name: str, logins: list[DemoLogin]) -> Actor:
    user_id = accounts.register_family(mobile=mobile, password=DEMO_PASSWORD, display_name=name)
    logins.append(DemoLogin(mobile, Role.FAMILY, "", name))
    return Actor(user_id, Role.FAMILY)


def _elder(rng: random.Random) -> dict[str, str]:
    born = datetime(1930, 1, 1) + timedelta(days=rng.randint(0, 34 * 365))
    first17 = f"1101{rng.randint(1, 8):02d}{born:%Y%m%d}{rng.randint(100, 999)}"
    return {
        "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
        "national_id": first17 + check_digit(first17),
        "phone": f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
        "address": f"{rng.randint(1, 99)}号{rng.randint(1, 6)}单元{rng.randint(101, 602)}室",
        "household_category": rng.choice(("tekun", "dibao", "dibao", "dibao_edge")),
        "disability_level": rng.choice(("none", "semi", "semi", "full", "certified")),
        "living_situation": rng.choice(("alone", "alone", "spouse", "family")),
    }


def _demo_case(
    rng: random.Random,
    retrofit: RetrofitService,
    family: Actor,
    staff: _DistrictStaff,
    district: str,
    place: tuple[str, str],
    now: datetime,
) -> UUID:
    target = rng.choices(list(TARGETS), weights=list(TARGETS.values()))[0]
    moment = now - timedelta(days=rng.randint(2, 150), hours=rng.randint(0, 20))
    by_proxy = rng.random() < 0.25
    applicant = staff.community_worker if by_proxy else family
    with clock.frozen_at(moment):
        case_id = retrofit.submit_application(
            applicant,
            idempotency_key=f"demo-{rng.random()}",
            elder=_elder(rng),
            relation="other" if by_proxy else rng.choice(("child", "spouse", "relative")),
            district=district,
            street=place[0],
            community=place[1],
            needs=rng.choice(
                (
                    "卫生间地面滑,老人洗澡不方便。",
                    "床边需要扶手,起夜怕摔。",
                    "门槛高,轮椅进出困难。",
                    "",
                )
            ),
        )
    steps = _steps_to(target)
    for step in steps:
        moment = min(moment + timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 8)), now)
        with clock.frozen_at(moment):
            _take(rng, retrofit, case_id, step, applicant, staff)
    return case_id


def _steps_to(target: str) -> list[str]:
    if target == Step.SUBMITTED:
        return []
    if target in (Step.RETURNED, Step.REJECTED):
        return [target]
    if target == Step.WITHDRAWN:
        return [Step.APPROVED, Step.WITHDRAWN]
    if target == Step.RECTIFICATION:
        return [*HAPPY_PATH[: HAPPY_PATH.index(Step.WORKS_COMPLETED) + 1], Step.RECTIFICATION]
    return list(HAPPY_PATH[: HAPPY_PATH.index(target) + 1])


def _take(
    rng: random.Random,
    r: RetrofitService,
    case_id: UUID,
    step: str,
    applicant: Actor,
    s: _DistrictStaff,
) -> None:
    v = r.repository.get(case_id).version
    cw, asr, ins = s.caseworker, s.assessor, s.inspector
    match step:
        case Step.APPROVED:
            r.approve(cw, case_id, v, assessor_id=asr.user_id, note="符合低保家庭条件。")
        case Step.REJECTED:
            r.reject(cw, case_id, v, reason="经核实,家庭不属于特困、低保或低保边缘家庭。")
        case Step.RETURNED:
            r.return_for_information(cw, case_id, v, request="请补充低保证明的照片或复印件。")
        case Step.ASSESSED:
            r.assess(asr, case_id, v, lines=_lines(rng), note="已入户查看,与家属沟通确认。")
        case Step.PLAN_CONFIRMED:
            r.confirm_plan(applicant, case_id, v)
        case Step.CONTRACTOR_ASSIGNED:
            r.assign_contractor(
                cw, case_id, v, contractor=rng.choice(CONTRACTORS), inspector_id=ins.user_id
            )
        case Step.WORKS_STARTED:
            r.start_works(cw, case_id, v)
        case Step.WORKS_COMPLETED:
            r.complete_works(cw, case_id, v)
        case Step.ACCEPTED | Step.RECTIFICATION:
            _accept(r, case_id, v, ins, s.photo, passed=step == Step.ACCEPTED)
        case Step.SURVEYED:
            scores = {q: rng.choice((4, 5, 5, 5, 3)) for q in SURVEY_QUESTIONS}
            r.answer_survey(applicant, case_id, v, scores=scores, comment="扶手很结实,谢谢!")
        case Step.CLOSED:
            r.close_case(cw, case_id, v, note="资料齐全,办结。")
        case Step.WITHDRAWN:
            r.withdraw(applicant, case_id, v, reason="老人搬去和子女同住了。")


def _lines(rng: random.Random) -> list[dict[str, object]]:
    basic = [i for i in MCA_2020.items if i.basic]
    optional = [i for i in MCA_2020.items if not i.basic]
    chosen = rng.sample(basic, rng.randint(2, 4)) + rng.sample(optional, rng.randint(0, 2))
    return [
        {
            "code": i.code,
            "quantity": rng.randint(1, 4),
            "unit_price": i.reference_price + Decimal(rng.randint(0, 5) * 10),
        }
        for i in chosen
    ]


def _accept(
    r: RetrofitService,
    case_id: UUID,
    version: int,
    inspector: Actor,
    photo: dict[str, str],
    *,
    passed: bool,
) -> None:
    case = r.repository.get(case_id)
    items = case.assessment["items"] if case.assessment else []
    results = [
        {"code": i["code"], "installed": True, "works": True, "safe": passed or n > 0}
        for n, i in enumerate(items)
    ]
    r.inspect_acceptance(
        inspector,
        case_id,
        version,
        results=results,
        photos=[photo],
        remarks="" if passed else "扶手安装不牢固,需重新固定。",
    )
