"""The applicant's side of the retrofit programme, through the real forms on both databases."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from events.retrofit import Step
from events.roles import Role
from projections.retrofit_queries import case_detail, list_cases
from tests.support import family_wizard as wizard
from tests.support.scenario import apply as apply_for
from tests.support.scenario import elder, national_id, version, walk_to

NOW = datetime(2030, 1, 1, tzinfo=UTC)

# What a family types on each page of the wizard.
ANSWERS: dict[str, dict[str, str]] = {
    "elder": {"name": "张秀英", "national_id": national_id()},
    "phone": {"phone": "138 1234 5678"},
    "address": {"district": "D02", "place": "南湖街道|颐和社区", "address": "南湖路8号2栋101室"},
    "household": {"household_category": "dibao"},
    "health": {"disability_level": "semi"},
    "living": {"living_situation": "alone"},
    "relation": {"relation": "child"},
    "needs": {"needs": "卫生间地滑,想装扶手。"},
}


# -- helpers ---------------------------------------------------------------------------------


def begin(client, token: str) -> str:
    """Press 开始申请; returns the new draft's id."""
    response = client.post("/apply/start", data={"csrf_token": token})
    assert response.status_code == 303
    found = re.fullmatch(r"/apply/([0-9a-f-]{36})/elder", response.headers["Location"])
    assert found, response.headers["Location"]
    return found.group(1)


def answer(client, token: str, draft: str, page: str, data: dict[str, str], **query: str):
    """Post one question page."""
    url = f"/apply/{draft}/{page}" + ("?change=1" if query.get("change") else "")
    return client.post(url, data={**data, "csrf_token": token})


def fill_all(client, token: str, draft: str, answers: dict[str, dict[str, str]] = ANSWERS) -> None:
    """Answer every page in order, following the redirects the wizard gives."""
    pages = list(answers)
    for i, page in enumerate(pages):
        response = answer(client, token, draft, page, answers[page])
        assert response.status_code == 303, (page, response.get_data(as_text=True)[:2000])
        following = pages[i + 1] if i + 1 < len(pages) else "check"
        assert response.headers["Location"] == f"/apply/{draft}/{following}"


def submit(client, token: str, draft: str):
    """Press 确认并提交申请 on the check page (and open the confirmation, as a browser does)."""
    return wizard.submit(client, token, "retrofit", draft)


def done_case_id(response) -> UUID:
    """The case id in the confirmation page's address."""
    return wizard.done_case_id(response, "retrofit")


def cases_of(rt, actor) -> list[Any]:
    """The cases the read model lists for an actor."""
    rt.catch_up()
    return list(list_cases(rt.engine, actor, now=NOW).rows)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def staff(make_user):
    """The staff of 安康区 who take a case along (walk_to needs them)."""
    return {
        "caseworker": make_user(Role.CASEWORKER).actor,
        "assessor": make_user(Role.ASSESSOR).actor,
        "inspector": make_user(Role.INSPECTOR).actor,
    }


@pytest.fixture
def family(make_user):
    return make_user(Role.FAMILY, name="王建国")


def arrange(rt, family_actor, staff, step: str) -> UUID:
    """A case of this family at `step`, through the real services, projected."""
    case_id = walk_to(rt, step, family=family_actor, **staff)
    rt.catch_up()
    return case_id


# -- the start page ----------------------------------------------------------------------------


def test_visitors_read_the_start_page_and_are_asked_to_sign_in(client):
    response = client.get("/apply")
    assert response.status_code == 200
    html = text(response)
    assert "谁可以申请" in html and "申请前请准备" in html
    assert "/login?next=/apply" in html or "/login?next=%2Fapply" in html
    assert 'href="/register"' in html
    assert 'action="/apply/start"' not in html


def test_family_sees_the_start_button(client, login, family):
    login(family)
    html = text(client.get("/apply"))
    assert "开始申请" in html
    assert 'action="/apply/start"' in html


def test_starting_without_signing_in_goes_to_login(client):
    token_page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', text(token_page)).group(1)
    response = client.post("/apply/start", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.ASSESSOR])
