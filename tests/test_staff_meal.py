"""Meal service for staff: the enrolment queue and the caseworker's steps on an enrolment."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from events.meal import EnrolmentStep
from events.roles import Role
from tests.support.meals import apply_meal, open_canteen
from tests.support.staff_helpers import step_data
from tests.support.staff_programmes import enrolment, make_staff, meal_references


@pytest.fixture
def staff(make_user):
    return make_staff(make_user)


@pytest.fixture
def canteen(app_rt):
    return open_canteen(app_rt, name="春晖社区老年食堂")


def applied(app_rt, staff, canteen, **overrides):
    """A meal-service application by the team's family, with read models caught up."""
    case_id = apply_meal(app_rt, staff.family.actor, canteen, **overrides)
    app_rt.catch_up()
    return case_id


def ref(app_rt, case_id):
    return enrolment(app_rt, case_id).reference


# -- the queue ---------------------------------------------------------------------------------
def test_caseworker_meal_queue_lists_own_district_with_names_canteen_and_days(
    client, login, app_rt, staff, canteen, make_user
):
    mine = applied(app_rt, staff, canteen)
    elsewhere = open_canteen(app_rt, district="D02", name="南湖老年食堂")
    theirs = apply_meal(app_rt, make_user(Role.FAMILY).actor, elsewhere, district="D02")
    app_rt.catch_up()
    login(staff.caseworker)
    response = client.get("/cases/meals")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert meal_references(html) == [ref(app_rt, mine)]
    assert f'href="/cases/meals/{mine}"' in html and str(theirs) not in html
    assert "张秀英" in html and "春晖社区老年食堂" in html and "到食堂吃(堂食)" in html
    assert "已提交,待审核" in html and "0 天" in html
    # The programme switch: plain links, the current one marked.
    assert 'href="/cases/meals" class="button" aria-current="page">老年助餐' in html
    assert 'href="/cases" class="button-secondary">适老化改造' in html
    assert 'href="/cases/care" class="button-secondary">上门照护' in html
    assert 'hx-get="/cases/meals"' in html and 'hx-target="#case-rows"' in html
    assert 'id="district"' not in html and 'name="view"' not in html


