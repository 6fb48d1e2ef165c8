"""The disk fills up (issue 6 item 5): a write is refused cleanly (SQLITE_FULL), the user is told
so in plain words, nothing partial is stored, and writing resumes once space is freed.

How the disk is filled: SQLite's `PRAGMA max_page_count` caps how many pages the database file
may grow to; a write that needs one more page fails with SQLITE_FULL, exactly as on a full
disk, and rolls back. The pragma holds per connection, and the event store opens connections
of its own (with no hook to configure them), so every connection this process opens is made
through `sqlite3.connect` with a connection class that applies the cap as it is created; the
cap is then moved on every open connection to "free space". The database, its files and its
errors are real; nothing is simulated. (A small tmpfs would need mount rights that CI lacks.)

Which write hits the wall first depends on where free room is left inside pages. Each test
therefore fills the database by real writes of one kind (money received on one fund) until one
is refused, then makes the write under test: its first event goes to the same place in the
same fund's history and is larger, so it cannot fit either."""

from __future__ import annotations

import contextlib
import sqlite3
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import pytest
from eventsourcing import persistence as es
from eventsourcing.application import AggregateNotFoundError
from flask.testing import FlaskClient

from events.roles import Role
from events.subsidy_claims import claims_id_for
from portal.runtime import Runtime
from services.database import storage_full
from services.ledger_history import verify
from services.settings import Settings
from tests.conftest import User
from tests.support.actors import FAMILY, FINANCE
from tests.support.ledger import version_of
from tests.support.ledger_scenarios import SUBSIDY, accepted_case, funded
from tests.support.scenario import apply, elder, national_id
from tests.support.staff_helpers import png_bytes

pytestmark = pytest.mark.slow

# A signed-in session's last-seen time may be touched by any request (services/sessions.py):
# that is bookkeeping, not the write under test.
BOOKKEEPING = {"user_sessions"}


class CappedConnection(sqlite3.Connection):
    """An SQLite connection that can grow the database file only up to `limit` pages."""

    limit: ClassVar[int] = 1_073_741_823  # SQLite's own maximum: no cap
    opened: ClassVar[weakref.WeakSet[CappedConnection]] = weakref.WeakSet()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.execute(f"PRAGMA max_page_count={CappedConnection.limit}")
        CappedConnection.opened.add(self)


class Disk:
    """The database file's room to grow, shared by every connection of this process."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fill(self, write: Callable[[int], object]) -> None:
        """Cap the file at its present size, then make real writes until one is refused."""
        with sqlite3.connect(self.path) as conn:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
        self._cap(pages)
        for n in range(10_000):
            try:
                write(n)
            except es.OperationalError as e:
                assert storage_full(e), e
                return
        raise AssertionError("the disk never filled up")

    def free(self) -> None:
        """Space is freed: the file may grow again."""
        self._cap(1_073_741_823)

    def _cap(self, pages: int) -> None:
        CappedConnection.limit = pages
        for conn in list(CappedConnection.opened):
            with contextlib.suppress(sqlite3.ProgrammingError):  # closed since
                conn.execute(f"PRAGMA max_page_count={pages}")


@pytest.fixture
def disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Disk]:
    """Every SQLite connection opened from here on (SQLAlchemy's and the event store's) can be
    capped; SQLAlchemy calls `sqlite3.dbapi2.connect`, the event store `sqlite3.connect`."""
    plain = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        return plain(*args, **{"factory": CappedConnection, **kwargs})

    monkeypatch.setattr(sqlite3, "connect", connect)
    monkeypatch.setattr(sqlite3.dbapi2, "connect", connect)
    yield Disk(tmp_path / "anlao.sqlite3")
    CappedConnection.limit = 1_073_741_823


@pytest.fixture
def settings(disk: Disk, tmp_path: Path) -> Settings:
    """SQLite only (overrides the shared fixture, so `app`, `rt` and `client` use it)."""
    return Settings(
        instance_path=tmp_path / "instance",
        database_url=f"sqlite:///{disk.path}",
        secret_key="test-secret",
    )


def contents(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: the event store, read models, person store and accounts."""
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            t: sorted(map(tuple, conn.execute(f'SELECT * FROM "{t}"')), key=repr)
            for t in tables
            if t not in BOOKKEEPING
        }


def stored_events(path: Path) -> int:
    """How many events the log holds."""
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])


def receive_more(rt: Runtime, fund_id: UUID) -> Callable[[int], object]:
    """The filling write: one yuan more received on the fund, with a short document number."""
    return lambda n: rt.ledger.receive(FINANCE, fund_id, amount="1", document=f"补{n}")


