"""The read-model tables and the position each projection has reached in the event log."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    Uuid,
)

metadata = MetaData()

# One row per projection: the last notification id whose effect is in its tables.
# Written in the same transaction as the rows, so each event counts exactly once.
positions = Table(
    "projection_positions",
    metadata,
    Column("name", String(60), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

retrofit_cases = Table(
    "rm_retrofit_cases",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("reference", String(20), nullable=False, unique=True),
    Column("person_id", Uuid, nullable=False),
    Column("channel", String(10), nullable=False),
    Column("applicant_user_id", String(36), nullable=False),
    Column("relation", String(20), nullable=False),
    Column("district", String(10), nullable=False),
    Column("street", String(40), nullable=False),
    Column("community", String(40), nullable=False),
    Column("step", String(30), nullable=False),
    Column("step_since", DateTime(timezone=True), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("assessor_id", String(36)),
    Column("inspector_id", String(36)),
    Column("contractor", String(100)),
    Column("checklist_version", String(20)),
    Column("assessment_items", Text),  # JSON list of priced items, for forms
    Column("total_cost", Numeric(12, 2)),
    Column("subsidy", Numeric(12, 2)),
    Column("acceptance_rounds", Integer, nullable=False, default=0),
    Column("last_acceptance_passed", Boolean),
    Column("survey_overall", Integer),
    # Queues list longest-waiting first (step_since, case_id) within a scope: keyset pages.
    Index("ix_rm_retrofit_cases_district_wait", "district", "step_since", "case_id"),
    Index("ix_rm_retrofit_cases_district_step", "district", "step", "step_since", "case_id"),
    Index("ix_rm_retrofit_cases_applicant", "applicant_user_id", "step_since", "case_id"),
    Index("ix_rm_retrofit_cases_assessor", "assessor_id", "step"),
    Index("ix_rm_retrofit_cases_inspector", "inspector_id", "step"),
    # Supervision: the longest waits at a step city-wide, and each district's count per step.
    Index("ix_rm_retrofit_cases_step_wait", "step", "step_since", "case_id"),
    Index("ix_rm_retrofit_cases_step_district", "step", "district", "step_since"),
)

retrofit_timeline = Table(
    "rm_retrofit_timeline",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("actor_id", String(36), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("details", Text, nullable=False),  # JSON: the facts the sentence needs
)
