"""Property-based tests of the fund ledger: hypothesis drives random sequences of movements
(receipts, allocations, commitments to facilities, payments, returns, reversals) at random
times, and an independent model of the rules, written here from the issue text, says which
must be accepted. Whatever the sequence, refused commands change nothing, the balances stay
in order per fund and per district, the balances replayed as at any moment equal the sums of
the accepted movements recorded up to it, and the hash chain verifies."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from functools import partial
from itertools import pairwise
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from events import clock
from events.errors import DomainError
from events.facility import Kind
from events.fund import Movement
from events.roles import Actor, Role
from services.database import event_store_env
from services.errors import ServiceError
from services.facilities import FacilityService
from services.ledger import LedgerService
from services.ledger_history import balance_at, verify
from services.settings import Settings
from tests.support import facilities as places

POSTGRES_URL = os.environ.get("ANLAO_TEST_POSTGRES_URL", "")
FINANCE = Actor("finance-1", Role.FINANCE)
ADMIN = Actor("admin-1", Role.ADMIN)
START = datetime(2025, 1, 1, 1, 0, tzinfo=UTC)
ZERO = Decimal("0.00")
FEN = Decimal("0.01")
DISTRICTS = ("D01", "D02", "D03")
# One facility per district, so a commitment's district follows from the facility chosen.
PLACES = (
    places.D01, places.D02, {"district": "D03", "street": "长乐镇", "community": "长乐村"},
)  # fmt: skip
SOURCES = ("provincial", "county")  # two funds, each with its own invariants


# -- an independent model of one fund -----------------------------------------------------------
@dataclass
class Model:
    """What the issue says a fund must do, kept apart from the aggregate under test."""

    version: int = 1  # the opening
    totals: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(Movement.ALL, ZERO))
    districts: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    movements: dict[int, tuple[str, str, Decimal, int, int]] = field(default_factory=dict)
    unpaid: dict[int, Decimal] = field(default_factory=dict)  # open commitments
    reversed: set[int] = field(default_factory=set)
    history: list[tuple[datetime, str, str, Decimal]] = field(default_factory=list)

    def in_order_after(self, kind: str, district: str, delta: Decimal) -> bool:
        """disbursed <= committed <= allocated <= received - returned, for the fund and for
        the district, once `delta` is added to `kind`."""
        t = dict(self.totals)
        t[kind] += delta
        chain = [t["received"] - t["returned"], t["allocated"], t["committed"], t["disbursed"]]
        if any(lower > upper for upper, lower in pairwise(chain)):
            return False
        if not district:
            return True
        d = dict(self.districts.get(district, dict.fromkeys(Movement.BY_DISTRICT, ZERO)))
        d[kind] += delta
        return d["allocated"] >= d["committed"] >= d["disbursed"]

    def book(self, at: datetime, kind: str, district: str, amount: Decimal, **link: int) -> int:
        self.version += 1
        self.totals[kind] += amount
        if district:
            d = self.districts.setdefault(district, dict.fromkeys(Movement.BY_DISTRICT, ZERO))
            d[kind] += amount
        reverses, commitment = link.get("reverses", 0), link.get("commitment", 0)
        self.movements[self.version] = (kind, district, amount, reverses, commitment)
        self.history.append((at, kind, district, amount))
        return self.version

    # What each command must do, if accepted: None when the rules refuse it.
    def plan_simple(self, kind: str, amount: Decimal, district: str = "") -> tuple | None:
        return (kind, district, amount, {}) if self.in_order_after(kind, district, amount) else None

    def plan_disburse(self, commitment: int, amount: Decimal) -> tuple | None:
        if self.unpaid.get(commitment, ZERO) < amount:
            return None
        district = self.movements[commitment][1]
        return ("disbursed", district, amount, {"commitment": commitment})

    def plan_reverse(self, seq: int) -> tuple | None:
        found = self.movements.get(seq)
        if found is None or found[3] or seq in self.reversed:
            return None
        kind, district, amount, _, commitment = found
        if kind == "committed" and self.unpaid.get(seq) != amount:
            return None  # payments were made against it
        if not self.in_order_after(kind, district, -amount):
            return None
        return (kind, district, -amount, {"reverses": seq, "commitment": commitment})

    def accept(self, at: datetime, plan: tuple) -> int:
        kind, district, amount, link = plan
        seq = self.book(at, kind, district, amount, **link)
        if link.get("reverses"):
            self.reversed.add(link["reverses"])
        if kind == "committed":
            if link.get("reverses"):
                self.unpaid.pop(link["reverses"], None)
            else:
                self.unpaid[seq] = amount
        elif kind == "disbursed":
            left = self.unpaid.get(link["commitment"], ZERO) - amount
            self.unpaid.pop(link["commitment"], None)
            if left:
                self.unpaid[link["commitment"]] = left
        return seq

    def expected_at(self, moment: datetime) -> tuple[int, dict, dict]:
        """Version, totals and district figures from the accepted movements up to `moment`."""
        totals = dict.fromkeys(Movement.ALL, ZERO)
        districts: dict[str, dict[str, Decimal]] = {}
        count = 0
        for at, kind, district, amount in self.history:
            if at > moment:
                break
            count += 1
            totals[kind] += amount
            if district:
                d = districts.setdefault(district, dict.fromkeys(Movement.BY_DISTRICT, ZERO))
                d[kind] += amount
        return 1 + count, totals, districts


# -- commands ----------------------------------------------------------------------------------
# An amount is either absolute (in fen) or a percentage of the room the command has (what is
# left to allocate, commit, pay or return): up to 120 %, so some are refused on the edge.
sizes = st.one_of(
    st.tuples(st.just("fen"), st.integers(1, 5_000_000)),
    st.tuples(st.just("share"), st.integers(1, 120)),
)
funds = st.integers(0, len(SOURCES) - 1)
picks = st.integers(0, 1_000)  # which earlier movement a payment or reversal names
commands = st.one_of(
    st.tuples(st.just("receive"), funds, st.integers(1, 10_000_000)),
    st.tuples(st.just("allocate"), funds, sizes, st.sampled_from(DISTRICTS)),
    st.tuples(st.just("commit"), funds, sizes, st.integers(0, len(DISTRICTS) - 1)),
    st.tuples(st.just("disburse"), funds, sizes, picks),
    st.tuples(
        st.just("disburse"), funds, sizes, picks
    ),  # twice as likely: payments need a commitment
    st.tuples(st.just("return"), funds, sizes),
    st.tuples(st.just("reverse"), funds, picks),
)
# Minutes since the previous command; 0 puts several movements at the same instant.
step = st.tuples(st.integers(0, 3 * 24 * 60), commands)


@st.composite
def sequences(draw: st.DrawFn) -> list[tuple[int, tuple]]:
    """Random commands after a start that puts money in each fund, shares it out among the
    districts and commits some (so payments and reversals have something to work on)."""
    start: list[tuple[int, tuple]] = []
    for fund in range(len(SOURCES)):
        start.append((0, ("receive", fund, draw(st.integers(100, 10_000_000)))))
        for district in DISTRICTS:
            share = ("share", draw(st.integers(0, 50)))
            start.append((draw(st.integers(0, 60)), ("allocate", fund, share, district)))
        where = draw(st.integers(0, len(DISTRICTS) - 1))
        start.append((0, ("commit", fund, ("share", draw(st.integers(1, 100))), where)))
    return start + draw(st.lists(step, min_size=1, max_size=30))


def amount_of(size: tuple[str, int], room: Decimal) -> Decimal:
    """The amount a size asks for, given the room the command has (never below one fen)."""
    how, n = size
    value = Decimal(n) if how == "fen" else room * 100 * n / 100
    return max((value / 100).quantize(FEN, rounding=ROUND_DOWN), FEN)


@dataclass
class World:
    """The services under test on a fresh database, with their funds and facilities."""

    ledger: LedgerService
    fund_ids: list[UUID]
    facility_ids: list[UUID]
    models: list[Model]


def run(world: World, at: datetime, command: tuple) -> None:
    """Run one command as the finance officer and hold the ledger to the model's verdict."""
    name, index, *args = command
    ledger, fund, model = world.ledger, world.fund_ids[index], world.models[index]
    plan, call = _plan_and_call(world, model, fund, name, args)
    before = ledger.recorder.max_notification_id()
    try:
        with clock.frozen_at(at):
            seq = call()
    except (DomainError, ServiceError) as refused:
        assert plan is None, f"{command} refused ({refused!r}) but the rules allow it"
        assert ledger.recorder.max_notification_id() == before, "a refused command wrote"
        event(f"refused {name}")  # shown by --hypothesis-show-statistics
        return
    assert plan is not None, f"{command} accepted but the rules forbid it"
    assert seq == model.accept(at, plan)
    event(f"accepted {name}")
    _assert_balances(ledger, fund, model)


