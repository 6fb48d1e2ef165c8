"""Snapshots keep long-lived aggregates quick to load: a facility (every 100 events) and a fund
(every 500) load from their newest snapshot exactly as a replay of every event would build them,
at the head and at any past version; a database written before snapshots still loads; and a
snapshot is as unreadable at rest as the events, and holds nothing personal."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.application import Repository
from eventsourcing.cipher import AESCipher
from eventsourcing.domain import Aggregate
from sqlalchemy.engine import make_url

from events import clock
from events.facility import MILESTONES, FacilityProject, Kind
from events.fund import Fund
from portal.runtime import Runtime, build_runtime
from services.database import event_store_env
from services.facilities import SNAPSHOT_INTERVAL, FacilityService
from services.ledger import SNAPSHOT_INTERVAL as FUND_INTERVAL
from services.settings import Settings
from tests.conftest import CHEAP_HASHER
from tests.support.actors import FINANCE
from tests.support.facilities import ADMIN, D01, INSPECTOR, NAMES, NOW, PHOTO, TODAY, day_of
from tests.support.ledger_scenarios import accepted_case, funded
from tests.support.scenario import elder

ACTOR = "admin-snapshots"
# Free text an inspector may write about people: it belongs to the event, never to the state.
FINDINGS = "厨师李建国未戴口罩,已当场整改。"


# -- building long histories the way a bulk import saves them -----------------------------------
def long_facility(app: FacilityService, kind: str, events: int, *, batch: int = 40) -> UUID:
    """A facility open since spring 2025 (an institution accepted, its beds and rooms recorded),
    then inspected until it has `events` events, saved `batch` events at a time."""
    facility = FacilityProject.register(
        facility_id=uuid4(), kind=kind, name=NAMES[kind], **D01, deadline="2025-09-30",
        planned_on=day_of("planned").isoformat(), actor_id=ACTOR, today=TODAY,
    )  # fmt: skip
    if kind != Kind.HOME_CARE_PROVIDER:
        _open(facility)
    while facility.version < events:
        _inspect(facility)
        if len(facility.pending_events) >= batch:
            app.save(facility)
    app.save(facility)
    return facility.id


def _open(facility: FacilityProject) -> None:
    """Every milestone to in_operation; an institution also fails then passes its acceptance."""
    for milestone in MILESTONES[1:]:
        if milestone == "in_operation" and facility.kind == Kind.INSTITUTION:
            on = day_of("completed").isoformat()
            for passed in (False, True):
                facility.inspect_acceptance(
                    safe=True, functional=True, well_managed=passed, photos=[PHOTO],
                    remarks="" if passed else "管理制度未上墙。", inspected_on=on, today=TODAY,
                    actor_id=ACTOR,
                )  # fmt: skip
            facility.record_beds(beds_before=40, beds_after=60, nursing_beds=25, actor_id=ACTOR)
            facility.record_rooms(rooms=["counselling", "rehab"], actor_id=ACTOR)
        facility.reach_milestone(
            milestone=milestone, on=day_of(milestone).isoformat(), today=TODAY, actor_id=ACTOR
        )


def _inspect(facility: FacilityProject) -> None:
    if facility.kind == Kind.CANTEEN:
        facility.log_food_safety_inspection(
            passed=True, findings=FINDINGS, photos=[PHOTO], inspected_on=TODAY.isoformat(),
            today=TODAY, actor_id=ACTOR,
        )  # fmt: skip
    else:
        facility.log_site_inspection(
            findings=FINDINGS, follow_up_required=False, photos=[], inspected_on=TODAY.isoformat(),
            today=TODAY, actor_id=ACTOR,
        )  # fmt: skip


def long_fund(rt: Runtime, events: int) -> UUID:
    """A fund with receipts, allocations, commitments and payments, some commitments still open,
    a payment reversed and money returned: every part of a fund's state holds something."""
    fund = Fund.open(source="provincial", programme="retrofit", year=2026, title="省级补助",
                     matching_ratio=Decimal("0.5"), actor_id=ACTOR)  # fmt: skip
    fund.receive(amount=Decimal("9000000"), document="省财〔2026〕1号", reason="", actor_id=ACTOR)
    for district in ("D01", "D02"):
        fund.allocate(amount=Decimal("4000000"), district=district, document="下达", reason="",
                      actor_id=ACTOR)  # fmt: skip
    fund.return_to_source(amount=Decimal("1000.50"), document="退回", reason="结余",
                          actor_id=ACTOR)  # fmt: skip
    while fund.version < events:
        _commit_and_pay(fund)
        if len(fund.pending_events) >= 200:
            rt.ledger.save(fund)
    rt.ledger.save(fund)
    return fund.id


