"""Home care for staff: the case queue, and every step on a case from sending an assessor to
closing, each as the role that takes it, refused for bad input, stale forms and wrong roles."""

from __future__ import annotations

from datetime import datetime

import pytest

from events import clock
from events.clock import CITY_TZ
from events.home_care import CareStep
from events.roles import Role
from tests.support.home_care import apply_care, current, log, provider_user, register_provider
from tests.support.staff_helpers import step_data
from tests.support.staff_programmes import care_case, care_references, make_staff

D02_PLACE = {"district": "D02", "street": "南湖街道", "community": "南湖社区"}


@pytest.fixture
def staff(make_user):
    return make_staff(make_user)


@pytest.fixture
def provider(app_rt):
    return register_provider(app_rt, name="康乐居家养老服务中心")


def applied(app_rt, staff, **overrides):
    """A home care application by the team's family, with read models caught up."""
    case_id = apply_care(app_rt, staff.family.actor, **overrides)
    app_rt.catch_up()
    return case_id


def walked(app_rt, staff, step, provider=None):
    """A case taken to `step` by the team (through the services), read models caught up."""
    hc, case_id = app_rt.home_care, applied(app_rt, staff)
    cw, assessor = staff.caseworker.actor, staff.assessor.actor
    path = {
        CareStep.ASSESSOR_ASSIGNED: lambda v: hc.request_assessment(
            cw, case_id, v, assessor_id=assessor.user_id
        ),
        CareStep.ASSESSED: lambda v: hc.assess_care_level(
            assessor, case_id, v, level="moderate", monthly_hours=40
        ),
        CareStep.APPROVED: lambda v: hc.approve(cw, case_id, v),
        CareStep.IN_SERVICE: lambda v: hc.assign_provider(cw, case_id, v, provider_id=provider),
    }
    steps = list(path)
    for name in steps[: steps.index(step) + 1] if step in path else []:
        path[name](current(app_rt, case_id))
    app_rt.catch_up()
    return case_id


def post(client, case_id, path, token, action, version, **fields):
    return client.post(
        f"/cases/care/{case_id}/{path}", data=step_data(token, action, version, **fields)
    )


# -- the queue ---------------------------------------------------------------------------------
def test_caseworker_care_queue_lists_own_district_with_names_and_steps(
    client, login, app_rt, staff, make_user
):
    mine = applied(app_rt, staff)
    theirs = apply_care(app_rt, make_user(Role.FAMILY).actor, **D02_PLACE)
    app_rt.catch_up()
    login(staff.caseworker)
    response = client.get("/cases/care")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert care_references(html) == [care_case(app_rt, mine).reference]
    assert f'href="/cases/care/{mine}"' in html and str(theirs) not in html
    assert "张秀英" in html and "已提交,待受理" in html and "未评估" in html
    assert 'href="/cases/care" class="button" aria-current="page">上门照护' in html
    assert 'hx-get="/cases/care"' in html and 'name="view"' in html


