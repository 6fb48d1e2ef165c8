"""The fund ledger's rules as a finance officer meets them: exact amounts, balances that stay in
order (refusals carry the numbers), corrections by reversing entries, who may write, and the
subsidies retrofit cases and facilities draw from it. Real SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from events import clock
from events.errors import SubsidyNotDue
from events.facility import Kind
from events.fund import (
    CommitmentNotOpen,
    CorrectionRefused,
    InsufficientFunds,
    InvalidFund,
    InvalidMovement,
)
from events.retrofit import Step
from events.roles import Actor, Role
from events.subsidy_claims import DoubleSubsidy, ElderSubsidies, claims_id_for
from portal.runtime import Runtime
from services.errors import CaseNotFound, FundExists, NotPermitted
from services.ledger_history import balance_at, balances_at, matching_at, verify
from tests.support.actors import ADMIN, AUDITOR, CASEWORKER, FINANCE, INSPECTOR, walk
from tests.support.ledger_scenarios import (
    SUBSIDISED_ITEMS,
    SUBSIDY,
    accepted_case,
    facility,
    funded,
    open_fund,
)
from tests.support.scenario import ASSESSED_LINES, version

D = Decimal


def log_position(rt: Runtime) -> int:
    """How far the one event log has grown: a refused command must not move it."""
    return rt.ledger.recorder.max_notification_id() or 0


def totals(rt: Runtime, fund_id: UUID) -> dict[str, Decimal]:
    return balance_at(rt.ledger, fund_id, None).totals


def district(rt: Runtime, fund_id: UUID, code: str) -> dict[str, Decimal]:
    return balance_at(rt.ledger, fund_id, None).districts[code]


# -- amounts ------------------------------------------------------------------------------------
def test_amounts_are_exact_yuan_to_the_fen_never_floats(rt: Runtime) -> None:
    fund = open_fund(rt)
    before = log_position(rt)
    for bad in (1200.5, 12.0, True, "1.234", "0", "0.00", "-5", "", "abc", "NaN", "Infinity"):
        with pytest.raises(InvalidMovement) as refused:
            rt.ledger.receive(FINANCE, fund, amount=bad, document="省财〔2025〕1号")
        assert refused.value.detail == "amount", bad
    assert log_position(rt) == before

    assert rt.ledger.receive(FINANCE, fund, amount="1,200.50", document="d") == 2
    assert rt.ledger.receive(FINANCE, fund, amount=D("99.5"), document="d") == 3
    assert rt.ledger.receive(FINANCE, fund, amount=7, document="d") == 4
    assert totals(rt, fund)["received"] == D("1307.00")
    assert rt.ledger.movement(fund, 2).amount == D("1200.50")


def test_a_fund_opens_once_per_source_programme_and_year(rt: Runtime) -> None:
    open_fund(rt, "provincial", "retrofit", 2025)
    with pytest.raises(FundExists):
        open_fund(rt, "provincial", "retrofit", 2025, title="另一个标题")
    open_fund(rt, "provincial", "retrofit", 2026)
    open_fund(rt, "county", "retrofit", 2025)
    assert len(balances_at(rt.ledger, None)) == 3


# -- the order of balances --------------------------------------------------------------------
def test_allocating_more_than_received_is_refused_with_the_fund_figures(rt: Runtime) -> None:
    fund = funded(rt, received="1000", allocated={"D01": "400"})
    before = log_position(rt)
    with pytest.raises(InsufficientFunds) as refused:
        rt.ledger.allocate(FINANCE, fund, amount="600.01", district="D02", document="d")
    assert refused.value.params == {
        "scope": "fund", "upper": "received", "upper_amount": D("1000.00"),
        "lower": "allocated", "lower_amount": D("1000.01"),
        "available": D("600.00"), "requested": D("600.01"),
    }  # fmt: skip
    assert log_position(rt) == before
    rt.ledger.allocate(FINANCE, fund, amount="600", district="D02", document="d")
    assert balance_at(rt.ledger, fund, None).available == 0


def test_committing_beyond_a_districts_allocation_is_refused_with_its_figures(
    rt: Runtime,
) -> None:
    fund = funded(rt, programme="facility", allocated={"D01": "1000", "D02": "5000"})
    centre = facility(rt, Kind.CARE_CENTRE)  # in D01
    rt.ledger.commit_to_facility(FINANCE, fund, centre, amount="800", document="合同")
    with pytest.raises(InsufficientFunds) as refused:
        rt.ledger.commit_to_facility(FINANCE, fund, centre, amount="200.01", document="合同")
    assert refused.value.params == {
        "scope": "D01", "upper": "allocated", "upper_amount": D("1000.00"),
        "lower": "committed", "lower_amount": D("1000.01"),
        "available": D("200.00"), "requested": D("200.01"),
    }  # fmt: skip
    assert district(rt, fund, "D01")["committed"] == D("800.00")  # D02's money is not D01's


def test_paying_beyond_a_commitment_is_refused_with_what_is_left_of_it(rt: Runtime) -> None:
    fund = funded(rt, programme="facility")
    centre = facility(rt, Kind.CARE_CENTRE)
    commitment = rt.ledger.commit_to_facility(FINANCE, fund, centre, amount="1000", document="合同")
    rt.ledger.disburse(FINANCE, fund, commitment, amount="600", payee="建工集团", voucher="V-1")
    with pytest.raises(InsufficientFunds) as refused:
        rt.ledger.disburse(FINANCE, fund, commitment, amount="500", payee="建工集团", voucher="V-2")
    assert refused.value.params == {
        "scope": f"#{commitment}", "upper": "committed", "upper_amount": D("400.00"),
        "lower": "disbursed", "lower_amount": D("500.00"),
        "available": D("400.00"), "requested": D("500.00"),
    }  # fmt: skip
    rt.ledger.disburse(FINANCE, fund, commitment, amount="400", payee="建工集团", voucher="V-2")
    with pytest.raises(CommitmentNotOpen):  # fully paid
        rt.ledger.disburse(
            FINANCE, fund, commitment, amount="0.01", payee="建工集团", voucher="V-3"
        )
    with pytest.raises(CaseNotFound):  # a payment must name a commitment of this fund
        rt.ledger.disburse(FINANCE, fund, 99, amount="1", payee="建工集团", voucher="V-4")
    with pytest.raises(CommitmentNotOpen):  # and not some other kind of movement
        rt.ledger.disburse(FINANCE, fund, 2, amount="1", payee="建工集团", voucher="V-4")
    assert totals(rt, fund)["disbursed"] == D("1000.00")


def test_a_payment_needs_a_payee_and_a_voucher(rt: Runtime) -> None:
    fund = funded(rt, programme="facility")
    centre = facility(rt, Kind.CARE_CENTRE)
    commitment = rt.ledger.commit_to_facility(FINANCE, fund, centre, amount="10", document="合同")
    for payee, voucher, field in (("", "V-1", "payee"), ("建工集团", " ", "voucher")):
        with pytest.raises(InvalidMovement) as refused:
            rt.ledger.disburse(FINANCE, fund, commitment, amount="1", payee=payee, voucher=voucher)
        assert refused.value.detail == field


def test_returns_send_back_only_unallocated_money(rt: Runtime) -> None:
    fund = funded(rt, received="1000", allocated={"D01": "700"})
    with pytest.raises(InsufficientFunds) as refused:
        rt.ledger.return_to_source(
            FINANCE, fund, amount="300.01", document="退回文件", reason="结余"
        )
    assert refused.value.params["scope"] == "fund"
    assert refused.value.params["available"] == D("300.00")
    rt.ledger.return_to_source(FINANCE, fund, amount="300", document="退回文件", reason="结余")
    balance = balance_at(rt.ledger, fund, None)
    assert (balance.totals["returned"], balance.available) == (D("300.00"), D("0.00"))
    with pytest.raises(InsufficientFunds):  # returned money cannot be allocated
        rt.ledger.allocate(FINANCE, fund, amount="0.01", district="D01", document="d")


def test_allocations_need_a_known_district_and_a_document(rt: Runtime) -> None:
    fund = funded(rt)
    with pytest.raises(InvalidMovement, match="district"):
        rt.ledger.allocate(FINANCE, fund, amount="1", district="D99", document="d")
    with pytest.raises(InvalidMovement, match="document"):
        rt.ledger.allocate(FINANCE, fund, amount="1", district="D01", document="  ")
    seq = rt.ledger.allocate(
        FINANCE, fund, amount="1", district="D02", project="南湖社区助餐点", document="d"
    )
    assert rt.ledger.movement(fund, seq).project == "南湖社区助餐点"


# -- corrections --------------------------------------------------------------------------------
def test_every_kind_of_movement_can_be_reversed_once_and_the_balances_come_back(
    rt: Runtime,
) -> None:
    fund = funded(rt, programme="facility", received="10000", allocated={"D01": "5000"})
    centre = facility(rt, Kind.CARE_CENTRE)
    returned = rt.ledger.return_to_source(FINANCE, fund, amount="100", document="d", reason="r")
    commitment = rt.ledger.commit_to_facility(FINANCE, fund, centre, amount="3000", document="c")
    paid = rt.ledger.disburse(FINANCE, fund, commitment, amount="1000", payee="p", voucher="v")
    before = totals(rt, fund)

    # Undo in the only order the balances allow: payment, commitment, allocation, receipt.
    for seq, kind in ((paid, "disbursed"), (commitment, "committed"), (3, "allocated"),
                      (returned, "returned"), (2, "received")):  # fmt: skip
        original = rt.ledger.movement(fund, seq)
        reversal = rt.ledger.reverse(FINANCE, fund, seq, reason="录入错误")
        recorded = rt.ledger.movement(fund, reversal)
        assert (recorded.kind, recorded.amount, recorded.reverses) == (kind, -original.amount, seq)
        assert totals(rt, fund)[kind] == before[kind] - original.amount
        with pytest.raises(CorrectionRefused) as twice:
            rt.ledger.reverse(FINANCE, fund, seq, reason="again")
        assert twice.value.detail == "already_reversed"
        with pytest.raises(CorrectionRefused) as of_reversal:
            rt.ledger.reverse(FINANCE, fund, reversal, reason="undo the undo")
        assert of_reversal.value.detail == "is_reversal"
    assert set(totals(rt, fund).values()) == {D("0.00")}
    assert verify(rt.ledger, fund).intact


def test_a_reversal_needs_a_reason_and_an_existing_movement(rt: Runtime) -> None:
    fund = funded(rt)
    with pytest.raises(InvalidMovement, match="reason"):
        rt.ledger.reverse(FINANCE, fund, 3, reason=" ")
    with pytest.raises(CaseNotFound):
        rt.ledger.reverse(FINANCE, fund, 1, reason="the fund's opening is not a movement")
    with pytest.raises(CaseNotFound):
        rt.ledger.reverse(FINANCE, fund, 42, reason="no such movement")


def test_a_reversal_that_would_break_the_order_is_refused(rt: Runtime) -> None:
    fund = funded(rt, received="1000", allocated={"D01": "800"})
    with pytest.raises(InsufficientFunds) as refused:  # 800 of the 1000 is already allocated
        rt.ledger.reverse(FINANCE, fund, 2, reason="到账录错")
    assert refused.value.params["lower_amount"] == D("800.00")
    assert refused.value.params["upper_amount"] == D("0.00")


def test_a_commitment_with_payments_is_reversed_only_after_its_payments(rt: Runtime) -> None:
    fund = funded(rt, programme="facility")
    centre = facility(rt, Kind.CARE_CENTRE)
    commitment = rt.ledger.commit_to_facility(FINANCE, fund, centre, amount="1000", document="c")
    first = rt.ledger.disburse(FINANCE, fund, commitment, amount="1000", payee="p", voucher="v1")
    with pytest.raises(CorrectionRefused) as refused:
        rt.ledger.reverse(FINANCE, fund, commitment, reason="合同作废")
    assert refused.value.detail == "has_payments"

    rt.ledger.reverse(FINANCE, fund, first, reason="凭证号录错")
    again = rt.ledger.disburse(FINANCE, fund, commitment, amount="400", payee="p", voucher="v2")
    with pytest.raises(CorrectionRefused, match="has_payments"):
        rt.ledger.reverse(FINANCE, fund, commitment, reason="合同作废")
    rt.ledger.reverse(FINANCE, fund, again, reason="合同作废")
    rt.ledger.reverse(FINANCE, fund, commitment, reason="合同作废")
    with pytest.raises(CommitmentNotOpen):
        rt.ledger.disburse(FINANCE, fund, commitment, amount="1", payee="p", voucher="v3")
    assert (totals(rt, fund)["committed"], totals(rt, fund)["disbursed"]) == (0, 0)


# -- who may write ------------------------------------------------------------------------------
@pytest.mark.parametrize("actor", [AUDITOR, ADMIN, CASEWORKER, Actor("s-1", Role.SUPERVISOR)])
def test_only_finance_officers_record_movements(rt: Runtime, actor: Actor) -> None:
    fund = funded(rt, programme="facility")
    centre = facility(rt, Kind.CARE_CENTRE)
    case = accepted_case(rt)
    before = log_position(rt)
    commands = [
        lambda: rt.ledger.open_fund(actor, source="county", programme="meal", year=2025,
                                    title="t"),
        lambda: rt.ledger.receive(actor, fund, amount="1", document="d"),
        lambda: rt.ledger.allocate(actor, fund, amount="1", district="D01", document="d"),
        lambda: rt.ledger.return_to_source(actor, fund, amount="1", document="d", reason="r"),
        lambda: rt.ledger.commit_to_facility(actor, fund, centre, amount="1", document="d"),
        lambda: rt.ledger.commit_retrofit_subsidy(actor, fund, case, amount="1", document="d"),
        lambda: rt.ledger.disburse(actor, fund, 3, amount="1", payee="p", voucher="v"),
        lambda: rt.ledger.reverse(actor, fund, 2, reason="r"),
    ]  # fmt: skip
    for command in commands:
        with pytest.raises(NotPermitted):
            command()
    assert log_position(rt) == before


# -- retrofit subsidies -------------------------------------------------------------------------
def test_a_retrofit_subsidy_is_committed_only_after_a_passed_acceptance(rt: Runtime) -> None:
    fund = funded(rt)
    waiting = walk(rt, Step.WORKS_COMPLETED)
    with pytest.raises(SubsidyNotDue, match="acceptance"):
        rt.ledger.commit_retrofit_subsidy(FINANCE, fund, waiting, amount="100", document="d")

    rt.retrofit.inspect_acceptance(
        INSPECTOR, waiting, version(rt, INSPECTOR, waiting),
        results=[{"code": line["code"], "installed": True, "works": line["code"] != "T01",
                  "safe": True} for line in ASSESSED_LINES],
        photos=[{"sha256": "c" * 64, "media_type": "image/jpeg"}],
    )  # fmt: skip
    assert rt.retrofit.repository.get(waiting).step == Step.RECTIFICATION
    before = log_position(rt)
    with pytest.raises(SubsidyNotDue, match="acceptance"):
        rt.ledger.commit_retrofit_subsidy(FINANCE, fund, waiting, amount="100", document="d")
    assert log_position(rt) == before
    assert totals(rt, fund)["committed"] == 0


def test_a_subsidy_never_exceeds_the_assessed_subsidy_across_funds(rt: Runtime) -> None:
    provincial = funded(rt, source="provincial")
    county = funded(rt, source="county")
    case = accepted_case(rt)
    rt.ledger.commit_retrofit_subsidy(FINANCE, provincial, case, amount="800", document="d")
    rt.ledger.commit_retrofit_subsidy(FINANCE, county, case, amount="400", document="d")
    with pytest.raises(SubsidyNotDue) as refused:
        rt.ledger.commit_retrofit_subsidy(FINANCE, county, case, amount="0.01", document="d")
    assert refused.value.detail == "exceeds"
    assert refused.value.params == {
        "subsidy": SUBSIDY, "committed": SUBSIDY, "requested": D("0.01")
    }  # fmt: skip
    stored = rt.retrofit.repository.get(case)
    assert (stored.subsidy_committed, stored.subsidy_paid) == (SUBSIDY, 0)
    assert totals(rt, county)["committed"] == D("400.00")


def test_paying_and_reversing_a_subsidy_keeps_the_case_in_step(rt: Runtime) -> None:
    fund = funded(rt)
    case = accepted_case(rt)
    commitment = rt.ledger.commit_retrofit_subsidy(FINANCE, fund, case, amount="1200", document="d")
    paid = rt.ledger.disburse(FINANCE, fund, commitment, amount="1200", payee="安居", voucher="V1")
    payment = rt.ledger.movement(fund, paid)
    assert (payment.target_id, payment.items) == (str(case), SUBSIDISED_ITEMS)
    assert rt.retrofit.repository.get(case).subsidy_paid == SUBSIDY

    rt.ledger.reverse(FINANCE, fund, paid, reason="付错账户")
    rt.ledger.reverse(FINANCE, fund, commitment, reason="重新核定")
    stored = rt.retrofit.repository.get(case)
    assert (stored.subsidy_committed, stored.subsidy_paid) == (0, 0)
    claims = rt.ledger.repository.get(claims_id_for(stored.person_id))
    assert claims.claims == {}  # the reversed commitment freed the items


def test_retrofit_subsidies_come_only_from_retrofit_funds(rt: Runtime) -> None:
    meal = funded(rt, programme="meal")
    case = accepted_case(rt)
    with pytest.raises(InvalidFund, match="target"):
        rt.ledger.commit_retrofit_subsidy(FINANCE, meal, case, amount="100", document="d")
    with pytest.raises(CaseNotFound):
        rt.ledger.commit_retrofit_subsidy(FINANCE, funded(rt), meal, amount="1", document="d")


# -- facilities ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("programme", "allowed", "refused"),
    [
        ("facility", Kind.CARE_CENTRE, "home_care_provider"),
        ("meal", Kind.CANTEEN, Kind.CARE_CENTRE),
        ("home_care", "home_care_provider", Kind.CANTEEN),
        ("retrofit", None, Kind.CARE_CENTRE),
    ],
)
def test_facility_commitments_come_from_the_matching_programme(
    rt: Runtime, programme: str, allowed: str | None, refused: str
) -> None:
    fund = funded(rt, programme=programme)
    if allowed:
        target = facility(rt, allowed)
        seq = rt.ledger.commit_to_facility(FINANCE, fund, target, amount="500", document="d")
        assert rt.ledger.movement(fund, seq).target_id == str(target)
    wrong = facility(rt, refused)
    before = log_position(rt)
    with pytest.raises(InvalidFund, match="target"):
        rt.ledger.commit_to_facility(FINANCE, fund, wrong, amount="500", document="d")
    assert log_position(rt) == before


# -- the double-subsidy guard -------------------------------------------------------------------
def two_cases_for_one_elder(rt: Runtime) -> tuple[UUID, UUID]:
    """The same elder's home retrofitted twice (say, after a move), both works accepted."""
    first = accepted_case(rt)
    second = accepted_case(rt, family=Actor("family-c", Role.FAMILY))
    one, two = (rt.retrofit.repository.get(c).person_id for c in (first, second))
    assert one == two
    return first, second