def _commit_and_pay(fund: Fund) -> None:
    """A commitment, paid in part; every seventh payment reversed as a mistake."""
    district = "D01" if fund.version % 2 else "D02"
    fund.commit(amount=Decimal("1000.00"), district=district, target_kind="retrofit_case",
                target_id=f"case-{fund.version}", document="核定", reason="", actor_id=ACTOR)  # fmt: skip
    commitment = fund.pending_events[-1]
    fund.disburse(commitment=commitment, amount=Decimal("600.25"), payee="安居公司",
                  voucher=f"PZ{fund.version}", reason="", actor_id=ACTOR)  # fmt: skip
    if fund.version % 7 == 0:
        fund.reverse(original=fund.pending_events[-1], reason="凭证重复", actor_id=ACTOR)


# -- what "equal" means ----------------------------------------------------------------------------
def replayed(app: Any, aggregate_id: UUID, version: int | None = None) -> Any:
    """The aggregate folded from its first event: the library's repository, no snapshot store."""
    return Repository(app.events).get(aggregate_id, version=version)


def attributes(aggregate: Aggregate) -> dict[str, str]:
    """Every attribute as its repr, so that a Decimal's places, a list turned tuple or a date
    turned string shows as a difference (== alone would let some of those pass)."""
    return {name: repr(value) for name, value in vars(aggregate).items()}


def assert_loads_as_replayed(app: Any, aggregate_id: UUID, version: int | None = None) -> None:
    """What the service's repository loads (from a snapshot if there is one) is the replay."""
    loaded = app.repository.get(aggregate_id, version=version)
    full = replayed(app, aggregate_id, version)
    assert type(loaded) is type(full)
    assert attributes(loaded) == attributes(full)
    assert loaded.version == full.version == (version or full.version)


def snapshot_versions(app: Any, aggregate_id: UUID) -> list[int]:
    """The versions the service took snapshots at, oldest first."""
    return [s.originator_version for s in app.snapshots.get(aggregate_id)]


# -- facilities -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", [Kind.INSTITUTION, Kind.CANTEEN, Kind.HOME_CARE_PROVIDER])
def test_a_long_facility_loads_from_snapshots_as_a_replay_of_every_event_would(
    rt: Runtime, kind: str
) -> None:
    facility_id = long_facility(rt.facilities, kind, 2 * SNAPSHOT_INTERVAL + 50)

    assert snapshot_versions(rt.facilities, facility_id) == [100, 200]
    for version in (None, 1, 99, 100, 101, 199, 200, 201, 250):
        assert_loads_as_replayed(rt.facilities, facility_id, version)
    facility = rt.facilities.repository.get(facility_id)
    assert (facility.version, facility.milestone) == (250, "in_operation")


def test_every_kind_of_facility_state_survives_a_snapshot(rt: Runtime) -> None:
    # An institution holds every type a facility's state has: ordered milestones, beds, rooms,
    # an acceptance round, its result and date; the snapshot is taken at its last event.
    facility_id = long_facility(rt.facilities, Kind.INSTITUTION, 16)
    rt.facilities.take_snapshot(facility_id)

    [snapshot] = rt.facilities.snapshots.get(facility_id)  # type: ignore[union-attr]
    assert snapshot.originator_version == 16
    from_snapshot = snapshot.mutate(None)
    assert attributes(from_snapshot) == attributes(replayed(rt.facilities, facility_id))
    assert list(from_snapshot.milestones) == list(MILESTONES)  # order says which is the latest
    assert from_snapshot.beds == {"beds_before": 40, "beds_after": 60, "nursing_beds": 25}
    assert from_snapshot.rooms == ["rehab", "counselling"]
    assert (from_snapshot.acceptance_rounds, from_snapshot.acceptance_passed) == (2, True)


def test_a_snapshot_then_commands_through_the_service_load_the_later_state(rt: Runtime) -> None:
    facility_id = long_facility(rt.facilities, Kind.INSTITUTION, 2 * SNAPSHOT_INTERVAL - 3)
    assert snapshot_versions(rt.facilities, facility_id) == [100]

    with clock.frozen_at(NOW):
        for n in range(5):  # one event a save, as the portal saves them: 198 to 202
            version = rt.facilities.repository.get(facility_id).version
            rt.facilities.log_site_inspection(
                INSPECTOR, facility_id, version, findings=f"第{n}次巡查", follow_up_required=n == 4
            )
        rt.facilities.record_beds(
            ADMIN, facility_id, 202, beds_before=40, beds_after=70, nursing_beds=30
        )

    assert snapshot_versions(rt.facilities, facility_id) == [100, 200]
    assert_loads_as_replayed(rt.facilities, facility_id)
    assert_loads_as_replayed(rt.facilities, facility_id, 201)
    assert rt.facilities.facility_for(ADMIN, facility_id).beds["beds_after"] == 70


