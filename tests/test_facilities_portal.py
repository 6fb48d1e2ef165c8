"""Facility projects in the portal: the list with its filters and late flag, a facility's page,
registering a project, milestones in order, deadlines, beds and rooms, and inspections with
real photos, each as the role that may do it (and refused for the others)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from io import BytesIO
from uuid import UUID

import pytest

from events.clock import frozen_at
from events.facility import Kind
from events.roles import Role
from tests.support.facilities import (
    ADMIN,
    D02,
    INSPECTOR,
    NOW,
    PHOTO,
    accept,
    facility,
    figures,
    register,
    version,
    walk_to,
)
from tests.support.staff_helpers import fetch, png_bytes, step_data

# NOW is 2025-07-15 in the city: deadlines below are judged against that day.
LATE_DEADLINE = date(2025, 6, 30)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    """Every command and request happens on 2025-07-15 (milestones may not be in the future)."""
    with frozen_at(NOW):
        yield


@pytest.fixture
def caseworker(make_user):
    return make_user(Role.CASEWORKER, name="审核员小李")


@pytest.fixture
def inspector(make_user):
    return make_user(Role.INSPECTOR, name="检查员小陈")


def post(client, facility_id, path, token, action, v, **fields):
    return client.post(
        f"/facilities/{facility_id}/{path}", data=step_data(token, action, v, **fields)
    )


def photos(*contents: bytes) -> list[tuple[BytesIO, str]]:
    return [(BytesIO(c), f"photo{n}.png") for n, c in enumerate(contents)]


# -- the list ----------------------------------------------------------------------------------
def test_caseworker_lists_own_district_with_milestone_deadline_and_late_flag(
    client, login, app_rt, caseworker
):
    walk_to(app_rt, register(app_rt, Kind.CARE_CENTRE), "tender_awarded")
    late = register(app_rt, Kind.CANTEEN, deadline=LATE_DEADLINE, name="春晖老年助餐食堂")
    walk_to(app_rt, late, "construction_started")
    walk_to(app_rt, register(app_rt, Kind.INSTITUTION), "in_operation")
    d02 = register(app_rt, Kind.CARE_CENTRE, place=D02, name="南湖社区养老服务中心")
    app_rt.catch_up()
    login(caseworker)
    response = client.get("/facilities/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "春晖社区居家养老服务中心" in html and "居家和社区养老服务中心" in html
    assert "完成招标(2025-02-05)" in html and "2025-09-30" in html and "还剩 77 天" in html
    assert f'href="/facilities/{late}"' in html
    assert '<span class="tag tag-late">已超期 15 天</span>' in html
    assert '<span class="tag tag-ok">已投入运营</span>' in html
    assert "共 3 个,已超期 1 个" in html
    assert "南湖社区养老服务中心" not in html and str(d02) not in html
    assert 'id="district"' not in html  # a caseworker sees one district
    assert 'hx-get="/facilities/"' in html and 'hx-target="#facility-rows"' in html
    assert 'href="/facilities/new"' in html


def test_filters_by_kind_and_late_only_and_htmx_gets_the_rows(client, login, app_rt, caseworker):
    register(app_rt, Kind.CARE_CENTRE)
    register(app_rt, Kind.CANTEEN, deadline=LATE_DEADLINE, name="春晖老年助餐食堂")
    app_rt.catch_up()
    login(caseworker)
    canteens = client.get("/facilities/?kind=canteen").get_data(as_text=True)
    assert "春晖老年助餐食堂" in canteens and "春晖社区居家养老服务中心" not in canteens
    late = client.get("/facilities/?late=y", headers={"HX-Request": "true"})
    assert late.status_code == 200 and "HX-Request" in late.headers["Vary"]
    html = late.get_data(as_text=True)
    assert "<html" not in html and "<form" not in html
    assert "春晖老年助餐食堂" in html and "春晖社区居家养老服务中心" not in html
    assert 'data-announce="找到 1 个设施项目,其中 1 个已超期。"' in html
    bad = client.get("/facilities/?kind=palace")
    assert bad.status_code == 400 and "没有这种机构类型" in bad.get_data(as_text=True)
    bad_htmx = client.get("/facilities/?kind=palace", headers={"HX-Request": "true"})
    assert bad_htmx.status_code == 400 and bad_htmx.headers["HX-Redirect"]


def test_supervisor_sees_every_district_and_filters_by_one(client, login, app_rt, make_user):
    register(app_rt, Kind.CARE_CENTRE)
    register(app_rt, Kind.CARE_CENTRE, place=D02, name="南湖社区养老服务中心")
    app_rt.catch_up()
    login(make_user(Role.SUPERVISOR, district=""))
    html = client.get("/facilities/").get_data(as_text=True)
    assert "春晖社区居家养老服务中心" in html and "南湖社区养老服务中心" in html
    assert 'id="district"' in html and 'href="/facilities/new"' not in html
    only = client.get("/facilities/?district=D02").get_data(as_text=True)
    assert "南湖社区养老服务中心" in only and "春晖社区居家养老服务中心" not in only


def test_providers_and_families_cannot_open_facilities(client, login, app_rt, make_user):
    canteen = register(app_rt, Kind.CANTEEN)
    app_rt.catch_up()
    login(make_user(Role.PROVIDER, facility_id=str(canteen)))
    assert client.get("/facilities/").status_code == 403
    assert client.get(f"/facilities/{canteen}").status_code == 403
    login(make_user(Role.FAMILY))
    assert client.get("/facilities/").status_code == 403
    assert client.get(f"/facilities/{canteen}").status_code == 403


def test_another_districts_facility_is_404(client, login, app_rt, make_user):
    centre = register(app_rt, Kind.CARE_CENTRE)
    app_rt.catch_up()
    token = login(make_user(Role.CASEWORKER, district="D02"))
    assert client.get(f"/facilities/{centre}").status_code == 404
    response = post(
        client,
        centre,
        "milestone",
        token,
        "milestone",
        1,
        milestone="site_selected",
        on="2025-07-01",
    )
    assert response.status_code == 404
    assert facility(app_rt, centre).milestone == "planned"
    assert client.get("/facilities/00000000-0000-0000-0000-000000000000").status_code == 404


# -- a facility's page -------------------------------------------------------------------------
def test_facility_page_shows_milestones_inspections_and_staffing(client, login, app_rt, caseworker):
    centre = walk_to(app_rt, register(app_rt, Kind.CARE_CENTRE), "in_operation")
    app_rt.facilities.log_site_inspection(
        INSPECTOR, centre, version(app_rt, centre), findings="消防通道畅通。",
        follow_up_required=True, photos=[PHOTO], inspected_on="2025-07-01",
    )  # fmt: skip
    app_rt.facilities.report_staffing(
        ADMIN, organisation_id=centre, period="2025-06", **figures(departures=2)
    )
    app_rt.catch_up()
    login(caseworker)
    response = client.get(f"/facilities/{centre}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<td>选址完成</td><td>2025-01-16</td>" in html
    assert "<td>投入运营</td><td>2025-03-27</td>" in html
    assert "2025-09-30" in html and "已投入运营" in html
    assert "现场检查 · 2025-07-01" in html and "消防通道畅通。" in html and "需要跟进整改" in html
    assert "护理员情况(截至 2025-06)" in html and "10 人" in html and "40 人" in html
    assert "4.00" in html and "20.0%" in html  # 40 elders / 10 caregivers; 2 left of 10
    assert 'action="/facilities/' not in html  # in operation: nothing left to record


def test_record_the_next_milestone(client, login, app_rt, caseworker):
    centre = register(app_rt, Kind.CARE_CENTRE)
    app_rt.catch_up()
    token = login(caseworker)
    html = client.get(f"/facilities/{centre}").get_data(as_text=True)
    assert "下一个节点是“选址完成”" in html
    assert f'action="/facilities/{centre}/milestone"' in html
    assert 'name="milestone-version" type="hidden" value="1"' in html
    response = post(
        client,
        centre,
        "milestone",
        token,
        "milestone",
        1,
        milestone="site_selected",
        on="2025-07-01",
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/facilities/{centre}"
    assert facility(app_rt, centre).milestones["site_selected"] == "2025-07-01"
    page = client.get(f"/facilities/{centre}").get_data(as_text=True)
    assert "进度节点已登记。" in page and "<td>选址完成</td><td>2025-07-01</td>" in page


def test_a_milestone_out_of_order_shows_why_and_changes_nothing(client, login, app_rt, caseworker):
    centre = register(app_rt, Kind.CARE_CENTRE)
    app_rt.catch_up()
    token = login(caseworker)
    skipped = post(
        client, centre, "milestone", token, "milestone", 1,
        milestone="construction_started", on="2025-07-01",
    )  # fmt: skip
    assert skipped.status_code == 422
    html = skipped.get_data(as_text=True)
    assert "进度要按顺序登记,不能跳过或重复。请登记下一个节点。" in html and "error-summary" in html
    future = post(
        client,
        centre,
        "milestone",
        token,
        "milestone",
        1,
        milestone="site_selected",
        on="2025-08-01",
    )
    assert future.status_code == 422
    assert "节点日期不能晚于今天(2025-07-15)。" in future.get_data(as_text=True)
    garbled = post(
        client, centre, "milestone", token, "milestone", 1, milestone="site_selected", on="下周"
    )
    assert garbled.status_code == 422 and 'value="下周"' in garbled.get_data(as_text=True)
    assert facility(app_rt, centre).milestone == "planned" and version(app_rt, centre) == 1


def test_a_stale_milestone_form_is_409_with_the_current_state(client, login, app_rt, caseworker):
    centre = register(app_rt, Kind.CARE_CENTRE)
    app_rt.catch_up()
    token = login(caseworker)
    app_rt.facilities.reach_milestone(ADMIN, centre, 1, milestone="site_selected", on="2025-07-01")
    response = post(
        client,
        centre,
        "milestone",
        token,
        "milestone",
        1,
        milestone="site_selected",
        on="2025-07-02",
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "有人更新了这个案件" in html and "<td>选址完成</td><td>2025-07-01</td>" in html
    assert 'name="milestone-version" type="hidden" value="2"' in html
    assert facility(app_rt, centre).milestones["site_selected"] == "2025-07-01"


def test_roles_may_only_do_their_own_steps(client, login, app_rt, caseworker, inspector):
    centre = walk_to(app_rt, register(app_rt, Kind.CARE_CENTRE), "construction_started")
    app_rt.catch_up()
    v = version(app_rt, centre)
    token = login(inspector)
    html = client.get(f"/facilities/{centre}").get_data(as_text=True)
    assert f'action="/facilities/{centre}/site-inspection"' in html
    assert f'action="/facilities/{centre}/milestone"' not in html
    refused = post(
        client, centre, "milestone", token, "milestone", v,
        milestone="main_structure_completed", on="2025-07-01",
    )  # fmt: skip
    assert refused.status_code == 403
    token = login(caseworker)
    refused = post(
        client, centre, "site-inspection", token, "site_inspection", v,
        findings="看过了", follow_up_required="no",
    )  # fmt: skip
    assert refused.status_code == 403
    assert version(app_rt, centre) == v


def test_revise_the_deadline_with_a_reason(client, login, app_rt, caseworker):
    centre = register(app_rt, Kind.CARE_CENTRE)
    app_rt.catch_up()
    token = login(caseworker)
    refused = post(
        client, centre, "deadline", token, "deadline", 1, deadline="2025-12-31", reason=""
    )
    assert refused.status_code == 422 and "<details open>" in refused.get_data(as_text=True)
    response = post(
        client, centre, "deadline", token, "deadline", 1,
        deadline="2025-12-31", reason="选址调整,市里同意延期。",
    )  # fmt: skip
    assert response.status_code == 303
    assert facility(app_rt, centre).deadline == "2025-12-31"


# -- registering -------------------------------------------------------------------------------
def registration(token: str, key: str, **fields: str) -> dict[str, str]:
    values = {
        "csrf_token": token,
        "idempotency_key": key,
        "kind": "canteen",
        "name": "福寿社区老年助餐食堂",
        "place": "D01/东城街道/福寿社区",
        "planned_on": "2025-07-01",
        "deadline": "2025-12-31",
    }
    return values | fields


def test_register_a_facility_once_even_if_submitted_twice(client, login, app_rt, caseworker):
    token = login(caseworker)
    html = client.get("/facilities/new").get_data(as_text=True)
    assert "安康区 东城街道 福寿社区" in html and "永宁区" not in html
    assert 'name="idempotency_key"' in html
    response = client.post("/facilities/new", data=registration(token, "key-1"))
    assert response.status_code == 303
    facility_id = UUID(response.headers["Location"].rsplit("/", 1)[1])
    again = client.post("/facilities/new", data=registration(token, "key-1"))
    assert again.headers["Location"] == response.headers["Location"]
    found = facility(app_rt, facility_id)
    assert (found.kind, found.name, found.community) == (
        "canteen",
        "福寿社区老年助餐食堂",
        "福寿社区",
    )
    listed = client.get("/facilities/").get_data(as_text=True)
    assert listed.count("福寿社区老年助餐食堂") == 1


def test_a_refused_registration_says_why_at_the_answer(client, login, app_rt, caseworker):
    token = login(caseworker)
    short = client.post("/facilities/new", data=registration(token, "k", name="食"))
    assert short.status_code == 422
    html = short.get_data(as_text=True)
    assert "请填写机构名称(2到60个字)。" in html and 'id="name-error"' in html
    assert 'value="2025-12-31"' in html  # what was typed is kept
    early = client.post("/facilities/new", data=registration(token, "k", deadline="2025-01-01"))
    assert early.status_code == 422 and 'id="deadline-error"' in early.get_data(as_text=True)
    nowhere = client.post("/facilities/new", data=registration(token, "k", place=""))
    assert nowhere.status_code == 422 and 'id="place-error"' in nowhere.get_data(as_text=True)
    other = client.post(
        "/facilities/new", data=registration(token, "k", place="D02/南湖街道/南湖社区")
    )
    assert other.status_code == 422  # not a place this caseworker was offered
    app_rt.catch_up()
    assert "福寿社区老年助餐食堂" not in client.get("/facilities/").get_data(as_text=True)


def test_inspectors_do_not_register_facilities(client, login, inspector):
    login(inspector)
    assert client.get("/facilities/new").status_code == 403


# -- institutions: beds, rooms, acceptance -----------------------------------------------------
def test_beds_and_rooms_of_an_institution(client, login, app_rt, caseworker):
    home = register(app_rt, Kind.INSTITUTION)
    app_rt.catch_up()
    token = login(caseworker)
    too_many = post(
        client, home, "beds", token, "beds", 1, beds_before="30", beds_after="50", nursing_beds="60"
    )
    assert too_many.status_code == 422
    assert "护理型床位不能多于改造后的床位总数" in too_many.get_data(as_text=True)
    ok = post(
        client, home, "beds", token, "beds", 1, beds_before="30", beds_after="50", nursing_beds="20"
    )
    assert ok.status_code == 303
    rooms = post(client, home, "rooms", token, "rooms", 2, rooms=["rehab", "counselling"])
    assert rooms.status_code == 303
    html = client.get(f"/facilities/{home}").get_data(as_text=True)
    assert "<dt>新增床位</dt><dd>20</dd>" in html and "康复室、心理慰藉室" in html
    assert 'name="beds-beds_after" type="number" value="50"' in html  # the form shows what is
    assert 'checked id="rooms-rooms-0" name="rooms-rooms" type="checkbox" value="rehab"' in html
    assert 'id="rooms-rooms-1" name="rooms-rooms" type="checkbox" value="recreation"' in html
    assert facility(app_rt, home).rooms == ["rehab", "counselling"]


def test_institution_acceptance_with_a_photo_then_it_may_open(
    client, login, app_rt, caseworker, inspector
):
    home = walk_to(app_rt, register(app_rt, Kind.INSTITUTION), "completed")
    app_rt.catch_up()
    token = login(inspector)
    v = version(app_rt, home)
    checks = {"safe": "y", "functional": "y", "well_managed": "y"}
    no_photo = post(client, home, "acceptance", token, "acceptance", v, **checks)
    assert no_photo.status_code == 422
    assert "请至少上传一张验收照片。" in no_photo.get_data(as_text=True)
    failed_silently = post(
        client, home, "acceptance", token, "acceptance", v,
        safe="y", functional="y", photos=photos(png_bytes()),
    )  # fmt: skip
    assert failed_silently.status_code == 422  # a failure must say what to put right
    passed = post(
        client, home, "acceptance", token, "acceptance", v, **checks, photos=photos(png_bytes(90))
    )
    assert passed.status_code == 303
    html = client.get(f"/facilities/{home}").get_data(as_text=True)
    assert "验收通过。现在可以登记“投入运营”了。" in html and "已通过" in html
    token = login(caseworker)
    opened = post(
        client,
        home,
        "milestone",
        token,
        "milestone",
        v + 1,
        milestone="in_operation",
        on="2025-07-15",
    )
    assert opened.status_code == 303 and facility(app_rt, home).in_operation


# -- inspections and their photos --------------------------------------------------------------
def test_site_inspection_photo_is_served_only_for_its_facility(
    client, login, app_rt, inspector, make_user
):
    centre = walk_to(app_rt, register(app_rt, Kind.CARE_CENTRE), "construction_started")
    other = walk_to(app_rt, register(app_rt, Kind.CARE_CENTRE, name="松鹤社区养老服务中心"),
                    "construction_started")  # fmt: skip
    app_rt.catch_up()
    token = login(inspector)
    photo = png_bytes(120)
    no_findings = post(
        client, centre, "site-inspection", token, "site_inspection", version(app_rt, centre),
        findings="", follow_up_required="yes",
    )  # fmt: skip
    assert no_findings.status_code == 422
    assert "请填写检查发现的情况。" in no_findings.get_data(as_text=True)
    not_a_photo = post(
        client, centre, "site-inspection", token, "site_inspection", version(app_rt, centre),
        findings="脚手架未设防护网", follow_up_required="yes",
        photos=[(BytesIO(b"GIF89a..."), "x.gif")],
    )  # fmt: skip
    assert not_a_photo.status_code == 422
    assert "只能上传 JPG 或 PNG 格式的照片。" in not_a_photo.get_data(as_text=True)
    response = post(
        client, centre, "site-inspection", token, "site_inspection", version(app_rt, centre),
        findings="脚手架未设防护网", follow_up_required="yes", photos=photos(photo),
    )  # fmt: skip
    assert response.status_code == 303
    sha = hashlib.sha256(photo).hexdigest()
    html = client.get(f"/facilities/{centre}").get_data(as_text=True)
    assert f'src="/facilities/{centre}/photos/{sha}"' in html and "脚手架未设防护网" in html
    assert "检查员小陈" in html
    served = fetch(client, f"/facilities/{centre}/photos/{sha}")
    assert served.status_code == 200 and served.data == photo and served.mimetype == "image/png"
    assert "private" in served.cache_control and "public" not in served.cache_control
    assert fetch(client, f"/facilities/{other}/photos/{sha}").status_code == 404
    assert fetch(client, f"/facilities/{centre}/photos/{'0' * 64}").status_code == 404
    login(make_user(Role.CASEWORKER, district="D02"))
    assert fetch(client, f"/facilities/{centre}/photos/{sha}").status_code == 404


def test_food_safety_inspection_of_a_canteen(client, login, app_rt, inspector):
    canteen = walk_to(app_rt, register(app_rt, Kind.CANTEEN), "in_operation")
    centre = walk_to(app_rt, register(app_rt, Kind.CARE_CENTRE), "in_operation")
    app_rt.catch_up()
    token = login(inspector)
    assert "/food-safety" not in client.get(f"/facilities/{centre}").get_data(as_text=True)
    v = version(app_rt, canteen)
    failed = post(client, canteen, "food-safety", token, "food_safety", v, passed="no", findings="")
    assert failed.status_code == 422
    assert "请填写检查发现的情况。" in failed.get_data(as_text=True)
    ok = post(
        client, canteen, "food-safety", token, "food_safety", v,
        passed="yes", findings="留样齐全", photos=photos(png_bytes(7)),
    )  # fmt: skip
    assert ok.status_code == 303
    html = client.get(f"/facilities/{canteen}").get_data(as_text=True)
    assert "食品安全检查 · 2025-07-15" in html and "合格" in html and "留样齐全" in html


def test_acceptance_helper_and_page_agree_on_a_failed_round(client, login, app_rt, caseworker):
    home = walk_to(app_rt, register(app_rt, Kind.INSTITUTION), "completed")
    accept(app_rt, home, passed=False, on=date(2025, 7, 1))
    app_rt.catch_up()
    login(caseworker)
    html = client.get(f"/facilities/{home}").get_data(as_text=True)
    assert "验收未通过" in html and "已验收 1 次" in html and "管理规范:不达标" in html
