"""The demo city's funds: a year of money from every source, recorded by the demo finance
officer, paying for the demo's accepted retrofit cases, facilities and a canteen, with one
correction and one county behind on matching, and every chain intact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from events.facility import Kind
from events.fund import SOURCES, Movement, Target
from events.roles import Role
from portal.runtime import Runtime
from services.demo import DEMO_PASSWORD, DemoLogin, Programmes, seed_demo
from services.ledger_history import (
    FundBalance,
    LedgerLine,
    balances_at,
    lines_up_to,
    matching_at,
    verify,
)

ZERO = Decimal("0.00")


@pytest.fixture
def demo(rt: Runtime) -> list[DemoLogin]:
    """The demo city with its programmes and funds (fewer cases than the real demo's 300)."""
    programmes = Programmes(rt.facilities, rt.meals, rt.home_care, rt.ledger)
    return seed_demo(rt.accounts, rt.retrofit, rt.photos, cases=40, programmes=programmes)


def movements(rt: Runtime, fund: FundBalance) -> list[LedgerLine]:
    """Every movement of a fund, oldest first."""
    return lines_up_to(rt.ledger, fund.fund_id, fund.version, limit=10_000)[::-1]


def test_a_year_of_funds_from_every_source_with_one_correction_and_one_shortfall(
    rt: Runtime, demo: list[DemoLogin]
) -> None:
    finance = [login for login in demo if login.role == Role.FINANCE]
    assert [f.login for f in finance] == ["finance"]
    assert rt.accounts.authenticate("finance", DEMO_PASSWORD) is not None

    funds = balances_at(rt.ledger, None)
    assert {f.source for f in funds} == set(SOURCES)
    assert {f.programme for f in funds} >= {"retrofit", "facility", "meal"}
    for fund in funds:  # the ledger's order holds in every fund
        t = fund.totals
        received = t[Movement.RECEIVED] - t[Movement.RETURNED]
        assert t[Movement.DISBURSED] <= t[Movement.COMMITTED] <= t[Movement.ALLOCATED] <= received

    lines = [line for fund in funds for line in movements(rt, fund)]
    now = datetime.now(UTC)
    assert min(line.recorded_at for line in lines) < now - timedelta(days=300)
    assert max(line.recorded_at for line in lines) > now - timedelta(days=30)
    assert all(line.document or line.voucher for line in lines)

    reversals = [line for line in lines if line.reverses]
    assert len(reversals) == 1 and reversals[0].kind == Movement.ALLOCATED
    assert "红字冲销" in reversals[0].reason

    behind = [line for line in matching_at(funds) if line.behind]
    assert [(b.programme, b.district) for b in behind] == [("retrofit", "D03")]
    assert behind[0].shortfall == behind[0].required - behind[0].local > 0

    for fund in funds:
        check = verify(rt.ledger, fund.fund_id)
        assert check.intact and check.checked == fund.version, check


def test_the_demo_funds_pay_accepted_cases_facilities_and_a_canteen(
    rt: Runtime, demo: list[DemoLogin]
) -> None:
    lines = [line for fund in balances_at(rt.ledger, None) for line in movements(rt, fund)]
    committed: dict[str, Decimal] = {}
    paid: dict[str, Decimal] = {}
    for line in lines:
        if line.kind == Movement.COMMITTED:
            committed[line.target_id] = committed.get(line.target_id, ZERO) + line.amount
        elif line.kind == Movement.DISBURSED:
            paid[line.target_id] = paid.get(line.target_id, ZERO) + line.amount
            assert line.payee and line.voucher

    cases = {line.target_id for line in lines if line.target_kind == Target.RETROFIT_CASE}
    assert len(cases) >= 3
    for case_id in cases:  # each case keeps its subsidy in step with the ledger, within its cap
        case = rt.retrofit.repository.get(UUID(case_id))
        assert case.acceptance_passed
        assert case.subsidy_committed == committed[case_id] <= case.subsidy
        assert case.subsidy_paid == paid.get(case_id, ZERO)
    assert any(case_id in paid for case_id in cases)

    facilities = {line.target_id for line in lines if line.target_kind == Target.FACILITY}
    kinds = {rt.facilities.repository.get(UUID(f)).kind for f in facilities}
    assert kinds >= {Kind.CANTEEN, Kind.INSTITUTION}
    meals = [line for line in lines if line.kind == Movement.DISBURSED and "助餐" in line.reason]
    assert meals, "no canteen was paid a meal subsidy"