def test_the_same_items_for_the_same_elder_are_refused_from_another_fund(rt: Runtime) -> None:
    provincial = funded(rt, source="provincial")
    lottery = funded(rt, source="lottery")
    first, second = two_cases_for_one_elder(rt)
    with clock.frozen_at(datetime(2025, 6, 1, 2, tzinfo=UTC)):
        rt.ledger.commit_retrofit_subsidy(FINANCE, provincial, first, amount="1200", document="d")
    day_before = datetime(2030, 5, 31, 2, tzinfo=UTC)  # 5 years less a day
    with clock.frozen_at(day_before), pytest.raises(DoubleSubsidy) as refused:
        rt.ledger.commit_retrofit_subsidy(FINANCE, lottery, second, amount="1200", document="d")
    assert refused.value.params["items"] == SUBSIDISED_ITEMS
    assert refused.value.params["existing"]["T01"]["target_id"] == str(first)
    assert totals(rt, lottery)["committed"] == 0
    assert rt.retrofit.repository.get(second).subsidy_committed == 0

    person = rt.retrofit.repository.get(first).person_id
    history = list(rt.ledger.events.get(claims_id_for(person)))
    flagged = [e for e in history if isinstance(e, ElderSubsidies.DoubleSubsidyRefused)]
    assert [(f.items, f.target_id, f.held_by) for f in flagged] == [
        (SUBSIDISED_ITEMS, str(second), [str(first)])
    ]


