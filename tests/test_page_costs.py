"""What the busiest pages were made cheaper by keeps its meaning (bench.portal_load): the
session and its account in one query, the queue's step counts kept while the read model has not
moved, its rows' links and day counts built once a page, and the case page's photos taken from
the timeline it has already read."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import session
from sqlalchemy import delete, update

from events import clock
from events.retrofit import Step
from events.roles import Role
from portal.blueprints.staff import days_waiting, link_base, resolved
from portal.labels import STEPS
from projections.position_cache import PositionCache
from projections.retrofit_queries import timeline
from projections.staff_queries import case_photos, photos_in
from services.sessions import POLICIES, user_sessions
from services.tables import accounts
from tests.support.scenario import ASSESSED_LINES, apply, version
from tests.support.staff_helpers import make_team

# -- the session and its account in one query --------------------------------------------------


def test_a_live_session_comes_with_its_account(app_rt, make_user):
    caseworker = make_user(Role.CASEWORKER, name="审核员小李")
    token = app_rt.accounts.sessions.start(caseworker.actor.user_id, "staff")
    found = app_rt.accounts.sessions.signed_in(token, caseworker.actor.user_id)
    assert found.live
    assert found.account == {
        "user_id": caseworker.actor.user_id, "login": caseworker.login,
        "display_name": "审核员小李", "role": Role.CASEWORKER, "district": "D01",
        "community": "", "facility_id": "",
    }  # fmt: skip
    assert app_rt.accounts.get(caseworker.actor.user_id).display_name == "审核员小李"


def test_a_session_of_someone_else_or_without_a_token_is_not_signed_in(app_rt, make_user):
    one, other = make_user(Role.CASEWORKER), make_user(Role.ASSESSOR)
    token = app_rt.accounts.sessions.start(one.actor.user_id, "staff")
    assert not app_rt.accounts.sessions.signed_in(token, other.actor.user_id).live
    assert not app_rt.accounts.sessions.signed_in(None, one.actor.user_id).live
    assert not app_rt.accounts.sessions.signed_in("made-up", one.actor.user_id).live
    assert app_rt.accounts.sessions.check(token, one.actor.user_id)


def test_an_idle_session_ends_and_is_deleted(app_rt, make_user):
    caseworker = make_user(Role.CASEWORKER)
    token = app_rt.accounts.sessions.start(caseworker.actor.user_id, "staff")
    later = clock.now() + POLICIES["staff"].idle + timedelta(seconds=1)
    with clock.frozen_at(later):
        assert app_rt.accounts.sessions.signed_in(token, caseworker.actor.user_id).account is None
        assert not app_rt.accounts.sessions.check(token, caseworker.actor.user_id)
    with app_rt.engine.connect() as conn:
        assert conn.execute(user_sessions.select()).all() == []


def test_a_session_whose_account_is_gone_lives_but_signs_nobody_in(
    client, login, app_rt, make_user
):
    caseworker = make_user(Role.CASEWORKER)
    login(caseworker)
    assert client.get("/cases").status_code == 200
    with app_rt.engine.begin() as conn:
        conn.execute(delete(accounts).where(accounts.c.user_id == caseworker.actor.user_id))
    response = client.get("/cases")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_page_shows_the_account_as_it_is_now(client, login, app_rt, make_user):
    caseworker = make_user(Role.CASEWORKER, name="审核员小李")
    login(caseworker)
    assert "审核员小李" in client.get("/cases").get_data(as_text=True)
    with app_rt.engine.begin() as conn:
        conn.execute(
            update(accounts)
            .where(accounts.c.user_id == caseworker.actor.user_id)
            .values(display_name="审核员李明")
        )
    assert "审核员李明" in client.get("/cases").get_data(as_text=True)


# -- the queue's step counts, kept while the read model stands still ---------------------------


def test_a_kept_answer_is_reused_only_at_the_same_position():
    cache, computed = PositionCache(size=2), []

    def answer(value: str):
        return lambda: computed.append(value) or value

    assert cache.get("q", 7, answer("first")) == "first"
    assert cache.get("q", 7, answer("second")) == "first"
    assert cache.get("q", 8, answer("third")) == "third"
    assert computed == ["first", "third"]


def test_the_cache_forgets_the_least_recently_used_question():
    cache, computed = PositionCache(size=2), []
    for question in ("a", "b", "a", "c"):  # "b" is the least recently used when "c" comes
        cache.get(question, 1, lambda q=question: computed.append(q) or q)
    cache.get("a", 1, lambda: computed.append("a again"))
    cache.get("b", 1, lambda: computed.append("b again") or "b")
    assert computed == ["a", "b", "c", "b again"]


def step_count(html: str, step: str) -> int:
    """The count in a step's filter label, e.g. 已提交,待审核(3)."""
    found = re.search(re.escape(f"{STEPS[step]}(") + r"(\d+)\)", html)
    assert found, step
    return int(found.group(1))


