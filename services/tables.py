"""Tables the services own besides the event store: accounts and the erasable person store."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text, Uuid

metadata = MetaData()

# Personal data lives only here, keyed by an opaque person id that events carry;
# erasing a person blanks this row and leaves the event history intact.
persons = Table(
    "persons",
    metadata,
    Column("person_id", Uuid, primary_key=True),
    Column("id_digest", String(64), unique=True),  # keyed HMAC of the ID number, for matching
    Column("name", String(60)),
    Column("national_id", String(18)),
    Column("sex", String(8)),
    Column("birth_date", String(10)),
    Column("phone", String(20)),
    Column("address", String(200)),
    Column("household_category", String(20)),
    Column("disability_level", String(20)),
    Column("living_situation", String(20)),
    Column("updated_at", DateTime(timezone=True)),
    Column("erased_at", DateTime(timezone=True)),
)

# Free-text answers of one application, personal enough to be erased with the person.
application_details = Table(
    "application_details",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("person_id", Uuid, nullable=False, index=True),
    Column("needs", Text, nullable=False, default=""),
)

accounts = Table(
    "accounts",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("login", String(40), unique=True, nullable=False),  # mobile number for families
    Column("password_hash", String(200), nullable=False),
    Column("display_name", String(60), nullable=False),
    Column("role", String(20), nullable=False),
    Column("district", String(10), nullable=False, default=""),
    Column("community", String(40), nullable=False, default=""),
    Column("facility_id", String(36), nullable=False, default=""),  # providers only
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# A family's unfinished application, page by page, kept server-side (never in a cookie).
drafts = Table(
    "application_drafts",
    metadata,
    Column("draft_id", String(36), primary_key=True),
    Column("user_id", String(36), nullable=False, index=True),
    Column("answers", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Every page an auditor opened: who looked at what, when (written by portal.audit; read back
# only, never edited, so "who saw this record" can be answered later).
audit_views = Table(
    "audit_views",
    metadata,
    Column("view_id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(36), nullable=False),
    Column("endpoint", String(100), nullable=False),
    Column("path", Text, nullable=False),  # with the query string: which date, which page
    Column("viewed_at", DateTime(timezone=True), nullable=False),
    Index("ix_audit_views_user", "user_id", "view_id"),
)
