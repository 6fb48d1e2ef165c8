"""Catching up in shared batches: every read model at the same position reads, decodes and
writes a batch together; a read model behind the others catches up alone and then joins them;
one that fails is rolled back alone; and the bulk writes store exactly what SQLAlchemy would."""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    Uuid,
    and_,
    bindparam,
    event,
    select,
    update,
)

from events.retrofit import Step
from portal.runtime import Runtime
from projections import runner
from projections.bulk import insert_rows, update_rows
from projections.retrofit_cases import RetrofitCaseList
from projections.retrofit_timeline import RetrofitTimeline
from projections.runner import Projector
from projections.tables import retrofit_timeline
from services.database import ensure_schema, make_engine
from services.settings import Settings
from tests.support.actors import read_models, table_rows, walk

BOTH = ("retrofit_cases", "retrofit_timeline")


def head(rt: Runtime) -> int:
    return rt.retrofit.recorder.max_notification_id() or 0


def positions(rt: Runtime, projector: Projector) -> dict[str, int]:
    return {p.name: projector.position(p.name) for p in projector.projections}


class Commits:
    """Counts the transactions an engine commits (a catch-up commits one per batch)."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.count = engine, 0

    def __enter__(self) -> Commits:
        event.listen(self.engine, "commit", self._counted)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "commit", self._counted)

    def _counted(self, _conn: Any) -> None:
        self.count += 1


def test_read_models_at_one_position_share_each_batch(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BATCH_SIZE", 4)
    walk(rt, Step.CLOSED)
    walk(rt, Step.ACCEPTED)  # 18 events: five batches of the log, each written once for both
    both = Projector(rt.engine, rt.retrofit, [RetrofitCaseList(), RetrofitTimeline()])
    with Commits(rt.engine) as commits:
        assert both.catch_up() == 2 * 18
    assert commits.count == math.ceil(18 / 4)
    assert positions(rt, both) == dict.fromkeys(BOTH, head(rt))


def test_the_worker_and_a_rebuild_take_bigger_batches_than_a_request(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BATCH_SIZE", 4)
    monkeypatch.setattr(runner, "WORKER_BATCH_SIZE", 10)
    walk(rt, Step.CLOSED)
    walk(rt, Step.ACCEPTED)  # 18 events
    both = Projector(rt.engine, rt.retrofit, [RetrofitCaseList(), RetrofitTimeline()])
    with Commits(rt.engine) as commits:
        assert both.catch_up() == 2 * 18  # as a request catches up: batches of 4
    assert commits.count == math.ceil(18 / 4)
    live = read_models(rt.engine)
    with Commits(rt.engine) as creating:
        both.create_tables()  # what a rebuild commits besides its batches (and the drop)
    with Commits(rt.engine) as commits:
        assert both.rebuild() == 2 * 18  # the worker's batches of 10
    assert commits.count == 1 + creating.count + math.ceil(18 / 10)
    assert read_models(rt.engine) == live


def test_a_read_model_added_later_catches_up_alone_then_joins_the_others(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BATCH_SIZE", 3)
    walk(rt, Step.CLOSED)  # 10 events
    Projector(rt.engine, rt.retrofit, [RetrofitCaseList()]).catch_up()
    reached = head(rt)
    walk(rt, Step.WORKS_STARTED)  # 6 more
    walk(rt, Step.SUBMITTED)  # 1 more

    # The timeline is new (position 0): it reads the first 10 events alone, stopping where the
    # case list stands (4 batches), then both read the last 7 together (3 batches).
    both = Projector(rt.engine, rt.retrofit, [RetrofitCaseList(), RetrofitTimeline()])
    with Commits(rt.engine) as commits:
        assert both.catch_up() == 7 + head(rt)
    assert commits.count == math.ceil(reached / 3) + math.ceil((head(rt) - reached) / 3)
    assert positions(rt, both) == dict.fromkeys(BOTH, head(rt))
    live = read_models(rt.engine)
    assert len(live["rm_retrofit_timeline"]) == head(rt)
    monkeypatch.setattr(runner, "BATCH_SIZE", 1000)
    both.rebuild()
    assert read_models(rt.engine) == live


def test_each_event_is_decoded_once_whatever_the_number_of_read_models(rt: Runtime) -> None:
    walk(rt, Step.SURVEYED)
    walk(rt, Step.PLAN_CONFIRMED)
    decoded: list[int] = []
    mapper = rt.projector._mapper
    original = mapper.to_domain_event

    def counting(notification: Any) -> Any:
        decoded.append(notification.id)
        return original(notification)

    mapper.to_domain_event = counting  # type: ignore[method-assign]
    try:
        applied = rt.projector.catch_up()
    finally:
        mapper.to_domain_event = original  # type: ignore[method-assign]
    assert len(rt.projector.projections) > 10
    assert applied > head(rt)  # several read models read most of these events...
    assert sorted(decoded) == list(range(1, head(rt) + 1))  # ...each decoded once


class Doubling:
    """A read model with a bug: it applies every batch twice, so its second insert breaks the
    table's primary key (on PostgreSQL that aborts the transaction unless rolled back to a
    savepoint)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name, self.tables, self.topics = inner.name, inner.tables, inner.topics

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        self.inner.apply(conn, events)
        self.inner.apply(conn, events)


def test_a_read_model_failing_in_a_shared_batch_is_rolled_back_alone(rt: Runtime) -> None:
    walk(rt, Step.ASSESSED)
    both = Projector(rt.engine, rt.retrofit, [Doubling(RetrofitTimeline()), RetrofitCaseList()])
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        both.catch_up()
    assert table_rows(rt.engine, retrofit_timeline) == []  # its first insert undone too
    assert positions(rt, both) == {"retrofit_timeline": 0, "retrofit_cases": head(rt)}

    fixed = Projector(rt.engine, rt.retrofit, [RetrofitTimeline(), RetrofitCaseList()])
    assert fixed.catch_up() == head(rt)
    assert len(table_rows(rt.engine, retrofit_timeline)) == head(rt)


