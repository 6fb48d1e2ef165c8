"""The ledger's read models: fund totals, movement pages, commitments, subsidies awaited and
refused, the case timeline's subsidy lines, and rebuilt equals live."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from flask import Flask
from flask_babel import Babel
from sqlalchemy import select

from events.clock import CITY_TZ, frozen_at
from events.facility import Kind
from events.roles import Actor, Role
from events.subsidy_claims import DoubleSubsidy
from portal.runtime import Runtime
from portal.timeline import describe
from projections import runner
from projections.ledger import PROJECTIONS
from projections.ledger_queries import (
    AwaitingSubsidy,
    KeyPage,
    case_subsidy,
    cases_awaiting_subsidy,
    double_subsidy_attempts,
    list_funds,
    movement_keys,
    open_commitments,
)
from projections.ledger_tables import double_subsidy_attempts as attempts
from projections.ledger_tables import funds, ledger_commitments, ledger_movements, subsidy_claimants
from projections.retrofit_queries import case_detail, timeline
from tests.support.actors import CASEWORKER, FAMILY, FINANCE, table_rows, walk
from tests.support.facilities import register
from tests.support.scenario import apply, elder, national_id, walk_to

LEDGER_TABLES = (funds, ledger_movements, ledger_commitments, subsidy_claimants, attempts)
D02_TEAM = {
    "caseworker": Actor("caseworker-d02", Role.CASEWORKER, "D02"),
    "assessor": Actor("assessor-d02", Role.ASSESSOR, "D02"),
    "inspector": Actor("inspector-d02", Role.INSPECTOR, "D02"),
}
SUBSIDY = Decimal("1200.00")  # the scenario's basic items (F01, T01), under the 3,000 cap
# Movements timed from tomorrow on: after every case event recorded at the wall clock.
START = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)


def at(hours: int) -> datetime:
    return START + timedelta(hours=hours)


def ledger_rows(rt: Runtime) -> dict[str, list[tuple]]:
    return {t.name: table_rows(rt.engine, t) for t in LEDGER_TABLES}


def open_fund(rt: Runtime, source: str = "provincial", programme: str = "retrofit") -> UUID:
    """A fund with 100,000 received and 40,000 and 20,000 allocated to D01 and D02."""
    ledger = rt.ledger
    ratio = "1" if source == "provincial" else "0"
    fund = ledger.open_fund(
        FINANCE, source=source, programme=programme, year=2025, title=f"{source} {programme}",
        matching_ratio=ratio,
    )  # fmt: skip
    ledger.receive(FINANCE, fund, amount="100000.00", document="财社〔2025〕12号")
    ledger.allocate(FINANCE, fund, amount="40000", district="D01", document="区财〔2025〕3号")
    ledger.allocate(FINANCE, fund, amount="20000", district="D02", document="区财〔2025〕4号")
    return fund


def accepted(rt: Runtime, *, id_seq: str = "123", district: str = "D01") -> UUID:
    """A case that passed acceptance, for the elder with this ID number's sequence."""
    person = {"elder": elder(national_id=national_id(seq=id_seq))}
    if district == "D01":
        return walk(rt, "accepted", case_id=apply(rt, FAMILY, **person))
    place = {"district": "D02", "street": "南湖街道", "community": "南湖社区"}
    case_id = apply(rt, FAMILY, **person, **place)
    return walk_to(rt, "accepted", family=FAMILY, case_id=case_id, **D02_TEAM)


def commit(rt: Runtime, fund: UUID, case_id: UUID, amount: str = "1200") -> int:
    return rt.ledger.commit_retrofit_subsidy(
        FINANCE, fund, case_id, amount=amount, document="核定通知〔2025〕7号"
    )


def pay(rt: Runtime, fund: UUID, commitment: int, amount: str) -> int:
    return rt.ledger.disburse(
        FINANCE,
        fund,
        commitment,
        amount=amount,
        payee="安居装修公司",
        voucher=f"PZ-{uuid4().hex[:6]}",
    )


# -- funds ---------------------------------------------------------------------------------------


