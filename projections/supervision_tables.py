"""Supervision's read-model tables: daily metric movements, the facts they need, target history."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, Index, Integer, Numeric, String, Table, Uuid

from projections.tables import metadata

# One row per metric, district, business day and the day it was recorded: how much the figure
# moved (and, for rates, the denominator). A day's row holds a city's whole day, so the
# dashboard reads a few thousand rows however many cases there are. "As at" a date keeps the
# rows recorded by then; a correction recorded later moves the figure only from its own day.
metric_days = Table(
    "rm_metric_days",
    metadata,
    Column("metric", String(40), primary_key=True),
    Column("district", String(10), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("recorded_on", Date, primary_key=True),
    Column("amount", Numeric(16, 2), nullable=False),
    Column("denominator", Numeric(16, 2), nullable=False),
    Index("ix_rm_metric_days_recorded", "metric", "recorded_on"),
)

# What later events need to know about the thing they change: its district and kind, and the
# last figure it contributed (a visit's minutes, a canteen day's meals, an institution's beds).
metric_subjects = Table(
    "rm_metric_subjects",
    metadata,
    Column("subject_id", Uuid, primary_key=True),
    Column("district", String(10), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("value", Numeric(16, 2), nullable=False),
    Column("counted", Boolean, nullable=False),  # an institution's first passed acceptance
    Column("day", Date),  # a canteen day's date: its corrections move that day's meals
)

# Every version of every target, with the time it took effect: targets as at any moment.
target_versions = Table(
    "rm_target_versions",
    metadata,
    Column("target_id", Uuid, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("metric", String(40), nullable=False),
    Column("programme", String(20), nullable=False),
    Column("district", String(10), nullable=False),
    Column("value", Numeric(16, 2), nullable=False),
    Column("start", Date, nullable=False),
    Column("deadline", Date, nullable=False),
    Column("withdrawn", Boolean, nullable=False),
    Column("actor_id", String(36), nullable=False),
    Column("reason", String(500), nullable=False),
)