def test_the_same_items_are_subsidised_again_after_the_checklist_period(rt: Runtime) -> None:
    provincial = funded(rt, source="provincial")
    later = funded(rt, source="provincial", year=2030)
    first, second = two_cases_for_one_elder(rt)
    with clock.frozen_at(datetime(2025, 6, 1, 2, tzinfo=UTC)):
        rt.ledger.commit_retrofit_subsidy(FINANCE, provincial, first, amount="1200", document="d")
    with clock.frozen_at(datetime(2030, 6, 1, 2, tzinfo=UTC)):  # five years on
        rt.ledger.commit_retrofit_subsidy(FINANCE, later, second, amount="1200", document="d")
    assert totals(rt, later)["committed"] == SUBSIDY


def test_another_elder_may_have_the_same_items_at_the_same_time(rt: Runtime) -> None:
    fund = funded(rt)
    first = accepted_case(rt)
    neighbour = accepted_case(rt, family=Actor("family-d", Role.FAMILY), elder_seq="456")
    rt.ledger.commit_retrofit_subsidy(FINANCE, fund, first, amount="1200", document="d")
    rt.ledger.commit_retrofit_subsidy(FINANCE, fund, neighbour, amount="1200", document="d")
    assert totals(rt, fund)["committed"] == 2 * SUBSIDY


