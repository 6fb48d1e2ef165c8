"""The provider's room: its facility's name and kind, and links to the work this kind does;
only provider accounts enter, and only for the facility their account names."""

from __future__ import annotations

from uuid import uuid4

import pytest

from events.clock import frozen_at
from events.facility import Kind
from events.home_care import CareStep
from events.roles import Role
from tests.support.facilities import register
from tests.support.home_care import ASSIGNED_AT, register_provider, walk_care
from tests.support.meals import days_ago, open_canteen, provider_of
from tests.support.provider_room import html_of, provider_account

LINKS = {
    "meals": 'href="/provider/meals"',
    "visits": 'href="/provider/visits"',
    "staffing": 'href="/provider/staffing"',
}


def links_on(html: str) -> set[str]:
    return {name for name, link in LINKS.items() if link in html}


def test_a_canteen_room_leads_to_todays_meals(client, login, make_user, app_rt):
    canteen = open_canteen(app_rt)
    app_rt.meals.record_day(provider_of(canteen), canteen, days_ago(0), [], 7)
    app_rt.catch_up()
    login(provider_account(make_user, canteen))
    response = client.get("/provider/")
    assert response.status_code == 200
    html = html_of(response)
    assert "春晖社区老年食堂" in html and "老年助餐食堂" in html
    assert links_on(html) == {"meals"}
    assert "已登记,共 7 人用餐。" in html


def test_a_home_care_organisation_room_leads_to_visits_and_staffing(
    client, login, make_user, app_rt
):
    organisation = register_provider(app_rt)
    with frozen_at(ASSIGNED_AT):
        walk_care(app_rt, CareStep.IN_SERVICE, provider_id=organisation)
    app_rt.catch_up()
    login(provider_account(make_user, organisation))
    html = html_of(client.get("/provider/"))
    assert "康乐居家养老服务中心" in html and "上门照护服务机构" in html
    assert links_on(html) == {"visits", "staffing"}
    assert "1 位" in html and "还没有填报过。" in html


@pytest.mark.parametrize("kind", [Kind.INSTITUTION, Kind.CARE_CENTRE])
def test_institutions_and_care_centres_report_staffing(client, login, make_user, app_rt, kind):
    facility = register(app_rt, kind)
    app_rt.catch_up()
    login(provider_account(make_user, facility))
    html = html_of(client.get("/provider/"))
    assert links_on(html) == {"staffing"}
    assert "本机构还没有投入运营" in html  # a project still being built says so


def test_the_front_door_sends_a_provider_to_its_room(client, login, make_user, app_rt):
    canteen = open_canteen(app_rt)
    app_rt.catch_up()
    login(provider_account(make_user, canteen))
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/provider/"


def test_an_account_without_a_known_facility_is_told_so(client, login, make_user):
    login(provider_account(make_user, uuid4()))
    for path in ("/provider/", "/provider/meals", "/provider/visits", "/provider/staffing"):
        response = client.get(path)
        assert response.status_code == 403
        assert "您的账户还没有关联到服务机构" in html_of(response)


@pytest.mark.parametrize("role", [Role.FAMILY, Role.CASEWORKER, Role.INSPECTOR])
def test_other_roles_are_refused(client, login, make_user, role):
    login(make_user(role))
    assert client.get("/provider/").status_code == 403


def test_signing_in_comes_first(client):
    response = client.get("/provider/")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