def test_fund_rows_hold_the_aggregates_totals(rt: Runtime) -> None:
    provincial = open_fund(rt)
    county = open_fund(rt, "county")
    case_id = accepted(rt)
    paid_against = commit(rt, provincial, case_id)
    pay(rt, provincial, paid_against, "1200")
    wrong = rt.ledger.receive(FINANCE, county, amount="0.10", document="误录")
    rt.ledger.reverse(FINANCE, county, wrong, reason="重复录入")
    rt.ledger.return_to_source(FINANCE, county, amount="5000", document="退款单", reason="结余")
    rt.catch_up()

    rows = {row.fund_id: row for row in list_funds(rt.engine)}
    for fund_id in (provincial, county):
        fund, row = rt.ledger.fund(fund_id), rows[fund_id]
        assert {k: getattr(row, k) for k in fund.totals} == fund.totals
        assert row.movements == fund.version - 1
        assert row.last_at == fund.modified_on and row.last_at.tzinfo is not None
    assert rows[county].received == Decimal("100000.00") and rows[county].returned == 5000
    assert rows[provincial].matching_ratio == 1 and rows[provincial].disbursed == SUBSIDY


def test_funds_list_newest_year_first_and_filters(rt: Runtime) -> None:
    made = {
        (source, programme, year): rt.ledger.open_fund(
            FINANCE, source=source, programme=programme, year=year, title="专项资金"
        )
        for source, programme, year in [
            ("municipal", "retrofit", 2024), ("provincial", "retrofit", 2025),
            ("county", "retrofit", 2025), ("lottery", "meal", 2025),
        ]
    }  # fmt: skip
    rt.catch_up()

    listed = [(f.source, f.programme, f.year) for f in list_funds(rt.engine)]
    assert listed == [
        ("lottery", "meal", 2025), ("county", "retrofit", 2025),
        ("provincial", "retrofit", 2025), ("municipal", "retrofit", 2024),
    ]  # fmt: skip
    retrofit_2025 = list_funds(rt.engine, programme="retrofit", year=2025)
    assert [f.fund_id for f in retrofit_2025] == [
        made[("county", "retrofit", 2025)],
        made[("provincial", "retrofit", 2025)],
    ]
    assert all(f.received == 0 and f.movements == 0 for f in retrofit_2025)
    assert list_funds(rt.engine, year=2023) == []


# -- movement pages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    """Movements recorded at known moments, keyed as the read model pages them."""

    case_id: UUID
    keys: dict[tuple[UUID, int], tuple[datetime, str]]  # key -> (recorded at, district)

    def newest_first(
        self, keep: Callable[[datetime, str], bool] = lambda when, district: True
    ) -> list[tuple[UUID, int]]:
        ordered = sorted(self.keys.items(), key=lambda kv: (kv[1][0], kv[0]), reverse=True)
        return [key for key, (when, district) in ordered if keep(when, district)]


def timed_movements(rt: Runtime) -> Timed:
    """Two funds' movements an hour apart, the two receipts at the same moment."""
    case_id = accepted(rt)
    ledger, keys = rt.ledger, {}

    def record(hour: int, fund: UUID, district: str, move: Callable[[], int]) -> int:
        with frozen_at(at(hour)):
            seq = move()
        keys[(fund, seq)] = (at(hour), district)
        return seq

    with frozen_at(at(0)):
        p = ledger.open_fund(FINANCE, source="provincial", programme="retrofit", year=2025,
                             title="省级资金")  # fmt: skip
        c = ledger.open_fund(FINANCE, source="county", programme="retrofit", year=2025,
                             title="县级配套")  # fmt: skip
    record(1, p, "", lambda: ledger.receive(FINANCE, p, amount="9000", document="文1"))
    record(1, c, "", lambda: ledger.receive(FINANCE, c, amount="3000", document="文2"))
    record(2, p, "D01", lambda: ledger.allocate(FINANCE, p, amount="5000", district="D01",
                                                 document="文3"))  # fmt: skip
    record(3, p, "D02", lambda: ledger.allocate(FINANCE, p, amount="2000", district="D02",
                                                 document="文4"))  # fmt: skip
    committed = record(4, p, "D01", lambda: commit(rt, p, case_id))
    record(5, p, "D01", lambda: pay(rt, p, committed, "1200"))
    record(6, c, "D01", lambda: ledger.allocate(FINANCE, c, amount="1000", district="D01",
                                                 document="文5"))  # fmt: skip
    rt.catch_up()
    return Timed(case_id, keys)


def all_pages(rt: Runtime, limit: int, **filters) -> list[list[tuple[UUID, int]]]:
    pages, cursor = [], None
    while True:
        page = movement_keys(rt.engine, cursor=cursor, limit=limit, **filters)
        pages.append(page.keys)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def test_movement_keys_page_newest_first_through_every_movement(rt: Runtime) -> None:
    timed = timed_movements(rt)
    pages = all_pages(rt, limit=3)

    assert [len(p) for p in pages] == [3, 3, 1]
    assert [key for page in pages for key in page] == timed.newest_first()
    exactly = movement_keys(rt.engine, limit=7)
    assert exactly == KeyPage(timed.newest_first(), None)