def _plan_and_call(world: World, model: Model, fund: UUID, name: str, args: list) -> tuple:
    """The model's plan for the command (None: refused) and the service call that makes it."""
    ledger, t = world.ledger, model.totals
    available = t["received"] - t["returned"] - t["allocated"]
    if name == "receive":
        amount = Decimal(args[0]).scaleb(-2).quantize(FEN)
        call = partial(ledger.receive, FINANCE, fund, amount=amount, document="到账通知")
        return model.plan_simple("received", amount), call
    if name == "return":
        amount = amount_of(args[0], available)
        call = partial(ledger.return_to_source, FINANCE, fund, amount=amount,
                       document="退回文件", reason="结余")  # fmt: skip
        return model.plan_simple("returned", amount), call
    if name == "allocate":
        amount, district = amount_of(args[0], available), args[1]
        call = partial(ledger.allocate, FINANCE, fund, amount=amount, district=district,
                       document="下达文件")  # fmt: skip
        return model.plan_simple("allocated", amount, district), call
    if name == "commit":
        district, target = DISTRICTS[args[1]], world.facility_ids[args[1]]
        figures = model.districts.get(district, {"allocated": ZERO, "committed": ZERO})
        amount = amount_of(args[0], figures["allocated"] - figures["committed"])
        call = partial(ledger.commit_to_facility, FINANCE, fund, target, amount=amount,
                       document="合同")  # fmt: skip
        return model.plan_simple("committed", amount, district), call
    if name == "disburse":
        commitments = [s for s, m in model.movements.items() if m[0] == "committed"] or [2]
        seq = commitments[args[1] % len(commitments)]
        amount = amount_of(args[0], model.unpaid.get(seq, ZERO))
        call = partial(ledger.disburse, FINANCE, fund, seq, amount=amount, payee="建设单位",
                       voucher=f"V{args[1]}")  # fmt: skip
        return model.plan_disburse(seq, amount), call
    seq = 2 + args[0] % max(model.version - 1, 1)  # any movement so far (or one not yet made)
    return model.plan_reverse(seq), partial(ledger.reverse, FINANCE, fund, seq, reason="冲销")


