"""What the portal may ask of the ledger's read models: small frozen answers, never ORM rows.

Lists only: balances and movements as at a date come from the event history
(services.ledger_history), which these keys point into.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Engine, Select, false, func, select, true, tuple_

from events.fund import Target
from projections.ledger_tables import double_subsidy_attempts as dsa
from projections.ledger_tables import funds
from projections.ledger_tables import ledger_commitments as lc
from projections.ledger_tables import ledger_movements as lm
from projections.tables import retrofit_cases as rc

ZERO = Decimal("0.00")
MAX_PAGE = 500


@dataclass(frozen=True)
class FundRow:
    """One fund and its totals by kind of movement (reversals netted off)."""

    fund_id: UUID
    source: str
    programme: str
    year: int
    title: str
    matching_ratio: Decimal
    received: Decimal
    allocated: Decimal
    committed: Decimal
    disbursed: Decimal
    returned: Decimal
    movements: int
    last_at: datetime


@dataclass(frozen=True)
class KeyPage:
    """Movement keys (fund_id, seq), newest first, and the cursor of the next page if any."""

    keys: list[tuple[UUID, int]]
    next_cursor: str | None


@dataclass(frozen=True)
class CommitmentRow:
    """A commitment still to be paid, in full or in part."""

    fund_id: UUID
    seq: int
    fund_title: str
    target_kind: str
    target_id: str
    district: str
    amount: Decimal
    paid: Decimal
    remaining: Decimal
    committed_at: datetime


@dataclass(frozen=True)
class AwaitingSubsidy:
    """A retrofit case's assessed subsidy against what the funds committed and paid."""

    case_id: UUID
    reference: str
    district: str
    subsidy: Decimal
    committed: Decimal
    paid: Decimal


@dataclass(frozen=True)
class SubsidyAttempt:
    """A refused second subsidy for items an elder was already subsidised for."""

    person_id: UUID
    items: tuple[str, ...]
    target_id: str
    fund_id: UUID
    held_by: tuple[str, ...]
    actor_id: str
    attempted_at: datetime


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _utc(moment: datetime) -> datetime:
    # SQLite compares the stored UTC wall-clock text: a bound moment must be in UTC too.
    return _aware(moment).astimezone(UTC)


# -- funds --------------------------------------------------------------------------------------


def list_funds(
    engine: Engine, *, programme: str | None = None, year: int | None = None
) -> list[FundRow]:
    """Every fund with its totals, newest year first, for the finance and audit lists."""
    query = select(funds).order_by(funds.c.year.desc(), funds.c.programme, funds.c.source)
    if programme:
        query = query.where(funds.c.programme == programme)
    if year is not None:
        query = query.where(funds.c.year == year)
    names = [n for n in FundRow.__dataclass_fields__ if n != "last_at"]
    with engine.connect() as conn:
        return [
            FundRow(**{n: getattr(r, n) for n in names}, last_at=_aware(r.last_at))
            for r in conn.execute(query)
        ]


# -- movements ----------------------------------------------------------------------------------