def test_movement_keys_filter_by_district_target_and_moment(rt: Runtime) -> None:
    timed = timed_movements(rt)
    in_d01 = timed.newest_first(lambda when, district: district == "D01")
    assert [k for p in all_pages(rt, 2, district="D01") for k in p] == in_d01
    assert len(in_d01) == 4

    for_case = movement_keys(rt.engine, target_id=str(timed.case_id)).keys
    assert [rt.ledger.movement(*k).kind for k in for_case] == ["disbursed", "committed"]

    # "As at" 3 o'clock in UTC, asked in the city's time (11 o'clock): nothing later.
    until = at(3).astimezone(CITY_TZ)
    assert movement_keys(rt.engine, up_to=until).keys == timed.newest_first(
        lambda when, district: when <= at(3)
    )
    assert movement_keys(rt.engine, up_to=until, district="D01").keys == timed.newest_first(
        lambda when, district: when <= at(3) and district == "D01"
    )
    assert movement_keys(rt.engine, up_to=at(0)).keys == []


SOME_ID = UUID("87d60192-369e-4021-a66b-6e8932fed255")  # fixed: test ids must not vary per run


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "游标",
        base64.urlsafe_b64encode(b"2030-03-02T01:00:00+00:00|not-a-uuid|3").decode(),
        base64.urlsafe_b64encode(f"yesterday|{SOME_ID}|3".encode()).decode(),
        base64.urlsafe_b64encode(f"2030-03-02T01:00:00+00:00|{SOME_ID}|three".encode()).decode(),
    ],
)
def test_a_malformed_cursor_is_refused_with_value_error(rt: Runtime, cursor: str) -> None:
    with pytest.raises(ValueError):
        movement_keys(rt.engine, cursor=cursor)


# -- commitments ---------------------------------------------------------------------------------


def test_a_commitment_shows_what_is_paid_and_what_remains(rt: Runtime) -> None:
    fund = open_fund(rt)
    case_id = accepted(rt)
    committed = commit(rt, fund, case_id)
    first = pay(rt, fund, committed, "500")
    rt.catch_up()

    [row] = open_commitments(rt.engine, target_id=str(case_id))
    assert (row.fund_id, row.seq, row.fund_title) == (fund, committed, "provincial retrofit")
    assert (row.target_kind, row.district) == ("retrofit_case", "D01")
    assert (row.amount, row.paid, row.remaining) == (SUBSIDY, Decimal("500.00"), Decimal("700.00"))
    assert case_subsidy(rt.engine, case_id) == AwaitingSubsidy(
        case_id, row_reference(rt, case_id), "D01", SUBSIDY, SUBSIDY, Decimal("500.00")
    )

    reversal = rt.ledger.reverse(FINANCE, fund, first, reason="凭证号录错")
    rt.catch_up()
    assert open_commitments(rt.engine, fund_id=fund)[0].remaining == SUBSIDY
    assert movement_row(rt, fund, first)["reversed_by"] == reversal
    assert movement_row(rt, fund, reversal)["amount"] == Decimal("-500.00")

    pay(rt, fund, committed, "1200")
    rt.catch_up()
    assert open_commitments(rt.engine, target_id=str(case_id)) == []
    assert case_subsidy(rt.engine, case_id).paid == SUBSIDY


def test_a_reversed_commitment_is_no_longer_open_nor_counted(rt: Runtime) -> None:
    fund = open_fund(rt)
    kept, mistaken = accepted(rt), accepted(rt, id_seq="456")
    commit(rt, fund, kept, "1000")
    wrong = commit(rt, fund, mistaken, "1200")
    rt.ledger.reverse(FINANCE, fund, wrong, reason="核定对象有误")
    rt.catch_up()

    assert [c.target_id for c in open_commitments(rt.engine, fund_id=fund)] == [str(kept)]
    assert open_commitments(rt.engine, target_id=str(mistaken)) == []
    assert open_commitments(rt.engine, fund_id=uuid4()) == []
    assert case_subsidy(rt.engine, mistaken).committed == 0
    assert movement_row(rt, fund, wrong)["reversed_by"] == wrong + 1
    fund_row = list_funds(rt.engine)[0]
    assert fund_row.committed == Decimal("1000.00") == rt.ledger.fund(fund).totals["committed"]


