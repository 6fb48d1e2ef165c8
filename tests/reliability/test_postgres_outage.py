"""PostgreSQL stopped hard under load and started again (issue 6 item 4): every write that was
acknowledged is still there, the portal says "try again later" (503) while the server is away,
and both connection pools (read models' and the event store's) recover on their own."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from eventsourcing import persistence as es
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from events.roles import Actor, Role
from portal import create_app
from portal.runtime import Runtime
from services.database import STORAGE_FAILURES
from services.settings import Settings
from tests.conftest import CHEAP_HASHER, User
from tests.reliability.support_cluster import Cluster, create_cluster, why_unavailable
from tests.support.scenario import elder, national_id

pytestmark = pytest.mark.slow

WRITERS = 3
DEADLINE_S = 30  # generous bounds for a loaded 2-core machine; never asserted as timings


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A throwaway cluster this test may stop hard (never the shared server on 5432)."""
    reason = why_unavailable()
    if reason:
        pytest.skip(f"no throwaway PostgreSQL cluster: {reason}")
    made = create_cluster()
    yield made
    made.remove()


@pytest.fixture
def app(cluster: Cluster, tmp_path: Path) -> Iterator[Flask]:
    """The portal on the throwaway cluster (overrides the shared `app` fixture here, so that
    `client`, `make_user` and `login` use it)."""
    settings = Settings(
        instance_path=tmp_path / "instance", database_url=cluster.url, secret_key="test-secret"
    )
    application = create_app(
        {"ANLAO_SETTINGS": settings, "PASSWORD_HASHER": CHEAP_HASHER, "TESTING": True}
    )
    yield application
    application.extensions["anlao"].dispose()


class Writers:
    """Threads that keep submitting retrofit applications through the service, remembering
    every one that was acknowledged (returned a case id) and every failure."""

    def __init__(self, rt: Runtime, family: Actor, count: int = WRITERS) -> None:
        self.rt, self.family = rt, family
        self.acknowledged: list[UUID] = []
        self.failures: list[Exception] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._write, args=(i, count)) for i in range(count)
        ]

    def __enter__(self) -> Writers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2 * DEADLINE_S)

    def acks(self) -> int:
        with self._lock:
            return len(self.acknowledged)

    def failed(self, kind: type[Exception] | tuple[type[Exception], ...]) -> bool:
        with self._lock:
            return any(isinstance(e, kind) for e in self.failures)

    def _write(self, first: int, step: int) -> None:
        n = first
        while not self._stop.is_set():
            try:
                case_id = self.rt.retrofit.submit_application(
                    self.family, idempotency_key=f"load-{n}", elder=_elder(n),
                    relation="child", district="D01", street="和平街道", community="春晖社区",
                    needs="卫生间地滑,想装扶手。",
                )  # fmt: skip
            except Exception as e:  # every failure is kept and checked by the test
                with self._lock:
                    self.failures.append(e)
                time.sleep(0.05)  # the server is away: do not spin
            else:
                with self._lock:
                    self.acknowledged.append(case_id)
            n += step


def _elder(n: int) -> dict[str, str]:
    """A different elder for each application (born 1930 onwards, one day apart)."""
    birth = date(1930, 1, 1) + timedelta(days=n)
    return elder(national_id=national_id(birth=birth.strftime("%Y%m%d")))


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll until `condition` holds; fail naming `what` if it never does."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.05)


def assert_friendly_503(response: TestResponse) -> None:
    """The "try again later" page: 503, in Chinese, with no trace of the failure's insides."""
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html[:500]
    assert "系统暂时忙" in html and "请稍等一两分钟后再试" in html
    assert response.headers["Retry-After"].isdigit()
    for leak in ("Traceback", "OperationalError", "psycopg", "sqlalchemy", "5432"):
        assert leak not in html


def test_a_hard_stop_loses_no_acknowledged_write_and_the_portal_answers_503_meanwhile(
    cluster: Cluster,
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    login: Callable[[User], str],
) -> None:
    rt: Runtime = app.extensions["anlao"]
    family = make_user(Role.FAMILY)
    token = login(family)

    with Writers(rt, family.actor) as writers:
        wait_until(lambda: writers.acks() >= 20, "applications acknowledged before the stop")
        cluster.stop_immediately()  # mid-write: writers have transactions in flight

        # While the server is away, every kind of request gets the friendly page, not a 500.
        assert_friendly_503(client.get("/my/cases"))
        assert_friendly_503(client.get("/my/cases", headers={"HX-Request": "true"}))
        assert_friendly_503(client.post("/apply/start", data={"csrf_token": token}))
        assert_friendly_503(app.test_client().get("/progress"))  # a visitor, not signed in
        probe = app.test_client().get("/readyz")  # load balancers stop sending traffic here
        assert probe.status_code == 503
        assert probe.get_json() == {"status": "unavailable", "database": "unavailable"}
        # Each writer's next application starts by reading the event store: its own pool, too,
        # gives up (after the library's retries) with an error the portal answers with 503.
        wait_until(lambda: writers.failed(es.OperationalError), "the event store failing")
        acked_during_outage = writers.acks()

        cluster.start()  # crash recovery replays the write-ahead log
        # Both pools recover without a restart of the app: new writes are acknowledged again.
        wait_until(lambda: writers.acks() >= acked_during_outage + 10, "writes after restart")
        assert app.test_client().get("/readyz").status_code == 200

    unexpected = [e for e in writers.failures if not isinstance(e, STORAGE_FAILURES)]
    assert not unexpected, f"failures the portal would not answer with 503: {unexpected[:3]}"

    # Every acknowledged application is in the event log and the person store...
    acknowledged = set(writers.acknowledged)
    assert len(acknowledged) == len(writers.acknowledged)
    with psycopg.connect(cluster.url) as conn:
        stored = {row[0] for row in conn.execute("SELECT originator_id FROM anlao_events")}
    assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged writes lost"
    for case_id in acknowledged:
        case = rt.retrofit.repository.get(case_id)
        assert rt.persons.get(case.person_id) is not None
        assert rt.persons.needs(case_id) == "卫生间地滑,想装扶手。"

    # ...the read models catch up with every stored case exactly once...
    rt.catch_up()
    with psycopg.connect(cluster.url) as conn:
        listed = [r[0] for r in conn.execute("SELECT case_id FROM rm_retrofit_cases")]
    assert len(listed) == len(set(listed)) and acknowledged <= set(listed)

    # ...and the portal serves again, showing the family its cases.
    login(family)
    page = client.get("/my/cases")
    assert page.status_code == 200
    shown = set(re.findall(r"/my/cases/([0-9a-f-]{36})", page.get_data(as_text=True)))
    assert shown and {str(c) for c in acknowledged} & shown
