"""The same application posted twice at once with one idempotency key makes one case, and both
callers are sent to it: a double click from two tabs of one session, and the same submission
arriving at several worker processes at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from uuid import UUID

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from events.roles import Role
from portal.runtime import Runtime
from projections.tables import retrofit_cases
from services.settings import Settings
from services.tables import application_details, persons
from tests.conftest import User
from tests.reliability.support_processes import SPAWN, in_threads, run_in_processes
from tests.reliability.support_tailing import all_notifications
from tests.reliability.support_writers import submit_twice_at_once
from tests.support.actors import FAMILY
from tests.support.family_wizard import begin, done_case_id, fill_all, submit
from tests.support.scenario import national_id

ROUNDS = 4

# What a family types on each page of the retrofit wizard.
ANSWERS: dict[str, dict[str, str]] = {
    "elder": {"name": "张秀英", "national_id": national_id()},
    "phone": {"phone": "138 1234 5678"},
    "address": {"district": "D02", "place": "南湖街道|颐和社区", "address": "南湖路8号2栋101室"},
    "household": {"household_category": "dibao"},
    "health": {"disability_level": "semi"},
    "living": {"living_situation": "alone"},
    "relation": {"relation": "child"},
    "needs": {"needs": "卫生间地滑,想装扶手。"},
}


def second_tab(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another client carrying the first one's session cookie: a second tab of one browser."""
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None, "not signed in"
    tab = app.test_client()
    tab.set_cookie(name, cookie.value, domain=cookie.domain, path=cookie.path)
    return tab


def count(rt: Runtime, table: object, *where: object) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def test_the_final_submit_posted_from_two_tabs_at_once_makes_one_case(
    app: Flask,
    app_rt: Runtime,
    client: FlaskClient,
    login: Callable[[User], str],
    make_user: Callable[..., User],
) -> None:
    family = make_user(Role.FAMILY, name="王建国")
    token = login(family)
    made: list[UUID] = []
    for _ in range(ROUNDS):
        draft = begin(client, token, "retrofit")
        fill_all(client, token, "retrofit", draft, ANSWERS)
        tabs = [client, second_tab(app, client)]
        together = threading.Barrier(len(tabs))

        def press(
            i: int,
            tabs: list[FlaskClient] = tabs,
            draft: str = draft,
            together: threading.Barrier = together,
        ) -> object:
            together.wait(timeout=30)
            return submit(tabs[i], token, "retrofit", draft)

        landed = {done_case_id(r, "retrofit") for r in in_threads(len(tabs), press)}
        assert landed == {app_rt.retrofit.application_id(family.actor, draft)}
        made += landed

    opened = [n for n in all_notifications(app_rt) if n.topic.endswith("RetrofitCase.Applied")]
    assert sorted(n.originator_id for n in opened) == sorted(made)  # one case per draft
    assert all(count(app_rt, application_details, application_details.c.case_id == c) == 1
               for c in made)  # fmt: skip
    assert count(app_rt, persons) == 1  # one elder, one person record
    app_rt.catch_up()
    listed = retrofit_cases.c.applicant_user_id == family.actor.user_id
    assert count(app_rt, retrofit_cases, listed) == ROUNDS


PROCESSES = 3
THREADS = 2


@pytest.mark.slow
def test_the_same_submission_arriving_at_several_workers_at_once_makes_one_case(
    rt: Runtime, settings: Settings
) -> None:
    """Six callers in three processes submit with one key at the same moment, for several keys:
    each key makes one case, and every caller gets its id."""
    keys = [f"draft-{k}" for k in range(ROUNDS)]
    barrier = SPAWN.Barrier(PROCESSES * THREADS)
    found = run_in_processes(settings, submit_twice_at_once, [(barrier, keys, THREADS)] * PROCESSES)
    callers = [got for per_process in found for got in per_process]
    expected = [str(rt.retrofit.application_id(FAMILY, key)) for key in keys]
    assert callers == [expected] * (PROCESSES * THREADS)

    stored = all_notifications(rt)
    assert sorted((str(n.originator_id), n.originator_version) for n in stored) == sorted(
        (case, 1) for case in expected
    )
    assert count(rt, persons) == 1
    assert count(rt, application_details) == len(keys)
