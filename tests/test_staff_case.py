"""The staff case page and its step forms: review, contractor, works, rectification, close."""

from __future__ import annotations

from decimal import Decimal

import pytest

from events.retrofit import Step
from events.roles import Role
from tests.support.scenario import ASSESSED_LINES, version
from tests.support.staff_helpers import detail, make_team, step_data


@pytest.fixture
def team(make_user):
    return make_team(make_user)


def test_caseworker_case_page_shows_elder_needs_timeline_and_review_forms(
    client, login, app_rt, team
):
    case_id = team.walk(app_rt, "submitted")
    login(team.caseworker)
    response = client.get(f"/cases/{case_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "张秀英" in html and "110105194503071232" in html  # caseworkers need the full ID
    assert "卫生间地滑,想装扶手。" in html
    assert 'class="timeline"' in html and "提交申请" in html
    assert f'action="/cases/{case_id}/approve"' in html
    assert f'action="/cases/{case_id}/reject"' in html
    assert f'action="/cases/{case_id}/ask-information"' in html
    assert 'name="approve-version" type="hidden" value="1"' in html
    assert "评估员老王" in html  # the district's assessors to choose from


def test_supervisor_reads_with_masked_id_and_no_forms_and_cannot_act(
    client, login, app_rt, team, make_user
):
    case_id = team.walk(app_rt, "submitted")
    token = login(make_user(Role.SUPERVISOR, district=""))
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "张秀英" in html and "110105194503071232" not in html
    assert '<form method="post" action="/cases/' not in html
    response = client.post(
        f"/cases/{case_id}/approve",
        data=step_data(token, "approve", 1, assessor_id=team.assessor.actor.user_id),
    )
    assert response.status_code == 403
    assert detail(app_rt, team.caseworker.actor, case_id).step == Step.SUBMITTED


def test_caseworker_of_another_district_gets_404(client, login, app_rt, team, make_user):
    case_id = team.walk(app_rt, "submitted")
    token = login(make_user(Role.CASEWORKER, district="D02"))
    assert client.get(f"/cases/{case_id}").status_code == 404
    response = client.post(
        f"/cases/{case_id}/reject", data=step_data(token, "reject", 1, reason="不符合")
    )
    assert response.status_code == 404
    assert detail(app_rt, team.caseworker.actor, case_id).step == Step.SUBMITTED


def test_unknown_case_is_404(client, login, team):
    login(team.caseworker)
    assert client.get("/cases/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/cases/not-a-uuid").status_code == 404


def test_approve_names_the_assessor_and_redirects_to_the_case(client, login, app_rt, team):
    case_id = team.walk(app_rt, "submitted")
    token = login(team.caseworker)
    response = client.post(
        f"/cases/{case_id}/approve",
        data=step_data(
            token, "approve", 1, assessor_id=team.assessor.actor.user_id, note="符合低保条件"
        ),
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/cases/{case_id}"
    case = detail(app_rt, team.caseworker.actor, case_id)
    assert case.step == Step.APPROVED and case.assessor_id == team.assessor.actor.user_id
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "已审核通过" in page and "审核通过,待入户评估" in page


def test_approve_without_an_assessor_is_422_and_changes_nothing(client, login, app_rt, team):
    case_id = team.walk(app_rt, "submitted")
    token = login(team.caseworker)
    response = client.post(
        f"/cases/{case_id}/approve", data=step_data(token, "approve", 1, assessor_id="", note="好")
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请选择评估员。" in html and 'href="#approve-assessor_id"' in html
    assert "好</textarea>" in html  # what was typed is kept
    assert detail(app_rt, team.caseworker.actor, case_id).step == Step.SUBMITTED


def test_reject_with_a_reason_the_family_will_read(client, login, app_rt, team):
    case_id = team.walk(app_rt, "submitted")
    token = login(team.caseworker)
    response = client.post(
        f"/cases/{case_id}/reject",
        data=step_data(token, "reject", 1, reason="家庭类别不在补助范围内"),
    )
    assert response.status_code == 303
    assert detail(app_rt, team.caseworker.actor, case_id).step == Step.REJECTED
    assert "原因:家庭类别不在补助范围内" in client.get(f"/cases/{case_id}").get_data(as_text=True)


def test_reject_without_a_reason_is_422_in_chinese_and_nothing_changes(client, login, app_rt, team):
    case_id = team.walk(app_rt, "submitted")
    token = login(team.caseworker)
    response = client.post(
        f"/cases/{case_id}/reject", data=step_data(token, "reject", 1, reason="   ")
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请写明原因,申请人会看到这段说明。" in html
    assert 'id="reject-reason-error"' in html and "error-summary" in html
    assert "<details open>" in html  # the refused form is unfolded
    case = detail(app_rt, team.caseworker.actor, case_id)
    assert case.step == Step.SUBMITTED and case.version == 1


def test_return_for_information_says_what_is_missing(client, login, app_rt, team):
    case_id = team.walk(app_rt, "submitted")
    token = login(team.caseworker)
    response = client.post(
        f"/cases/{case_id}/ask-information",
        data=step_data(token, "ask_information", 1, request="请上传低保证照片"),
    )
    assert response.status_code == 303
    assert detail(app_rt, team.caseworker.actor, case_id).step == Step.RETURNED
    assert "请补充:请上传低保证照片" in client.get(f"/cases/{case_id}").get_data(as_text=True)


def test_a_stale_form_is_409_with_the_current_state_and_overwrites_nothing(
    client, login, app_rt, team
):
    case_id = team.walk(app_rt, "submitted")
    token = login(team.caseworker)
    # Meanwhile a colleague returned the case for more information.
    app_rt.retrofit.return_for_information(
        team.caseworker.actor, case_id, 1, request="请补充户口本"
    )
    response = client.post(
        f"/cases/{case_id}/reject", data=step_data(token, "reject", 1, reason="不符合")
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "有人更新了这个案件" in html
    assert "需补充材料" in html and "请补充户口本" in html  # the current state
    case = detail(app_rt, team.caseworker.actor, case_id)
    assert case.step == Step.RETURNED and case.version == 2


def test_a_stale_form_still_at_the_same_step_keeps_what_was_typed_at_the_new_version(
    client, login, app_rt, team
):
    case_id = team.walk(app_rt, "submitted")
    token = login(team.caseworker)
    app_rt.retrofit.return_for_information(
        team.caseworker.actor, case_id, 1, request="请补充户口本"
    )
    app_rt.retrofit.supply_information(team.family.actor, case_id, 2, reply="已上传")
    response = client.post(
        f"/cases/{case_id}/reject", data=step_data(token, "reject", 1, reason="不符合")
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'name="reject-version" type="hidden" value="3"' in html
    assert "不符合</textarea>" in html
    assert detail(app_rt, team.caseworker.actor, case_id).step == Step.SUBMITTED


def test_a_form_without_its_version_is_400(client, login, app_rt, team):
    case_id = team.walk(app_rt, "submitted")
    token = login(team.caseworker)
    response = client.post(
        f"/cases/{case_id}/reject", data={"csrf_token": token, "reject-reason": "不符合"}
    )
    assert response.status_code == 400
    assert detail(app_rt, team.caseworker.actor, case_id).step == Step.SUBMITTED


def test_assign_contractor_and_inspector(client, login, app_rt, team):
    case_id = team.walk(app_rt, "plan_confirmed")
    token = login(team.caseworker)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "验收员小陈" in page and "费用合计" in page and "3,700.00" in page
    v = version(app_rt, team.caseworker.actor, case_id)
    response = client.post(
        f"/cases/{case_id}/assign",
        data=step_data(
            token, "assign", v, contractor="安居装修公司", inspector_id=team.inspector.actor.user_id
        ),
    )
    assert response.status_code == 303
    case = detail(app_rt, team.caseworker.actor, case_id)
    assert case.step == Step.CONTRACTOR_ASSIGNED and case.contractor == "安居装修公司"
    assert case.inspector_id == team.inspector.actor.user_id


def test_assign_without_a_contractor_name_is_422(client, login, app_rt, team):
    case_id = team.walk(app_rt, "plan_confirmed")
    token = login(team.caseworker)
    v = version(app_rt, team.caseworker.actor, case_id)
    response = client.post(
        f"/cases/{case_id}/assign",
        data=step_data(
            token, "assign", v, contractor="", inspector_id=team.inspector.actor.user_id
        ),
    )
    assert response.status_code == 422
    assert "请填写施工单位名称。" in response.get_data(as_text=True)
    assert detail(app_rt, team.caseworker.actor, case_id).step == Step.PLAN_CONFIRMED


def test_inspector_starts_and_caseworker_completes_the_works(client, login, app_rt, team):
    case_id = team.walk(app_rt, "contractor_assigned")
    token = login(team.inspector)
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'action="/cases/{case_id}/works/start"' in html
    v = version(app_rt, team.inspector.actor, case_id)
    response = client.post(f"/cases/{case_id}/works/start", data=step_data(token, "start_works", v))
    assert response.status_code == 303
    assert detail(app_rt, team.inspector.actor, case_id).step == Step.WORKS_STARTED
    token = login(team.caseworker)
    response = client.post(
        f"/cases/{case_id}/works/complete", data=step_data(token, "complete_works", v + 1)
    )
    assert response.status_code == 303
    assert detail(app_rt, team.caseworker.actor, case_id).step == Step.WORKS_COMPLETED


def test_starting_works_twice_is_refused(client, login, app_rt, team):
    case_id = team.walk(app_rt, "works_started")
    token = login(team.caseworker)
    v = version(app_rt, team.caseworker.actor, case_id)
    response = client.post(f"/cases/{case_id}/works/start", data=step_data(token, "start_works", v))
    assert response.status_code == 422
    assert "当前所处的环节不能进行这项操作" in response.get_data(as_text=True)


def test_complete_rectification_after_a_failed_acceptance(client, login, app_rt, team):
    case_id = team.walk(app_rt, "works_completed")
    results = [
        {"code": line["code"], "installed": True, "works": True, "safe": line["code"] != "T01"}
        for line in ASSESSED_LINES
    ]
    app_rt.retrofit.inspect_acceptance(
        team.inspector.actor,
        case_id,
        version(app_rt, team.inspector.actor, case_id),
        results=results,
        photos=[{"sha256": "b" * 64, "media_type": "image/png"}],
    )
    app_rt.catch_up()
    token = login(team.caseworker)
    v = version(app_rt, team.caseworker.actor, case_id)
    refused = client.post(
        f"/cases/{case_id}/rectification", data=step_data(token, "rectify", v, note="")
    )
    assert refused.status_code == 422 and "请填写说明。" in refused.get_data(as_text=True)
    response = client.post(
        f"/cases/{case_id}/rectification",
        data=step_data(token, "rectify", v, note="扶手已重新固定"),
    )
    assert response.status_code == 303
    assert detail(app_rt, team.caseworker.actor, case_id).step == Step.WORKS_COMPLETED


def test_close_an_accepted_case(client, login, app_rt, team):
    case_id = team.walk(app_rt, "accepted")
    token = login(team.caseworker)
    v = version(app_rt, team.caseworker.actor, case_id)
    response = client.post(f"/cases/{case_id}/close", data=step_data(token, "close", v, note=""))
    assert response.status_code == 303
    assert detail(app_rt, team.caseworker.actor, case_id).step == Step.CLOSED
    assert "案件已办结。" in client.get(f"/cases/{case_id}").get_data(as_text=True)


def test_follow_up_then_close_a_surveyed_case(client, login, app_rt, team):
    case_id = team.walk(app_rt, "surveyed")
    token = login(team.caseworker)
    v = version(app_rt, team.caseworker.actor, case_id)
    missing = client.post(
        f"/cases/{case_id}/follow-up", data=step_data(token, "follow_up", v, note="电话回访")
    )
    assert missing.status_code == 422 and "请选择设施是否还在正常使用。" in missing.get_data(
        as_text=True
    )
    response = client.post(
        f"/cases/{case_id}/follow-up",
        data=step_data(token, "follow_up", v, note="扶手在用,老人满意", still_in_use="yes"),
    )
    assert response.status_code == 303
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "跟踪回访" in html and "扶手在用,老人满意" in html
    response = client.post(
        f"/cases/{case_id}/close", data=step_data(token, "close", v + 1, note="回访完毕")
    )
    assert response.status_code == 303
    assert detail(app_rt, team.caseworker.actor, case_id).step == Step.CLOSED


def test_assessor_sees_a_link_to_the_assessment_page_not_review_forms(client, login, app_rt, team):
    case_id = team.walk(app_rt, "approved")
    login(team.assessor)
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'href="/cases/{case_id}/assessment"' in html
    assert "/approve" not in html


def test_inspector_sees_a_link_to_the_acceptance_page(client, login, app_rt, team):
    case_id = team.walk(app_rt, "works_completed")
    login(team.inspector)
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'href="/cases/{case_id}/acceptance"' in html
    assert Decimal(detail(app_rt, team.inspector.actor, case_id).total_cost) == Decimal("3700")


def test_community_worker_is_sent_to_the_applicant_side_page(client, login, app_rt, make_user):
    worker = make_user(Role.COMMUNITY_WORKER)
    team = make_team(make_user)
    case_id = team.walk(app_rt, "submitted")
    login(worker)
    html = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f'href="/my/cases/{case_id}"' in html
    assert '<form method="post" action="/cases/' not in html