def _assert_balances(ledger: LedgerService, fund: UUID, model: Model) -> None:
    """The fund's balances now: in order everywhere, and exactly the model's figures."""
    now = balance_at(ledger, fund, None)
    t = now.totals
    assert t["disbursed"] <= t["committed"] <= t["allocated"] <= t["received"] - t["returned"]
    for figures in now.districts.values():
        assert figures["disbursed"] <= figures["committed"] <= figures["allocated"]
    assert (now.version, t) == (model.version, model.totals)
    assert _nonzero(now.districts) == _nonzero(model.districts)


def _nonzero(districts: dict[str, dict[str, Decimal]]) -> dict:
    return {d: f for d, f in districts.items() if any(f.values())}


def _assert_replay(world: World, moments: list[datetime]) -> None:
    for fund, model in zip(world.fund_ids, world.models, strict=True):
        times = sorted({at for at, *_ in model.history})
        probes = {START - timedelta(seconds=1), START, *moments}
        probes |= {t + d for t in times for d in (timedelta(0), timedelta(microseconds=-1))}
        for moment in sorted(probes):
            then = balance_at(world.ledger, fund, moment)
            version, totals, districts = model.expected_at(moment)
            if moment < START:
                version = 0
            assert then.version == version, moment
            assert then.totals == totals, moment
            assert _nonzero(then.districts) == _nonzero(districts), moment
        check = verify(world.ledger, fund)
        assert check.intact and check.checked == model.version, check