def test_loading_starts_from_the_newest_snapshot_at_or_before_the_version_asked(
    rt: Runtime,
) -> None:
    with released_before_snapshots(rt) as before:
        facility_id = long_facility(before, Kind.CANTEEN, 150)
    # A snapshot at 100 marked with a name only it holds: a load shows whether it started there.
    at_100 = replayed(rt.facilities, facility_id, 100)
    at_100.name = "从快照读出的名称"
    rt.facilities.snapshots.put([FacilityProject.Snapshot.take(at_100)])  # type: ignore[union-attr]

    assert rt.facilities.repository.get(facility_id).name == "从快照读出的名称"
    assert rt.facilities.repository.get(facility_id, version=120).name == "从快照读出的名称"
    assert rt.facilities.repository.get(facility_id, version=99).name == NAMES[Kind.CANTEEN]
    assert replayed(rt.facilities, facility_id).name == NAMES[Kind.CANTEEN]


def test_a_database_written_before_snapshots_loads_and_gains_them_as_it_grows(
    rt: Runtime,
) -> None:
    with released_before_snapshots(rt) as before:
        facility_id = long_facility(before, Kind.CARE_CENTRE, 2 * SNAPSHOT_INTERVAL + 95)

    assert snapshot_versions(rt.facilities, facility_id) == []
    assert_loads_as_replayed(rt.facilities, facility_id)
    assert_loads_as_replayed(rt.facilities, facility_id, 150)
    with clock.frozen_at(NOW):
        for _ in range(6):  # 296 to 301: the first snapshot comes at the next multiple
            version = rt.facilities.repository.get(facility_id).version
            rt.facilities.log_site_inspection(
                INSPECTOR, facility_id, version, findings="消防通道畅通", follow_up_required=False
            )
    assert snapshot_versions(rt.facilities, facility_id) == [300]
    assert_loads_as_replayed(rt.facilities, facility_id)
    assert_loads_as_replayed(rt.facilities, facility_id, 299)


@contextmanager
def released_before_snapshots(rt: Runtime) -> Iterator[FacilityService]:
    """The facility service as it was released before snapshots, on the same store: it writes
    none and reads none."""
    before = FacilityService(event_store_env(rt.settings) | {"IS_SNAPSHOTTING_ENABLED": "n"})
    try:
        assert before.snapshots is None
        yield before
    finally:
        before.close()


# -- funds (snapshotted since the ledger began; measured here, not changed) -----------------------
def test_a_long_fund_loads_from_snapshots_as_a_replay_of_every_event_would(rt: Runtime) -> None:
    fund_id = long_fund(rt, 2 * FUND_INTERVAL + 40)
    with clock.frozen_at(NOW + timedelta(days=1)):  # one more movement through the service
        rt.ledger.receive(FINANCE, fund_id, amount="250.75", document="补充到账")

    assert snapshot_versions(rt.ledger, fund_id) == [500, 1000]
    fund = rt.ledger.fund(fund_id)
    assert fund.open_commitments and fund.reversed and fund.districts  # all of it in the state
    for version in (None, 4, 499, 500, 501, 999, 1000, 1001, fund.version - 1):
        assert_loads_as_replayed(rt.ledger, fund_id, version)


# -- at rest ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("use_key", [True, False], ids=["with_key", "without_key"])
def test_a_snapshot_is_encrypted_at_rest_like_the_events(settings: Settings, use_key: bool) -> None:
    keyed = replace(settings, event_cipher_key=AESCipher.create_key(16) if use_key else "")
    rt = build_runtime(keyed, CHEAP_HASHER)
    try:
        facility_id = long_facility(rt.facilities, Kind.INSTITUTION, SNAPSHOT_INTERVAL)
        [(topic, state)] = raw_snapshots(rt, rt.facilities, facility_id)
        assert topic == "eventsourcing.domain:Snapshot"  # ids, versions and topics stay plain
        for text in (NAMES[Kind.INSTITUTION], "春晖社区", "milestones", "in_operation"):
            assert (text.encode() in state) is not use_key, text
        assert_loads_as_replayed(rt.facilities, facility_id)
    finally:
        rt.dispose()