@pytest.mark.parametrize("collector_on", [True, False])
def test_a_catch_up_leaves_the_garbage_collector_as_it_found_it(
    rt: Runtime, collector_on: bool
) -> None:
    walk(rt, Step.APPROVED)
    was = gc.isenabled()
    try:
        gc.enable() if collector_on else gc.disable()
        rt.projector.catch_up()
        assert gc.isenabled() is collector_on
    finally:
        gc.enable() if was else gc.disable()


# -- bulk writes ------------------------------------------------------------------------------
kinds = MetaData()


def _twin(name: str) -> Table:
    """A table with every column type the read models use, and a two-column key."""
    return Table(
        name,
        kinds,
        Column("item_id", Uuid, primary_key=True),
        Column("seq", Integer, primary_key=True),
        Column("label", String(40), nullable=False),
        Column("notes", Text),
        Column("at", DateTime(timezone=True)),
        Column("on", Date),
        Column("amount", Numeric(12, 2)),
        Column("done", Boolean),
        Column("big", BigInteger),
        Column("other_id", Uuid),
    )


by_core, by_bulk = _twin("t_bulk_by_core"), _twin("t_bulk_by_bulk")
CITY = timezone(timedelta(hours=8))
AWKWARD = ['逗号,引号"反斜杠\\', "{braces}", "NULL", "", "tab\tnew\nline", "'single'"]


def _rows() -> list[dict[str, Any]]:
    rows = []
    for i in range(40):
        rows.append(
            {
                "item_id": UUID(int=i * 7919), "seq": i % 3, "label": AWKWARD[i % len(AWKWARD)],
                "notes": None if i % 4 == 0 else f"第{i}条 {AWKWARD[(i + 1) % len(AWKWARD)]}",
                "at": None if i % 5 == 0 else datetime(2026, 1, 1, 8, tzinfo=UTC)
                + timedelta(days=i, microseconds=(i % 2) * 123_456),
                "on": None if i % 6 == 0 else date(1930, 1, 1) + timedelta(days=i * 400),
                "amount": None if i % 7 == 0 else Decimal(i * 1001) / 100,
                "done": None if i % 3 == 0 else i % 2 == 0,
                "big": None if i % 8 == 0 else 2**40 + i,
                "other_id": None if i % 2 else uuid4(),
            }
        )  # fmt: skip
    rows[1]["at"] = datetime(2026, 3, 1, 23, 30, tzinfo=CITY)  # not UTC
    return rows


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    """An engine on the test database with the twin tables."""
    engine = make_engine(settings)
    try:
        ensure_schema(engine, settings)
        kinds.create_all(engine)
        yield engine
        kinds.drop_all(engine)
    finally:
        engine.dispose()


def test_bulk_inserts_and_updates_store_what_sqlalchemy_stores(engine: Engine) -> None:
    rows = _rows()
    with engine.begin() as conn:
        conn.execute(by_core.insert(), rows)
        insert_rows(conn, by_bulk, rows)
    assert table_rows(engine, by_bulk) == table_rows(engine, by_core)
    assert len(table_rows(engine, by_bulk)) == len(rows)

    changes = [
        {"item_id": r["item_id"], "seq": r["seq"], "label": f"{r['label']}!", "at": None,
         "amount": Decimal("0.10"), "done": not r["done"], "notes": r["label"]}
        for r in rows[::3]
    ]  # fmt: skip
    key = and_(by_core.c.item_id == bindparam("k_id"), by_core.c.seq == bindparam("k_seq"))
    setting = {n: bindparam(n) for n in ("label", "at", "amount", "done", "notes")}
    with engine.begin() as conn:
        conn.execute(
            update(by_core).where(key).values(setting),
            [c | {"k_id": c["item_id"], "k_seq": c["seq"]} for c in changes],
        )
        update_rows(conn, by_bulk, ("item_id", "seq"), changes)
    assert table_rows(engine, by_bulk) == table_rows(engine, by_core)
    with engine.connect() as conn:
        changed = conn.execute(select(by_bulk.c.label).where(by_bulk.c.amount == Decimal("0.10")))
        assert sorted(r.label for r in changed) == sorted(c["label"] for c in changes)


def test_bulk_writes_break_no_constraint_silently(engine: Engine) -> None:
    rows = _rows()[:3]
    with engine.begin() as conn:
        insert_rows(conn, by_bulk, rows)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), engine.begin() as conn:
        insert_rows(conn, by_bulk, rows[:1])
    with pytest.raises(Exception, match=r"(?i)null"), engine.begin() as conn:
        insert_rows(conn, by_bulk, [rows[0] | {"item_id": uuid4(), "label": None}])
    assert len(table_rows(engine, by_bulk)) == 3


def test_a_batch_writes_with_a_large_page_cache_and_hands_the_pool_back_the_default(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    if rt.engine.dialect.name != "sqlite":
        pytest.skip("the page cache is SQLite's; PostgreSQL's shared buffers are the server's")
    seen: list[int] = []
    original = RetrofitCaseList.apply

    def noting_the_cache(self: RetrofitCaseList, conn: Connection, events: Any) -> None:
        seen.append(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
        original(self, conn, events)

    monkeypatch.setattr(RetrofitCaseList, "apply", noting_the_cache)
    walk(rt, Step.APPROVED)
    rt.projector.catch_up()
    assert seen == [-runner.BATCH_CACHE_KIB]
    # The pool holds the one connection the batch used: web requests get SQLite's default.
    with rt.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == -2000
