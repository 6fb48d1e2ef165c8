"""The assessor's checklist picker: full page, live total fragment, submit, refusals."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from events.checklist import MCA_2020
from events.retrofit import Step
from events.roles import Role
from tests.support.scenario import version
from tests.support.staff_helpers import detail, make_team


@pytest.fixture
def team(make_user):
    return make_team(make_user)


def picked(token: str, v: int, *lines: tuple[str, str, str], note: str = "") -> dict[str, str]:
    """The picker as posted: a checkbox, quantity and price per chosen item."""
    data = {"csrf_token": token, "version": str(v), "note": note}
    for code, quantity, price in lines:
        data |= {f"pick_{code}": "y", f"qty_{code}": quantity, f"price_{code}": price}
    return data


def test_picker_lists_every_item_by_category_with_reference_prices(client, login, app_rt, team):
    case_id = team.walk(app_rt, "approved")
    login(team.assessor)
    response = client.get(f"/cases/{case_id}/assessment")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert len(re.findall(r'type="checkbox"', html)) == len(MCA_2020.items) == 30
    for category in ("地面", "门", "卧室", "如厕洗浴", "厨房", "物理环境", "老年用品"):
        assert f"<legend><h2>{category}</h2></legend>" in html
    assert html.count("基础类(补助)") == 7 + 1  # seven basic items, and the hint above them
    assert 'name="price_B01" type="text" value="2500"' in html
    assert f'hx-post="/cases/{case_id}/assessment/preview"' in html
    assert (
        'hx-trigger="change, keyup delay:400ms"' in html and 'hx-target="#assessment-total"' in html
    )
    assert 'id="assessment-total"' in html and "还没有选择项目" in html


def test_preview_returns_only_the_total_fragment_with_the_split(client, login, app_rt, team):
    case_id = team.walk(app_rt, "approved")
    token = login(team.assessor)
    response = client.post(
        f"/cases/{case_id}/assessment/preview",
        data=picked(token, 2, ("T01", "3", "200"), ("F01", "10", "60"), ("B01", "1", "2500")),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and "<form" not in html
    assert "3,700.00 元" in html  # total
    assert "1,200.00 元" in html  # basic items, all subsidised under the cap
    assert "2,500.00 元" in html  # the family pays the optional care bed
    assert "over-cap" not in html
    assert 'data-announce="费用合计 3,700.00 元' in html
    assert detail(app_rt, team.assessor.actor, case_id).step == Step.APPROVED  # nothing saved


def test_preview_shows_the_capped_subsidy_when_basic_items_exceed_the_cap(
    client, login, app_rt, team
):
    case_id = team.walk(app_rt, "approved")
    token = login(team.assessor)
    response = client.post(
        f"/cases/{case_id}/assessment/preview",
        data=picked(token, 2, ("F02", "8", "400"), ("T01", "4", "200")),  # 3,200 + 800 basic
        headers={"HX-Request": "true"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="over-cap"' in html
    assert "基础类项目共 4,000.00 元,超过了每户 3,000.00 元的补助上限" in html
    assert "超出的 1,000.00 元由家庭自付" in html
    assert "<dt>政府补助</dt><dd>3,000.00 元</dd>" in html
    assert "<dt>家庭自付</dt><dd>1,000.00 元</dd>" in html


def test_preview_with_a_bad_quantity_is_422_naming_the_item(client, login, app_rt, team):
    case_id = team.walk(app_rt, "approved")
    token = login(team.assessor)
    response = client.post(
        f"/cases/{case_id}/assessment/preview",
        data=picked(token, 2, ("T01", "三", "200")),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "安装扶手:数量应为1到50之间的整数。" in response.get_data(as_text=True)


def test_submitting_the_assessment_saves_it_and_returns_to_the_case(client, login, app_rt, team):
    case_id = team.walk(app_rt, "approved")
    token = login(team.assessor)
    response = client.post(
        f"/cases/{case_id}/assessment",
        data=picked(token, 2, ("T01", "2", "180.50"), ("A01", "1", "100"), note="卫生间无扶手"),
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/cases/{case_id}"
    case = detail(app_rt, team.assessor.actor, case_id)
    assert case.step == Step.ASSESSED
    assert [(i["code"], i["quantity"]) for i in case.assessment_items] == [
        ("T01", 2),
        ("A01", 1),
    ]  # checklist order
    assert case.total_cost == Decimal("461.00") and case.subsidy == Decimal("461.00")
    assert "评估结果已保存" in client.get(f"/cases/{case_id}").get_data(as_text=True)


def test_a_bad_quantity_is_422_next_to_the_item_with_everything_kept(client, login, app_rt, team):
    case_id = team.walk(app_rt, "approved")
    token = login(team.assessor)
    response = client.post(
        f"/cases/{case_id}/assessment",
        data=picked(token, 2, ("F01", "12", "55"), ("T01", "0", "200"), note="先记下"),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="T01-error"' in html and "数量应为1到50之间的整数。" in html
    assert 'href="#qty_T01"' in html  # the error summary links to the field
    assert 'aria-invalid="true"' in html
    assert (
        'name="qty_F01" type="text" value="12"' in html
        and 'name="price_F01" type="text" value="55"' in html
    )
    assert 'name="qty_T01" type="text" value="0"' in html and "先记下</textarea>" in html
    case = detail(app_rt, team.assessor.actor, case_id)
    assert case.step == Step.APPROVED and case.version == 2


def test_a_bad_price_is_422(client, login, app_rt, team):
    case_id = team.walk(app_rt, "approved")
    token = login(team.assessor)
    response = client.post(
        f"/cases/{case_id}/assessment", data=picked(token, 2, ("B02", "1", "abc"))
    )
    assert response.status_code == 422
    assert "单价应大于0元,且不超过50000元。" in response.get_data(as_text=True)


def test_nothing_chosen_is_422(client, login, app_rt, team):
    case_id = team.walk(app_rt, "approved")
    token = login(team.assessor)
    response = client.post(f"/cases/{case_id}/assessment", data=picked(token, 2))
    assert response.status_code == 422
    assert "请至少选择一个改造项目。" in response.get_data(as_text=True)


def test_reassessing_starts_from_the_earlier_assessment(client, login, app_rt, team):
    case_id = team.walk(app_rt, "assessed")
    token = login(team.assessor)
    html = client.get(f"/cases/{case_id}/assessment").get_data(as_text=True)
    assert (
        '<input checked id="pick_B01"' in html and 'name="qty_F01" type="text" value="10"' in html
    )
    v = version(app_rt, team.assessor.actor, case_id)
    response = client.post(
        f"/cases/{case_id}/assessment", data=picked(token, v, ("A06", "1", "300"))
    )
    assert response.status_code == 303
    assert [i["code"] for i in detail(app_rt, team.assessor.actor, case_id).assessment_items] == [
        "A06"
    ]


def test_a_stale_assessment_is_409_and_overwrites_nothing(client, login, app_rt, team):
    case_id = team.walk(app_rt, "assessed")
    token = login(team.assessor)
    v = version(app_rt, team.assessor.actor, case_id)
    app_rt.retrofit.confirm_plan(team.family.actor, case_id, v)  # the family agreed meanwhile
    response = client.post(
        f"/cases/{case_id}/assessment", data=picked(token, v, ("A06", "1", "300"))
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "有人更新了这个案件" in html and "不能再修改评估" in html
    case = detail(app_rt, team.assessor.actor, case_id)
    assert case.step == Step.PLAN_CONFIRMED and len(case.assessment_items) == 3


def test_only_the_assigned_assessor_may_open_the_picker(client, login, app_rt, team, make_user):
    case_id = team.walk(app_rt, "approved")
    login(make_user(Role.ASSESSOR))
    assert client.get(f"/cases/{case_id}/assessment").status_code == 404
    login(team.caseworker)
    assert client.get(f"/cases/{case_id}/assessment").status_code == 403


def test_picker_at_another_step_sends_back_to_the_case(client, login, app_rt, team):
    case_id = team.walk(app_rt, "plan_confirmed")
    login(team.assessor)
    response = client.get(f"/cases/{case_id}/assessment")
    assert response.status_code == 303 and response.headers["Location"] == f"/cases/{case_id}"