def test_no_snapshot_holds_personal_data_or_free_text(rt: Runtime) -> None:
    # A fund committed to a real elder's case, and a canteen whose inspection names a cook: the
    # snapshots keep ids and amounts; names, numbers and inspectors' words stay elsewhere.
    fund_id = funded(rt)
    case_id = accepted_case(rt)
    rt.ledger.commit_retrofit_subsidy(FINANCE, fund_id, case_id, amount="1200", document="核定")
    rt.ledger.take_snapshot(fund_id)
    canteen_id = long_facility(rt.facilities, Kind.CANTEEN, SNAPSHOT_INTERVAL)

    [(_, fund_state)] = raw_snapshots(rt, rt.ledger, fund_id)
    [(_, canteen_state)] = raw_snapshots(rt, rt.facilities, canteen_id)
    assert b'"1200.00"' in fund_state and NAMES[Kind.CANTEEN].encode() in canteen_state  # readable
    profile = elder()
    for field in ("name", "national_id", "phone", "address"):
        assert profile[field].encode() not in fund_state, field
    assert FINDINGS.encode() not in canteen_state
    assert "李建国".encode() not in canteen_state


def test_a_snapshot_that_cannot_be_written_fails_neither_the_command_nor_later_loads(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    app = rt.facilities
    facility_id = long_facility(app, Kind.CANTEEN, SNAPSHOT_INTERVAL - 1)
    _refuse_snapshot_writes(rt, app.snapshots.recorder.events_table_name)
    facility = app.repository.get(facility_id)
    _inspect(facility)  # the event that makes a snapshot due
    app.save(facility)  # stored; the snapshot fails after, and is left out

    assert snapshot_versions(app, facility_id) == []
    assert "snapshot not taken (the events are saved)" in caplog.text
    assert_loads_as_replayed(app, facility_id)
    assert app.repository.get(facility_id).version == SNAPSHOT_INTERVAL


def _refuse_snapshot_writes(rt: Runtime, table: str) -> None:
    """Make every write to the snapshot table fail as a storage failure would (reads still
    work): on PostgreSQL a trigger that reports a full disk; on SQLite a trigger writing to a
    table that no longer exists ("no such table", as SQLite reports a lost file)."""
    if rt.settings.is_sqlite:
        _sql(rt, "CREATE TABLE gone (x INTEGER)", table)
        _sql(rt, "CREATE TRIGGER refuse BEFORE INSERT ON {t} BEGIN INSERT INTO gone VALUES (1); END",
             table)  # fmt: skip
        _sql(rt, "DROP TABLE gone", table)
        return
    schema = make_url(rt.settings.database_url).query["schema"]  # this test's own schema
    function = f'"{schema}".refuse'
    _sql(
        rt,
        f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'no space' USING ERRCODE = 'disk_full'; END $$",
        table,
    )
    _sql(rt, "CREATE TRIGGER refuse BEFORE INSERT ON {t} FOR EACH ROW EXECUTE FUNCTION "
             f"{function}()", table)  # fmt: skip


def raw_snapshots(rt: Runtime, app: Any, aggregate_id: UUID) -> list[tuple[str, bytes]]:
    """(topic, state) of an aggregate's snapshot rows straight from the table, no library."""
    table = app.snapshots.recorder.events_table_name  # snapshots, or anlao_snapshots
    rows = _sql(rt, "SELECT topic, state FROM {t} WHERE originator_id = {m}", table, aggregate_id)
    return [(topic, bytes(state)) for topic, state in rows]


def _sql(rt: Runtime, sql: str, table: str, *params: Any) -> list[Any]:
    url = make_url(rt.settings.database_url)
    if url.get_backend_name() == "sqlite":
        values = [p.hex if isinstance(p, UUID) else p for p in params]
        with closing(sqlite3.connect(url.database or "")) as conn, conn:
            return conn.execute(sql.format(t=table, m="?"), values).fetchall()
    schema = url.query["schema"]
    plain = url.difference_update_query(["schema"]).set(drivername="postgresql")
    with psycopg.connect(plain.render_as_string(hide_password=False)) as conn:
        cursor = conn.execute(sql.format(t=f'"{schema}"."{table}"', m="%s"), params)
        return cursor.fetchall() if cursor.description else []


def test_meals_and_home_care_load_facilities_from_the_snapshots_facilities_take(
    rt: Runtime,
) -> None:
    """A canteen is loaded on every meal day, a provider organisation on every assignment:
    those services read the snapshots too (and take none of their own)."""
    facility_id = long_facility(rt.facilities, Kind.CANTEEN, SNAPSHOT_INTERVAL + 20)
    marked = replayed(rt.facilities, facility_id, SNAPSHOT_INTERVAL + 10)  # beside the one at 100
    marked.name = "从快照读出的名称"
    rt.facilities.snapshots.put([FacilityProject.Snapshot.take(marked)])  # type: ignore[union-attr]

    for service in (rt.meals, rt.home_care):
        assert service.snapshots is not None and not service.snapshotting_intervals
        assert service.repository.get(facility_id).name == "从快照读出的名称"
        assert service.repository.get(facility_id).version == SNAPSHOT_INTERVAL + 20
