"""Demo funds (资金台账): about a year of the demo city's money, from every source, recorded by a
finance officer through the ledger service: receipts, allocations to districts, retrofit
subsidies for accepted cases, construction payments, canteens' meal subsidies, one reversing
correction, and one county whose matching money falls short of the provincial allocation.

Steps are planned with their dates first and recorded in date order afterwards, because the
cases and facilities they pay for already carry their own backdated histories."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID

from events import clock
from events.facility import FacilityProject, Kind
from events.fund import Movement
from events.retrofit import RetrofitCase
from events.roles import Actor
from services.facilities import FacilityService
from services.ledger import LedgerService
from services.retrofit import RetrofitService

HISTORY_DAYS = 330  # the first receipt of the year's money, this many days ago
# (key, source, programme, title, matching ratio): the funds of one year.
FUNDS = (
    ("retrofit_p", "provincial", "retrofit", "省级困难老年人家庭适老化改造补助资金", "1"),
    ("retrofit_m", "municipal", "retrofit", "市级适老化改造配套资金", "0"),
    ("retrofit_c", "county", "retrofit", "县级适老化改造配套资金", "0"),
    ("retrofit_s", "social", "retrofit", "爱心企业适老化改造捐赠资金", "0"),
    ("facility_p", "provincial", "facility", "省级养老服务设施建设补助资金", "1"),
    ("facility_m", "municipal", "facility", "市级养老服务设施建设配套资金", "0"),
    ("meal_l", "lottery", "meal", "福利彩票公益金老年助餐补贴", "0"),
)
# Provincial retrofit money per district, and the local match each district was given: the
# city matches its two districts, each county its own; 长乐县 (D03) gave less than 1:1.
RETROFIT_PROVINCIAL = {"D01": 200_000, "D02": 180_000, "D03": 200_000, "D04": 160_000}
RETROFIT_TOP_UP = ("D01", 50_000)  # mid-year, from the second tranche; the city matches it
RETROFIT_LOCAL = {
    "D01": ("retrofit_m", 210_000),
    "D02": ("retrofit_m", 200_000),
    "D03": ("retrofit_c", 120_000),  # the shortfall: 80,000 below the provincial allocation
    "D04": ("retrofit_c", 170_000),
}
FACILITY_PROVINCIAL, FACILITY_MUNICIPAL = 2_000_000, 2_100_000  # per district
CONTRACT = {  # construction contract value by kind, in 10,000 yuan steps (min, max)
    Kind.CARE_CENTRE: (80, 120),
    Kind.CANTEEN: (30, 60),
    Kind.INSTITUTION: (120, 200),
}
# Construction paid in instalments as milestones are reached (share of the contract).
INSTALMENTS = (
    ("construction_started", Decimal("0.3")),
    ("main_structure_completed", Decimal("0.3")),
    ("completed", Decimal("0.3")),
    ("in_operation", Decimal("0.1")),
)
BUILDERS = ("城建建设工程有限公司", "安泰建筑工程有限公司", "宏远建设集团有限公司")
MEAL_QUARTER = Decimal("36000.00")  # a canteen's meal subsidy for three months


@dataclass
class _Ledger:
    """The demo's movements, planned with their dates and then recorded in date order."""

    ledger: LedgerService
    finance: Actor
    start: datetime
    now: datetime
    year: int
    funds: dict[str, UUID] = field(default_factory=dict)
    # Movements later steps refer to (a commitment a payment is against): (fund key, seq).
    seqs: dict[str, tuple[str, int]] = field(default_factory=dict)
    plan: list[tuple[datetime, int, Callable[[], object]]] = field(default_factory=list)
    numbers: dict[str, int] = field(default_factory=dict)

    def at(self, moment: datetime, step: Callable[[], object]) -> None:
        """Record `step` at `moment` (never before the history starts, never in the future)."""
        moment = min(max(moment, self.start), self.now)
        self.plan.append((moment, len(self.plan), step))

    def day(self, n: int, hour: int = 10) -> datetime:
        """A moment `n` days into the history, at a working hour."""
        return self.start + timedelta(days=n, hours=hour - self.start.hour)

    def document(self, issuer: str) -> str:
        """The next file number of an issuer, e.g. 省财社〔2026〕3号."""
        return f"{issuer}〔{self.year}〕{self._next(issuer)}号"

    def voucher(self) -> str:
        """The next payment voucher number, e.g. 记-2026-0042."""
        return f"记-{self.year}-{self._next('voucher'):04d}"

    def _next(self, series: str) -> int:
        self.numbers[series] = self.numbers.get(series, 0) + 1
        return self.numbers[series]

    def commit(self, name: str, key: str, record: Callable[[UUID], int]) -> None:
        """Record a commitment from fund `key`, kept under `name` for the payments against it."""
        self.seqs[name] = (key, record(self.funds[key]))

    def pay(self, name: str, amount: Decimal, payee: str, reason: str) -> None:
        """Pay against the commitment kept under `name` (if it was made)."""
        if name in self.seqs:
            key, seq = self.seqs[name]
            self.ledger.disburse(
                self.finance, self.funds[key], seq, amount=amount, payee=payee,
                voucher=self.voucher(), reason=reason,
            )  # fmt: skip

    def run(self) -> None:
        for moment, _, step in sorted(self.plan, key=lambda p: (p[0], p[1])):
            with clock.frozen_at(moment):
                step()

    def room(self, key: str, district: str) -> Decimal:
        """What a fund has allocated to a district and not yet committed."""
        figures = self.ledger.fund(self.funds[key]).district_totals(district)
        return figures[Movement.ALLOCATED] - figures[Movement.COMMITTED]