# -- racing writers -----------------------------------------------------------------------------
def test_concurrent_commitments_on_one_fund_all_land_with_exact_totals(rt: Runtime) -> None:
    fund = funded(rt, programme="facility", received="1000000", allocated={"D01": "1000000"})
    centres = [facility(rt, Kind.CARE_CENTRE) for _ in range(4)]
    per_thread, failures, seqs = 8, [], []
    lock = threading.Lock()

    def commit(centre: UUID) -> None:
        for n in range(per_thread):
            try:
                seq = rt.ledger.commit_to_facility(
                    FINANCE, fund, centre, amount=f"{n + 1}.01", document="d"
                )
            except Exception as e:  # collected, so the test names what went wrong
                failures.append(e)
                continue
            with lock:
                seqs.append(seq)

    threads = [threading.Thread(target=commit, args=(c,)) for c in centres]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert sorted(seqs) == list(range(4, 4 + 4 * per_thread))
    expected = 4 * sum(D(f"{n + 1}.01") for n in range(per_thread))
    assert totals(rt, fund)["committed"] == expected
    assert district(rt, fund, "D01")["committed"] == expected
    assert verify(rt.ledger, fund).intact


# -- matching -----------------------------------------------------------------------------------
def test_matching_flags_a_district_whose_local_share_falls_behind(rt: Runtime) -> None:
    funded(rt, source="provincial", ratio="1", allocated={"D01": "10000", "D02": "10000"})
    funded(rt, source="county", allocated={"D01": "6000", "D02": "4000"})
    funded(rt, source="municipal", allocated={"D01": "4000"})
    funded(rt, source="lottery", allocated={"D02": "9000"})  # not local matching money
    funded(rt, source="county", programme="meal", allocated={"D02": "9000"})  # other programme
    lines = {line.district: line for line in matching_at(balances_at(rt.ledger, None))}
    assert set(lines) == {"D01", "D02"}
    assert (lines["D01"].local, lines["D01"].behind) == (D("10000.00"), False)
    d02 = lines["D02"]
    assert (d02.required, d02.local, d02.shortfall, d02.behind) == (
        D("10000.00"), D("4000.00"), D("6000.00"), True,
    )  # fmt: skip