# -- fresh databases per example -----------------------------------------------------------------
@contextmanager
def fresh_world(backend: str) -> Iterator[World]:
    """New services on an empty database (hypothesis runs many examples in one test, so no
    function-scoped fixture can give each its own)."""
    with _database(backend) as settings:
        env = event_store_env(settings)
        ledger, facility_service = LedgerService(env), FacilityService(env)
        try:
            yield _populate(ledger, facility_service)
        finally:
            ledger.close()
            facility_service.close()


def _populate(ledger: LedgerService, facility_service: FacilityService) -> World:
    with clock.frozen_at(places.NOW):
        facility_ids = [_register(facility_service, n, place) for n, place in enumerate(PLACES)]
    with clock.frozen_at(START):
        fund_ids = [
            ledger.open_fund(
                FINANCE, source=source, programme="facility", year=2025, title=f"{source}设施资金"
            )
            for source in SOURCES
        ]
    return World(ledger, fund_ids, facility_ids, [Model() for _ in SOURCES])


def _register(facility_service: FacilityService, n: int, place: dict[str, str]) -> UUID:
    return facility_service.register_facility(
        ADMIN, idempotency_key=str(n), kind=Kind.CARE_CENTRE, name=f"养老服务中心{n}",
        deadline=places.DEADLINE.isoformat(), planned_on=places.PLANNED.isoformat(), **place,
    )  # fmt: skip


@contextmanager
def _database(backend: str) -> Iterator[Settings]:
    with tempfile.TemporaryDirectory() as folder:
        if backend == "sqlite":
            yield Settings(Path(folder), f"sqlite:///{folder}/ledger.sqlite3", "test")
            return
        schema = f"p_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield Settings(Path(folder), f"{POSTGRES_URL}?schema={schema}", "test")
        finally:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def check_sequence(backend: str, sequence: list, data: st.DataObject) -> None:
    """Run the sequence, holding every step to the model; then replay at many moments."""
    with fresh_world(backend) as world:
        at = START
        for minutes, command in sequence:
            at += timedelta(minutes=minutes)
            run(world, at, command)
        end = at + timedelta(days=1)
        window = st.datetimes(
            START.replace(tzinfo=None), end.replace(tzinfo=None), timezones=st.just(UTC)
        )
        drawn = data.draw(st.lists(window, max_size=5), label="moments")
        _assert_replay(world, drawn)


COMMON = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@settings(max_examples=60, **COMMON)  # type: ignore[arg-type]
@given(sequence=sequences(), data=st.data())
def test_random_movement_sequences_keep_the_ledger_exact_on_sqlite(
    sequence: list, data: st.DataObject
) -> None:
    check_sequence("sqlite", sequence, data)


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL tests need ANLAO_TEST_POSTGRES_URL")
@settings(max_examples=15, **COMMON)  # type: ignore[arg-type]
@given(sequence=sequences(), data=st.data())
def test_random_movement_sequences_keep_the_ledger_exact_on_postgres(
    sequence: list, data: st.DataObject
) -> None:
    check_sequence("postgres", sequence, data)