def seed_funds(
    ledger: LedgerService,
    retrofit: RetrofitService,
    facilities: FacilityService,
    finance_actor: Actor,
    *,
    cases: list[UUID],
    facility_ids: dict[str, list[UUID]],
    seed: int,
    now: datetime | None = None,
) -> dict[str, UUID]:
    """Open this year's funds and record about a year of their movements, so auditors, finance
    officers and the matching report have a realistic history; returns the funds by key."""
    now = now or clock.now()
    start = datetime.combine(
        clock.local(now - timedelta(days=HISTORY_DAYS)).date(), time(9, 30), clock.CITY_TZ
    )
    book = _Ledger(ledger, finance_actor, start, now, clock.local(now).year)
    rng = random.Random(seed)  # nosec B311 # seeded, repeatable demo data; no secret
    _open(book)
    _retrofit_money(book)
    _facility_money(book)
    accepted = [c for c in (retrofit.repository.get(i) for i in cases) if c.acceptance_passed]
    for n, case in enumerate(sorted(accepted, key=lambda c: c.modified_on)):
        _subsidy(book, retrofit, case, n, rng)
    built = [facilities.repository.get(f) for k in Kind.BUILT for f in facility_ids.get(k, [])]
    for facility in built:
        _construction(book, facility, rng)
    canteens = [f for f in built if f.kind == Kind.CANTEEN and f.in_operation]
    _meal_money(book, canteens)
    book.run()
    return book.funds


def _open(book: _Ledger) -> None:
    for n, (key, source, programme, title, ratio) in enumerate(FUNDS):
        with clock.frozen_at(book.day(0, hour=9) + timedelta(minutes=n)):
            book.funds[key] = book.ledger.open_fund(
                book.finance, source=source, programme=programme, year=book.year,
                title=f"{book.year}年{title}", matching_ratio=ratio,
            )  # fmt: skip


def _receive(book: _Ledger, day: int, key: str, amount: int, issuer: str, reason: str) -> None:
    book.at(book.day(day), lambda: book.ledger.receive(
        book.finance, book.funds[key], amount=amount, document=book.document(issuer),
        reason=reason,
    ))  # fmt: skip


