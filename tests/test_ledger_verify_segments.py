"""Verification made fast must stay as strict: a long fund verified in segments, in parallel
processes, gives the answer of one walk from the first event, whatever was altered and
wherever; and the faster encoder hashes exactly the documented text."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from events import ledger_chain
from events.fund import Fund
from events.ledger_chain import canonical_json, recompute
from portal.runtime import Runtime
from services.ledger_history import verify

ACTOR = "finance-segments"
MOVEMENTS = 1_600  # snapshots at 500, 1000 and 1500: three segments cut at 500 and 1000


@pytest.fixture
def long_fund(rt: Runtime) -> UUID:
    """A fund with a receipt, an allocation, then commitments and payments, saved in batches."""
    fund = Fund.open(source="provincial", programme="retrofit", year=2026, title="省级补助",
                     matching_ratio=Decimal("1"), actor_id=ACTOR)  # fmt: skip
    fund.receive(amount=Decimal("5000000"), document="省财〔2026〕1号", reason="", actor_id=ACTOR)
    fund.allocate(amount=Decimal("5000000"), district="D01", document="下达〔2026〕1号",
                  reason="", actor_id=ACTOR)  # fmt: skip
    while fund.version <= MOVEMENTS:
        fund.commit(amount=Decimal("1000"), district="D01", target_kind="retrofit_case",
                    target_id=f"case-{fund.version}", document="核定", reason="", actor_id=ACTOR)  # fmt: skip
        fund.disburse(commitment=fund.pending_events[-1], amount=Decimal("1000"), payee="安居公司",
                      voucher=f"PZ{fund.version}", reason="", actor_id=ACTOR)  # fmt: skip
        if len(fund.pending_events) >= 200:
            rt.ledger.save(fund)
    rt.ledger.save(fund)
    return fund.id


def test_an_intact_fund_gives_the_same_answer_in_one_walk_or_three(
    rt: Runtime, long_fund: UUID
) -> None:
    whole, split = (
        verify(rt.ledger, long_fund, segments=1),
        verify(rt.ledger, long_fund, segments=3),
    )
    assert whole.intact and whole.snapshots_checked == 3
    assert whole.checked == rt.ledger.fund(long_fund).version > MOVEMENTS
    assert split == whole


@pytest.mark.parametrize(
    ("alteration", "version", "problem"),
    [
        ("amount", 1_200, "content_changed"),  # inside the last segment
        ("amount", 501, "content_changed"),  # the first event a worker reads
        ("relinked", 501, "link_broken"),  # consistent on its own, but not with 500
        ("deleted", 700, "missing_event"),  # the walk finds 701 where 700 should be
        ("deleted", 501, "missing_event"),  # a segment that starts with a gap
        ("snapshot", 1_000, "snapshot_differs"),  # the state the last segment starts from
        ("snapshot", 1_500, "snapshot_differs"),
    ],
)
def test_an_alteration_is_named_alike_in_one_walk_or_three(
    rt: Runtime, long_fund: UUID, alteration: str, version: int, problem: str
) -> None:
    ALTER[alteration](rt, long_fund, version)
    whole, split = (
        verify(rt.ledger, long_fund, segments=1),
        verify(rt.ledger, long_fund, segments=3),
    )
    expected = version + 1 if alteration == "deleted" else version
    assert (whole.broken_at, whole.problem) == (expected, problem)
    assert split == whole


FIELD_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text() | st.decimals(allow_nan=False,
    allow_infinity=False) | st.builds(uuid4),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip


@given(st.dictionaries(st.text(), FIELD_VALUES, max_size=8))
def test_the_text_a_link_hashes_is_json_dumps_with_either_encoder(fields: dict[str, Any]) -> None:
    """The fast encoder must give exactly the documented text, or old links would not verify."""
    value = ["MovementRecorded", 7, sorted(fields.items())]
    documented = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    assert canonical_json(value) == documented
    assert ledger_chain._ENCODER.encode(value) == documented  # where CPython's C encoder is not


def _amount(event: Any) -> None:
    event.__dict__["amount"] = event.amount + 1  # the link is left as it was


def _relinked(event: Any) -> None:
    """A forger who rewrites an event and its link, but cannot fix the link before it."""
    event.__dict__["prev_link"] = "0" * 64
    event.__dict__["link"] = recompute(event)


def _rewrite(rt: Runtime, fund_id: UUID, version: int, change: Callable[[Any], None]) -> None:
    stored = rt.ledger.recorder.select_events(fund_id, gt=version - 1, lte=version)[0]
    event = rt.ledger.mapper.to_domain_event(stored)
    change(event)
    state = rt.ledger.mapper.to_stored_event(event).state
    _sql(rt, f"UPDATE {rt.ledger.recorder.events_table_name} SET state = :state", fund_id,
         version, state=state)  # fmt: skip


def _snapshot(rt: Runtime, fund_id: UUID, version: int) -> None:
    assert rt.ledger.snapshots is not None
    snapshot = next(iter(rt.ledger.snapshots.get(fund_id, gt=version - 1, lte=version)))
    snapshot.state["totals"]["disbursed"] += 1
    state = rt.ledger.mapper.to_stored_event(snapshot).state
    table = rt.ledger.snapshots.recorder.events_table_name  # type: ignore[attr-defined]
    _sql(rt, f"UPDATE {table} SET state = :state", fund_id, version, state=state)


def _sql(rt: Runtime, statement: str, fund_id: UUID, version: int, **values: Any) -> None:
    """Change a row behind the library's back, as anyone with database access could."""
    key = fund_id.hex if rt.settings.is_sqlite else fund_id
    where = " WHERE originator_id = :id AND originator_version = :version"
    with rt.engine.begin() as conn:
        conn.execute(text(statement + where), {"id": key, "version": version, **values})


ALTER: dict[str, Callable[[Runtime, UUID, int], None]] = {
    "amount": lambda rt, f, v: _rewrite(rt, f, v, _amount),
    "relinked": lambda rt, f, v: _rewrite(rt, f, v, _relinked),
    "deleted": lambda rt, f, v: _sql(
        rt, f"DELETE FROM {rt.ledger.recorder.events_table_name}", f, v
    ),
    "snapshot": _snapshot,
}
