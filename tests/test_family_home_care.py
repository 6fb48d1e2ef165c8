"""A family applies for home care (上门照护) and follows the case, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from events.clock import frozen_at
from events.home_care import CareStep
from events.roles import Role
from projections.home_care_queries import care_case_detail, list_care_cases
from tests.support.actors import CASEWORKER
from tests.support.family_wizard import (
    answer,
    begin,
    done_case_id,
    fill_all,
    submit,
    survey_answers,
    text,
)
from tests.support.home_care import (
    ASSIGNED_AT,
    LOGGED_AT,
    apply_care,
    current,
    log,
    provider_user,
    register_provider,
    walk_care,
)
from tests.support.scenario import national_id

NOW = datetime(2030, 1, 1, tzinfo=UTC)
CARE = "home_care"
RAW_KINDS = (
    "Applied", "AssessorAssigned", "ReturnedForInformation", "InformationSupplied", "Rejected",
    "CareLevelAssessed", "Approved", "ProviderAssigned", "VisitLogged", "VisitCorrected",
    "VisitCancelled", "SatisfactionSurveyAnswered", "FollowUpRecorded", "Closed", "Withdrawn",
)  # fmt: skip

ANSWERS: dict[str, dict[str, str]] = {
    "elder": {"name": "张秀英", "national_id": national_id()},
    "phone": {"phone": "138 1234 5678"},
    "address": {"district": "D01", "place": "和平街道|春晖社区", "address": "和平路12号3单元201室"},
    "household": {"household_category": "dibao"},
    "health": {"disability_level": "full"},
    "living": {"living_situation": "spouse"},
    "relation": {"relation": "child"},
    "needs": {"needs": "老人卧床,需要帮忙擦身和打扫。"},
}


@pytest.fixture
def family(make_user):
    return make_user(Role.FAMILY, name="王建国")


@pytest.fixture
def provider(app_rt) -> UUID:
    """A home care provider organisation of 安康区, in the read models."""
    provider_id = register_provider(app_rt, name="康乐居家养老服务中心")
    app_rt.catch_up()
    return provider_id


def cases_of(rt, actor) -> list:
    rt.catch_up()
    return list(list_care_cases(rt.engine, actor, now=NOW).rows)


def arrange(rt, family_actor, step: str, provider: UUID | None = None) -> UUID:
    """A case of this family at `step` (a provider assigned on 2 March 2026), projected."""
    with frozen_at(ASSIGNED_AT):
        case_id = walk_care(rt, step, family=family_actor, provider_id=provider)
    rt.catch_up()
    return case_id


def visits_made(rt, case_id: UUID, provider: UUID) -> None:
    """Three visits in March; the first corrected, the third cancelled."""
    acting = provider_user(provider)
    with frozen_at(LOGGED_AT):
        first = log(rt, acting, case_id, "2026-03-05", "09:00", "10:00")
        log(rt, acting, case_id, "2026-03-10", "14:00", "15:30",
            items=["bathing", "check_in"], confirmed_by="family")  # fmt: skip
        third = log(rt, acting, case_id, "2026-03-12", "09:00", "10:00")
        rt.home_care.correct_visit(
            acting, case_id, current(rt, case_id), visit_id=first, visit_date="2026-03-05",
            start="09:00", end="11:00", items=["cleaning"], caregiver="护理员王芳",
            confirmed_by="elder", reason="结束时间登记错了。",
        )  # fmt: skip
        rt.home_care.cancel_visit(
            acting, case_id, current(rt, case_id), visit_id=third, reason="重复登记。"
        )
    rt.catch_up()


# -- start page and the wizard -----------------------------------------------------------------


def test_the_start_page_explains_who_home_care_is_for(client, login, family):
    html = text(client.get("/apply/home-care"))
    assert "申请上门照护" in html and "失能" in html and "半失能" in html
    assert "/login?next=/apply/home-care" in html or "%2Fapply%2Fhome-care" in html
    login(family)
    assert 'action="/apply/home-care/start"' in text(client.get("/apply/home-care"))


def test_family_applies_for_home_care_from_start_to_confirmation(client, app_rt, login, family):
    token = login(family)
    draft = begin(client, token, CARE)
    assert app_rt.drafts.load(family.actor.user_id, draft) == {"programme": "home_care"}
    fill_all(client, token, CARE, draft, ANSWERS)
    check = text(client.get(f"/apply/home-care/{draft}/check"))
    for shown in ("张秀英", "失能(生活基本不能自理)", "与老伴同住", "照护需求", "老人卧床"):
        assert shown in check, shown
    assert f"/apply/home-care/{draft}/health?change=1" in check

    case_id = done_case_id(submit(client, token, CARE, draft), CARE)
    detail = care_case_detail(app_rt.engine, family.actor, case_id)
    assert (detail.step, detail.channel, detail.disability_level) == (
        CareStep.SUBMITTED, "online", "full",
    )  # fmt: skip
    assert (detail.district, detail.community) == ("D01", "春晖社区")
    person = app_rt.persons.get(detail.person_id)
    assert (person.name, person.national_id, person.phone) == (
        "张秀英",
        national_id(),
        "13812345678",
    )
    assert app_rt.persons.needs(case_id) == "老人卧床,需要帮忙擦身和打扫。"
    assert app_rt.drafts.load(family.actor.user_id, draft) is None

    confirmation = text(client.get(f"/apply/home-care/done/{case_id}"))
    assert detail.reference in confirmation and detail.reference.startswith("JH-")
    assert "评估员会打电话约定时间" in confirmation and f'href="/my/care/{case_id}"' in confirmation
    mine = text(client.get("/my/cases"))
    assert "上门照护" in mine and detail.reference in mine and "已提交,待受理" in mine


def test_double_submit_makes_one_case(client, app_rt, login, family):
    token = login(family)
    draft = begin(client, token, CARE)
    fill_all(client, token, CARE, draft, ANSWERS)
    first = done_case_id(submit(client, token, CARE, draft), CARE)
    assert done_case_id(submit(client, token, CARE, draft), CARE) == first
    assert [c.case_id for c in cases_of(app_rt, family.actor)] == [first]
    back = client.get(f"/apply/home-care/{draft}/needs")
    assert back.status_code == 303 and back.headers["Location"] == f"/apply/home-care/done/{first}"


def test_an_elder_who_is_not_disabled_is_told_why_not_refused(client, app_rt, login, family):
    token = login(family)
    draft = begin(client, token, CARE)
    response = answer(client, token, CARE, draft, "health", {"disability_level": "none"})
    assert response.status_code == 303
    explain = f"/apply/home-care/{draft}/health/cannot-continue"
    assert response.headers["Location"] == explain
    assert app_rt.drafts.load(family.actor.user_id, draft)["disability_level"] == "none"

    page = client.get(explain)
    assert page.status_code == 200
    html = text(page)
    assert "老人暂时不符合申请条件" in html and "面向失能或半失能的老年人" in html
    assert f'href="/apply/home-care/{draft}/health"' in html  # change the answer
    assert 'href="/apply/meal"' in html and 'href="/apply"' in html  # other services

    changed = answer(client, token, CARE, draft, "health", {"disability_level": "semi"})
    assert changed.headers["Location"] == f"/apply/home-care/{draft}/living"
    assert client.get(explain).headers["Location"] == f"/apply/home-care/{draft}/health"


def test_changing_to_not_disabled_from_the_check_page_keeps_the_way_back(client, login, family):
    token = login(family)
    draft = begin(client, token, CARE)
    fill_all(client, token, CARE, draft, ANSWERS)
    response = answer(client, token, CARE, draft, "health", {"disability_level": "certified"},
                      change=True)  # fmt: skip
    explain = f"/apply/home-care/{draft}/health/cannot-continue?change=1"
    assert response.headers["Location"] == explain
    assert f'href="/apply/home-care/{draft}/health?change=1"' in text(client.get(explain))


def test_submitting_for_an_elder_who_is_not_disabled_stores_nothing(client, app_rt, login, family):
    token = login(family)
    draft = begin(client, token, CARE)
    fill_all(client, token, CARE, draft, ANSWERS)
    # As if the page had been skipped: the service itself refuses, and the check page explains.
    app_rt.drafts.save(family.actor.user_id, draft, {"disability_level": "none"})
    response = submit(client, token, CARE, draft)
    assert response.status_code == 422
    html = text(response)
    assert "面向失能或半失能的老年人" in html
    assert f'href="/apply/home-care/{draft}/health?change=1"' in html
    assert cases_of(app_rt, family.actor) == []


BAD_ANSWERS = [
    ("health", {}, "请选择老人的身体状况"),
    ("health", {"disability_level": "bedridden"}, "请选择老人的身体状况"),
    ("needs", {"needs": "帮" * 2001}, "照护需求请写在2000字以内"),
]


@pytest.mark.parametrize(("page", "data", "message"), BAD_ANSWERS)
def test_a_bad_answer_is_explained_on_its_page_and_nothing_is_stored(
    client, app_rt, login, family, page, data, message
):
    token = login(family)
    draft = begin(client, token, CARE)
    response = answer(client, token, CARE, draft, page, data)
    assert response.status_code == 422
    assert message in text(response) and "请修改以下内容" in text(response)
    assert app_rt.drafts.load(family.actor.user_id, draft) == {"programme": "home_care"}
    assert cases_of(app_rt, family.actor) == []


# -- following the case ------------------------------------------------------------------------


def test_the_case_page_shows_status_elder_and_timeline(client, app_rt, login, family):
    case_id = arrange(app_rt, family.actor, CareStep.ASSESSOR_ASSIGNED)
    login(family)
    response = client.get(f"/my/care/{case_id}")
    assert response.status_code == 200
    html = text(response)
    assert "上门照护申请" in html and "已受理,待上门评估" in html and "请保持电话畅通" in html
    assert "张秀英" in html and national_id() not in html and "138****5678" in html
    assert "老人卧床,需要有人帮忙擦身和打扫。" in html
    assert "受理申请,安排上门评估" in html and "审核员受理后,会安排评估员上门评估" in html
    assert f"/my/care/{case_id}/withdraw" in html
    assert f"/my/care/{case_id}/survey" not in html


def test_the_case_page_as_an_htmx_fragment(client, app_rt, login, family):
    case_id = arrange(app_rt, family.actor, CareStep.SUBMITTED)
    login(family)
    response = client.get(f"/my/care/{case_id}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = text(response)
    assert "<html" not in html and 'id="case-live"' in html and 'class="timeline"' in html
    assert "张秀英" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_in_service_the_family_sees_care_visits_hours_and_every_step(
    client, app_rt, login, family, provider
):
    case_id = arrange(app_rt, family.actor, CareStep.IN_SERVICE, provider)
    visits_made(app_rt, case_id, provider)
    login(family)
    with frozen_at(LOGGED_AT):
        html = text(client.get(f"/my/care/{case_id}"))
    assert "服务中" in html and "中度" in html and "40 小时" in html
    assert "康乐居家养老服务中心" in html and "2026-03-02" in html
    assert "本月已上门服务 2 次,共 3.50 小时(每月可以享受 40 小时)" in html
    assert "护理员王芳" in html and "助浴、巡访关爱" in html and "家属确认" in html
    assert "2026-03-12" not in html[: html.index('class="timeline"')]  # cancelled: not listed
    for sentence in (
        "受理申请,安排上门评估", "完成照护评估", "照护等级:中度;每月可以享受上门服务 40 小时。",
        "审核通过", "我们正在安排上门照护服务机构。", "安排服务机构",
        "康乐居家养老服务中心 从 2026-03-02 起上门服务。", "上门服务",
        "2026-03-05 09:00-10:00,服务内容:助洁。老人本人确认。",
        "2026-03-10 14:00-15:30,服务内容:助浴、巡访关爱。家属确认。",
        "更正服务记录", "更正为 2026-03-05 09:00-11:00,服务内容:助洁。原因:结束时间登记错了。",
        "作废服务记录", "2026-03-12 的服务记录作废,不计入服务时长。原因:重复登记。",
    ):  # fmt: skip
        assert sentence in html, sentence
    timeline = html[html.index('class="timeline"') :]
    for raw in RAW_KINDS:
        assert raw not in timeline, raw
    assert f"/my/care/{case_id}/survey" in html
    assert f"/my/care/{case_id}/withdraw" not in html  # too late once a provider serves


def test_the_other_steps_read_as_sentences(client, app_rt, login, family, provider):
    hc = app_rt.home_care
    rejected = arrange(app_rt, family.actor, CareStep.SUBMITTED)
    hc.return_for_information(CASEWORKER, rejected, 1, request="请补充老人的病历。")
    hc.supply_information(family.actor, rejected, 2, reply="病历已交到社区。")
    hc.reject(CASEWORKER, rejected, 3, reason="老人已入住养老院。")
    closed = arrange(app_rt, family.actor, CareStep.IN_SERVICE, provider)
    with frozen_at(LOGGED_AT):
        hc.record_follow_up(CASEWORKER, closed, current(app_rt, closed), note="电话回访,老人满意。")
        hc.close_case(CASEWORKER, closed, current(app_rt, closed), reason="老人搬去外地。")
    withdrawn = arrange(app_rt, family.actor, CareStep.SUBMITTED)
    hc.withdraw(family.actor, withdrawn, 1, reason="家里请了保姆。")
    app_rt.catch_up()
    login(family)
    pages = {c: text(client.get(f"/my/care/{c}")) for c in (rejected, closed, withdrawn)}
    for sentence in ("需要补充材料", "请补充:请补充老人的病历。", "已补充材料", "补充内容:病历已交到社区。",
                     "审核未通过", "原因:老人已入住养老院。"):  # fmt: skip
        assert sentence in pages[rejected], sentence
    for sentence in (
        "跟踪回访",
        "电话回访,老人满意。",
        "服务结束",
        "原因:老人搬去外地。",
        "服务已结束",
    ):
        assert sentence in pages[closed], sentence
    assert "撤回申请" in pages[withdrawn] and "原因:家里请了保姆。" in pages[withdrawn]
    for html in pages.values():
        timeline = html[html.index('class="timeline"') :]
        for raw in RAW_KINDS:
            assert raw not in timeline, raw


# -- actions -----------------------------------------------------------------------------------


def test_the_survey_once_visits_have_been_made(client, app_rt, login, family, provider):
    case_id = arrange(app_rt, family.actor, CareStep.IN_SERVICE, provider)
    token = login(family)
    early = client.get(f"/my/care/{case_id}/survey")
    assert early.status_code == 200 and "护理员上门服务以后,才能评价服务" in text(early)
    assert 'name="overall"' not in text(early)

    visits_made(app_rt, case_id, provider)
    form = text(client.get(f"/my/care/{case_id}/survey"))
    assert (
        "您对上门照护服务满意吗" in form and "护理员的态度怎么样" in form and "5分 很满意" in form
    )
    seen = current(app_rt, case_id)
    url = f"/my/care/{case_id}/survey"
    missing = survey_answers(token, seen)
    del missing["timeliness"]
    bad = client.post(url, data=missing)
    assert bad.status_code == 422 and "请为这个问题选择1到5分" in text(bad)
    assert "护理员很细心。" in text(bad)
    assert care_case_detail(app_rt.engine, family.actor, case_id).surveys == 0

    ok = client.post(url, data=survey_answers(token, seen, overall="4"))
    assert ok.status_code == 303 and ok.headers["Location"] == f"/my/care/{case_id}"
    detail = care_case_detail(app_rt.engine, family.actor, case_id)
    assert (detail.surveys, detail.last_survey_overall) == (1, 4)
    with frozen_at(LOGGED_AT):
        after = text(client.get(f"/my/care/{case_id}"))
    assert "完成满意度回访" in after and "总体评分:4 分。" in after

    again = client.post(url, data=survey_answers(token, seen + 1))
    assert again.status_code == 422 and "自上次评价以来还没有新的上门服务" in text(again)
    assert care_case_detail(app_rt.engine, family.actor, case_id).surveys == 1


def test_family_supplies_information_when_asked(client, app_rt, login, family):
    case_id = arrange(app_rt, family.actor, CareStep.SUBMITTED)
    app_rt.home_care.return_for_information(CASEWORKER, case_id, 1, request="请补充病历。")
    app_rt.catch_up()
    token = login(family)
    assert "请补充病历。" in text(client.get(f"/my/care/{case_id}"))
    url = f"/my/care/{case_id}/supply"
    empty = client.post(url, data={"csrf_token": token, "version": 2, "reply": ""})
    assert empty.status_code == 422 and "请填写补充的信息" in text(empty)
    sent = client.post(url, data={"csrf_token": token, "version": 2, "reply": "病历已交社区。"})
    assert sent.status_code == 303 and sent.headers["Location"] == f"/my/care/{case_id}"
    assert care_case_detail(app_rt.engine, family.actor, case_id).step == CareStep.SUBMITTED
    assert "补充内容:病历已交社区。" in text(client.get(f"/my/care/{case_id}"))


def test_a_stale_reply_gets_409_with_the_current_state(client, app_rt, login, family):
    case_id = arrange(app_rt, family.actor, CareStep.SUBMITTED)
    app_rt.home_care.return_for_information(CASEWORKER, case_id, 1, request="请补充病历。")
    token = login(family)
    app_rt.home_care.withdraw(CASEWORKER, case_id, 2, reason="家属电话要求撤回。")  # meanwhile
    response = client.post(f"/my/care/{case_id}/supply",
                           data={"csrf_token": token, "version": 2, "reply": "病历已交社区。"})  # fmt: skip
    assert response.status_code == 409
    html = text(response)
    assert "有人更新了这个案件" in html and "已撤回" in html
    assert care_case_detail(app_rt.engine, family.actor, case_id).step == CareStep.WITHDRAWN


def test_family_withdraws_before_a_provider_is_assigned(client, app_rt, login, family, provider):
    case_id = arrange(app_rt, family.actor, CareStep.ASSESSED)
    token = login(family)
    url = f"/my/care/{case_id}/withdraw"
    assert "如果以后还需要上门照护,可以重新申请" in text(client.get(url))
    seen = current(app_rt, case_id)
    no_reason = client.post(url, data={"csrf_token": token, "version": seen, "reason": " "})
    assert no_reason.status_code == 422 and "请写明撤回的原因" in text(no_reason)
    done = client.post(url, data={"csrf_token": token, "version": seen, "reason": "请了保姆。"})
    assert done.status_code == 303
    assert care_case_detail(app_rt.engine, family.actor, case_id).step == CareStep.WITHDRAWN

    serving = arrange(app_rt, family.actor, CareStep.IN_SERVICE, provider)
    page = text(client.get(f"/my/care/{serving}/withdraw"))
    assert "不能再撤回了" in page and 'name="reason"' not in page
    refused = client.post(f"/my/care/{serving}/withdraw",
                          data={"csrf_token": token, "version": current(app_rt, serving), "reason": "不要了"})  # fmt: skip
    assert refused.status_code == 422
    assert care_case_detail(app_rt.engine, family.actor, serving).step == CareStep.IN_SERVICE


# -- other people's cases ----------------------------------------------------------------------


def test_another_familys_case_is_not_found(client, app_rt, login, make_user, family, provider):
    case_id = arrange(app_rt, family.actor, CareStep.IN_SERVICE, provider)
    token = login(make_user(Role.FAMILY, name="别人"))
    form = {"csrf_token": token, "version": current(app_rt, case_id), "reason": "x", "reply": "x"}
    for url in (f"/my/care/{case_id}", f"/my/care/{case_id}/withdraw",
                f"/my/care/{case_id}/survey", f"/apply/home-care/done/{case_id}"):  # fmt: skip
        assert client.get(url).status_code == 404, url
    for url in (f"/my/care/{case_id}/withdraw", f"/my/care/{case_id}/supply"):
        assert client.post(url, data=form).status_code == 404, url
    assert (
        client.post(f"/my/care/{case_id}/survey", data=survey_answers(token, 1)).status_code == 404
    )
    assert client.get(f"/my/meals/{case_id}").status_code == 404
    assert "张秀英" not in text(client.get("/my/cases"))


def test_a_community_worker_follows_cases_of_their_community_only(
    client, app_rt, login, make_user, family
):
    case_id = apply_care(app_rt, family.actor)
    app_rt.catch_up()
    login(make_user(Role.COMMUNITY_WORKER, district="D01", community="春晖社区"))
    assert client.get(f"/my/care/{case_id}").status_code == 200
    login(make_user(Role.COMMUNITY_WORKER, district="D01", community="松鹤社区"))
    assert client.get(f"/my/care/{case_id}").status_code == 404