def test_staff_other_than_community_workers_cannot_use_the_wizard(
    client, app_rt, login, make_user, family, role
):
    draft = app_rt.drafts.start(family.actor.user_id)
    token = login(make_user(role))
    assert client.get("/apply").status_code == 403
    assert client.post("/apply/start", data={"csrf_token": token}).status_code == 403
    assert client.get(f"/apply/{draft}/elder").status_code == 403
    assert submit(client, token, draft).status_code == 403
    assert cases_of(app_rt, make_user(Role.AUDITOR).actor) == []


# -- the whole wizard --------------------------------------------------------------------------


def test_family_applies_from_start_to_confirmation(client, app_rt, login, family):
    token = login(family)
    draft = begin(client, token)
    fill_all(client, token, draft)

    check = client.get(f"/apply/{draft}/check")
    assert check.status_code == 200
    html = text(check)
    for shown in ("张秀英", national_id(), "13812345678", "永宁区 南湖街道 颐和社区", "南湖路8号2栋101室",
                  "低保家庭", "半失能", "独居", "子女", "卫生间地滑"):  # fmt: skip
        assert shown in html, shown
    assert "提交即表示" in html

    case_id = done_case_id(submit(client, token, draft))
    detail = case_detail(app_rt.engine, family.actor, case_id)
    assert detail is not None
    assert (detail.district, detail.street, detail.community) == ("D02", "南湖街道", "颐和社区")
    assert (detail.step, detail.channel, detail.relation) == (Step.SUBMITTED, "online", "child")

    person = app_rt.persons.get(detail.person_id)
    assert (person.name, person.national_id, person.phone) == (
        "张秀英",
        national_id(),
        "13812345678",
    )
    assert person.address == "南湖路8号2栋101室"
    assert app_rt.persons.needs(case_id) == "卫生间地滑,想装扶手。"
    assert app_rt.drafts.load(family.actor.user_id, draft) is None

    confirmation = client.get(f"/apply/done/{case_id}")
    assert confirmation.status_code == 200
    assert detail.reference in text(confirmation)
    assert "接下来会怎样" in text(confirmation)
    assert f"/my/cases/{case_id}" in text(confirmation)

    mine = text(client.get("/my/cases"))
    assert detail.reference in mine and "张秀英" in mine and "已提交,待审核" in mine
    assert f"/my/cases/{case_id}" in mine


def test_question_pages_show_saved_answers_and_a_back_link(client, login, family):
    token = login(family)
    draft = begin(client, token)
    fill_all(client, token, draft)
    elder_page = text(client.get(f"/apply/{draft}/elder"))
    assert 'value="张秀英"' in elder_page
    assert 'href="/apply"' in elder_page  # back from the first page: the start page
    address = text(client.get(f"/apply/{draft}/address"))
    assert 'selected value="南湖街道|颐和社区"' in address
    assert f'href="/apply/{draft}/phone"' in address  # back to the previous question
    household = text(client.get(f"/apply/{draft}/household"))
    assert (
        'checked id="household_category-1" name="household_category" type="radio" value="dibao"'
        in household
    )
    assert client.get(f"/apply/{draft}/nonsense").status_code == 404