def test_facility_commitments_are_listed_with_no_case(rt: Runtime) -> None:
    fund = open_fund(rt, "lottery", "facility")
    canteen = register(rt, Kind.CANTEEN)
    seq = rt.ledger.commit_to_facility(FINANCE, fund, canteen, amount="15000.50", document="批复")
    rt.catch_up()

    [row] = open_commitments(rt.engine, target_id=str(canteen))
    assert (row.seq, row.target_kind, row.remaining) == (seq, "facility", Decimal("15000.50"))
    assert cases_awaiting_subsidy(rt.engine) == []


# -- subsidies awaited ---------------------------------------------------------------------------


def test_accepted_cases_await_their_subsidy_until_it_is_fully_committed(rt: Runtime) -> None:
    fund = open_fund(rt)
    full, part, d02 = (accepted(rt, id_seq="111"), accepted(rt, id_seq="222"),
                       accepted(rt, id_seq="333", district="D02"))  # fmt: skip
    building = walk(rt, "works_completed", case_id=apply(rt, FAMILY))
    commit(rt, fund, full)
    commit(rt, fund, part, "500.10")
    rt.catch_up()

    awaiting = cases_awaiting_subsidy(rt.engine)
    assert [(a.case_id, a.committed) for a in awaiting] == [
        (part, Decimal("500.10")), (d02, Decimal("0.00"))
    ]  # fmt: skip
    assert all(a.subsidy == SUBSIDY and a.paid == 0 for a in awaiting)
    assert [a.case_id for a in cases_awaiting_subsidy(rt.engine, district="D02")] == [d02]
    assert [a.case_id for a in cases_awaiting_subsidy(rt.engine, limit=1)] == [part]

    commit(rt, fund, part, "699.90")  # the rest, in a second commitment
    rt.catch_up()
    assert [a.case_id for a in cases_awaiting_subsidy(rt.engine)] == [d02]
    assert case_subsidy(rt.engine, part).committed == SUBSIDY
    not_yet = case_subsidy(rt.engine, building)
    assert (not_yet.subsidy, not_yet.committed, not_yet.paid) == (SUBSIDY, 0, 0)
    assert case_subsidy(rt.engine, uuid4()) is None


# -- double subsidies ----------------------------------------------------------------------------


def test_a_refused_second_subsidy_for_the_same_elder_is_on_record(rt: Runtime) -> None:
    provincial, county = open_fund(rt), open_fund(rt, "county")
    first, second = accepted(rt), accepted(rt)  # the same elder (same ID number), two cases
    commit(rt, provincial, first)
    for fund, hour in ((provincial, 1), (county, 2)):
        with frozen_at(at(hour)), pytest.raises(DoubleSubsidy):
            commit(rt, fund, second)
    rt.catch_up()

    person = rt.retrofit.case_for(CASEWORKER, second).person_id
    newest, older = double_subsidy_attempts(rt.engine)
    assert (newest.fund_id, older.fund_id) == (county, provincial)
    assert (newest.attempted_at, older.attempted_at) == (at(2), at(1))
    for attempt in (newest, older):
        assert (attempt.person_id, attempt.items, attempt.actor_id) == (
            person, ("F01", "T01"), FINANCE.user_id
        )  # fmt: skip
        assert (attempt.target_id, attempt.held_by) == (str(second), (str(first),))
    assert len(double_subsidy_attempts(rt.engine, limit=1)) == 1
    assert movement_keys(rt.engine, target_id=str(second)).keys == []
    assert [a.case_id for a in cases_awaiting_subsidy(rt.engine)] == [second]


# -- the case timeline ---------------------------------------------------------------------------


def test_the_family_reads_each_subsidy_movement_in_plain_words(rt: Runtime) -> None:
    fund = open_fund(rt)
    case_id = accepted(rt)
    committed = commit(rt, fund, case_id)
    paid = pay(rt, fund, committed, "500")
    rt.ledger.reverse(FINANCE, fund, paid, reason="金额有误")
    rt.ledger.reverse(FINANCE, fund, committed, reason="改由市级资金核定")
    rt.catch_up()

    entries = timeline(rt.engine, case_id)[-4:]
    assert [(e.kind, e.details["amount"], e.actor_id) for e in entries] == [
        ("SubsidyCommitted", "1200.00", FINANCE.user_id),
        ("SubsidyPaid", "500.00", FINANCE.user_id),
        ("SubsidyPaymentReversed", "500.00", FINANCE.user_id),
        ("SubsidyCommitmentReversed", "1200.00", FINANCE.user_id),
    ]
    with sentences().app_context():  # the source's Chinese, as the zh catalogue gives it
        lines = describe(entries, "retrofit", {})
    assert [line.text for line in lines] == [
        "补贴 1,200.00 元已核定。",
        "补贴 500.00 元已拨付。",
        "更正:之前记录的拨付 500.00 元已撤销。",
        "更正:之前核定的补贴 1,200.00 元已撤销。",
    ]
    assert [line.title for line in lines] == [
        "补贴已核定",
        "补贴已拨付",
        "更正补贴拨付",
        "更正补贴核定",
    ]