def test_meal_queue_htmx_request_gets_only_the_rows(client, login, app_rt, staff, canteen):
    applied(app_rt, staff, canteen)
    login(staff.caseworker)
    response = client.get("/cases/meals?step=submitted", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert "<html" not in html and "<form" not in html and "<table>" in html
    assert 'data-announce="找到 1 个案件。"' in html


def test_meal_queue_step_filter_with_counts(client, login, app_rt, staff, canteen):
    waiting = applied(app_rt, staff, canteen)
    enrolled = applied(app_rt, staff, canteen)
    app_rt.meals.approve(staff.caseworker.actor, enrolled, 1)
    app_rt.catch_up()
    login(staff.caseworker)
    html = client.get("/cases/meals?step=approved").get_data(as_text=True)
    assert meal_references(html) == [ref(app_rt, enrolled)]
    assert ref(app_rt, waiting) not in html
    assert "已提交,待审核(1)" in html and "已开通助餐(1)" in html
    assert client.get("/cases/meals?step=nonsense").status_code == 400


def test_supervisor_filters_meal_queue_by_district(
    client, login, app_rt, staff, canteen, make_user
):
    d01 = applied(app_rt, staff, canteen)
    elsewhere = open_canteen(app_rt, district="D02", name="南湖老年食堂")
    d02 = apply_meal(app_rt, make_user(Role.FAMILY).actor, elsewhere, district="D02")
    app_rt.catch_up()
    login(make_user(Role.SUPERVISOR, district=""))
    html = client.get("/cases/meals").get_data(as_text=True)
    assert 'id="district"' in html
    assert set(meal_references(html)) == {ref(app_rt, d01), ref(app_rt, d02)}
    only = client.get("/cases/meals?district=D02").get_data(as_text=True)
    assert meal_references(only) == [ref(app_rt, d02)] and "南湖老年食堂" in only


def test_meal_queue_pages_of_fifty(client, login, app_rt, staff, canteen):
    for _ in range(51):
        apply_meal(app_rt, staff.family.actor, canteen)
    app_rt.catch_up()
    login(staff.caseworker)
    first = client.get("/cases/meals?step=submitted").get_data(as_text=True)
    assert len(meal_references(first)) == 50
    next_url = re.search(r'href="([^"]+)">下一页<', first).group(1).replace("&amp;", "&")
    args = parse_qs(urlparse(next_url).query)
    assert urlparse(next_url).path == "/cases/meals"
    assert args["step"] == ["submitted"] and args["cursor"]
    rest = meal_references(client.get(next_url).get_data(as_text=True))
    assert len(rest) == 1 and not set(rest) & set(meal_references(first))
    assert client.get("/cases/meals?cursor=garbled").status_code == 400


def test_meal_queue_is_closed_to_families_and_inspectors(client, login, staff):
    login(staff.family)
    assert client.get("/cases/meals").status_code == 403
    login(staff.inspector)
    assert client.get("/cases/meals").status_code == 403


# -- the enrolment page ------------------------------------------------------------------------
def test_caseworker_enrolment_page_shows_elder_needs_canteen_timeline_and_forms(
    client, login, app_rt, staff, canteen
):
    case_id = applied(app_rt, staff, canteen, mode="delivery", subsidy_category="tekun")
    login(staff.caseworker)
    response = client.get(f"/cases/meals/{case_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "张秀英" in html and "110105194503071232" in html
    assert "糖尿病,少糖少盐" in html and "春晖社区老年食堂" in html
    assert "送餐上门" in html and "特困人员" in html
    assert 'class="timeline"' in html
    for action in ("approve", "reject", "ask-information"):
        assert f'action="/cases/meals/{case_id}/{action}"' in html
    assert 'name="approve-version" type="hidden" value="1"' in html
    assert f'action="/cases/meals/{case_id}/end"' not in html


def test_supervisor_reads_masked_and_cannot_act(client, login, app_rt, staff, canteen, make_user):
    case_id = applied(app_rt, staff, canteen)
    token = login(make_user(Role.SUPERVISOR, district=""))
    html = client.get(f"/cases/meals/{case_id}").get_data(as_text=True)
    assert "张秀英" in html and "110105194503071232" not in html
    assert '<form method="post" action="/cases/meals/' not in html
    response = client.post(f"/cases/meals/{case_id}/approve", data=step_data(token, "approve", 1))
    assert response.status_code == 403
    assert enrolment(app_rt, case_id).step == EnrolmentStep.SUBMITTED


def test_another_districts_enrolment_is_404(client, login, app_rt, staff, canteen, make_user):
    case_id = applied(app_rt, staff, canteen)
    token = login(make_user(Role.CASEWORKER, district="D02"))
    assert client.get(f"/cases/meals/{case_id}").status_code == 404
    response = client.post(
        f"/cases/meals/{case_id}/reject", data=step_data(token, "reject", 1, reason="不符合")
    )
    assert response.status_code == 404
    assert client.get("/cases/meals/00000000-0000-0000-0000-000000000000").status_code == 404
    assert enrolment(app_rt, case_id).step == EnrolmentStep.SUBMITTED


def test_approve_enrols_the_elder_from_today(client, login, app_rt, staff, canteen):
    case_id = applied(app_rt, staff, canteen)
    token = login(staff.caseworker)
    response = client.post(
        f"/cases/meals/{case_id}/approve", data=step_data(token, "approve", 1, note="符合条件")
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/cases/meals/{case_id}"
    case = enrolment(app_rt, case_id)
    assert case.step == EnrolmentStep.APPROVED and case.enrolled_on == app_rt.meals.today()
    html = client.get(f"/cases/meals/{case_id}").get_data(as_text=True)
    assert "已开通助餐。" in html and "本月用餐" in html
    assert f'action="/cases/meals/{case_id}/end"' in html


def test_reject_needs_a_reason_then_records_it(client, login, app_rt, staff, canteen):
    case_id = applied(app_rt, staff, canteen)
    token = login(staff.caseworker)
    refused = client.post(
        f"/cases/meals/{case_id}/reject", data=step_data(token, "reject", 1, reason="  ")
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "请写明原因,申请人会看到这段说明。" in html
    assert 'id="reject-reason-error"' in html and "<details open>" in html
    assert enrolment(app_rt, case_id).version == 1
    response = client.post(
        f"/cases/meals/{case_id}/reject", data=step_data(token, "reject", 1, reason="不在服务范围")
    )
    assert response.status_code == 303
    assert enrolment(app_rt, case_id).step == EnrolmentStep.REJECTED


def test_return_for_information(client, login, app_rt, staff, canteen):
    case_id = applied(app_rt, staff, canteen)
    token = login(staff.caseworker)
    empty = client.post(
        f"/cases/meals/{case_id}/ask-information",
        data=step_data(token, "ask_information", 1, request=""),
    )
    assert empty.status_code == 422
    assert "请写明需要申请人补充什么材料或信息。" in empty.get_data(as_text=True)
    response = client.post(
        f"/cases/meals/{case_id}/ask-information",
        data=step_data(token, "ask_information", 1, request="请上传低保证照片"),
    )
    assert response.status_code == 303
    assert enrolment(app_rt, case_id).step == EnrolmentStep.RETURNED


def test_end_an_enrolment_with_a_reason(client, login, app_rt, staff, canteen):
    case_id = applied(app_rt, staff, canteen)
    app_rt.meals.approve(staff.caseworker.actor, case_id, 1)
    app_rt.catch_up()
    token = login(staff.caseworker)
    refused = client.post(f"/cases/meals/{case_id}/end", data=step_data(token, "end", 2, reason=""))
    assert refused.status_code == 422 and "请写明原因" in refused.get_data(as_text=True)
    response = client.post(
        f"/cases/meals/{case_id}/end", data=step_data(token, "end", 2, reason="老人搬去外地")
    )
    assert response.status_code == 303
    case = enrolment(app_rt, case_id)
    assert case.step == EnrolmentStep.ENDED and case.left_on == app_rt.meals.today()


def test_ending_an_enrolment_not_yet_approved_is_refused(client, login, app_rt, staff, canteen):
    case_id = applied(app_rt, staff, canteen)
    token = login(staff.caseworker)
    response = client.post(
        f"/cases/meals/{case_id}/end", data=step_data(token, "end", 1, reason="老人搬家")
    )
    assert response.status_code == 422
    assert "只有正在助餐的老人才能停止服务。" in response.get_data(as_text=True)
    assert enrolment(app_rt, case_id).step == EnrolmentStep.SUBMITTED


def test_a_stale_meal_form_is_409_with_the_current_state(client, login, app_rt, staff, canteen):
    case_id = applied(app_rt, staff, canteen)
    token = login(staff.caseworker)
    app_rt.meals.approve(staff.caseworker.actor, case_id, 1)  # a colleague was quicker
    response = client.post(
        f"/cases/meals/{case_id}/reject", data=step_data(token, "reject", 1, reason="不符合")
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "有人更新了这个案件" in html and "已开通助餐" in html
    assert 'name="end-version" type="hidden" value="2"' in html
    case = enrolment(app_rt, case_id)
    assert case.step == EnrolmentStep.APPROVED and case.version == 2


def test_a_meal_form_without_its_version_is_400(client, login, app_rt, staff, canteen):
    case_id = applied(app_rt, staff, canteen)
    token = login(staff.caseworker)
    response = client.post(
        f"/cases/meals/{case_id}/approve", data={"csrf_token": token, "approve-note": ""}
    )
    assert response.status_code == 400
    assert enrolment(app_rt, case_id).step == EnrolmentStep.SUBMITTED