def test_step_counts_follow_every_projected_event(client, login, app_rt, make_user):
    team = make_team(make_user)
    apply(app_rt, team.family.actor)
    app_rt.catch_up()
    login(team.caseworker)
    assert step_count(client.get("/cases").get_data(as_text=True), Step.SUBMITTED) == 1
    assert step_count(client.get("/cases").get_data(as_text=True), Step.SUBMITTED) == 1

    case_id = apply(app_rt, team.family.actor)
    shown = client.get("/cases").get_data(as_text=True)
    assert step_count(shown, Step.SUBMITTED) == 1  # not projected yet: the list says so too
    app_rt.catch_up()
    assert step_count(client.get("/cases").get_data(as_text=True), Step.SUBMITTED) == 2

    caseworker = team.caseworker.actor
    app_rt.retrofit.approve(
        caseworker, case_id, version(app_rt, caseworker, case_id),
        assessor_id=team.assessor.actor.user_id,
    )  # fmt: skip
    app_rt.catch_up()
    html = client.get("/cases?view=all").get_data(as_text=True)
    assert (step_count(html, Step.SUBMITTED), step_count(html, Step.APPROVED)) == (1, 1)


def test_each_user_gets_counts_of_their_own_scope(client, login, app_rt, make_user):
    d01, d02 = make_team(make_user), make_team(make_user, district="D02")
    apply(app_rt, d01.family.actor)
    apply(app_rt, d02.family.actor, district="D02", street="南湖街道", community="南湖社区")
    apply(app_rt, d02.family.actor, district="D02", street="南湖街道", community="南湖社区")
    app_rt.catch_up()
    login(d01.caseworker)
    assert step_count(client.get("/cases").get_data(as_text=True), Step.SUBMITTED) == 1
    client.post("/logout", data={"csrf_token": _token(client)})
    login(d02.caseworker)
    assert step_count(client.get("/cases").get_data(as_text=True), Step.SUBMITTED) == 2


def _token(client) -> str:
    html = client.get("/cases").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


# -- the queue's rows ----------------------------------------------------------------------------


def test_days_waiting_tags_late_rows_and_escapes(app):
    with app.test_request_context("/"):
        assert days_waiting(3, 10) == "3 天"
        assert days_waiting(11, 10) == '<span class="tag tag-late">11 天,已超时</span>'
        assert days_waiting(10, 10) == "10 天"


def test_days_waiting_reads_in_the_chosen_language(app):
    with app.test_request_context("/"):
        session["lang"] = "en"
        english = str(days_waiting(11, 10))
    assert "11" in english and "天" not in english and 'class="tag tag-late"' in english


def test_links_of_a_list_are_built_from_one_address(app):
    with app.test_request_context("/"):
        assert link_base("staff.case", "case_id") == "/cases/"
        assert link_base("family.case", "case_id") == "/my/cases/"
        assert link_base("staff.meal_case", "case_id").startswith("/")


def test_labels_are_translated_once_for_the_page(app):
    with app.test_request_context("/"):
        names = resolved(STEPS)
    assert names[Step.SUBMITTED] == str(STEPS[Step.SUBMITTED])
    assert all(type(name) is str for name in names.values())


def test_queue_rows_link_to_their_cases_and_show_their_days(client, login, app_rt, make_user):
    team = make_team(make_user)
    with clock.frozen_at(clock.now() - timedelta(days=12)):
        late = apply(app_rt, team.family.actor)
    fresh = apply(app_rt, team.family.actor)
    app_rt.catch_up()
    login(team.caseworker)
    html = client.get("/cases").get_data(as_text=True)
    assert f'href="/cases/{late}"' in html and f'href="/cases/{fresh}"' in html
    assert '<span class="tag tag-late">12 天,已超时</span>' in html
    assert '<td class="num">0 天</td>' in html


# -- the case page's photos ------------------------------------------------------------------------


@pytest.fixture
def inspected(app_rt, make_user):
    """A case with a site inspection's photo, then an acceptance round's photo."""
    team = make_team(make_user)
    case_id = team.walk(app_rt, Step.WORKS_STARTED)
    inspector, caseworker = team.inspector.actor, team.caseworker.actor
    r = app_rt.retrofit
    r.log_site_inspection(
        inspector, case_id, version(app_rt, inspector, case_id), findings="扶手位置偏低",
        follow_up_required=True, photos=[{"sha256": "b" * 64, "media_type": "image/png"}],
    )  # fmt: skip
    r.complete_works(caseworker, case_id, version(app_rt, caseworker, case_id))
    r.inspect_acceptance(
        inspector, case_id, version(app_rt, inspector, case_id),
        results=[{"code": line["code"], "installed": True, "works": True, "safe": True}
                 for line in ASSESSED_LINES],
        photos=[{"sha256": "a" * 64, "media_type": "image/jpeg"}],
    )  # fmt: skip
    return case_id


def test_photos_from_the_timeline_equal_those_read_on_their_own(app_rt, inspected):
    app_rt.catch_up()
    found = photos_in(timeline(app_rt.engine, inspected))
    assert found == case_photos(app_rt.engine, inspected)
    assert [p.sha256 for p in found] == ["b" * 64, "a" * 64]
    assert [p.kind for p in found] == ["SiteInspectionLogged", "AcceptanceInspected"]
