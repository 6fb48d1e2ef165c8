"""Tamper evidence: someone with database access alters the stored ledger behind the
application's back, and verification names the first broken version and what is wrong with it.
On real SQLite and PostgreSQL, editing the rows with plain SQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from typing import Any
from uuid import UUID

import psycopg
import pytest
from click.testing import CliRunner
from eventsourcing.cipher import AESCipher
from eventsourcing.persistence import StoredEvent
from sqlalchemy.engine import make_url

from events.ledger_chain import recompute
from portal.cli import main
from portal.runtime import Runtime, build_runtime
from services.ledger_history import verify
from services.settings import Settings
from tests.conftest import CHEAP_HASHER
from tests.support.actors import FINANCE
from tests.support.ledger_scenarios import open_fund


class RawRows:
    """The event and snapshot tables of the test database, edited with SQL (no library)."""

    def __init__(self, rt: Runtime) -> None:
        self.url = make_url(rt.settings.database_url)
        self.events = rt.ledger.recorder.events_table_name
        self.snapshots = rt.ledger.snapshots.recorder.events_table_name  # type: ignore[union-attr]

    def state(self, table: str, fund_id: UUID, version: int) -> bytes:
        rows = self._run(f"SELECT state FROM {{t}} WHERE {self._key}", table, fund_id, version)
        return bytes(rows[0][0])

    def set_state(self, table: str, fund_id: UUID, version: int, state: bytes) -> None:
        self._run(f"UPDATE {{t}} SET state = {self._mark} WHERE {self._key}", table, state,
                  fund_id, version)  # fmt: skip

    def replace(self, table: str, fund_id: UUID, version: int, old: str, new: str) -> None:
        """Edit the stored JSON of one row, the way a hand with a database client would."""
        state = self.state(table, fund_id, version)
        assert state.count(old.encode()) == 1, state
        self.set_state(table, fund_id, version, state.replace(old.encode(), new.encode()))

    def delete(self, fund_id: UUID, version: int) -> None:
        self._run(f"DELETE FROM {{t}} WHERE {self._key}", self.events, fund_id, version)

    @property
    def _sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def _mark(self) -> str:
        return "?" if self._sqlite else "%s"

    @property
    def _key(self) -> str:
        return f"originator_id = {self._mark} AND originator_version = {self._mark}"

    def _run(self, sql: str, table: str, *params: Any) -> list[Any]:
        values = [p.hex if isinstance(p, UUID) and self._sqlite else p for p in params]
        if self._sqlite:
            with closing(sqlite3.connect(self.url.database or "")) as conn, conn:
                return conn.execute(sql.format(t=table), values).fetchall()
        schema = self.url.query["schema"]
        plain = self.url.difference_update_query(["schema"]).set(drivername="postgresql")
        with psycopg.connect(plain.render_as_string(hide_password=False)) as conn:
            cursor = conn.execute(sql.format(t=f'"{schema}"."{table}"'), values)
            return cursor.fetchall() if cursor.description else []


def record_movements(rt: Runtime) -> UUID:
    """A fund with four movements: version 3 is the allocation of 5000.00 to D01."""
    fund = open_fund(rt)
    rt.ledger.receive(FINANCE, fund, amount="10000", document="省财〔2025〕1号")  # v2
    rt.ledger.allocate(FINANCE, fund, amount="5000", district="D01", document="下达")  # v3
    rt.ledger.allocate(FINANCE, fund, amount="2000", district="D02", document="下达")  # v4
    rt.ledger.receive(FINANCE, fund, amount="300", document="补充到账")  # v5
    assert verify(rt.ledger, fund).intact
    return fund


@pytest.fixture
def fund(rt: Runtime) -> UUID:
    return record_movements(rt)


def test_an_untouched_ledger_verifies_link_by_link(rt: Runtime, fund: UUID) -> None:
    check = verify(rt.ledger, fund)
    assert (check.intact, check.checked, check.broken_at, check.problem) == (True, 5, None, "")
    assert check.head == rt.ledger.fund(fund).head == rt.ledger.movement(fund, 5).link


def test_an_amount_changed_in_the_database_is_named_by_its_version(rt: Runtime, fund: UUID) -> None:
    RawRows(rt).replace(RawRows(rt).events, fund, 3, '"5000.00"', '"50000.00"')
    assert rt.ledger.movement(fund, 3).amount == 50000  # the application believes the row...
    check = verify(rt.ledger, fund)  # ...verification does not
    assert (check.intact, check.broken_at, check.problem) == (False, 3, "content_changed")
    assert check.checked == 2  # versions 1 and 2 still hold


def test_a_deleted_movement_is_named_as_missing(rt: Runtime, fund: UUID) -> None:
    RawRows(rt).delete(fund, 3)
    check = verify(rt.ledger, fund)
    # The gap is named at the first version found after it: 4 came where 3 should have.
    assert (check.broken_at, check.problem, check.checked) == (4, "missing_event", 2)


def test_rewriting_content_and_link_together_breaks_the_next_link(rt: Runtime, fund: UUID) -> None:
    raw = RawRows(rt)
    original = rt.ledger.movement(fund, 3).link
    raw.replace(raw.events, fund, 3, '"5000.00"', '"50000.00"')
    altered = StoredEvent(fund, 3, "events.fund:Fund.MovementRecorded",
                          raw.state(raw.events, fund, 3))  # fmt: skip
    relinked = recompute(rt.ledger.mapper.to_domain_event(altered))
    raw.replace(raw.events, fund, 3, original, relinked)  # a careful forger fixes the link too

    check = verify(rt.ledger, fund)
    assert (check.broken_at, check.problem) == (4, "link_broken")  # v4 still names the old link
    assert check.checked == 3


def test_a_tampered_snapshot_differs_from_the_replay(rt: Runtime, fund: UUID) -> None:
    rt.ledger.take_snapshot(fund)
    assert verify(rt.ledger, fund).snapshots_checked == 1
    raw = RawRows(rt)
    raw.replace(raw.snapshots, fund, 5, '"10300.00"', '"99300.00"')
    assert rt.ledger.fund(fund).totals["received"] == 99300  # loading trusts the snapshot
    check = verify(rt.ledger, fund)
    assert (check.broken_at, check.problem) == (5, "snapshot_differs")


@pytest.fixture
def encrypted(settings: Settings) -> Iterator[Runtime]:
    keyed = Settings(
        instance_path=settings.instance_path, database_url=settings.database_url,
        secret_key=settings.secret_key, event_cipher_key=AESCipher.create_key(16),
    )  # fmt: skip
    runtime = build_runtime(keyed, CHEAP_HASHER)
    yield runtime
    runtime.dispose()


def test_a_flipped_byte_of_an_encrypted_event_is_unreadable(encrypted: Runtime) -> None:
    fund = record_movements(encrypted)
    raw = RawRows(encrypted)
    state = bytearray(raw.state(raw.events, fund, 3))
    assert b"5000.00" not in state  # encrypted at rest: there is no amount to edit
    state[len(state) // 2] ^= 0x01
    raw.set_state(raw.events, fund, 3, bytes(state))
    check = verify(encrypted.ledger, fund)
    assert (check.broken_at, check.problem) == (3, "unreadable")


# -- the command -------------------------------------------------------------------------------
@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point the CLI at the test database through its environment variables."""
    monkeypatch.setenv("ANLAO_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ANLAO_INSTANCE_PATH", str(settings.instance_path))
    monkeypatch.setenv("ANLAO_SECRET_KEY", settings.secret_key)
    monkeypatch.delenv("ANLAO_EVENT_CIPHER_KEY", raising=False)
    return settings


def test_anlao_ledger_verify_exits_1_naming_the_broken_version(
    cli_env: Settings, rt: Runtime, fund: UUID
) -> None:
    other = open_fund(rt, source="county", title="县级配套资金")
    before = CliRunner().invoke(main, ["ledger", "verify"])
    assert before.exit_code == 0, before.output
    assert before.output.count("intact") == 2
    assert "events 5  snapshots 0" in before.output

    RawRows(rt).replace(RawRows(rt).events, fund, 3, '"5000.00"', '"50000.00"')
    after = CliRunner().invoke(main, ["ledger", "verify"])
    assert after.exit_code == 1, after.output
    assert "BROKEN at version 3: content_changed" in after.output
    assert "县级配套资金" in after.output and after.output.count("intact") == 1

    only_other = CliRunner().invoke(main, ["ledger", "verify", "--fund", str(other)])
    assert (only_other.exit_code, only_other.output.count("intact")) == (0, 1)
    unknown = CliRunner().invoke(main, ["ledger", "verify", "--fund", str(UUID(int=7))])
    assert unknown.exit_code == 1 and "No fund" in unknown.output