def test_a_form_posted_to_a_full_disk_is_refused_in_plain_words_and_stores_nothing(
    app_rt: Runtime,
    client: FlaskClient,
    make_user: Callable[..., User],
    login: Callable[[User], str],
    disk: Disk,
) -> None:
    token = login(make_user(Role.FINANCE))
    fund_id = funded(app_rt)
    app_rt.catch_up()
    disk.fill(receive_more(app_rt, fund_id))
    before, version = contents(disk.path), version_of(app_rt, fund_id)
    form = {
        "csrf_token": token,
        "receive-amount": "2,500.50",
        "receive-document": "财预〔2025〕30号",
    }

    refused = client.post(f"/ledger/funds/{fund_id}/receive", data=form)

    html = refused.get_data(as_text=True)
    assert refused.status_code == 503, html[:500]
    assert "暂时无法保存" in html and "系统的存储空间已满,这次提交没有保存" in html
    assert refused.headers["Retry-After"].isdigit()
    for leak in ("Traceback", "OperationalError", "database or disk is full", "sqlite"):
        assert leak not in html
    assert contents(disk.path) == before  # no event, no read-model row, nothing else

    disk.free()
    accepted = client.post(f"/ledger/funds/{fund_id}/receive", data=form)

    assert accepted.status_code == 303, accepted.get_data(as_text=True)[:500]
    assert version_of(app_rt, fund_id) == version + 1
    page = client.get(accepted.headers["Location"]).get_data(as_text=True)
    assert "财预〔2025〕30号" in page and "2,500.50" in page  # the read model caught up too
    assert verify(app_rt.ledger, fund_id).intact


def test_a_save_of_several_aggregates_on_a_full_disk_is_all_or_nothing(
    rt: Runtime, disk: Disk
) -> None:
    """Committing a household's subsidy saves the fund, the case and the elder's subsidy guard
    in one transaction: on a full disk none of the three moves, and after space is freed the
    same command succeeds."""
    fund_id = funded(rt)
    case_id = accepted_case(rt, photos=[png_bytes()])
    person_id = rt.retrofit.repository.get(case_id).person_id
    disk.fill(receive_more(rt, fund_id))
    before, events = contents(disk.path), stored_events(disk.path)
    fund_version = version_of(rt, fund_id)
    case_version = rt.retrofit.repository.get(case_id).version

    def commit() -> int:
        return rt.ledger.commit_retrofit_subsidy(
            FINANCE, fund_id, case_id, amount=SUBSIDY, document="安康区补助核定〔2025〕7号"
        )

    with pytest.raises(es.OperationalError) as refused:
        commit()

    assert storage_full(refused.value)
    assert contents(disk.path) == before and stored_events(disk.path) == events
    assert version_of(rt, fund_id) == fund_version
    assert rt.retrofit.repository.get(case_id).version == case_version
    with pytest.raises(AggregateNotFoundError):
        rt.ledger.repository.get(claims_id_for(person_id))

    disk.free()
    commit()

    # All at once: the fund's commitment, the case's subsidy, the guard (opened, items claimed).
    assert stored_events(disk.path) == events + 4
    assert version_of(rt, fund_id) == fund_version + 1
    assert rt.retrofit.repository.get(case_id).version == case_version + 1
    assert rt.ledger.repository.get(claims_id_for(person_id)).version == 2
    assert verify(rt.ledger, fund_id).intact


@pytest.mark.parametrize("known_elder", [False, True], ids=["new-elder", "returning-elder"])
def test_an_application_the_event_store_cannot_keep_leaves_no_personal_data_behind(
    rt: Runtime, disk: Disk, known_elder: bool
) -> None:
    """The elder's profile and the household's needs are written to the person store before the
    case's first event; when that event cannot be stored, they are taken back (a new elder's
    row removed, a returning elder's earlier details restored), and the family may resubmit."""
    apply(rt, FAMILY, elder=elder(national_id=national_id(seq="001")))  # rows with room left
    fund_id = funded(rt)
    disk.fill(receive_more(rt, fund_id))
    before = contents(disk.path)
    seq = "001" if known_elder else "777"
    newer = elder(national_id=national_id(seq=seq), phone="13900001111", address="新家路8号")

    with pytest.raises(es.OperationalError) as refused:  # the event store's error, not the
        apply(rt, FAMILY, key="resubmitted", elder=newer)  # person store's: they were written

    assert storage_full(refused.value)
    assert contents(disk.path) == before

    disk.free()
    case_id = apply(rt, FAMILY, key="resubmitted", elder=newer)
    person = rt.persons.get(rt.retrofit.repository.get(case_id).person_id)
    assert person is not None and person.address == "新家路8号"
    assert rt.persons.needs(case_id) == "卫生间地滑,想装扶手。"