def test_care_queue_htmx_fragment_and_worklist(client, login, app_rt, staff, provider):
    waiting = applied(app_rt, staff)
    serving = walked(app_rt, staff, CareStep.IN_SERVICE, provider)
    login(staff.caseworker)
    response = client.get("/cases/care", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert "<html" not in html and "<form" not in html
    assert care_references(html) == [care_case(app_rt, waiting).reference]  # "mine" by default
    everything = client.get("/cases/care?view=all").get_data(as_text=True)
    assert len(care_references(everything)) == 2
    assert care_case(app_rt, serving).reference in everything and "服务中" in everything


def test_assessor_queue_shows_only_cases_sent_to_them(client, login, app_rt, staff, make_user):
    sent = walked(app_rt, staff, CareStep.ASSESSOR_ASSIGNED)
    applied(app_rt, staff)  # not yet sent to anyone
    login(staff.assessor)
    html = client.get("/cases/care").get_data(as_text=True)
    assert care_references(html) == [care_case(app_rt, sent).reference]
    login(make_user(Role.ASSESSOR, name="评估员小张"))
    assert care_references(client.get("/cases/care?view=all").get_data(as_text=True)) == []


def test_care_queue_is_closed_to_families_and_inspectors(client, login, staff):
    login(staff.family)
    assert client.get("/cases/care").status_code == 403
    login(staff.inspector)
    assert client.get("/cases/care").status_code == 403


# -- the case page -----------------------------------------------------------------------------
def test_case_page_shows_elder_needs_timeline_and_the_assessor_choice(client, login, app_rt, staff):
    case_id = applied(app_rt, staff)
    login(staff.caseworker)
    response = client.get(f"/cases/care/{case_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "张秀英" in html and "110105194503071232" in html
    assert "老人卧床,需要有人帮忙擦身和打扫。" in html and 'class="timeline"' in html
    assert "评估员老王" in html
    for path in ("send-assessor", "reject", "ask-information"):
        assert f'action="/cases/care/{case_id}/{path}"' in html
    assert f'action="/cases/care/{case_id}/approve"' not in html


def test_another_districts_case_is_404(client, login, app_rt, staff, make_user):
    case_id = applied(app_rt, staff)
    token = login(make_user(Role.CASEWORKER, district="D02"))
    assert client.get(f"/cases/care/{case_id}").status_code == 404
    response = post(client, case_id, "reject", token, "reject", 1, reason="不符合")
    assert response.status_code == 404
    assert care_case(app_rt, case_id).step == CareStep.SUBMITTED


def test_send_an_assessor(client, login, app_rt, staff):
    case_id = applied(app_rt, staff)
    token = login(staff.caseworker)
    missing = post(client, case_id, "send-assessor", token, "send_assessor", 1, assessor_id="")
    assert missing.status_code == 422 and "请选择评估员。" in missing.get_data(as_text=True)
    response = post(
        client, case_id, "send-assessor", token, "send_assessor", 1,
        assessor_id=staff.assessor.actor.user_id,
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["Location"] == f"/cases/care/{case_id}"
    case = care_case(app_rt, case_id)
    assert case.step == CareStep.ASSESSOR_ASSIGNED
    assert case.assessor_id == staff.assessor.actor.user_id


def test_return_and_reject_at_submission(client, login, app_rt, staff):
    returned, rejected = applied(app_rt, staff), applied(app_rt, staff)
    token = login(staff.caseworker)
    empty = post(client, returned, "ask-information", token, "ask_information", 1, request="")
    assert empty.status_code == 422
    assert "请写明需要申请人补充什么材料或信息。" in empty.get_data(as_text=True)
    ok = post(
        client, returned, "ask-information", token, "ask_information", 1, request="请补充残疾证"
    )
    assert ok.status_code == 303 and care_case(app_rt, returned).step == CareStep.RETURNED
    no_reason = post(client, rejected, "reject", token, "reject", 1, reason="")
    assert no_reason.status_code == 422 and "<details open>" in no_reason.get_data(as_text=True)
    ok = post(client, rejected, "reject", token, "reject", 1, reason="已入住养老院")
    assert ok.status_code == 303 and care_case(app_rt, rejected).step == CareStep.REJECTED


def test_assessor_records_care_level_and_hours(client, login, app_rt, staff):
    case_id = walked(app_rt, staff, CareStep.ASSESSOR_ASSIGNED)
    token = login(staff.assessor)
    html = client.get(f"/cases/care/{case_id}").get_data(as_text=True)
    assert f'action="/cases/care/{case_id}/assess"' in html and "重度" in html
    assert f'action="/cases/care/{case_id}/send-assessor"' not in html
    v = current(app_rt, case_id)
    too_many = post(
        client, case_id, "assess", token, "assess", v, level="severe", monthly_hours="200"
    )
    assert too_many.status_code == 422
    html = too_many.get_data(as_text=True)
    assert "每月服务时长应为1到120之间的整数(小时)。" in html and 'value="200"' in html
    not_a_number = post(
        client, case_id, "assess", token, "assess", v, level="severe", monthly_hours="四十"
    )
    assert not_a_number.status_code == 422
    no_level = post(client, case_id, "assess", token, "assess", v, monthly_hours="40")
    assert no_level.status_code == 422 and "请选择照护等级" in no_level.get_data(as_text=True)
    assert care_case(app_rt, case_id).step == CareStep.ASSESSOR_ASSIGNED
    ok = post(
        client,
        case_id,
        "assess",
        token,
        "assess",
        v,
        level="severe",
        monthly_hours="60",
        note="卧床",
    )
    assert ok.status_code == 303
    case = care_case(app_rt, case_id)
    assert (case.step, case.care_level, case.monthly_hours) == (CareStep.ASSESSED, "severe", 60)


def test_only_the_assessor_assesses_and_only_the_caseworker_approves(client, login, app_rt, staff):
    case_id = walked(app_rt, staff, CareStep.ASSESSOR_ASSIGNED)
    token = login(staff.caseworker)
    v = current(app_rt, case_id)
    assert (
        post(client, case_id, "assess", token, "assess", v, level="mild", monthly_hours="10")
    ).status_code == 403
    assessed = app_rt.home_care.assess_care_level(
        staff.assessor.actor, case_id, v, level="mild", monthly_hours=10
    )
    app_rt.catch_up()
    token = login(staff.assessor)
    assert post(client, case_id, "approve", token, "approve", assessed).status_code == 403
    assert care_case(app_rt, case_id).step == CareStep.ASSESSED


def test_caseworker_approves_or_rejects_after_assessment(client, login, app_rt, staff):
    approved, rejected = (walked(app_rt, staff, CareStep.ASSESSED) for _ in range(2))
    token = login(staff.caseworker)
    html = client.get(f"/cases/care/{approved}").get_data(as_text=True)
    assert "中度" in html and "40 小时" in html and "评估员老王" in html
    response = post(client, approved, "approve", token, "approve", current(app_rt, approved))
    assert response.status_code == 303
    assert care_case(app_rt, approved).step == CareStep.APPROVED
    response = post(
        client, rejected, "reject", token, "reject", current(app_rt, rejected), reason="家属可照护"
    )
    assert response.status_code == 303
    assert care_case(app_rt, rejected).step == CareStep.REJECTED


def test_assign_a_provider_in_operation(client, login, app_rt, staff, provider):
    other_kind = register_provider(app_rt, kind="canteen", name="春晖老年食堂")
    case_id = walked(app_rt, staff, CareStep.APPROVED)
    token = login(staff.caseworker)
    html = client.get(f"/cases/care/{case_id}").get_data(as_text=True)
    assert f'<option value="{provider}">康乐居家养老服务中心</option>' in html
    assert str(other_kind) not in html  # not a provider organisation
    v = current(app_rt, case_id)
    refused = post(
        client, case_id, "assign-provider", token, "assign_provider", v, provider_id=str(other_kind)
    )
    assert refused.status_code == 422 and "请选择服务机构。" in refused.get_data(as_text=True)
    response = post(
        client, case_id, "assign-provider", token, "assign_provider", v, provider_id=str(provider)
    )
    assert response.status_code == 303
    case = care_case(app_rt, case_id)
    assert case.step == CareStep.IN_SERVICE and case.provider_id == provider


def test_visits_and_hours_this_month_follow_up_and_close(client, login, app_rt, staff, provider):
    with clock.frozen_at(datetime(2026, 3, 2, 9, 0, tzinfo=CITY_TZ)):
        case_id = walked(app_rt, staff, CareStep.IN_SERVICE, provider)
    with clock.frozen_at(datetime(2026, 3, 20, 18, 0, tzinfo=CITY_TZ)):
        at_provider = provider_user(provider)
        log(app_rt, at_provider, case_id, "2026-03-05", "09:00", "10:30", items=["bathing"])
        log(app_rt, at_provider, case_id, "2026-03-12", "14:00", "15:00", caregiver="护理员李梅")
        app_rt.catch_up()
        token = login(staff.caseworker)
        html = client.get(f"/cases/care/{case_id}").get_data(as_text=True)
        assert "康乐居家养老服务中心" in html and "本月上门服务(2026-03)" in html
        assert "2.50 小时" in html and "2 次" in html and "每月核定 40 小时" in html
        assert "助浴" in html and "护理员李梅" in html and "老人本人确认" in html
        v = current(app_rt, case_id)
        missing = post(client, case_id, "follow-up", token, "follow_up", v, note="电话回访")
        assert missing.status_code == 422
        assert "请选择是否有需要跟进处理的问题。" in missing.get_data(as_text=True)
        ok = post(
            client, case_id, "follow-up", token, "follow_up", v,
            note="老人说护理员很细心", needs_attention="no",
        )  # fmt: skip
        assert ok.status_code == 303 and care_case(app_rt, case_id).version == v + 1
        no_reason = post(client, case_id, "close", token, "close", v + 1, reason="")
        assert no_reason.status_code == 422
        closed = post(client, case_id, "close", token, "close", v + 1, reason="老人入住养老院")
        assert closed.status_code == 303
    assert care_case(app_rt, case_id).step == CareStep.CLOSED


def test_a_stale_care_form_is_409_with_the_current_state(client, login, app_rt, staff):
    case_id = applied(app_rt, staff)
    token = login(staff.caseworker)
    app_rt.home_care.return_for_information(staff.caseworker.actor, case_id, 1, request="补充证明")
    response = post(
        client, case_id, "send-assessor", token, "send_assessor", 1,
        assessor_id=staff.assessor.actor.user_id,
    )  # fmt: skip
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "有人更新了这个案件" in html and "需补充材料" in html
    case = care_case(app_rt, case_id)
    assert case.step == CareStep.RETURNED and case.assessor_id is None


def test_supervisor_reads_but_cannot_act(client, login, app_rt, staff, make_user):
    case_id = applied(app_rt, staff)
    token = login(make_user(Role.SUPERVISOR, district=""))
    html = client.get(f"/cases/care/{case_id}").get_data(as_text=True)
    assert "张秀英" in html and '<form method="post" action="/cases/care/' not in html
    response = post(
        client, case_id, "send-assessor", token, "send_assessor", 1,
        assessor_id=staff.assessor.actor.user_id,
    )  # fmt: skip
    assert response.status_code == 403
    assert care_case(app_rt, case_id).step == CareStep.SUBMITTED