def test_the_address_page_narrows_communities_to_the_chosen_district_for_htmx(
    client, login, family
):
    token = login(family)
    draft = begin(client, token)
    full = client.get(f"/apply/{draft}/address")
    assert "春晖社区" in text(full) and "南湖社区" in text(full)  # no script: all, by district
    assert 'hx-get="/apply/' in text(full)
    fragment = client.get(f"/apply/{draft}/address?district=D02", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    html = text(fragment)
    assert "<html" not in html and 'id="place-field"' in html
    assert "南湖社区" in html and "春晖社区" not in html
    assert "HX-Request" in fragment.headers["Vary"]


def test_a_community_picked_before_the_narrowed_list_arrives_stays_picked(client, login, family):
    token = login(family)
    draft = begin(client, token)
    html = text(full := client.get(f"/apply/{draft}/address"))
    picked = re.search(r'<option value="([^"]*春晖社区[^"]*)"', html).group(1)
    kept = client.get(
        f"/apply/{draft}/address", query_string={"district": "D01", "place": picked},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert f'<option selected value="{picked}">' in text(kept)
    moved = client.get(
        f"/apply/{draft}/address", query_string={"district": "D02", "place": picked},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    assert picked not in text(moved)  # not in that district: the list starts from 请选择
    assert '<option selected value="">' in text(moved)
    assert full.status_code == 200


# -- bad answers on each page ------------------------------------------------------------------

VALID_ID = national_id()
WRONG_CHECK_DIGIT = VALID_ID[:17] + ("1" if VALID_ID[17] == "0" else "0")
BAD_ANSWERS = [
    ("elder", {"name": "", "national_id": national_id()}, "请填写老人的姓名"),
    ("elder", {"name": "张", "national_id": national_id()}, "2到30个字"),
    ("elder", {"name": "张秀英", "national_id": WRONG_CHECK_DIGIT}, "校验码"),
    ("elder", {"name": "张秀英", "national_id": national_id(birth="19900101")}, "60周岁及以上"),
    ("elder", {"name": "张秀英", "national_id": "1101"}, "应为18位"),
    ("phone", {"phone": "12345"}, "请填写能联系到老人的电话"),
    ("phone", {"phone": ""}, "请填写老人的联系电话"),
    ("address", {"district": "", "place": "", "address": "南湖路8号"}, "请选择老人所在的区县"),
    ("address", {"district": "D01", "place": "", "address": "南湖路8号"}, "请选择老人所在的街道"),
    (
        "address",
        {"district": "D01", "place": "南湖街道|颐和社区", "address": "南湖路8号"},
        "不在所选的区县",
    ),
    ("address", {"district": "D99", "place": "", "address": "南湖路8号"}, "请选择老人所在的区县"),
    (
        "address",
        {"district": "D02", "place": "南湖街道|颐和社区", "address": ""},
        "请填写老人的详细住址",
    ),
    ("household", {}, "请选择家庭类别"),
    ("household", {"household_category": "rich"}, "请选择家庭类别"),
    ("health", {}, "请选择老人的身体状况"),
    ("living", {}, "请选择老人的居住情况"),
    ("relation", {}, "请选择您与老人的关系"),
    ("needs", {"needs": "扶" * 2001}, "2000字以内"),
]


@pytest.mark.parametrize(("question", "data", "message"), BAD_ANSWERS)
def test_a_bad_answer_is_explained_on_its_page_and_nothing_is_stored(
    client, app_rt, login, family, question, data, message
):
    token = login(family)
    draft = begin(client, token)
    response = answer(client, token, draft, question, data)
    assert response.status_code == 422
    html = text(response)
    assert message in html
    assert "error-summary" in html and "请修改以下内容" in html
    for key in ("name", "national_id", "phone", "address"):
        if data.get(key):
            assert f'value="{data[key]}"' in html, key  # what was typed is kept
    if data.get("place"):
        assert f'selected value="{data["place"]}"' in html
    assert app_rt.drafts.load(family.actor.user_id, draft) == {}
    assert cases_of(app_rt, family.actor) == []


def test_under_60_explains_the_age_rule_with_the_age(client, login, family):
    token = login(family)
    draft = begin(client, token)
    response = answer(
        client,
        token,
        draft,
        "elder",
        {"name": "张秀英", "national_id": national_id(birth="19900101")},
    )
    assert response.status_code == 422
    assert re.search(r"老人今年\d+岁", text(response))


# -- check your answers ------------------------------------------------------------------------


def test_change_links_return_to_the_check_page(client, login, family):
    token = login(family)
    draft = begin(client, token)
    fill_all(client, token, draft)
    check = text(client.get(f"/apply/{draft}/check"))
    for page in ("elder", "phone", "address", "household", "health", "living", "relation", "needs"):
        assert f"/apply/{draft}/{page}?change=1" in check, page

    change_page = text(client.get(f"/apply/{draft}/phone?change=1"))
    assert f'href="/apply/{draft}/check"' in change_page  # 返回 goes back to the check page
    assert f'action="/apply/{draft}/phone?change=1"' in change_page
    response = answer(client, token, draft, "phone", {"phone": "13900001111"}, change="1")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/apply/{draft}/check"
    assert "13900001111" in text(client.get(f"/apply/{draft}/check"))


def test_household_other_is_explained_and_still_accepted(client, app_rt, login, family):
    token = login(family)
    draft = begin(client, token)
    fill_all(client, token, draft, ANSWERS | {"household": {"household_category": "other"}})
    check = text(client.get(f"/apply/{draft}/check"))
    assert "以上都不是" in check
    assert "审核员会根据老人的实际情况决定能否补助" in check
    case_id = done_case_id(submit(client, token, draft))
    assert case_detail(app_rt.engine, family.actor, case_id) is not None


def test_a_refusal_at_submit_links_to_the_page_to_fix(client, app_rt, login, family):
    token = login(family)
    draft = begin(client, token)
    answer(client, token, draft, "elder", ANSWERS["elder"])  # and nothing else
    check = text(client.get(f"/apply/{draft}/check"))
    assert "未填写" in check
    response = submit(client, token, draft)
    assert response.status_code == 422
    html = text(response)
    assert "error-summary" in html
    assert (
        f'href="/apply/{draft}/address?change=1"' in html
        or f'href="/apply/{draft}/phone?change=1"' in html
    )
    assert cases_of(app_rt, family.actor) == []
    assert app_rt.drafts.load(family.actor.user_id, draft) is not None  # kept to fix


def test_double_submit_shows_the_same_confirmation_and_creates_one_case(
    client, app_rt, login, family
):
    token = login(family)
    draft = begin(client, token)
    fill_all(client, token, draft)
    first = done_case_id(submit(client, token, draft))
    second = done_case_id(submit(client, token, draft))  # the draft is gone by now
    assert first == second
    assert [c.case_id for c in cases_of(app_rt, family.actor)] == [first]
    # Back button after submitting: the pages lead to the confirmation, not an error.
    again = client.get(f"/apply/{draft}/check")
    assert again.status_code == 303 and again.headers["Location"] == f"/apply/done/{first}"
    assert client.get(f"/apply/{draft}/needs").headers["Location"] == f"/apply/done/{first}"


def test_another_familys_draft_and_case_are_not_found(
    client, app_rt, login, make_user, family, staff
):
    draft = app_rt.drafts.start(family.actor.user_id)
    app_rt.drafts.save(family.actor.user_id, draft, {"name": "张秀英"})
    case_id = arrange(app_rt, family.actor, staff, Step.SUBMITTED)

    token = login(make_user(Role.FAMILY, name="别人"))
    assert client.get(f"/apply/{draft}/elder").status_code == 404
    assert answer(client, token, draft, "phone", ANSWERS["phone"]).status_code == 404
    assert client.get(f"/apply/{draft}/check").status_code == 404
    assert submit(client, token, draft).status_code == 404
    assert client.get(f"/my/cases/{case_id}").status_code == 404
    assert client.get(f"/apply/done/{case_id}").status_code == 404
    assert client.get(f"/my/cases/{case_id}/withdraw").status_code == 404
    response = client.post(f"/my/cases/{case_id}/withdraw",
                           data={"csrf_token": token, "version": "1", "reason": "不要了"})  # fmt: skip
    assert response.status_code == 404
    assert app_rt.drafts.load(family.actor.user_id, draft) == {"name": "张秀英"}
    assert "张秀英" not in text(client.get("/my/cases"))


# -- community workers -------------------------------------------------------------------------


def test_community_worker_applies_for_an_elder_of_their_own_community(
    client, app_rt, login, make_user
):
    worker = make_user(Role.COMMUNITY_WORKER, district="D01", community="松鹤社区")
    token = login(worker)
    assert "代老人申请" in text(client.get("/apply"))
    draft = begin(client, token)

    address = text(client.get(f"/apply/{draft}/address"))
    assert "安康区 和平街道 松鹤社区" in address
    assert 'name="district"' not in address and 'name="place"' not in address
    # A posted district or community is ignored: the worker's own community is used.
    answers = ANSWERS | {"address": {"district": "D02", "place": "南湖街道|颐和社区", "address": "松鹤路3号"},
                         "relation": {"relation": "other"}}  # fmt: skip
    fill_all(client, token, draft, answers)
    check = text(client.get(f"/apply/{draft}/check"))
    assert "安康区 和平街道 松鹤社区 松鹤路3号" in check
    assert "颐和社区" not in check

    case_id = done_case_id(submit(client, token, draft))
    detail = case_detail(app_rt.engine, worker.actor, case_id)
    assert (detail.channel, detail.district, detail.street, detail.community) == (
        "proxy", "D01", "和平街道", "松鹤社区",
    )  # fmt: skip
    assert client.get(f"/apply/done/{case_id}").status_code == 200
    page = client.get(f"/my/cases/{case_id}")
    assert page.status_code == 200 and "社区代为提交申请" in text(page)
    assert national_id() in text(page)  # workers see the full ID number
    assert client.get("/my/cases").status_code == 403  # workers follow cases in their queue


# -- the case page and its actions -------------------------------------------------------------


def test_case_page_shows_status_elder_masked_and_timeline(client, app_rt, login, family, staff):
    case_id = arrange(app_rt, family.actor, staff, Step.SUBMITTED)
    login(family)
    response = client.get(f"/my/cases/{case_id}")
    assert response.status_code == 200
    html = text(response)
    assert "已提交,待审核" in html and "10个工作日" in html
    assert "张秀英" in html
    assert national_id() not in html and "110***********" in html  # masked for the family
    assert "138****5678" in html
    assert "提交申请" in html and 'class="timeline"' in html
    assert "撤回申请" in html


def test_case_page_as_an_htmx_fragment_is_status_and_timeline(client, app_rt, login, family, staff):
    case_id = arrange(app_rt, family.actor, staff, Step.APPROVED)
    login(family)
    response = client.get(f"/my/cases/{case_id}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = text(response)
    assert "<html" not in html and 'id="case-live"' in html
    assert "审核通过,待入户评估" in html and "审核通过" in html and 'class="timeline"' in html
    assert "张秀英" not in html  # the elder's details stay on the full page
    assert "HX-Request" in response.headers["Vary"]


def test_family_supplies_information_when_returned(client, app_rt, login, family, staff):
    case_id = arrange(app_rt, family.actor, staff, Step.SUBMITTED)
    cw = staff["caseworker"]
    app_rt.retrofit.return_for_information(cw, case_id, version(app_rt, cw, case_id),
                                           request="请补充低保证的照片。")  # fmt: skip
    app_rt.catch_up()
    token = login(family)
    page = text(client.get(f"/my/cases/{case_id}"))
    assert "请补充低保证的照片。" in page and "提交补充信息" in page
    current = version(app_rt, family.actor, case_id)

    empty = client.post(f"/my/cases/{case_id}/supply",
                        data={"csrf_token": token, "version": current, "reply": "  "})  # fmt: skip
    assert empty.status_code == 422 and "请填写补充的信息" in text(empty)
    assert case_detail(app_rt.engine, family.actor, case_id).step == Step.RETURNED

    sent = client.post(f"/my/cases/{case_id}/supply",
                       data={"csrf_token": token, "version": current, "reply": "低保证下周送到社区。"})  # fmt: skip
    assert sent.status_code == 303 and sent.headers["Location"] == f"/my/cases/{case_id}"
    assert case_detail(app_rt.engine, family.actor, case_id).step == Step.SUBMITTED
    after = text(client.get(f"/my/cases/{case_id}"))
    assert "已补充材料" in after and "低保证下周送到社区。" in after
    assert "补充的信息已经交给审核员" in after


def test_family_confirms_the_assessed_plan(client, app_rt, login, family, staff):
    case_id = arrange(app_rt, family.actor, staff, Step.ASSESSED)
    token = login(family)
    html = text(client.get(f"/my/cases/{case_id}"))
    assert "改造方案" in html and "地面防滑处理" in html and "配置护理床" in html
    assert "3,700.00 元" in html  # the total
    # basic items only, under the cap
    assert "1,200.00 元" in html and "每户最多 3,000.00 元" in html
    assert "<strong>2,500.00 元</strong>" in html  # the household's share
    response = client.post(f"/my/cases/{case_id}/confirm",
                           data={"csrf_token": token, "version": version(app_rt, family.actor, case_id)})  # fmt: skip
    assert response.status_code == 303
    assert case_detail(app_rt.engine, family.actor, case_id).step == Step.PLAN_CONFIRMED
    after = text(client.get(f"/my/cases/{case_id}"))
    assert "确认改造方案" in after and "方案已确认,待安排施工" in after


def survey_answers(token: str, current: int, **overrides: str) -> dict[str, Any]:
    scores = dict.fromkeys(("overall", "quality", "attitude", "timeliness", "usefulness"), "5")
    return {
        "csrf_token": token,
        "version": current,
        **scores,
        "comment": "师傅很细心。",
    } | overrides


def test_family_answers_the_survey_after_acceptance(client, app_rt, login, family, staff):
    case_id = arrange(app_rt, family.actor, staff, Step.ACCEPTED)
    token = login(family)
    assert f"/my/cases/{case_id}/survey" in text(client.get(f"/my/cases/{case_id}"))
    form = text(client.get(f"/my/cases/{case_id}/survey"))
    assert "总体来说" in form and "5分 很满意" in form and "1分 很不满意" in form
    current = version(app_rt, family.actor, case_id)

    missing = survey_answers(token, current)
    del missing["quality"]
    bad = client.post(f"/my/cases/{case_id}/survey", data=missing)
    assert bad.status_code == 422 and "请为这个问题选择1到5分" in text(bad)
    assert "师傅很细心。" in text(bad)  # the comment is kept
    out_of_scale = client.post(
        f"/my/cases/{case_id}/survey", data=survey_answers(token, current, overall="7")
    )
    assert out_of_scale.status_code == 422
    too_long = client.post(
        f"/my/cases/{case_id}/survey", data=survey_answers(token, current, comment="好" * 1001)
    )
    assert too_long.status_code == 422 and "1000字以内" in text(too_long)
    assert case_detail(app_rt.engine, family.actor, case_id).step == Step.ACCEPTED

    ok = client.post(
        f"/my/cases/{case_id}/survey", data=survey_answers(token, current, attitude="4")
    )
    assert ok.status_code == 303
    detail = case_detail(app_rt.engine, family.actor, case_id)
    assert (detail.step, detail.survey_overall) == (Step.SURVEYED, 5)
    assert "完成满意度回访" in text(client.get(f"/my/cases/{case_id}"))
    assert "满意度回访在验收通过后填写" in text(client.get(f"/my/cases/{case_id}/survey"))


def test_family_withdraws_with_a_reason(client, app_rt, login, family, staff):
    case_id = arrange(app_rt, family.actor, staff, Step.APPROVED)
    token = login(family)
    page = client.get(f"/my/cases/{case_id}/withdraw")
    assert page.status_code == 200 and "请简单说说为什么撤回" in text(page)
    current = version(app_rt, family.actor, case_id)

    no_reason = client.post(f"/my/cases/{case_id}/withdraw",
                            data={"csrf_token": token, "version": current, "reason": ""})  # fmt: skip
    assert no_reason.status_code == 422 and "请写明撤回的原因" in text(no_reason)
    assert case_detail(app_rt.engine, family.actor, case_id).step == Step.APPROVED

    done = client.post(f"/my/cases/{case_id}/withdraw",
                       data={"csrf_token": token, "version": current, "reason": "老人搬去和子女同住了。"})  # fmt: skip
    assert done.status_code == 303
    assert case_detail(app_rt.engine, family.actor, case_id).step == Step.WITHDRAWN
    after = text(client.get(f"/my/cases/{case_id}"))
    assert "撤回申请" in after and "老人搬去和子女同住了。" in after and "已撤回" in after
    assert f"/my/cases/{case_id}/withdraw" not in after


def test_withdrawing_after_works_started_is_refused_with_a_clear_message(
    client, app_rt, login, family, staff
):
    case_id = arrange(app_rt, family.actor, staff, Step.WORKS_STARTED)
    token = login(family)
    assert f"/my/cases/{case_id}/withdraw" not in text(client.get(f"/my/cases/{case_id}"))
    assert "不能再撤回" in text(client.get(f"/my/cases/{case_id}/withdraw"))
    response = client.post(f"/my/cases/{case_id}/withdraw", data={
        "csrf_token": token, "version": version(app_rt, family.actor, case_id), "reason": "不想要了",
    })  # fmt: skip
    assert response.status_code == 422
    assert "施工开始以后,就不能再撤回申请了" in text(response)
    assert case_detail(app_rt.engine, family.actor, case_id).step == Step.WORKS_STARTED


# -- stale forms -------------------------------------------------------------------------------


def test_a_stale_withdraw_gets_409_the_current_state_and_changes_nothing(
    client, app_rt, login, family, staff
):
    case_id = arrange(app_rt, family.actor, staff, Step.SUBMITTED)
    token = login(family)
    seen = version(app_rt, family.actor, case_id)
    assert f'value="{seen}"' in text(client.get(f"/my/cases/{case_id}/withdraw"))
    cw = staff["caseworker"]
    app_rt.retrofit.approve(cw, case_id, seen, assessor_id=staff["assessor"].user_id)  # meanwhile

    response = client.post(f"/my/cases/{case_id}/withdraw",
                           data={"csrf_token": token, "version": seen, "reason": "不要了"})  # fmt: skip
    assert response.status_code == 409
    html = text(response)
    assert "有人更新了这个案件" in html
    assert "审核通过,待入户评估" in html  # the current state
    assert f'value="{seen + 1}"' in html and "不要了" in html  # fresh version, typed reason kept
    assert case_detail(app_rt.engine, family.actor, case_id).step == Step.APPROVED


def test_a_stale_plan_confirmation_gets_409_with_the_new_plan(client, app_rt, login, family, staff):
    case_id = arrange(app_rt, family.actor, staff, Step.ASSESSED)
    token = login(family)
    seen = version(app_rt, family.actor, case_id)
    assessor = staff["assessor"]
    app_rt.retrofit.assess(
        assessor,
        case_id,
        seen,
        lines=[
            {"code": "T01", "quantity": 2, "unit_price": Decimal("150")},
        ],
    )  # fmt: skip  the assessor corrects the plan meanwhile
    response = client.post(
        f"/my/cases/{case_id}/confirm", data={"csrf_token": token, "version": seen}
    )
    assert response.status_code == 409
    html = text(response)
    assert "有人更新了这个案件" in html and "300.00" in html  # the corrected total
    detail = case_detail(app_rt.engine, family.actor, case_id)
    assert (detail.step, detail.version) == (Step.ASSESSED, seen + 1)


# -- the family's list -------------------------------------------------------------------------


def test_my_cases_empty_state_links_to_start(client, login, family):
    login(family)
    response = client.get("/my/cases")
    assert response.status_code == 200
    assert "您还没有提交过申请" in text(response) and 'href="/apply"' in text(response)


def test_my_cases_lists_only_own_cases_and_serves_an_htmx_fragment(
    client, app_rt, login, make_user, family, staff
):
    mine = apply_for(app_rt, family.actor)
    other = make_user(Role.FAMILY)
    apply_for(app_rt, other.actor, elder=elder(name="李桂兰", national_id=national_id(seq="456")))
    app_rt.catch_up()
    login(family)
    html = text(client.get("/my/cases"))
    assert "张秀英" in html and "李桂兰" not in html
    fragment = client.get("/my/cases", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in text(fragment) and f"/my/cases/{mine}" in text(fragment)
    assert client.get("/my/cases?cursor=garbage").status_code == 404