def test_forms_read_the_case_version_the_subsidy_moved(rt: Runtime) -> None:
    fund = open_fund(rt)
    case_id = accepted(rt)
    commit(rt, fund, case_id)
    rt.catch_up()

    shown = case_detail(rt.engine, FAMILY, case_id)
    assert shown.version == rt.retrofit.case_for(FAMILY, case_id).version
    scores = dict.fromkeys(("overall", "quality", "attitude", "timeliness", "usefulness"), 4)
    rt.retrofit.answer_survey(FAMILY, case_id, shown.version, scores=scores)


# -- rebuild == live -----------------------------------------------------------------------------


def varied_history(rt: Runtime, after_each: Callable[[], object] = lambda: None) -> None:
    """Every kind of movement, a payment and a commitment reversed, a facility commitment, and
    refused double subsidies; `after_each` runs between commands (to project as they happen)."""

    def step(command: Callable[[], int]) -> int:
        done = command()
        after_each()
        return done

    ledger = rt.ledger
    provincial, county = step(lambda: open_fund(rt)), step(lambda: open_fund(rt, "county"))
    lottery = step(lambda: open_fund(rt, "lottery", "facility"))
    kept, other, again = (accepted(rt, id_seq=s) for s in ("111", "222", "111"))
    committed = step(lambda: commit(rt, provincial, kept))
    wrong_payment = step(lambda: pay(rt, provincial, committed, "700"))
    step(lambda: ledger.reverse(FINANCE, provincial, wrong_payment, reason="金额有误"))
    step(lambda: pay(rt, provincial, committed, "1200"))
    wrong_commitment = step(lambda: commit(rt, county, other, "800"))
    step(lambda: ledger.reverse(FINANCE, county, wrong_commitment, reason="对象有误"))
    step(lambda: commit(rt, county, other))
    centre = register(rt, Kind.CARE_CENTRE)
    step(
        lambda: ledger.commit_to_facility(FINANCE, lottery, centre, amount="30000", document="批复")
    )
    step(
        lambda: ledger.return_to_source(FINANCE, lottery, amount="100", document="退", reason="余")
    )
    for fund in (provincial, county):
        with pytest.raises(DoubleSubsidy):
            commit(rt, fund, again)
        after_each()


def test_a_rebuild_equals_the_live_read_models(rt: Runtime) -> None:
    varied_history(rt)
    rt.catch_up()
    live = ledger_rows(rt)
    assert [len(live[t.name]) for t in LEDGER_TABLES] == [3, 18, 4, 2, 2]

    rt.projector.rebuild()
    assert ledger_rows(rt) == live
    head = rt.ledger.recorder.max_notification_id()
    assert {rt.projector.position(p.name) for p in PROJECTIONS} == {head}


def test_live_in_small_batches_equals_a_rebuild(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BATCH_SIZE", 2)  # payments and reversals meet earlier batches
    varied_history(rt, after_each=rt.catch_up)
    rt.catch_up()
    live = ledger_rows(rt)

    monkeypatch.setattr(runner, "BATCH_SIZE", 1000)  # the reversals land in the same batch
    rt.projector.rebuild()
    assert ledger_rows(rt) == live


# -- helpers -------------------------------------------------------------------------------------


def sentences() -> Flask:
    """A bare app with Babel and no catalogue: messages come out as written in the source."""
    plain = Flask("timeline_sentences")
    Babel(plain)
    return plain


def row_reference(rt: Runtime, case_id: UUID) -> str:
    return case_detail(rt.engine, CASEWORKER, case_id).reference


def movement_row(rt: Runtime, fund: UUID, seq: int) -> dict:
    query = select(ledger_movements).where(
        ledger_movements.c.fund_id == fund, ledger_movements.c.seq == seq
    )
    with rt.engine.connect() as conn:
        return dict(conn.execute(query).mappings().one())
