"""Scale-out on PostgreSQL (issue 7): two gunicorn web workers and one projection worker, all
real processes started with the `anlao` command as a deployment starts them. Families apply
through both web workers at once; the projection worker is killed (SIGKILL) mid-way and started
again; afterwards every event was applied exactly once: the read models equal a rebuild from
the log, and every acknowledged application is listed once."""

from __future__ import annotations

import re
import signal
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import pytest

from portal.runtime import Runtime, build_runtime
from projections.retrofit_cases import retrofit_cases
from services.settings import Settings
from tests.conftest import CHEAP_HASHER, PASSWORD
from tests.reliability.test_kill_mid_save import read_models
from tests.support.live_http import Client, free_port, start, wait_ready
from tests.support.scenario import national_id

pytestmark = [pytest.mark.slow]

FAMILIES = 4
APPLICATIONS_EACH = 6
DEADLINE_S = 180  # generous bounds for a loaded 2-core machine; never asserted as timings


def answers(n: int) -> dict[str, dict[str, str]]:
    """What a family types on each page of the retrofit wizard; a different elder each time."""
    born = (date(1935, 1, 1) + timedelta(days=n)).strftime("%Y%m%d")
    return {
        "elder": {"name": "张秀英", "national_id": national_id(birth=born)},
        "phone": {"phone": "13812345678"},
        "address": {"district": "D02", "place": "南湖街道|颐和社区", "address": "南湖路8号"},
        "household": {"household_category": "dibao"},
        "health": {"disability_level": "semi"},
        "living": {"living_situation": "alone"},
        "relation": {"relation": "child"},
        "needs": {"needs": "卫生间地滑,想装扶手。"},
    }


def apply_through_the_portal(client: Client, n: int) -> UUID:
    """The whole wizard over HTTP, as a browser posts it; returns the new case's id."""
    client.get("/apply")
    draft = client.post("/apply/start", {}).location
    assert re.fullmatch(r"/apply/[0-9a-f-]{36}/elder", draft), draft
    base = draft.rsplit("/", 1)[0]
    for page, data in answers(n).items():
        client.get(f"{base}/{page}")
        reply = client.post(f"{base}/{page}", data)
        assert reply.status == 303, (page, reply.text[:500])
    done = client.post(f"{base}/check", {})
    found = re.fullmatch(r"/apply/done/([0-9a-f-]{36})", done.location)
    assert done.status == 303 and found, (done.status, done.text[:500])
    return UUID(found.group(1))


class Families:
    """Threads, each a family signed in through the portal, applying again and again."""

    def __init__(self, base: str, logins: list[str]) -> None:
        self.acknowledged: list[UUID] = []
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(base, login, i))
            for i, login in enumerate(logins)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def join(self) -> None:
        for thread in self._threads:
            thread.join(DEADLINE_S)

    def count(self) -> int:
        with self._lock:
            return len(self.acknowledged)

    def _run(self, base: str, login: str, index: int) -> None:
        try:
            client = Client(base)
            client.get("/login")
            signed_in = client.post("/login", {"login": login, "password": PASSWORD})
            assert signed_in.status == 303, signed_in.text[:500]
            for k in range(APPLICATIONS_EACH):
                case_id = apply_through_the_portal(client, index * 100 + k)
                with self._lock:
                    self.acknowledged.append(case_id)
        except BaseException as e:  # reported by the test
            with self._lock:
                self.errors.append(e)


def wait_until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.1)


POSTGRES_ONLY = [pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("database_url", POSTGRES_ONLY, indirect=True)
def test_two_web_workers_and_a_killed_projection_worker_apply_every_event_once(
    settings: Settings, tmp_path: Path
) -> None:
    rt: Runtime = build_runtime(settings, CHEAP_HASHER)
    try:
        scale_out(rt, settings, tmp_path)
    finally:
        rt.dispose()


def scale_out(rt: Runtime, settings: Settings, tmp_path: Path) -> None:
    """The scenario: start everything, apply through both workers, kill and restart the
    projection worker, then check every event was applied once."""
    logins = [f"1390000{i:04d}" for i in range(FAMILIES)]
    for login in logins:
        rt.accounts.register_family(mobile=login, password=PASSWORD, display_name="家属")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web_log, worker_log = tmp_path / "web.log", tmp_path / "projections.log"
    web = start(["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
                 "--threads", "2", "--no-projections", "--access-log"], settings, web_log)  # fmt: skip
    worker = start(["projections", "run", "--poll", "0.2"], settings, worker_log)
    try:
        wait_ready(base, web, web_log)
        families = Families(base, logins)
        families.start()

        wait_until(lambda: families.count() >= FAMILIES, "applications before the kill")
        wait_until(lambda: rt.projector.position("retrofit_cases") > 0, "the worker applying")
        worker.send_signal(signal.SIGKILL)  # mid-way: no chance to finish a batch or close
        worker.wait(30)
        behind_while_down = families.count()
        worker = start(["projections", "run", "--poll", "0.2"], settings, worker_log)

        families.join()
        assert not families.errors, families.errors[:3]
        assert len(families.acknowledged) == FAMILIES * APPLICATIONS_EACH > behind_while_down
        wait_until(lambda: rt.projector.lag().events_behind == 0, "the worker catching up")
    finally:
        for process in (web, worker):
            process.send_signal(signal.SIGTERM)
        for process in (web, worker):
            process.wait(30)
    served_by = set(re.findall(r"pid=<?(\d+)", web_log.read_text()))
    assert len(served_by) == 2, f"requests were not served by both web workers: {served_by}"

    # Every acknowledged application is listed exactly once...
    with rt.engine.connect() as conn:
        listed = [row.case_id for row in conn.execute(retrofit_cases.select())]
    assert sorted(listed) == sorted(set(listed))
    assert set(families.acknowledged) <= set(listed)
    # ...and every read model equals a rebuild from the whole log: nothing applied twice or lost.
    live = read_models(rt)
    rt.projector.rebuild()
    assert read_models(rt) == live
