"""A family's home page lists all its cases across programmes; every service can be found."""

from __future__ import annotations

import re
from uuid import UUID

import pytest

from events.clock import frozen_at
from events.roles import Role
from projections.family_queries import family_cases, open_canteens
from tests.support.actors import CASEWORKER
from tests.support.family_wizard import text
from tests.support.home_care import ASSIGNED_AT, apply_care, walk_care
from tests.support.meals import apply_meal, at_noon, open_canteen
from tests.support.scenario import apply as apply_retrofit
from tests.support.scenario import elder, national_id


@pytest.fixture
def family(make_user):
    return make_user(Role.FAMILY, name="王建国")


def one_of_each(rt, family_actor) -> dict[str, UUID]:
    """A retrofit case, a meal enrolment and a home care case of one family, a day apart."""
    canteen = open_canteen(rt, name="春晖社区老年食堂")
    with frozen_at(ASSIGNED_AT):
        retrofit = apply_retrofit(rt, family_actor)
    with frozen_at(at_noon(ASSIGNED_AT.date().replace(day=3))):
        care = walk_care(rt, "assessor_assigned", family=family_actor,
                         case_id=apply_care(rt, family_actor, elder=elder(
                             name="李桂兰", national_id=national_id(seq="456"), disability_level="full")))  # fmt: skip
    with frozen_at(at_noon(ASSIGNED_AT.date().replace(day=4))):
        meal = apply_meal(rt, family_actor, canteen)
        rt.meals.approve(CASEWORKER, meal, 1)
    rt.catch_up()
    return {"retrofit": retrofit, "home_care": care, "meal": meal}


def test_my_cases_lists_every_programme_newest_activity_first(client, app_rt, login, family):
    cases = one_of_each(app_rt, family.actor)
    login(family)
    response = client.get("/my/cases")
    assert response.status_code == 200
    html = text(response)
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>", html)
    assert rows == ["老年助餐", "上门照护", "适老化改造"]  # the meal approval is the newest
    for shown in ("已开通助餐", "已受理,待上门评估", "已提交,待审核", "张秀英", "李桂兰",
                  "2026-03-04", "2026-03-03", "2026-03-02"):  # fmt: skip
        assert shown in html, shown
    assert f'href="/my/meals/{cases["meal"]}"' in html
    assert f'href="/my/care/{cases["home_care"]}"' in html
    assert f'href="/my/cases/{cases["retrofit"]}"' in html
    for reference in re.findall(r"(?:SL|ZC|JH)-[0-9A-Z]{4}-[0-9A-Z]{4}", html):
        assert reference[:2] in ("SL", "ZC", "JH")
    assert len(set(re.findall(r"(?:SL|ZC|JH)-[0-9A-Z]{4}-[0-9A-Z]{4}", html))) == 3


def test_my_cases_shows_only_the_familys_own_and_serves_an_htmx_fragment(
    client, app_rt, login, make_user, family
):
    one_of_each(app_rt, family.actor)
    other = make_user(Role.FAMILY)
    apply_care(app_rt, other.actor, elder=elder(name="赵大爷", national_id=national_id(seq="789"),
                                                 disability_level="semi"))  # fmt: skip
    app_rt.catch_up()
    login(family)
    assert "赵大爷" not in text(client.get("/my/cases"))
    fragment = client.get("/my/cases", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    html = text(fragment)
    assert "<html" not in html and "老年助餐" in html and "上门照护" in html
    assert "HX-Request" in fragment.headers["Vary"]
    assert client.get("/my/cases?cursor=garbage").status_code == 404
    assert client.get("/my/cases?cursor=2026-01-01T00:00:00|nope").status_code == 404


def test_the_list_pages_through_every_programme_by_keyset(app_rt, make_user, family):
    cases = one_of_each(app_rt, family.actor)
    first = family_cases(app_rt.engine, family.actor, limit=2)
    assert [r.programme for r in first.rows] == ["meal", "home_care"]
    assert first.next_cursor
    rest = family_cases(app_rt.engine, family.actor, cursor=first.next_cursor, limit=2)
    assert [r.case_id for r in rest.rows] == [cases["retrofit"]] and rest.next_cursor is None
    assert family_cases(app_rt.engine, make_user(Role.CASEWORKER).actor).rows == ()


def test_the_more_row_loads_the_next_page(client, app_rt, login, family, monkeypatch):
    one_of_each(app_rt, family.actor)
    monkeypatch.setattr("projections.family_queries.PAGE_SIZE", 2)
    login(family)
    html = text(client.get("/my/cases"))
    more = re.search(r'hx-get="(/my/cases\?cursor=[^"]+)"', html)
    assert more, "no 'more' row"
    rest = client.get(more.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"})
    assert rest.status_code == 200 and "适老化改造" in text(rest) and "老年助餐" not in text(rest)


def test_a_community_worker_does_not_use_my_cases(client, login, make_user):
    login(make_user(Role.COMMUNITY_WORKER, district="D01", community="春晖社区"))
    assert client.get("/my/cases").status_code == 403


def test_an_empty_list_offers_all_three_services(client, login, family):
    login(family)
    html = text(client.get("/my/cases"))
    assert "您还没有提交过申请" in html
    for href in ('href="/apply"', 'href="/apply/meal"', 'href="/apply/home-care"'):
        assert href in html, href


def test_the_nav_and_landing_page_lead_to_all_three_services(client, login, family):
    landing = text(client.get("/"))
    for href in ('href="/apply"', 'href="/apply/meal"', 'href="/apply/home-care"'):
        assert href in landing, href
    login(family)
    nav = text(client.get("/my/cases"))
    nav = nav[nav.index('class="container main-nav"') : nav.index("</nav>")]
    for label in ("我的申请", "申请适老化改造", "申请老年助餐", "申请上门照护"):
        assert label in nav, label


@pytest.mark.parametrize("path", ["/apply", "/apply/meal", "/apply/home-care"])
def test_each_start_page_links_the_other_services(client, path):
    html = text(client.get(path))
    others = {"/apply", "/apply/meal", "/apply/home-care"} - {path}
    for href in others:
        assert f'href="{href}"' in html, href


def test_open_canteens_are_the_districts_canteens_in_operation(app_rt):
    mine = open_canteen(app_rt, name="春晖社区老年食堂")
    open_canteen(app_rt, up_to="construction_started", name="在建食堂")
    open_canteen(app_rt, district="D02", name="南湖老年食堂")
    app_rt.catch_up()
    assert [c.facility_id for c in open_canteens(app_rt.engine, "D01")] == [mine]
    assert open_canteens(app_rt.engine, "") == ()