def movement_keys(
    engine: Engine,
    *,
    district: str | None = None,
    target_id: str | None = None,
    up_to: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> KeyPage:
    """One page of movement keys, newest first, by keyset (the movements themselves are read
    from the event history). A malformed cursor raises ValueError."""
    limit = max(1, min(limit, MAX_PAGE))
    key = tuple_(lm.c.recorded_at, lm.c.fund_id, lm.c.seq)
    query = select(lm.c.recorded_at, lm.c.fund_id, lm.c.seq)
    if district:
        query = query.where(lm.c.district == district)
    if target_id:
        query = query.where(lm.c.target_id == target_id)
    if up_to is not None:
        query = query.where(lm.c.recorded_at <= _utc(up_to))
    if cursor:
        query = query.where(key < tuple_(*_parse_cursor(cursor)))
    query = query.order_by(lm.c.recorded_at.desc(), lm.c.fund_id.desc(), lm.c.seq.desc())
    with engine.connect() as conn:
        rows = conn.execute(query.limit(limit + 1)).all()
    page = rows[:limit]
    last = page[-1] if len(rows) > limit else None
    return KeyPage(
        keys=[(r.fund_id, r.seq) for r in page],
        next_cursor=_cursor(_aware(last.recorded_at), last.fund_id, last.seq) if last else None,
    )


def _cursor(recorded_at: datetime, fund_id: UUID, seq: int) -> str:
    plain = f"{recorded_at.isoformat()}|{fund_id}|{seq}"
    return base64.urlsafe_b64encode(plain.encode()).decode().rstrip("=")


def _parse_cursor(cursor: str) -> tuple[datetime, UUID, int]:
    """The key a cursor names; every malformation surfaces as ValueError."""
    padded = cursor + "=" * (-len(cursor) % 4)
    plain = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
    recorded_at, fund_id, seq = plain.split("|")
    return _utc(datetime.fromisoformat(recorded_at)), UUID(fund_id), int(seq)


# -- commitments --------------------------------------------------------------------------------


def open_commitments(
    engine: Engine, *, target_id: str | None = None, fund_id: UUID | None = None
) -> list[CommitmentRow]:
    """Commitments not reversed and not fully paid, oldest first: what payments are due."""
    remaining = lc.c.amount - lc.c.paid
    query = (
        select(lc, funds.c.title.label("fund_title"))
        .join(funds, funds.c.fund_id == lc.c.fund_id)
        .where(lc.c.reversed == false(), remaining > 0)
        .order_by(lc.c.committed_at, lc.c.fund_id, lc.c.seq)
    )
    if target_id:
        query = query.where(lc.c.target_id == target_id)
    if fund_id is not None:
        query = query.where(lc.c.fund_id == fund_id)
    with engine.connect() as conn:
        return [_commitment_row(r) for r in conn.execute(query)]


def _commitment_row(r: Any) -> CommitmentRow:
    return CommitmentRow(
        fund_id=r.fund_id, seq=r.seq, fund_title=r.fund_title, target_kind=r.target_kind,
        target_id=r.target_id, district=r.district, amount=r.amount, paid=r.paid,
        remaining=r.amount - r.paid, committed_at=_aware(r.committed_at),
    )  # fmt: skip


# -- retrofit subsidies -------------------------------------------------------------------------


def _subsidies() -> Select:
    """Each retrofit case's subsidy with the sums committed and paid for it (reversals out)."""
    sums = (
        select(
            lc.c.case_id,
            func.sum(lc.c.amount).label("committed"),
            func.sum(lc.c.paid).label("paid"),
        )
        .where(lc.c.target_kind == Target.RETROFIT_CASE, lc.c.reversed == false())
        .group_by(lc.c.case_id)
        .subquery()
    )
    return select(
        rc.c.case_id,
        rc.c.reference,
        rc.c.district,
        rc.c.applied_at,
        func.coalesce(rc.c.subsidy, ZERO).label("subsidy"),
        func.coalesce(sums.c.committed, ZERO).label("committed"),
        func.coalesce(sums.c.paid, ZERO).label("paid"),
    ).outerjoin(sums, sums.c.case_id == rc.c.case_id)


def _awaiting(r: Any) -> AwaitingSubsidy:
    money = {n: Decimal(getattr(r, n)).quantize(ZERO) for n in ("subsidy", "committed", "paid")}
    return AwaitingSubsidy(case_id=r.case_id, reference=r.reference, district=r.district, **money)


def cases_awaiting_subsidy(
    engine: Engine, *, district: str | None = None, limit: int = 100
) -> list[AwaitingSubsidy]:
    """Accepted cases whose subsidy is not yet fully committed, earliest applications first."""
    subsidies = _subsidies().where(rc.c.last_acceptance_passed == true()).subquery()
    # Rounded: SQLite sums NUMERIC as binary floats, and 0.70 + 0.10 must still equal 0.80.
    short = func.round(subsidies.c.committed, 2) < func.round(subsidies.c.subsidy, 2)
    query = (
        select(subsidies)
        .where(short)
        .order_by(subsidies.c.applied_at, subsidies.c.case_id)
        .limit(max(1, min(limit, MAX_PAGE)))
    )
    if district:
        query = query.where(subsidies.c.district == district)
    with engine.connect() as conn:
        return [_awaiting(r) for r in conn.execute(query)]


def case_subsidy(engine: Engine, case_id: UUID) -> AwaitingSubsidy | None:
    """One case's subsidy, committed and paid, whatever its step (None if there is no case)."""
    with engine.connect() as conn:
        found = conn.execute(_subsidies().where(rc.c.case_id == case_id)).first()
    return _awaiting(found) if found else None


# -- double subsidies ---------------------------------------------------------------------------


def double_subsidy_attempts(engine: Engine, *, limit: int = 100) -> list[SubsidyAttempt]:
    """Refused second subsidies, newest first, for auditors to follow up."""
    query = (
        select(dsa)
        .order_by(dsa.c.attempted_at.desc(), dsa.c.claims_id, dsa.c.version.desc())
        .limit(max(1, min(limit, MAX_PAGE)))
    )
    with engine.connect() as conn:
        return [_attempt(r) for r in conn.execute(query)]


def _attempt(r: Any) -> SubsidyAttempt:
    return SubsidyAttempt(
        person_id=r.person_id, items=_listed(r.items), target_id=r.target_id, fund_id=r.fund_id,
        held_by=_listed(r.held_by), actor_id=r.actor_id, attempted_at=_aware(r.attempted_at),
    )  # fmt: skip


def _listed(joined: str) -> tuple[str, ...]:
    return tuple(joined.split(",")) if joined else ()
