"""A realistic demo city: staff of every role, families, and a few hundred cases at every step."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from io import BytesIO
from uuid import UUID

from PIL import Image

from events import clock
from events.checklist import MCA_2020
from events.districts import DISTRICTS, District, district
from events.facility import MILESTONES, ROOMS, FacilityProject, Kind
from events.home_care import CARE_LEVELS, VISIT_ITEMS, CareStep
from events.meal import AGED_80_PLUS, EnrolmentStep
from events.national_id import check_digit, parse_national_id
from events.retrofit import SURVEY_QUESTIONS, Step
from events.roles import Actor, Role
from events.workforce import period_of
from services.accounts import AccountService
from services.demo_funds import seed_funds
from services.demo_targets import seed_targets
from services.facilities import FacilityService
from services.home_care import HomeCareService
from services.ledger import LedgerService
from services.meals import MealService
from services.photos import PhotoStore
from services.retrofit import RetrofitService
from services.targets import TargetService

DEMO_PASSWORD = "anlao-demo-2026"  # nosec B105 # the demo logins' published password (README)
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
    out = BytesIO()
    Image.new("RGB", (width, height), (180, 190, 200)).save(out, "PNG")
    return out.getvalue()


@dataclass(frozen=True)
class Programmes:
    """The services of programmes 2 and 3 (and the fund ledger), for seeding them beside the
    retrofit cases."""

    facilities: FacilityService
    meals: MealService
    home_care: HomeCareService
    ledger: LedgerService | None = None
    targets: TargetService | None = None


def seed_demo(
    accounts: AccountService,
    retrofit: RetrofitService,
    photos: PhotoStore,
    *,
    cases: int = 300,
    seed: int = 2026,
    programmes: Programmes | None = None,
) -> list[DemoLogin]:
    """Create demo accounts, `cases` retrofit cases spread over every step and, given the
    programme 2/3 services, facilities, meal enrolments and days, home care (and, given the
    ledger, a year of funds paying for them); returns logins."""
    rng = random.Random(seed)  # nosec B311 # seeded, repeatable demo data; no secret
    logins: list[DemoLogin] = []
    photo = photos.store(demo_photo_png())
    staff = {d.code: _district_staff(accounts, d.code, logins, photo) for d in DISTRICTS}
    city: dict[str, Actor] = {}
    for role, login, name in (
        (Role.SUPERVISOR, "supervisor", "督导 周明"),
        (Role.FINANCE, "finance", "财务 钱芳"),
        (Role.AUDITOR, "auditor", "审计 孙立"),
        (Role.ADMIN, "admin", "管理员 赵新"),
    ):
        user_id = accounts.create_staff(
            login=login, password=DEMO_PASSWORD, display_name=name, role=role
        )
        logins.append(DemoLogin(login, role, "", name))
        city[role] = Actor(user_id, role)
    admin = city[Role.ADMIN]
    families = [_family(accounts, f"1380000{i:04d}", f"家属{i}", logins) for i in range(1, 61)]
    now = clock.now()
    made_cases: list[UUID] = []
    for n in range(cases):
        district = DISTRICTS[n % len(DISTRICTS)]
        case_id = _demo_case(
            rng,
            retrofit,
            families[n % len(families)],
            staff[district.code],
            district.code,
            district.communities[0],
            now,
        )
        made_cases.append(case_id)
    if programmes is not None:
        made = _seed_programmes(accounts, programmes, seed, admin, staff, families, logins)
        if programmes.ledger is not None:
            seed_funds(
                programmes.ledger,
                retrofit,
                programmes.facilities,
                city[Role.FINANCE],
                cases=made_cases,
                facility_ids=made,
                seed=seed,
            )
        if programmes.targets is not None:
            seed_targets(programmes.targets, admin, cases=cases, now=now)
    return logins


def _seed_programmes(
    accounts: AccountService,
    p: Programmes,
    seed: int,
    admin: Actor,
    staff: dict[str, _DistrictStaff],
    families: list[Actor],
    logins: list[DemoLogin],
) -> dict[str, list[UUID]]:
    inspectors = {code: s.inspector for code, s in staff.items()}
    photo = next(iter(staff.values())).photo
    made = seed_facilities(p.facilities, seed=seed, admin=admin, inspectors=inspectors, photo=photo)
    providers: dict[UUID, Actor] = {}
    for kind, short in (
        (Kind.CANTEEN, "canteen"),
        (Kind.HOME_CARE_PROVIDER, "homecare"),
        (Kind.INSTITUTION, "institution"),
        (Kind.CARE_CENTRE, "centre"),
    ):
        for n, facility_id in enumerate(made[kind], start=1):
            facility = p.facilities.repository.get(facility_id)
            if facility.in_operation:
                providers[facility_id] = _provider(accounts, f"{short}-{n}", facility, logins)
    caseworkers = {code: s.caseworker for code, s in staff.items()}
    seed_meals(
        p.meals,
        seed=seed,
        canteens=made[Kind.CANTEEN],
        families=families,
        caseworkers=caseworkers,
        providers=providers,
    )
    seed_home_care(
        p.home_care,
        seed=seed,
        providers=made[Kind.HOME_CARE_PROVIDER],
        families=families,
        caseworkers=caseworkers,
        assessors={code: s.assessor for code, s in staff.items()},
        provider_users=providers,
    )
    return made


def _provider(
    accounts: AccountService, login: str, facility: FacilityProject, logins: list[DemoLogin]
) -> Actor:
    user_id = accounts.create_staff(
        login=login,
        password=DEMO_PASSWORD,
        display_name=facility.name,
        role=Role.PROVIDER,
        district=facility.district,
        facility_id=str(facility.id),
    )
    logins.append(DemoLogin(login, Role.PROVIDER, facility.district, facility.name))
    return Actor(user_id, Role.PROVIDER, facility.district, "", str(facility.id))


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


# -- meal service (老年助餐) -------------------------------------------------------------------
DIETS = ("", "", "", "少盐少油。", "糖尿病,少糖。", "牙口不好,饭菜要软烂。", "不吃辣。")
# How far demo enrolments go, with weights: most elders are enrolled and eating.
MEAL_TARGETS = {
    EnrolmentStep.APPROVED: 62,
    EnrolmentStep.ENDED: 6,
    EnrolmentStep.WITHDRAWN: 5,
    EnrolmentStep.SUBMITTED: 12,
    EnrolmentStep.RETURNED: 8,
    EnrolmentStep.REJECTED: 7,
}
MEALS_CORRECTED_EVERY = 17  # one day in 17 of each canteen is corrected the same evening


@dataclass(frozen=True)
class _Stay:
    """When an enrolled demo elder may be served (the canteen counts only these days)."""

    case_id: UUID
    enrolled_on: date
    left_on: date | None

    def on(self, day: date) -> bool:
        return self.enrolled_on <= day and (self.left_on is None or day <= self.left_on)


def seed_meals(
    meals: MealService,
    *,
    seed: int,
    canteens: list[UUID],
    families: list[Actor],
    caseworkers: dict[str, Actor],
    providers: dict[UUID, Actor],
    days: int = 90,
) -> None:
    """Enrol elders at each open canteen and record `days` days of meals, with corrections.

    `caseworkers` maps each district code, `providers` each canteen id, to its account.
    Canteens not (yet) in operation are skipped; the others should have been open `days` days.
    """
    rng = random.Random(seed)  # nosec B311 # seeded, repeatable demo data; no secret
    today = meals.today()
    first = today - timedelta(days=days)
    for canteen_id in canteens:
        canteen = meals.repository.get(canteen_id)
        if not isinstance(canteen, FacilityProject) or canteen.kind != Kind.CANTEEN:
            continue
        if not canteen.in_operation:
            continue  # only open canteens take elders and serve meals
        stays = [
            _demo_enrolment(
                rng,
                meals,
                canteen_id,
                canteen.district,
                rng.choice(families),
                caseworkers[canteen.district],
                first,
                today,
            )
            for _ in range(rng.randint(6, 10))
        ]
        enrolled = [stay for stay in stays if stay is not None]
        _demo_meal_days(rng, meals, canteen_id, providers[canteen_id], enrolled, first, today)


def _city_moment(day: date, hour: int) -> datetime:
    """`hour` o'clock on `day` in the city, never later than now."""
    return min(datetime.combine(day, time(hour), tzinfo=clock.CITY_TZ), clock.now())


