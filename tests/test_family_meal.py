"""A family applies for meal service (老年助餐) and follows the enrolment, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from events.clock import frozen_at
from events.facility import Kind
from events.meal import EnrolmentStep
from events.roles import Role
from projections.meal_queries import enrolment_detail, list_enrolments
from tests.support.family_wizard import (
    answer,
    begin,
    done_case_id,
    fill_all,
    submit,
    text,
)
from tests.support.meals import apply_meal, at_noon, open_canteen, provider_of
from tests.support.scenario import elder, national_id

NOW = datetime(2030, 1, 1, tzinfo=UTC)
MEAL = "meal"
RAW_KINDS = (
    "Applied",
    "EnrolmentApproved",
    "EnrolmentRejected",
    "EnrolmentEnded",
    "Withdrawn",
    "ReturnedForInformation",
    "InformationSupplied",
)


def answers_for(canteen: UUID, **pages: dict[str, str]) -> dict[str, dict[str, str]]:
    """What a family types on each page of the meal wizard (an elder of 安康区 春晖社区)."""
    return {
        "elder": {"name": "张秀英", "national_id": national_id()},
        "phone": {"phone": "138 1234 5678"},
        "address": {
            "district": "D01",
            "place": "和平街道|春晖社区",
            "address": "和平路12号3单元201室",
        },
        "household": {"household_category": "dibao"},
        "health": {"disability_level": "semi"},
        "living": {"living_situation": "alone"},
        "relation": {"relation": "child"},
        "canteen": {"canteen_id": str(canteen)},
        "mode": {"mode": "delivery"},
        "subsidy": {"subsidy_category": "dibao"},
        "dietary": {"dietary_needs": "糖尿病,少糖少盐。"},
    } | pages


@pytest.fixture
def family(make_user):
    return make_user(Role.FAMILY, name="王建国")


@pytest.fixture
def caseworker(make_user):
    return make_user(Role.CASEWORKER).actor  # 安康区 (D01)


@pytest.fixture
def canteen(app_rt) -> UUID:
    """An open canteen in 安康区, in the read models."""
    canteen_id = open_canteen(app_rt, name="春晖社区老年食堂")
    app_rt.catch_up()
    return canteen_id


def enrolments_of(rt, actor) -> list:
    rt.catch_up()
    return list(list_enrolments(rt.engine, actor, now=NOW).rows)


def current(rt, case_id: UUID) -> int:
    return rt.meals.repository.get(case_id).version


def applied(rt, family_actor, canteen: UUID) -> UUID:
    """An application of this family, through the service, projected."""
    case_id = apply_meal(rt, family_actor, canteen)
    rt.catch_up()
    return case_id


# -- start page --------------------------------------------------------------------------------


def test_the_start_page_explains_the_service_and_asks_visitors_to_sign_in(client):
    response = client.get("/apply/meal")
    assert response.status_code == 200
    html = text(response)
    assert "申请老年助餐" in html and "谁可以申请" in html and "送餐上门" in html
    assert "/login?next=/apply/meal" in html or "/login?next=%2Fapply%2Fmeal" in html
    assert 'action="/apply/meal/start"' not in html
    assert 'href="/apply/home-care"' in html and 'href="/apply"' in html  # the other services


def test_a_family_sees_the_start_button_and_starts_a_meal_draft(client, app_rt, login, family):
    token = login(family)
    assert 'action="/apply/meal/start"' in text(client.get("/apply/meal"))
    draft = begin(client, token, MEAL)
    assert app_rt.drafts.load(family.actor.user_id, draft) == {"programme": "meal"}
    page = text(client.get(f"/apply/meal/{draft}/elder"))
    assert "第 1 步,共 11 步" in page and 'href="/apply/meal"' in page  # back: the start page


def test_staff_cannot_start(client, login, make_user):
    token = login(make_user(Role.CASEWORKER))
    assert client.get("/apply/meal").status_code == 403
    assert client.post("/apply/meal/start", data={"csrf_token": token}).status_code == 403


# -- the whole wizard --------------------------------------------------------------------------


def test_family_applies_for_meal_service_from_start_to_confirmation(
    client, app_rt, login, family, canteen
):
    token = login(family)
    draft = begin(client, token, MEAL)
    fill_all(client, token, MEAL, draft, answers_for(canteen))

    check = client.get(f"/apply/meal/{draft}/check")
    assert check.status_code == 200
    html = text(check)
    for shown in ("张秀英", "13812345678", "安康区 和平街道 春晖社区 和平路12号3单元201室",
                  "春晖社区老年食堂(和平街道 春晖社区)", "送餐上门", "低保家庭", "糖尿病,少糖少盐。"):  # fmt: skip
        assert shown in html, shown
    for page in ("elder", "address", "canteen", "mode", "subsidy", "dietary"):
        assert f"/apply/meal/{draft}/{page}?change=1" in html, page

    case_id = done_case_id(submit(client, token, MEAL, draft), MEAL)
    detail = enrolment_detail(app_rt.engine, family.actor, case_id)
    assert detail is not None
    assert (detail.canteen_id, detail.mode, detail.subsidy_category) == (
        canteen,
        "delivery",
        "dibao",
    )
    assert (detail.district, detail.street, detail.community) == ("D01", "和平街道", "春晖社区")
    assert (detail.step, detail.channel, detail.relation) == (
        EnrolmentStep.SUBMITTED,
        "online",
        "child",
    )
    person = app_rt.persons.get(detail.person_id)
    assert (person.name, person.national_id, person.phone) == (
        "张秀英",
        national_id(),
        "13812345678",
    )
    assert (person.disability_level, person.living_situation) == ("semi", "alone")
    assert (
        app_rt.persons.needs(case_id) == "糖尿病,少糖少盐。"
    )  # kept with the person, not in events
    assert app_rt.drafts.load(family.actor.user_id, draft) is None

    confirmation = client.get(f"/apply/meal/done/{case_id}")
    assert confirmation.status_code == 200
    html = text(confirmation)
    assert detail.reference in html and detail.reference.startswith("ZC-")
    assert "接下来会怎样" in html and f'href="/my/meals/{case_id}"' in html

    mine = text(client.get("/my/cases"))
    assert detail.reference in mine and "老年助餐" in mine and f"/my/meals/{case_id}" in mine


def test_double_submit_shows_the_same_confirmation_and_makes_one_enrolment(
    client, app_rt, login, family, canteen
):
    token = login(family)
    draft = begin(client, token, MEAL)
    fill_all(client, token, MEAL, draft, answers_for(canteen))
    first = done_case_id(submit(client, token, MEAL, draft), MEAL)
    second = done_case_id(submit(client, token, MEAL, draft), MEAL)
    assert first == second
    assert [e.case_id for e in enrolments_of(app_rt, family.actor)] == [first]
    again = client.get(f"/apply/meal/{draft}/dietary")  # the back button after submitting
    assert again.status_code == 303 and again.headers["Location"] == f"/apply/meal/done/{first}"


def test_a_meal_draft_is_not_served_by_the_other_programmes_pages(client, login, family):
    token = login(family)
    draft = begin(client, token, MEAL)
    assert client.get(f"/apply/{draft}/elder").status_code == 404
    assert client.get(f"/apply/home-care/{draft}/elder").status_code == 404
    assert client.get(f"/apply/meal/{draft}/needs").status_code == 404  # not a meal page


def test_community_worker_applies_for_an_elder_of_their_own_community(
    client, app_rt, login, make_user, canteen
):
    worker = make_user(Role.COMMUNITY_WORKER, district="D01", community="春晖社区")
    token = login(worker)
    draft = begin(client, token, MEAL)
    address = text(client.get(f"/apply/meal/{draft}/address"))
    assert "安康区 和平街道 春晖社区" in address and 'name="district"' not in address
    fill_all(client, token, MEAL, draft,
             answers_for(canteen, address={"address": "松鹤路3号"}, relation={"relation": "other"}))  # fmt: skip
    case_id = done_case_id(submit(client, token, MEAL, draft), MEAL)
    detail = enrolment_detail(app_rt.engine, worker.actor, case_id)
    assert (detail.channel, detail.community) == ("proxy", "春晖社区")
    page = client.get(f"/my/meals/{case_id}")
    assert page.status_code == 200 and "社区代为提交申请" in text(page)


# -- the canteen page --------------------------------------------------------------------------


def test_only_open_canteens_of_the_elders_district_are_offered(
    client, app_rt, login, family, canteen
):
    building = open_canteen(app_rt, up_to="fit_out", name="和平街道老年食堂(在建)")
    elsewhere = open_canteen(app_rt, district="D02", name="南湖老年食堂")
    centre = open_canteen(app_rt, kind=Kind.CARE_CENTRE, name="春晖居家养老服务中心")
    app_rt.catch_up()
    token = login(family)
    draft = begin(client, token, MEAL)
    answer(client, token, MEAL, draft, "address", answers_for(canteen)["address"])

    page = client.get(f"/apply/meal/{draft}/canteen")
    assert page.status_code == 200
    html = text(page)
    assert "春晖社区老年食堂" in html and f'value="{canteen}"' in html
    for hidden in (building, elsewhere, centre):
        assert str(hidden) not in html
    assert "南湖老年食堂" not in html and "在建" not in html and "春晖居家养老服务中心" not in html

    before = app_rt.drafts.load(family.actor.user_id, draft)
    refused = answer(client, token, MEAL, draft, "canteen", {"canteen_id": str(elsewhere)})
    assert refused.status_code == 422 and "请选择一个助餐食堂" in text(refused)
    assert app_rt.drafts.load(family.actor.user_id, draft) == before


def test_no_open_canteen_in_the_district_is_explained_with_a_way_back(
    client, app_rt, login, family, canteen
):
    token = login(family)
    draft = begin(client, token, MEAL)
    answer(client, token, MEAL, draft, "address",
           {"district": "D02", "place": "南湖街道|颐和社区", "address": "南湖路8号"})  # fmt: skip
    page = client.get(f"/apply/meal/{draft}/canteen")
    assert page.status_code == 200
    html = text(page)
    assert "永宁区目前还没有开业的助餐食堂" in html
    assert f'href="/apply/meal/{draft}/address"' in html
    assert ">继续<" not in html and 'type="radio"' not in html
    refused = answer(client, token, MEAL, draft, "canteen", {"canteen_id": str(canteen)})
    assert refused.status_code == 422 and "请选择一个助餐食堂" in text(refused)


def test_a_canteen_no_longer_in_the_district_after_a_change_is_pointed_out(
    client, app_rt, login, family, canteen
):
    token = login(family)
    draft = begin(client, token, MEAL)
    fill_all(client, token, MEAL, draft, answers_for(canteen))
    moved = {"district": "D02", "place": "南湖街道|颐和社区", "address": "南湖路8号"}
    assert answer(client, token, MEAL, draft, "address", moved, change=True).status_code == 303
    check = text(client.get(f"/apply/meal/{draft}/check"))
    assert "请点“修改”重新选择食堂" in check
    refused = submit(client, token, MEAL, draft)
    assert refused.status_code == 422
    html = text(refused)
    assert "不在老人所在的区县" in html and f'href="/apply/meal/{draft}/canteen?change=1"' in html
    assert enrolments_of(app_rt, family.actor) == []


# -- bad answers on the meal pages -------------------------------------------------------------

BAD_ANSWERS = [
    ("canteen", {}, "请选择一个助餐食堂"),
    ("canteen", {"canteen_id": "not-a-canteen"}, "请选择一个助餐食堂"),
    ("mode", {}, "请选择用餐方式"),
    ("mode", {"mode": "takeaway"}, "请选择用餐方式"),
    ("subsidy", {}, "请选择补贴类别"),
    ("subsidy", {"subsidy_category": "rich"}, "请选择补贴类别"),
    ("dietary", {"dietary_needs": "软" * 1001}, "1000字以内"),
]


@pytest.mark.parametrize(("page", "data", "message"), BAD_ANSWERS)
def test_a_bad_answer_is_explained_on_its_page_and_nothing_is_stored(
    client, app_rt, login, family, canteen, page, data, message
):
    token = login(family)
    draft = begin(client, token, MEAL)
    answer(client, token, MEAL, draft, "address", answers_for(canteen)["address"])
    before = app_rt.drafts.load(family.actor.user_id, draft)
    response = answer(client, token, MEAL, draft, page, data)
    assert response.status_code == 422
    html = text(response)
    assert message in html and "请修改以下内容" in html
    assert app_rt.drafts.load(family.actor.user_id, draft) == before
    assert enrolments_of(app_rt, family.actor) == []


def test_the_80_plus_category_for_a_younger_elder_is_refused_at_submit_with_a_link(
    client, app_rt, login, family, canteen
):
    token = login(family)
    draft = begin(client, token, MEAL)
    younger = {"name": "张秀英", "national_id": national_id(birth="19550101")}
    fill_all(client, token, MEAL, draft, answers_for(
        canteen, elder=younger, subsidy={"subsidy_category": "aged_80_plus"}))  # fmt: skip
    response = submit(client, token, MEAL, draft)
    assert response.status_code == 422
    html = text(response)
    assert "还不满80周岁" in html and f'href="/apply/meal/{draft}/subsidy?change=1"' in html
    assert enrolments_of(app_rt, family.actor) == []
    assert app_rt.drafts.load(family.actor.user_id, draft) is not None  # kept to fix


# -- following the enrolment -------------------------------------------------------------------


def test_the_enrolment_page_shows_status_canteen_mode_and_timeline(
    client, app_rt, login, family, canteen
):
    case_id = applied(app_rt, family.actor, canteen)
    login(family)
    response = client.get(f"/my/meals/{case_id}")
    assert response.status_code == 200
    html = text(response)
    assert "老年助餐申请" in html and "已提交,待审核" in html and "审核员会尽快审核" in html
    assert "春晖社区老年食堂" in html and "到食堂吃(堂食)" in html
    assert "张秀英" in html and national_id() not in html and "138****5678" in html
    assert "糖尿病,少糖少盐" in html
    assert "申请到春晖社区老年食堂用餐,方式:到食堂吃(堂食)" in html  # the Applied sentence
    assert f"/my/meals/{case_id}/withdraw" in html


def test_the_enrolment_page_as_an_htmx_fragment(client, app_rt, login, family, canteen):
    case_id = applied(app_rt, family.actor, canteen)
    login(family)
    response = client.get(f"/my/meals/{case_id}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = text(response)
    assert "<html" not in html and 'id="case-live"' in html and 'class="timeline"' in html
    assert "张秀英" not in html  # the elder's details stay on the full page
    assert "HX-Request" in response.headers["Vary"]


def test_once_enrolled_the_family_sees_the_days_served(
    client, app_rt, login, family, caseworker, canteen
):
    case_id = applied(app_rt, family.actor, canteen)
    app_rt.meals.approve(caseworker, case_id, 1, note="请每天11点到食堂。")
    today = app_rt.meals.today()
    app_rt.meals.record_day(provider_of(canteen), canteen, today, [str(case_id)], 12)
    app_rt.catch_up()
    login(family)
    html = text(client.get(f"/my/meals/{case_id}"))
    assert "已开通助餐" in html and "审核通过,开通助餐" in html
    assert f"从 {today.isoformat()} 起,老人可以按选定的方式用餐了。" in html
    assert "请每天11点到食堂。" in html
    assert "最近用餐记录" in html and f'<time datetime="{today.isoformat()}">' in html
    assert "最近30天,老人在食堂用餐(或收到送餐)1次" in html
    assert "不再需要助餐" in html


def test_family_supplies_information_when_asked(client, app_rt, login, family, caseworker, canteen):
    case_id = applied(app_rt, family.actor, canteen)
    app_rt.meals.return_for_information(caseworker, case_id, 1, request="请补充低保证的照片。")
    app_rt.catch_up()
    token = login(family)
    page = text(client.get(f"/my/meals/{case_id}"))
    assert "请补充低保证的照片。" in page and "提交补充信息" in page and "需补充材料" in page

    url = f"/my/meals/{case_id}/supply"
    empty = client.post(url, data={"csrf_token": token, "version": 2, "reply": " "})
    assert empty.status_code == 422 and "请填写补充的信息" in text(empty)
    too_long = client.post(url, data={"csrf_token": token, "version": 2, "reply": "证" * 1001})
    assert too_long.status_code == 422 and "1000字以内" in text(too_long)
    assert current(app_rt, case_id) == 2

    sent = client.post(url, data={"csrf_token": token, "version": 2, "reply": "下周送到社区。"})
    assert sent.status_code == 303 and sent.headers["Location"] == f"/my/meals/{case_id}"
    assert enrolment_detail(app_rt.engine, family.actor, case_id).step == EnrolmentStep.SUBMITTED
    after = text(client.get(f"/my/meals/{case_id}"))
    assert "已补充材料" in after and "补充内容:下周送到社区。" in after


def test_family_withdraws_an_application_with_a_reason(client, app_rt, login, family, canteen):
    case_id = applied(app_rt, family.actor, canteen)
    token = login(family)
    page = client.get(f"/my/meals/{case_id}/withdraw")
    assert page.status_code == 200 and "这个申请就不再办理了" in text(page)
    url = f"/my/meals/{case_id}/withdraw"
    no_reason = client.post(url, data={"csrf_token": token, "version": 1, "reason": ""})
    assert no_reason.status_code == 422 and "请写明撤回的原因" in text(no_reason)
    assert current(app_rt, case_id) == 1
    done = client.post(url, data={"csrf_token": token, "version": 1, "reason": "老人住院了。"})
    assert done.status_code == 303
    assert enrolment_detail(app_rt.engine, family.actor, case_id).step == EnrolmentStep.WITHDRAWN
    after = text(client.get(f"/my/meals/{case_id}"))
    assert "已撤回" in after and "撤回申请" in after and "原因:老人住院了。" in after
    assert f"/my/meals/{case_id}/withdraw" not in after
    assert "不能再撤回" in text(client.get(url))


def test_an_enrolled_family_stops_the_meals(client, app_rt, login, family, caseworker, canteen):
    case_id = applied(app_rt, family.actor, canteen)
    app_rt.meals.approve(caseworker, case_id, 1)
    app_rt.catch_up()
    token = login(family)
    assert "从今天起食堂不再为老人安排助餐" in text(client.get(f"/my/meals/{case_id}/withdraw"))
    done = client.post(f"/my/meals/{case_id}/withdraw",
                       data={"csrf_token": token, "version": 2, "reason": "搬去和子女同住了。"})  # fmt: skip
    assert done.status_code == 303
    detail = enrolment_detail(app_rt.engine, family.actor, case_id)
    assert (detail.step, detail.left_on) == (EnrolmentStep.WITHDRAWN, app_rt.meals.today())
    html = text(client.get(f"/my/meals/{case_id}"))
    assert "退出助餐" in html and "起不再用餐" in html and "最后用餐日期" in html


def test_a_stale_withdraw_gets_409_and_the_current_state(
    client, app_rt, login, family, caseworker, canteen
):
    case_id = applied(app_rt, family.actor, canteen)
    token = login(family)
    app_rt.meals.approve(caseworker, case_id, 1)  # meanwhile
    response = client.post(f"/my/meals/{case_id}/withdraw",
                           data={"csrf_token": token, "version": 1, "reason": "不要了"})  # fmt: skip
    assert response.status_code == 409
    html = text(response)
    assert "有人更新了这个案件" in html and "已开通助餐" in html
    assert 'value="2"' in html and "不要了" in html
    assert current(app_rt, case_id) == 2


def test_every_meal_step_reads_as_a_sentence(client, app_rt, login, family, caseworker, canteen):
    returned = applied(app_rt, family.actor, canteen)
    meals = app_rt.meals
    meals.return_for_information(caseworker, returned, 1, request="请补充低保证。")
    meals.supply_information(family.actor, returned, 2, reply="已送到社区。")
    meals.reject(caseworker, returned, 3, reason="不在服务范围。")
    ended = apply_meal(
        app_rt, family.actor, canteen, elder=elder(national_id=national_id(seq="456"))
    )
    meals.approve(caseworker, ended, 1)
    meals.end_enrolment(caseworker, ended, 2, reason="老人入住养老院。")
    app_rt.catch_up()
    login(family)
    first = text(client.get(f"/my/meals/{returned}"))
    second = text(client.get(f"/my/meals/{ended}"))
    for sentence in ("需要补充材料", "请补充:请补充低保证。", "已补充材料", "补充内容:已送到社区。",
                     "审核未通过", "原因:不在服务范围。", "未通过审核"):  # fmt: skip
        assert sentence in first, sentence
    for sentence in (
        "审核通过,开通助餐",
        "停止助餐",
        "起停止助餐。",
        "原因:老人入住养老院。",
        "助餐已停止",
    ):
        assert sentence in second, sentence
    for html in (first, second):
        timeline = html[html.index('class="timeline"') :]
        for raw in RAW_KINDS:
            assert raw not in timeline, raw


# -- other people's enrolments -----------------------------------------------------------------


def test_another_familys_enrolment_and_draft_are_not_found(
    client, app_rt, login, make_user, family, canteen
):
    case_id = applied(app_rt, family.actor, canteen)
    draft = app_rt.drafts.start(family.actor.user_id)
    app_rt.drafts.save(family.actor.user_id, draft, {"programme": "meal"})
    token = login(make_user(Role.FAMILY, name="别人"))
    assert client.get(f"/my/meals/{case_id}").status_code == 404
    assert client.get(f"/my/meals/{case_id}", headers={"HX-Request": "true"}).status_code == 404
    assert client.get(f"/apply/meal/done/{case_id}").status_code == 404
    assert client.get(f"/my/meals/{case_id}/withdraw").status_code == 404
    withdraw = client.post(f"/my/meals/{case_id}/withdraw",
                           data={"csrf_token": token, "version": 1, "reason": "不要了"})  # fmt: skip
    assert withdraw.status_code == 404
    supply = client.post(f"/my/meals/{case_id}/supply",
                         data={"csrf_token": token, "version": 1, "reply": "好"})  # fmt: skip
    assert supply.status_code == 404
    assert client.get(f"/apply/meal/{draft}/elder").status_code == 404
    assert current(app_rt, case_id) == 1
    assert "张秀英" not in text(client.get("/my/cases"))


def test_a_meal_case_is_not_found_at_the_other_programmes_addresses(
    client, app_rt, login, family, canteen
):
    case_id = applied(app_rt, family.actor, canteen)
    login(family)
    assert client.get(f"/my/cases/{case_id}").status_code == 404
    assert client.get(f"/my/care/{case_id}").status_code == 404
    assert client.get(f"/apply/done/{case_id}").status_code == 404


def test_a_case_worker_of_another_community_cannot_open_it(
    client, app_rt, login, make_user, family, canteen
):
    case_id = applied(app_rt, family.actor, canteen)
    login(make_user(Role.COMMUNITY_WORKER, district="D01", community="松鹤社区"))
    assert client.get(f"/my/meals/{case_id}").status_code == 404


def test_the_served_days_list_covers_only_recent_days(
    client, app_rt, login, family, caseworker, canteen
):
    today = app_rt.meals.today()
    long_ago = today - timedelta(days=40)
    with frozen_at(at_noon(long_ago)):
        case_id = apply_meal(app_rt, family.actor, canteen)
        app_rt.meals.approve(caseworker, case_id, 1)
        app_rt.meals.record_day(provider_of(canteen), canteen, long_ago, [str(case_id)], 0)
    app_rt.meals.record_day(provider_of(canteen), canteen, today, [str(case_id)], 0)
    app_rt.catch_up()
    login(family)
    html = text(client.get(f"/my/meals/{case_id}"))
    assert f'datetime="{today.isoformat()}"' in html
    assert f'datetime="{long_ago.isoformat()}"' not in html
