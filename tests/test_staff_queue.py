"""The staff worklist: scope by role, filters, htmx fragment, keyset pages."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from events import clock
from events.roles import Actor, Role
from tests.support.scenario import apply
from tests.support.staff_helpers import detail, make_team, references

READER = Actor("reader", Role.AUDITOR)
D02_PLACE = {"district": "D02", "street": "南湖街道", "community": "南湖社区"}


@pytest.fixture
def team(make_user):
    return make_team(make_user)


def ref(app_rt, _team, case_id):
    return detail(app_rt, READER, case_id).reference


def test_caseworker_queue_lists_own_district_cases_with_names_and_steps(
    client, login, app_rt, team, make_user
):
    mine = apply(app_rt, team.family.actor)
    other_family = make_user(Role.FAMILY)
    theirs = apply(app_rt, other_family.actor, **D02_PLACE)
    app_rt.catch_up()
    login(team.caseworker)
    response = client.get("/cases")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<caption>" in html and 'class="table-wrap"' in html
    assert "张秀英" in html  # elder names come from the person store
    assert "已提交,待审核" in html
    assert f'href="/cases/{mine}"' in html
    assert references(html) == [ref(app_rt, team, mine)]
    assert str(theirs) not in html
    assert 'id="district"' not in html  # one district: no district filter
    assert 'hx-get="/cases"' in html and 'hx-target="#case-rows"' in html
    assert 'hx-push-url="true"' in html and 'hx-trigger="change, submit"' in html


def test_htmx_request_gets_only_the_rows_fragment(client, login, app_rt, team):
    apply(app_rt, team.family.actor)
    app_rt.catch_up()
    login(team.caseworker)
    response = client.get("/cases?step=submitted", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert "<html" not in html and "<form" not in html
    assert "<table>" in html
    assert 'data-announce="找到 1 个案件。"' in html


def test_empty_result_is_announced(client, login, app_rt, team):
    login(team.caseworker)
    html = client.get("/cases", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-announce="没有符合条件的案件。"' in html


def test_filter_by_step_and_counts_in_the_step_choices(client, login, app_rt, team):
    submitted = apply(app_rt, team.family.actor)
    approved = team.walk(app_rt, "approved")
    login(team.caseworker)
    html = client.get("/cases?view=all&step=approved").get_data(as_text=True)
    assert references(html) == [ref(app_rt, team, approved)]
    assert ref(app_rt, team, submitted) not in html
    assert "已提交,待审核(1)" in html and "审核通过,待入户评估(1)" in html


def test_worklist_is_the_default_for_caseworkers_and_all_shows_the_rest(
    client, login, app_rt, team
):
    waiting = apply(app_rt, team.family.actor)
    at_assessor = team.walk(app_rt, "approved")  # the assessor's turn, not the caseworker's
    login(team.caseworker)
    mine = client.get("/cases").get_data(as_text=True)
    assert references(mine) == [ref(app_rt, team, waiting)]
    everything = client.get("/cases?view=all").get_data(as_text=True)
    assert set(references(everything)) == {
        ref(app_rt, team, waiting),
        ref(app_rt, team, at_assessor),
    }


def test_only_cases_waiting_at_least_n_days_and_late_ones_are_tagged(client, login, app_rt, team):
    with clock.frozen_at(clock.now() - timedelta(days=20)):
        old = apply(app_rt, team.family.actor)
    fresh = apply(app_rt, team.family.actor, key="fresh")
    app_rt.catch_up()
    login(team.caseworker)
    html = client.get("/cases?min_days=15").get_data(as_text=True)
    assert references(html) == [ref(app_rt, team, old)]
    assert "tag-late" in html and "20 天,已超时" in html
    both = client.get("/cases").get_data(as_text=True)
    assert references(both) == [
        ref(app_rt, team, old),
        ref(app_rt, team, fresh),
    ]  # longest wait first


def test_supervisor_filters_by_district_and_sees_every_district(
    client, login, app_rt, team, make_user
):
    d01 = apply(app_rt, team.family.actor)
    d02 = apply(app_rt, make_user(Role.FAMILY).actor, **D02_PLACE)
    app_rt.catch_up()
    login(make_user(Role.SUPERVISOR, district=""))
    html = client.get("/cases").get_data(as_text=True)
    assert 'id="district"' in html and 'name="view"' not in html
    assert set(references(html)) == {ref(app_rt, team, d01), ref(app_rt, team, d02)}
    only_d02 = client.get("/cases?district=D02").get_data(as_text=True)
    assert references(only_d02) == [ref(app_rt, team, d02)]
    assert "永宁区" in only_d02


def test_assessor_and_inspector_see_only_cases_assigned_to_them(
    client, login, app_rt, team, make_user
):
    assigned = team.walk(app_rt, "contractor_assigned")
    other_team = make_team(make_user)
    other_team.walk(app_rt, "contractor_assigned")
    login(team.assessor)
    assert references(client.get("/cases?view=all").get_data(as_text=True)) == [
        ref(app_rt, team, assigned)
    ]
    login(team.inspector)
    assert references(client.get("/cases").get_data(as_text=True)) == [ref(app_rt, team, assigned)]


def test_community_worker_rows_link_to_the_applicant_side_case_page(
    client, login, app_rt, make_user
):
    worker = make_user(Role.COMMUNITY_WORKER)
    case_id = apply(app_rt, worker.actor)
    app_rt.catch_up()
    login(worker)
    html = client.get("/cases").get_data(as_text=True)
    assert f'href="/my/cases/{case_id}"' in html


def test_pages_of_fifty_with_a_next_page_cursor(client, login, app_rt, team):
    for n in range(52):
        apply(app_rt, team.family.actor, key=f"bulk-{n}")
    app_rt.catch_up()
    login(team.caseworker)
    first = client.get("/cases?step=submitted").get_data(as_text=True)
    assert len(references(first)) == 50
    assert "下一页" in first
    next_url = re.search(r'href="([^"]+)">下一页<', first).group(1).replace("&amp;", "&")
    args = parse_qs(urlparse(next_url).query)
    assert args["step"] == ["submitted"] and args["cursor"]
    second = client.get(next_url)
    assert second.status_code == 200
    rest = references(second.get_data(as_text=True))
    assert len(rest) == 2 and not set(rest) & set(references(first))
    assert "下一页" not in second.get_data(as_text=True)


def test_a_bad_cursor_is_a_friendly_400(client, login, team):
    login(team.caseworker)
    response = client.get("/cases?cursor=not-a-cursor")
    assert response.status_code == 400
    assert "链接不完整" in response.get_data(as_text=True)


def test_unknown_filter_values_are_refused_clearly(client, login, team):
    login(team.caseworker)
    response = client.get("/cases?step=nonsense&min_days=-3")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "没有这个办理环节" in html and "天数请填0到3650之间的整数" in html
    assert "error-summary" in html


def test_unknown_filter_values_in_htmx_reload_the_whole_page(client, login, team):
    login(team.caseworker)
    response = client.get("/cases?min_days=abc", headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert response.headers["HX-Redirect"] == "/cases?min_days=abc"


def test_families_have_no_staff_queue(client, login, team):
    login(team.family)
    assert client.get("/cases").status_code == 403