def _demo_enrolment(
    rng: random.Random,
    meals: MealService,
    canteen_id: UUID,
    district_code: str,
    family: Actor,
    caseworker: Actor,
    first: date,
    today: date,
) -> _Stay | None:
    target = rng.choices(list(MEAL_TARGETS), weights=list(MEAL_TARGETS.values()))[0]
    applied = first + timedelta(days=rng.randint(-30, max((today - first).days * 2 // 3, 0)))
    found = district(district_code)
    street, community = rng.choice(found.communities) if found else ("", "")
    profile = _elder(rng)
    with clock.frozen_at(_city_moment(applied, rng.randint(8, 17))):
        case_id = meals.submit_application(
            family,
            idempotency_key=f"demo-meal-{rng.random()}",
            elder=profile,
            relation=rng.choice(("child", "child", "spouse", "relative")),
            canteen_id=canteen_id,
            mode=rng.choice(("dine_in", "dine_in", "dine_in", "delivery")),
            subsidy_category=_meal_category(rng, profile, applied),
            district=district_code,
            street=street,
            community=community,
            dietary_needs=rng.choice(DIETS),
        )
    decided = min(applied + timedelta(days=rng.randint(1, 5)), today)
    with clock.frozen_at(_city_moment(decided, 10)):
        match target:
            case EnrolmentStep.SUBMITTED:
                return None
            case EnrolmentStep.RETURNED:
                meals.return_for_information(
                    caseworker, case_id, 1, request="请补充低保证明或高龄津贴证明的照片。"
                )
                return None
            case EnrolmentStep.REJECTED:
                meals.reject(
                    caseworker, case_id, 1, reason="经核实,老人不住在这个食堂的服务范围内。"
                )
                return None
        meals.approve(caseworker, case_id, 1, note="符合助餐补贴条件。")
    if target == EnrolmentStep.APPROVED or decided >= today:
        return _Stay(case_id, decided, None)
    left = decided + timedelta(days=rng.randint(1, (today - decided).days))
    with clock.frozen_at(_city_moment(left, 15)):
        if target == EnrolmentStep.ENDED:
            meals.end_enrolment(caseworker, case_id, 2, reason="老人住院治疗,暂停助餐。")
        else:
            meals.withdraw(family, case_id, 2, reason="老人搬去和子女同住了。")
    return _Stay(case_id, decided, left)


def _meal_category(rng: random.Random, profile: dict[str, str], on: date) -> str:
    age = parse_national_id(profile["national_id"], on).age_on(on)
    if age >= 80 and rng.random() < 0.6:
        return AGED_80_PLUS
    return profile["household_category"]


def _demo_meal_days(
    rng: random.Random,
    meals: MealService,
    canteen_id: UUID,
    provider: Actor,
    stays: list[_Stay],
    first: date,
    today: date,
) -> None:
    for n in range((today - first).days):
        day = first + timedelta(days=n)
        present = [str(s.case_id) for s in stays if s.on(day)]
        served = [case_id for case_id in present if rng.random() < 0.85]
        walk_ins = rng.randint(3, 30)
        with clock.frozen_at(_city_moment(day, 13)):
            meals.record_day(provider, canteen_id, day, served, walk_ins)
        if n % MEALS_CORRECTED_EVERY == 5:
            with clock.frozen_at(_city_moment(day, 18)):
                meals.correct_day(
                    provider,
                    canteen_id,
                    day,
                    1,
                    present,
                    walk_ins + rng.randint(1, 4),
                    reason="核对签到表,补记漏登的老人和堂食人数。",
                )


# -- facilities, provider organisations and their staffing (programmes 2 and 3) -----------------
# The milestone each district's (care centre, canteen, institution) has reached: every milestone
# appears at least once, each district's three differ, and centres, canteens and institutions
# in operation exist for the meal service, home care and workforce demos.
FACILITY_PLAN = (
    ("planned", "in_operation", "completed"),
    ("in_operation", "fit_out", "site_selected"),
    ("design_approved", "main_structure_completed", "in_operation"),
    ("tender_awarded", "in_operation", "construction_started"),
)
PROVIDER_ORGANISATIONS = ("康宁居家照护服务有限公司", "福寿上门照护服务中心")
STAFFING_MONTHS = 6
SITE_FINDINGS = (
    ("施工现场围挡完好,安全帽佩戴规范。", False),
    ("脚手架连墙件缺失两处,已要求三日内整改。", True),
    ("消防通道畅通,材料堆放整齐。", False),
    ("卫生间扶手安装高度不符合图纸,需返工。", True),
)


def seed_facilities(
    facilities: FacilityService,
    *,
    seed: int,
    admin: Actor,
    inspectors: dict[str, Actor],
    photo: dict[str, str],
) -> dict[str, list[UUID]]:
    """Register a care centre, a canteen and an institution in every district (each at another
    milestone, with a backdated history, inspections, beds, rooms and acceptance), two city-wide
    home-care provider organisations, and six months of staffing reports; returns ids by kind.

    `inspectors` maps each district code to an inspector of that district; `photo` is what
    the photo store returned for the demo photo, recorded on every inspection.
    """
    rng = random.Random(seed)  # nosec B311 # seeded, repeatable demo data; no secret
    now = clock.now()
    made: dict[str, list[UUID]] = {kind: [] for kind in Kind.ALL}
    for n, area in enumerate(DISTRICTS):
        site = _DemoSite(facilities, rng, admin, inspectors[area.code], photo, now, seed)
        plan = FACILITY_PLAN[n % len(FACILITY_PLAN)]
        for kind, target, place in zip(Kind.BUILT, plan, area.communities, strict=True):
            made[kind].append(site.build(kind, target, area.code, place))
    for n, name in enumerate(PROVIDER_ORGANISATIONS):
        area = DISTRICTS[n % len(DISTRICTS)]
        site = _DemoSite(facilities, rng, admin, inspectors[area.code], photo, now, seed)
        made[Kind.HOME_CARE_PROVIDER].append(site.provider(name, area.code))
    open_sites = [
        f
        for k in (Kind.CARE_CENTRE, Kind.INSTITUTION)
        for f in made[k]
        if facilities.repository.get(f).in_operation
    ]
    for n, org in enumerate(made[Kind.HOME_CARE_PROVIDER] + open_sites):
        _staffing(facilities, rng, admin, org, now, correct=n == 0)
    return made


@dataclass
class _DemoSite:
    """Builds demo facilities' backdated histories in one district."""

    facilities: FacilityService
    rng: random.Random
    admin: Actor
    inspector: Actor
    photo: dict[str, str]
    now: datetime
    seed: int

    def build(self, kind: str, target: str, code: str, place: tuple[str, str]) -> UUID:
        """Register a facility and take it to `target`, with what happens along the way."""
        moments = self._milestone_moments(target)
        names = {
            Kind.CARE_CENTRE: f"{place[1]}居家养老服务中心",
            Kind.CANTEEN: f"{place[1]}老年助餐食堂",
            Kind.INSTITUTION: f"{place[0]}敬老院",
        }
        due = max(moments[-1] + timedelta(days=self.rng.randint(-40, 120)), moments[0])
        with clock.frozen_at(moments[0]):
            facility_id = self.facilities.register_facility(
                self.admin,
                idempotency_key=f"demo-{self.seed}-{code}-{kind}",
                kind=kind,
                name=names[kind],
                district=code,
                street=place[0],
                community=place[1],
                deadline=due.date().isoformat(),
                planned_on=moments[0].date().isoformat(),
            )
        if kind == Kind.INSTITUTION:
            self._capacity(facility_id, moments[0] + timedelta(hours=2))
        for milestone, moment in zip(MILESTONES[1:], moments[1:], strict=False):
            if milestone == "in_operation" and kind == Kind.INSTITUTION:
                self._acceptance(facility_id, moments[-2], opens=True)
            self._at(
                moment,
                facility_id,
                lambda v, m=milestone, t=moment: self.facilities.reach_milestone(
                    self.admin, facility_id, v, milestone=m, on=t.date().isoformat()
                ),
            )
        if kind == Kind.INSTITUTION and target == "completed":
            self._acceptance(facility_id, moments[-1], opens=False)
        if len(moments) > MILESTONES.index("construction_started"):
            self._site_inspections(facility_id, moments[MILESTONES.index("construction_started")])
        if kind == Kind.CANTEEN and len(moments) > MILESTONES.index("completed"):
            self._food_safety(facility_id, moments[MILESTONES.index("completed")])
        return facility_id

    def provider(self, name: str, code: str) -> UUID:
        """A home-care provider organisation in operation for over a year, inspected since."""
        street, community = next(d for d in DISTRICTS if d.code == code).communities[0]
        since = self.now - timedelta(days=self.rng.randint(400, 500))
        with clock.frozen_at(since):
            org = self.facilities.register_provider_organisation(
                self.admin,
                idempotency_key=f"demo-{self.seed}-provider-{name}",
                name=name,
                district=code,
                street=street,
                community=community,
                since=since.date().isoformat(),
            )
        self._site_inspections(org, since)
        return org

    def _milestone_moments(self, target: str) -> list[datetime]:
        # Open facilities opened about eight months ago (six months of staffing reports fit);
        # the others reached their latest milestone in the past few weeks.
        back = self.rng.randint(230, 260) if target == "in_operation" else self.rng.randint(5, 40)
        moments = [self.now - timedelta(days=back, hours=self.rng.randint(0, 8))]
        for _ in range(MILESTONES.index(target)):
            moments.insert(0, moments[0] - timedelta(days=self.rng.randint(20, 45)))
        return moments

    def _at(self, moment: datetime, facility_id: UUID, command: Callable[[int], object]) -> None:
        with clock.frozen_at(min(moment, self.now)):
            command(self.facilities.repository.get(facility_id).version)

    def _capacity(self, facility_id: UUID, moment: datetime) -> None:
        before = self.rng.randint(20, 60)
        after = before + self.rng.randint(10, 40)
        nursing = self.rng.randint(after // 3, after // 2)
        rooms = self.rng.sample(ROOMS, self.rng.randint(1, len(ROOMS)))
        f, admin = self.facilities, self.admin
        self._at(
            moment,
            facility_id,
            lambda v: f.record_beds(
                admin, facility_id, v, beds_before=before, beds_after=after, nursing_beds=nursing
            ),
        )
        self._at(moment, facility_id, lambda v: f.record_rooms(admin, facility_id, v, rooms=rooms))

    def _acceptance(self, facility_id: UUID, completed: datetime, *, opens: bool) -> None:
        # A first check fails (the rectification is part of the story); it passes 9 days later.
        checks = [(completed + timedelta(days=2), False)]
        if opens:
            checks.append((completed + timedelta(days=11), True))
        for moment, passed in checks:
            self._at(
                moment,
                facility_id,
                lambda v, p=passed: self.facilities.inspect_acceptance(
                    self.inspector,
                    facility_id,
                    v,
                    safe=True,
                    functional=True,
                    well_managed=p,
                    remarks="" if p else "管理制度未上墙,值班记录不全,需整改后复验。",
                    photos=[self.photo],
                ),
            )

    def _site_inspections(self, facility_id: UUID, start: datetime) -> None:
        span = max((self.now - start).days - 1, 1)
        days = sorted(self.rng.sample(range(1, span + 1), min(self.rng.randint(1, 3), span)))
        for day in days:
            findings, follow_up = self.rng.choice(SITE_FINDINGS)
            self._at(
                start + timedelta(days=day),
                facility_id,
                lambda v, f=findings, u=follow_up: self.facilities.log_site_inspection(
                    self.inspector,
                    facility_id,
                    v,
                    findings=f,
                    follow_up_required=u,
                    photos=[self.photo],
                ),
            )

    def _food_safety(self, facility_id: UUID, start: datetime) -> None:
        moment = start + timedelta(days=5)
        while moment < self.now:
            passed = self.rng.random() < 0.85
            self._at(
                moment,
                facility_id,
                lambda v, p=passed: self.facilities.log_food_safety_inspection(
                    self.inspector,
                    facility_id,
                    v,
                    passed=p,
                    findings="" if p else "留样记录缺两天,冷藏柜温度偏高。",
                    photos=[self.photo],
                ),
            )
            moment += timedelta(days=self.rng.randint(40, 60))


_CAREGIVERS = {
    Kind.HOME_CARE_PROVIDER: (30, 60),
    Kind.INSTITUTION: (8, 16),
    Kind.CARE_CENTRE: (5, 12),
}
_ELDERS_EACH = {Kind.HOME_CARE_PROVIDER: (4, 6), Kind.INSTITUTION: (3, 5), Kind.CARE_CENTRE: (5, 8)}


def _staffing(
    facilities: FacilityService,
    rng: random.Random,
    admin: Actor,
    org: UUID,
    now: datetime,
    *,
    correct: bool,
) -> None:
    """Six monthly reports up to last month, each sent early in the following month."""
    kind = facilities.repository.get(org).kind
    caregivers = rng.randint(*_CAREGIVERS[kind])
    this_month = now.year * 12 + now.month - 1
    for back in range(STAFFING_MONTHS, 0, -1):
        period = period_of(this_month - back)
        hires, departures = rng.randint(0, 3), rng.randint(0, 2)
        caregivers = max(caregivers + hires - departures, 1)
        numbers = {
            "caregivers": caregivers,
            "hires": hires,
            "departures": departures,
            "residents_or_clients": caregivers * rng.randint(*_ELDERS_EACH[kind]),
            "trained": rng.randint(caregivers // 2, caregivers),
        }
        sent = datetime.fromisoformat(f"{period_of(this_month - back + 1)}-03T09:00+00:00")
        with clock.frozen_at(min(sent, now)):
            facilities.report_staffing(admin, organisation_id=org, period=period, **numbers)
        if correct and back == STAFFING_MONTHS - 1:
            numbers["departures"] += 1
            with clock.frozen_at(min(sent + timedelta(days=4), now)):
                facilities.correct_staffing(
                    admin, org, period, 1, **numbers, reason="核对考勤后,补报一名离职护理员。"
                )


# -- home care (上门照护) -----------------------------------------------------------------------
# How far demo home care cases go: a queue at every step, most elders being visited.
CARE_TARGETS = {
    CareStep.SUBMITTED: 6,
    CareStep.RETURNED: 3,
    CareStep.REJECTED: 3,
    CareStep.ASSESSOR_ASSIGNED: 5,
    CareStep.ASSESSED: 4,
    CareStep.APPROVED: 4,
    CareStep.IN_SERVICE: 20,
    CareStep.CLOSED: 5,
    CareStep.WITHDRAWN: 3,
}
CARE_PATH = (
    CareStep.ASSESSOR_ASSIGNED,
    CareStep.ASSESSED,
    CareStep.APPROVED,
    CareStep.IN_SERVICE,
)
CAREGIVERS = ("护理员王芳", "护理员李娟", "护理员张丽", "护理员刘洋", "护理员陈静", "护理员赵敏")
CARE_NEEDS = (
    "老人卧床,需要有人帮忙擦身、翻身。",
    "腿脚不便,需要陪同去医院复查。",
    "独居,希望有人定期上门看看、打扫一下。",
    "",
)
VISIT_CORRECTED_EVERY = 23  # one visit in 23 is corrected the same evening
VISIT_CANCELLED_EVERY = 37  # one in 37 was logged in error and cancelled


@dataclass
class _CareDemo:
    """What the home care demo needs while it walks cases and logs visits."""

    home_care: HomeCareService
    rng: random.Random
    now: datetime
    months: int
    caseworkers: dict[str, Actor]
    assessors: dict[str, Actor]
    provider_users: dict[UUID, Actor]
    providers_by_district: dict[str, list[UUID]]
    visits_logged: int = 0

    def version(self, case_id: UUID) -> int:
        return self.home_care.repository.get(case_id).version

    def provider_for(self, district_code: str) -> UUID | None:
        nearby = self.providers_by_district.get(district_code) or [
            p for ps in self.providers_by_district.values() for p in ps
        ]
        return self.rng.choice(nearby) if nearby else None


def seed_home_care(
    home_care: HomeCareService,
    *,
    seed: int,
    providers: list[UUID],
    families: list[Actor],
    caseworkers: dict[str, Actor],
    assessors: dict[str, Actor],
    provider_users: dict[UUID, Actor],
    months: int = 3,
) -> None:
    """Home care cases at every step, backdated, and `months` months of visits with corrections.

    `caseworkers` and `assessors` map district codes, `provider_users` provider organisation
    ids, to their accounts. Providers without an account get no cases (nobody could log).
    """
    rng = random.Random(seed)  # nosec B311 # seeded, repeatable demo data; no secret
    serving: dict[str, list[UUID]] = {}
    for provider_id in providers:
        if provider_id in provider_users:
            organisation = home_care.repository.get(provider_id)
            serving.setdefault(organisation.district, []).append(provider_id)
    demo = _CareDemo(
        home_care, rng, clock.now(), months, caseworkers, assessors, provider_users, serving
    )
    places = [d for d in DISTRICTS if d.code in caseworkers and d.code in assessors]
    n = 0
    for target, count in CARE_TARGETS.items():
        for _ in range(count):
            _demo_care_case(demo, target, families[n % len(families)], places[n % len(places)])
            n += 1


def _demo_care_case(demo: _CareDemo, target: str, family: Actor, place: District) -> None:
    rng, hc = demo.rng, demo.home_care
    provider = demo.provider_for(place.code)
    if target in (CareStep.IN_SERVICE, CareStep.CLOSED) and provider is None:
        target = CareStep.APPROVED  # no provider to send: the case waits for one
    serves = target in (CareStep.IN_SERVICE, CareStep.CLOSED)
    back = 30 * demo.months + rng.randint(8, 15) if serves else rng.randint(3, 45)
    moment = demo.now - timedelta(days=back, hours=rng.randint(0, 8))
    street, community = rng.choice(place.communities)
    elder = _elder(rng) | {"disability_level": rng.choice(("semi", "full", "full"))}
    with clock.frozen_at(moment):
        case_id = hc.submit_application(
            family,
            idempotency_key=f"demo-care-{rng.random()}",
            elder=elder,
            relation=rng.choice(("child", "child", "spouse", "relative")),
            district=place.code,
            street=street,
            community=community,
            needs=rng.choice(CARE_NEEDS),
        )
    for step in _care_steps_to(target):
        moment = min(moment + timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 6)), demo.now)
        with clock.frozen_at(moment):
            _take_care_step(demo, case_id, step, family, place.code, provider)
    if serves and provider is not None:
        until = demo.now
        if target == CareStep.CLOSED:
            until = min(moment + timedelta(days=rng.randint(20, 25 * demo.months)), demo.now)
        _demo_visits(demo, case_id, provider, family, moment, until)
        if target == CareStep.CLOSED:
            with clock.frozen_at(until):
                hc.close_case(
                    demo.caseworkers[place.code],
                    case_id,
                    demo.version(case_id),
                    reason=rng.choice(("老人入住养老机构。", "老人随子女搬到外地居住。")),
                )


def _care_steps_to(target: str) -> list[str]:
    match target:
        case CareStep.SUBMITTED:
            return []
        case CareStep.RETURNED:
            return [CareStep.RETURNED]
        case CareStep.REJECTED:
            return [*CARE_PATH[:2], CareStep.REJECTED]
        case CareStep.WITHDRAWN:
            return [CARE_PATH[0], CareStep.WITHDRAWN]
        case CareStep.CLOSED:
            return list(CARE_PATH)
    return list(CARE_PATH[: CARE_PATH.index(target) + 1])


def _take_care_step(
    demo: _CareDemo, case_id: UUID, step: str, family: Actor, code: str, provider: UUID | None
) -> None:
    hc, v, rng = demo.home_care, demo.version(case_id), demo.rng
    cw, asr = demo.caseworkers[code], demo.assessors[code]
    match step:
        case CareStep.ASSESSOR_ASSIGNED:
            hc.request_assessment(cw, case_id, v, assessor_id=asr.user_id)
        case CareStep.ASSESSED:
            level = rng.choice(CARE_LEVELS)
            hours = {"mild": 20, "moderate": 40, "severe": 60}[level]
            hc.assess_care_level(
                asr,
                case_id,
                v,
                level=level,
                monthly_hours=hours,
                note="已入户评估,与家属确认了服务时间。",
            )
        case CareStep.APPROVED:
            hc.approve(cw, case_id, v, note="同意按评估结果安排上门照护。")
        case CareStep.IN_SERVICE if provider is not None:
            hc.assign_provider(cw, case_id, v, provider_id=provider)
        case CareStep.RETURNED:
            hc.return_for_information(
                cw, case_id, v, request="请补充老人的失能评估证明或近期出院小结。"
            )
        case CareStep.REJECTED:
            hc.reject(
                cw, case_id, v, reason="入户评估显示老人生活基本能自理,暂不符合上门照护条件。"
            )
        case CareStep.WITHDRAWN:
            hc.withdraw(family, case_id, v, reason="家里已经请了住家保姆。")


def _demo_visits(
    demo: _CareDemo, case_id: UUID, provider: UUID, family: Actor, since: datetime, until: datetime
) -> None:
    """Visits on one to three fixed weekdays, logged each evening; surveys at month ends."""
    rng = demo.rng
    weekdays = set(rng.sample(range(7), rng.randint(1, 3)))
    begins = rng.randint(8, 14) * 60 + rng.choice((0, 30))
    day = clock.local(since).date() + timedelta(days=1)
    last = clock.local(until).date() - timedelta(days=1)  # only visits finished before `until`
    unrated = 0
    while day <= last:
        if day.weekday() in weekdays:
            unrated += _demo_visit(demo, case_id, provider, day, begins)
        if day.day == 28 and unrated:
            with clock.frozen_at(datetime.combine(day, time(21, 0), clock.CITY_TZ)):
                scores = {q: rng.choice((3, 4, 5, 5, 5)) for q in SURVEY_QUESTIONS}
                demo.home_care.answer_survey(
                    family, case_id, demo.version(case_id), scores=scores, comment="护理员很耐心。"
                )
            unrated = 0
        day += timedelta(days=1)


def _demo_visit(demo: _CareDemo, case_id: UUID, provider: UUID, day: date, begins: int) -> int:
    """Log one visit (sometimes corrected or cancelled); returns 1 if it still counts."""
    rng, hc, staff = demo.rng, demo.home_care, demo.provider_users[provider]
    ends = begins + rng.choice((60, 90, 120, 120, 150, 180))
    visit = {
        "visit_date": day.isoformat(),
        "start": f"{begins // 60:02d}:{begins % 60:02d}",
        "end": f"{ends // 60:02d}:{ends % 60:02d}",
        "items": rng.sample(VISIT_ITEMS, rng.randint(1, 3)),
        "caregiver": rng.choice(CAREGIVERS),
        "confirmed_by": rng.choice(("elder", "elder", "family")),
    }
    demo.visits_logged += 1
    with clock.frozen_at(datetime.combine(day, time(20, 0), clock.CITY_TZ)):
        receipt = hc.log_visit(staff, case_id, demo.version(case_id), **visit)
        if demo.visits_logged % VISIT_CANCELLED_EVERY == 0:
            hc.cancel_visit(
                staff,
                case_id,
                receipt.version,
                visit_id=receipt.visit_id,
                reason="登记错了日期,当天没有上门。",
            )
            return 0
        if demo.visits_logged % VISIT_CORRECTED_EVERY == 0:
            shorter = ends - 30
            visit["end"] = f"{shorter // 60:02d}:{shorter % 60:02d}"
            hc.correct_visit(
                staff,
                case_id,
                receipt.version,
                visit_id=receipt.visit_id,
                reason="结束时间登记有误,实际早半小时结束。",
                **visit,
            )
    return 1