def _allocate(book: _Ledger, day: int, key: str, district: str, amount: int, **extra: str) -> None:
    book.at(book.day(day, hour=15), lambda: book.ledger.allocate(
        book.finance, book.funds[key], amount=amount, district=district,
        document=book.document("民财下达"), reason=extra.get("reason", "按年度计划下达"),
        project=extra.get("project", ""),
    ))  # fmt: skip


def _retrofit_money(book: _Ledger) -> None:
    _receive(book, 3, "retrofit_p", 800_000, "省财社", "省级补助第一批")
    _receive(book, 150, "retrofit_p", 400_000, "省财社", "省级补助第二批")
    _receive(book, 20, "retrofit_m", 500_000, "市财社", "市级配套资金")
    _receive(book, 30, "retrofit_c", 320_000, "县财社", "长乐县、富平县配套资金")
    _receive(book, 60, "retrofit_s", 100_000, "捐赠协议", "爱心企业定向捐赠")
    for district, amount in RETROFIT_PROVINCIAL.items():
        _allocate(book, 10, "retrofit_p", district, amount)
        key, local = RETROFIT_LOCAL[district]
        _allocate(book, 35, key, district, local)
    district, top_up = RETROFIT_TOP_UP
    _allocate(book, 160, "retrofit_p", district, top_up, reason="第二批补助追加下达")
    _allocate(book, 165, "retrofit_m", district, top_up, reason="追加配套")
    _allocate(book, 62, "retrofit_s", "D02", 60_000, project="独居老人卫浴改造",
              reason="捐赠方指定用于永宁区")  # fmt: skip
    _mistyped_allocation(book)


def _mistyped_allocation(book: _Ledger) -> None:
    """The correction: 富平县's allocation keyed in 100,000 too high, reversed the next morning
    by a red entry (红字冲销) and keyed in again; the wrong figure stays in the history."""
    district, right = "D04", RETROFIT_PROVINCIAL["D04"]

    def wrong() -> None:
        book.seqs["mistyped"] = ("retrofit_p", book.ledger.allocate(
            book.finance, book.funds["retrofit_p"], amount=right + 100_000, district=district,
            document=book.document("民财下达"), reason="按年度计划下达",
        ))  # fmt: skip

    def reverse() -> None:
        book.ledger.reverse(book.finance, book.funds["retrofit_p"], book.seqs["mistyped"][1],
                            reason="金额录入错误(多录10万元),红字冲销后重新下达。")  # fmt: skip

    book.at(book.day(9, hour=16), wrong)
    book.at(book.day(10, hour=9), reverse)


def _facility_money(book: _Ledger) -> None:
    _receive(book, 5, "facility_p", 8_500_000, "省财社", "养老服务设施建设补助")
    _receive(book, 25, "facility_m", 9_000_000, "市财社", "养老服务设施建设配套")
    for district in RETROFIT_PROVINCIAL:
        _allocate(book, 15, "facility_p", district, FACILITY_PROVINCIAL)
        _allocate(book, 36, "facility_m", district, FACILITY_MUNICIPAL)


def _subsidy(
    book: _Ledger, retrofit: RetrofitService, case: RetrofitCase, n: int, rng: random.Random
) -> None:
    """Commit an accepted household's capped subsidy, and pay its contractor when due."""
    amount, name = case.subsidy, f"case-{case.id}"
    if amount <= 0:
        return
    payee = _contractor(retrofit, case.id)

    def commit() -> None:
        fund = _fund_for(book, case.district, amount, n)
        if fund is None:
            return  # this year's money for the district is spent: the case waits
        book.commit(name, fund, lambda fund_id: book.ledger.commit_retrofit_subsidy(
            book.finance, fund_id, case.id, amount=amount,
            document=book.document("改造补助核定"), reason=f"{case.reference} 验收合格",
        ))  # fmt: skip

    committed = case.modified_on + timedelta(days=rng.randint(1, 3), hours=rng.randint(0, 5))
    book.at(committed, commit)
    paid = committed + timedelta(days=rng.randint(5, 20))
    if paid < book.now:
        book.at(paid, lambda: book.pay(name, amount, payee, f"{case.reference} 改造补助"))


