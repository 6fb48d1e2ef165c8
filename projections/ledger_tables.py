"""The fund ledger's read-model tables: fund totals, movements, commitments, refused claims.

They serve lists and filters only; balances as at a date come from the event history itself.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    Uuid,
)

from projections.tables import metadata


def _yuan(name: str) -> Column:
    return Column(name, Numeric(14, 2), nullable=False)


funds = Table(
    "rm_funds",
    metadata,
    Column("fund_id", Uuid, primary_key=True),
    Column("source", String(20), nullable=False),
    Column("programme", String(20), nullable=False),
    Column("year", Integer, nullable=False),
    Column("title", String(100), nullable=False),
    Column("matching_ratio", Numeric(8, 4), nullable=False),
    _yuan("received"),
    _yuan("allocated"),
    _yuan("committed"),
    _yuan("disbursed"),
    _yuan("returned"),
    Column("movements", Integer, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
)

ledger_movements = Table(
    "rm_ledger_movements",
    metadata,
    Column("fund_id", Uuid, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("kind", String(20), nullable=False),
    _yuan("amount"),  # negative on a reversing correction
    Column("district", String(10), nullable=False),
    Column("project", String(64), nullable=False),
    Column("target_kind", String(20), nullable=False),
    Column("target_id", String(36), nullable=False),
    Column("person_id", String(36), nullable=False),
    Column("voucher", String(40), nullable=False),
    Column("commitment", Integer, nullable=False),
    Column("reverses", Integer, nullable=False),
    Column("reversed_by", Integer),  # set on the original when its reversal arrives
    # Lists page newest first by (recorded_at, fund_id, seq), within a district or a target.
    Index("ix_rm_ledger_movements_district", "district", "recorded_at"),
    Index("ix_rm_ledger_movements_target", "target_id"),
    Index("ix_rm_ledger_movements_recorded", "recorded_at"),
)

ledger_commitments = Table(
    "rm_ledger_commitments",
    metadata,
    Column("fund_id", Uuid, primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("target_kind", String(20), nullable=False),
    Column("target_id", String(36), nullable=False),
    # The retrofit case as a Uuid too: SQLite stores Uuid columns as bare hex, so the text
    # target_id could not be joined with rm_retrofit_cases on both databases alike.
    Column("case_id", Uuid),
    Column("district", String(10), nullable=False),
    _yuan("amount"),
    _yuan("paid"),
    Column("reversed", Boolean, nullable=False),
    Column("committed_at", DateTime(timezone=True), nullable=False),
    Index("ix_rm_ledger_commitments_target", "target_id"),
    Index("ix_rm_ledger_commitments_case", "case_id"),
)

# Which elder each double-subsidy guard belongs to: the refusal event names only the guard.
subsidy_claimants = Table(
    "rm_subsidy_claimants",
    metadata,
    Column("claims_id", Uuid, primary_key=True),
    Column("person_id", Uuid, nullable=False),
)

double_subsidy_attempts = Table(
    "rm_double_subsidy_attempts",
    metadata,
    Column("claims_id", Uuid, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("person_id", Uuid, nullable=False),
    Column("items", Text, nullable=False),  # checklist codes, comma-joined
    Column("target_id", String(36), nullable=False),
    Column("fund_id", Uuid, nullable=False),
    Column("held_by", Text, nullable=False),  # target ids, comma-joined
    Column("actor_id", String(36), nullable=False),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Index("ix_rm_double_subsidy_attempts_at", "attempted_at"),
)