def _fund_for(book: _Ledger, district: str, amount: Decimal, n: int) -> str | None:
    """Most subsidies come from the provincial fund, one in three from the local match, and
    some of 永宁区's from the donation; whichever still has room."""
    local = RETROFIT_LOCAL[district][0]
    order = ["retrofit_p", local] if n % 3 else [local, "retrofit_p"]
    if district == "D02" and n % 4 == 0:
        order.insert(0, "retrofit_s")
    return next((key for key in order if book.room(key, district) >= amount), None)


def _contractor(retrofit: RetrofitService, case_id: UUID) -> str:
    """The contractor the caseworker assigned (read from the case's own history)."""
    assigned = [e for e in retrofit.events.get(case_id) if type(e).__name__ == "ContractorAssigned"]
    return assigned[-1].contractor if assigned else "施工单位"


def _construction(book: _Ledger, facility: FacilityProject, rng: random.Random) -> None:
    """Once a builder is contracted, the provincial fund and the city's match each commit half
    the contract; each pays its share of an instalment as a milestone is reached."""
    awarded = facility.milestones.get("tender_awarded")
    if awarded is None:
        return
    low, high = CONTRACT[facility.kind]
    half = Decimal(rng.randint(low, high) * 10_000) / 2
    builder = rng.choice(BUILDERS)
    for key in ("facility_p", "facility_m"):
        name = f"{key}-{facility.id}"
        book.at(_on(book, awarded, 3), lambda key=key, name=name: book.commit(
            name, key, lambda fund_id: book.ledger.commit_to_facility(
                book.finance, fund_id, facility.id, amount=half,
                document=book.document("设施建设核定"), reason=f"{facility.name} 施工合同",
            ),
        ))  # fmt: skip
        for milestone, share in INSTALMENTS:
            reached = facility.milestones.get(milestone)
            if reached is None:
                break
            book.at(_on(book, reached, 5), lambda name=name, part=half * share: book.pay(
                name, part, builder, f"{facility.name} 工程进度款",
            ))  # fmt: skip


def _on(book: _Ledger, iso_day: str, days_after: int) -> datetime:
    """A working moment some days after a milestone date, once the money is allocated."""
    moment = datetime.combine(date.fromisoformat(iso_day), time(11), clock.CITY_TZ)
    return max(moment + timedelta(days=days_after), book.day(37))


def _meal_money(book: _Ledger, canteens: list[FacilityProject]) -> None:
    """Each open canteen's meal subsidy, committed by quarter and paid month by month."""
    _receive(book, 40, "meal_l", 600_000, "福彩公益金", "老年助餐补贴")
    for district in sorted({c.district for c in canteens}):
        _allocate(book, 45, "meal_l", district, 200_000, reason="助餐补贴")
    for canteen in canteens:
        opened = canteen.milestones.get("in_operation") or book.day(0).date().isoformat()
        quarter = max(_on(book, opened, 1), book.day(46))
        while quarter < book.now:
            _meal_quarter(book, canteen, quarter)
            quarter += timedelta(days=91)


def _meal_quarter(book: _Ledger, canteen: FacilityProject, start: datetime) -> None:
    name = f"meal-{canteen.id}-{start:%Y%m%d}"
    book.at(start, lambda: book.commit(
        name, "meal_l", lambda fund_id: book.ledger.commit_to_facility(
            book.finance, fund_id, canteen.id, amount=MEAL_QUARTER,
            document=book.document("助餐补贴核定"), reason=f"{canteen.name} 本季度助餐补贴",
        ),
    ))  # fmt: skip
    for month in range(1, 4):
        paid = start + timedelta(days=30 * month)
        if paid < book.now:
            book.at(
                paid, lambda: book.pay(name, MEAL_QUARTER / 3, canteen.name, "按月拨付助餐补贴")
            )
