"""The supervision dashboard in the portal: targets against actuals as at a day, with the rule
behind each status, charts with text equivalents, late and stuck work, filters (full page and
htmx), the workbook and the printable page, the admin's target forms, and the public progress
page that carries city-wide figures only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from io import BytesIO
from uuid import UUID

import pytest
from openpyxl import load_workbook

from events.clock import frozen_at
from events.facility import Kind
from events.roles import Actor, Role
from projections.retrofit_queries import case_detail
from tests.conftest import PASSWORD, csrf_token_of
from tests.support.actors import ADMIN, walk
from tests.support.facilities import D02
from tests.support.facilities import register as register_facility
from tests.support.scenario import apply, elder, national_id

# Targets are set on 1 March (the straight line starts there); pages are read on 20 March.
SET_ON = datetime(2026, 3, 1, 2, tzinfo=UTC)
NOW = datetime(2026, 3, 20, 2, tzinfo=UTC)
D02_ELDER = {"name": "李桂兰", "national_id": national_id("19400512", seq="456"),
             "phone": "13987654321"}  # fmt: skip


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    """Every request happens on 20 March 2026 in the city unless a step says otherwise."""
    with frozen_at(NOW):
        yield


def at(day: int) -> AbstractContextManager[None]:
    """Record what follows as if on that day of March 2026 (10:00 in the city)."""
    return frozen_at(datetime(2026, 3, day, 2, tzinfo=UTC))


@pytest.fixture
def scene(app_rt) -> dict[str, UUID]:
    """D01 must accept 10 households by 30 September and D02 4; the city wants 90% satisfied.
    D01 accepts one household on 2 March and another on 5 March (who answers the survey:
    satisfied); a D02 application waits at review from 1 March (limit 10 days); a D02 canteen
    was due on 10 March and is not open."""
    rt = app_rt
    with at(1):
        d01 = rt.targets.set_target(ADMIN, metric_code="retrofit_accepted", district="D01",
                                    value="10", deadline="2026-09-30")  # fmt: skip
        rt.targets.set_target(ADMIN, metric_code="retrofit_accepted", district="D02", value="4",
                              deadline="2026-09-30")  # fmt: skip
        rt.targets.set_target(ADMIN, metric_code="retrofit_satisfaction", district="",
                              value="90", deadline="2026-12-31")  # fmt: skip
        waiting = apply(rt, Actor("family-d02", Role.FAMILY), district="D02", street="南湖街道",
                        community="南湖社区", elder=elder(**D02_ELDER))  # fmt: skip
        canteen = register_facility(rt, Kind.CANTEEN, place=D02, name="南湖老年助餐食堂",
                                    planned_on=date(2026, 1, 5), deadline=date(2026, 3, 10))  # fmt: skip
    with at(2):
        first = walk(rt, "accepted")
    with at(5):
        walk(rt, "surveyed")
    rt.catch_up()
    return {"d01_target": d01, "waiting": waiting, "canteen": canteen, "first": first}


@pytest.fixture
def supervisor(make_user):
    return make_user(Role.SUPERVISOR, district="", name="督导老周")


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, district="", name="管理员")


def html_of(response) -> str:
    return response.get_data(as_text=True)


def rows(html: str) -> list[str]:
    """The districts of the target rows shown ("city" for a city-wide target)."""
    return re.findall(r'<tr class="target-row" data-district="([^"]+)"', html)


# -- the dashboard ---------------------------------------------------------------------------
def test_supervisor_sees_each_target_against_its_actual_with_the_rule_written_out(
    client, login, app_rt, scene, supervisor
):
    login(supervisor)
    response = client.get("/supervision")
    assert response.status_code == 200
    html = html_of(response)
    assert rows(html) == ["D01", "D02", "city"]
    # D01: 2 of 10 by 20 March; the straight line from 1 March to 30 September stands at
    # 10 × 19/213 = 0.89, so green; at 2 a month the 8 left take 120 days: 18 July.
    assert "完成改造并通过验收的家庭" in html and "10 户" in html and "2 户" in html
    assert "20%" in html and "还剩 194 天" in html and "2026-07-18" in html
    assert "绿</span>:实际进度不低于计划线(计划线今天应达 0.89 户)" in html
    # D02: none of 4; the line stands at 0.36, within 10% of the target (0.4) of it: amber.
    assert "黄</span>:落后于计划线,但差距不超过目标值的10%(计划线今天应达 0.36 户)" in html
    assert "最近30天没有进展,无法推算" in html
    # The city's satisfaction: one answer, satisfied: 100% against 90%.
    assert "绿</span>:不低于目标值 90%" in html
    # The whole rule, with its margin and pace, beside the table.
    assert "红、黄、绿是怎么判定的" in html
    assert "红:落后于计划线超过目标值的10%,或已过截止日期仍未达到目标。" in html
    assert "预计完成:按最近30天的完成量推算达到目标的日期。" in html


def test_charts_are_svg_images_with_a_title_a_sentence_and_a_table(
    client, login, scene, supervisor
):
    login(supervisor)
    html = html_of(client.get("/supervision"))
    assert html.count('role="img"') >= 4  # two sets of bars, two burn-ups, satisfaction
    assert (
        '<title id="bars-retrofit_accepted-title">完成改造并通过验收的家庭:各区县完成情况</title>'
        in html
    )
    assert "安康区 已完成 2 户,目标 10 户,完成 20%,状态绿。" in html
    assert "永宁区 已完成 0 户,目标 4 户,完成 0%,状态黄。" in html
    assert "状态:绿" in html  # the words beside each bar, never colour alone
    burn_up = f"burnup-{scene['d01_target']}"
    assert f'aria-labelledby="{burn_up}-title" aria-describedby="{burn_up}-desc"' in html
    assert "截止 2026-09-30" in html and "虚线:计划线" in html
    assert "各月累计完成" in html  # the burn-up's figures as a table
    assert "满意度变化(按月)" in html and "2026-03 适老化改造满意度 100%(1 份答卷)" in html
    assert "style=" not in html  # the CSP forbids inline styles


def test_late_and_stuck_work_link_to_the_case_and_the_facility(client, login, scene, supervisor):
    login(supervisor)
    html = html_of(client.get("/supervision"))
    assert f'href="/cases/{scene["waiting"]}"' in html
    assert "已提交,待审核" in html and "19 天" in html and "超出 9 天" in html
    assert f'href="/facilities/{scene["canteen"]}"' in html and "南湖老年助餐食堂" in html
    assert "超期 10 天" in html
    board = html[html.index("各区县按时办理率排名") :]
    assert board.index("安康区") < board.index("永宁区")  # D01 all on time, D02 has two late


def test_htmx_gets_only_the_results_region(client, login, scene, supervisor):
    login(supervisor)
    page = html_of(client.get("/supervision"))
    assert 'hx-get="/supervision"' in page and 'hx-target="#supervision-results"' in page
    assert 'hx-push-url="true"' in page and 'id="live-region"' in page
    response = client.get("/supervision?district=D02", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    html = html_of(response)
    assert "<html" not in html and "<form" not in html
    assert rows(html) == ["D02"]
    assert 'data-announce="已显示 永宁区 截至 2026-03-20 的情况:共 1 项目标' in html


def test_filters_narrow_to_one_district_and_one_programme(client, login, scene, supervisor):
    login(supervisor)
    html = html_of(client.get("/supervision?district=D01"))
    assert rows(html) == ["D01"]
    assert f'href="/cases/{scene["waiting"]}"' not in html  # D02's stuck case is not D01's
    assert "南湖老年助餐食堂" not in html
    facilities = html_of(client.get("/supervision?programme=facility"))
    assert rows(facilities) == [] and "这个项目还没有设定目标。" in facilities
    assert "满意度变化" not in facilities  # neither of its surveys is the institutions'
    assert "南湖老年助餐食堂" not in facilities  # a canteen is home and community care


def test_as_at_a_past_day_shows_the_figures_and_targets_of_that_day(
    client, login, app_rt, scene, supervisor
):
    target = scene["d01_target"]
    with at(10):
        version = app_rt.targets.target(target).version
        app_rt.targets.revise(ADMIN, target, version, value="12", deadline="2026-09-30",
                              reason="省里追加任务")  # fmt: skip
    app_rt.catch_up()
    login(supervisor)
    live = html_of(client.get("/supervision?district=D01"))
    assert "12 户" in live and "2 户" in live
    before = html_of(client.get("/supervision?district=D01&as_at=2026-03-03"))
    assert "截至 2026-03-03 日终" in before
    assert "10 户" in before and "12 户" not in before  # the target before its revision
    assert "1 户" in before and "10%" in before  # one household accepted by 3 March
    assert "计划线在 2026-03-03 应达 0.09 户" in before
    assert "这是 2026-03-03 结束时的情况" in before
    empty = html_of(client.get("/supervision?as_at=2026-02-28"))
    assert rows(empty) == [] and "这个项目还没有设定目标。" in empty


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("district=D09", "没有这个区县,请从列表中选择。"),
        ("programme=palace", "没有这个项目,请从列表中选择。"),
        ("period=forever", "没有这个时间范围,请从列表中选择。"),
        ("as_at=2026-13-01", "请填写正确的日期,例如 2026-10-31。"),
        ("as_at=2026-03-21", "截至日期不能晚于今天"),
    ],
)
def test_a_bad_filter_is_a_clear_400(client, login, scene, supervisor, query, message):
    login(supervisor)
    response = client.get(f"/supervision?{query}")
    assert response.status_code == 400
    html = html_of(response)
    assert message in html and "请修改以下内容" in html and "Traceback" not in html
    htmx = client.get(f"/supervision?{query}", headers={"HX-Request": "true"})
    assert htmx.status_code == 400 and htmx.headers["HX-Redirect"] == f"/supervision?{query}"
    assert client.get(f"/supervision/report.xlsx?{query}").status_code == 400


@pytest.mark.parametrize("query", ["period=%20", "as_at=%20%20", "programme=%E3%80%80"])
def test_a_blank_looking_filter_means_the_default(client, login, scene, supervisor, query):
    login(supervisor)
    for path in ("/supervision", "/supervision/print", "/supervision/report.xlsx"):
        assert client.get(f"{path}?{query}").status_code == 200, path


SEE_ALL = (Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR)


def test_who_may_open_the_dashboard(app, scene, make_user):
    def status(role: str, path: str = "/supervision") -> int:
        client = app.test_client()
        if role in SEE_ALL:
            user = make_user(role, district="")
        else:
            user = make_user(
                role, facility_id=str(scene["canteen"]) if role == Role.PROVIDER else ""
            )
        token = csrf_token_of(client, "/login")
        client.post("/login", data={"login": user.login, "password": PASSWORD,
                                    "csrf_token": token})  # fmt: skip
        return client.get(path).status_code

    for role in SEE_ALL:
        assert status(role) == 200, role
        assert status(role, "/supervision/print") == 200, role
    for role in (Role.FAMILY, Role.CASEWORKER, Role.PROVIDER):
        assert status(role) == 403, role
        assert status(role, "/supervision/report.xlsx") == 403, role
    anonymous = app.test_client().get("/supervision")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    htmx = app.test_client().get("/supervision", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and "/login" in htmx.headers["HX-Redirect"]


# -- reports -----------------------------------------------------------------------------------
def test_the_workbook_has_a_sheet_per_programme_with_numbers_as_numbers(
    client, login, scene, supervisor
):
    login(supervisor)
    response = client.get("/supervision/report.xlsx?as_at=2026-03-20")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(BytesIO(response.data))
    assert book.sheetnames == ["适老化改造", "居家和社区养老", "特困人员供养服务机构", "资金拨付",
                               "养老护理队伍"]  # fmt: skip
    sheet = book["适老化改造"]
    header = [c.value for c in sheet[1]]
    assert header == ["指标", "区县", "目标值", "实际值", "完成率", "截止日期", "剩余天数",
                      "预计完成", "状态", "判定规则"]  # fmt: skip
    d01 = [c.value for c in sheet[2]]
    assert d01[:2] == ["完成改造并通过验收的家庭(户)", "安康区"]
    assert d01[2] == 10 and d01[3] == 2 and d01[4] == pytest.approx(0.2)
    assert d01[5] == datetime(2026, 9, 30) and d01[6] == 194 and d01[7] == datetime(2026, 7, 18)
    assert d01[8] == "绿" and d01[9] == "实际进度不低于计划线(计划线今天应达 0.89 户)"
    assert sheet.cell(row=2, column=5).number_format == "0.0%"
    assert [c.value for c in book["资金拨付"][1]] == header  # empty programmes keep their headers


def test_the_printable_page_has_no_navigation_and_a_page_per_programme(
    client, login, scene, supervisor
):
    login(supervisor)
    response = client.get("/supervision/print?as_at=2026-03-20")
    assert response.status_code == 200
    html = html_of(response)
    assert 'media="print"' in html and "/static/print.css" in html
    assert "main-nav" not in html and "<form" not in html and "hx-get" not in html
    assert html.count('class="programme-section print-programme"') == 5
    assert "截至 2026-03-20 日终 · 全部区县" in html
    assert "绿</span>:实际进度不低于计划线(计划线今天应达 0.89 户)" in html
    dashboard = html_of(client.get("/supervision"))
    assert 'href="/static/print.css" media="print"' in dashboard


# -- the admin's targets -------------------------------------------------------------------------
def test_admin_sets_a_target_and_sees_it_listed(client, login, app_rt, admin):
    token = login(admin)
    form = html_of(client.get("/supervision/targets/new"))
    assert '<optgroup label="居家和社区养老">' in form and ">全市</option>" in form
    response = client.post("/supervision/targets/new", data={
        "csrf_token": token, "metric": "care_hours", "district": "city", "value": "12000",
        "deadline": "2026-12-31", "note": "市政府工作报告"})  # fmt: skip
    assert response.status_code == 303 and response.headers["Location"] == "/supervision/targets"
    listed = html_of(client.get("/supervision/targets"))
    assert "已设定目标。" in listed and "上门照护服务时长" in listed and "12,000 小时" in listed
    assert "2026-03-20" in listed and "2026-12-31" in listed
    board = html_of(client.get("/supervision"))
    assert "上门照护服务时长" in board and "全市" in board


def test_a_bad_target_comes_back_422_with_the_message_at_the_field(client, login, admin, scene):
    token = login(admin)
    data = {"csrf_token": token, "metric": "retrofit_satisfaction", "district": "D03",
            "value": "120", "deadline": "2026-12-31", "note": ""}  # fmt: skip
    response = client.post("/supervision/targets/new", data=data)
    assert response.status_code == 422
    html = html_of(response)
    assert "请修改以下内容" in html
    assert 'id="value-error"' in html and "百分比类指标填0到100之间的数" in html
    assert 'value="120"' in html  # what was typed is kept
    past = client.post("/supervision/targets/new", data=data | {"value": "90",
                                                                 "deadline": "2026-03-01"})  # fmt: skip
    assert past.status_code == 422 and 'id="deadline-error"' in html_of(past)
    unchosen = client.post("/supervision/targets/new", data=data | {"metric": ""})
    assert unchosen.status_code == 422 and "请从列表中选择指标。" in html_of(unchosen)
    twice = client.post("/supervision/targets/new", data=data | {
        "metric": "retrofit_accepted", "district": "D01", "value": "5"})  # fmt: skip
    assert twice.status_code == 422 and "这个指标在这个区县已经设定了目标" in html_of(twice)


def test_admin_revises_a_target_with_a_reason(client, login, app_rt, admin, scene):
    token = login(admin)
    target = scene["d01_target"]
    form = html_of(client.get(f"/supervision/targets/{target}/revise"))
    assert 'value="10"' in form and 'value="2026-09-30"' in form and 'name="version"' in form
    version = app_rt.targets.target(target).version
    data = {"csrf_token": token, "version": str(version), "value": "15", "deadline": "2026-10-31"}
    missing = client.post(f"/supervision/targets/{target}/revise", data=data | {"reason": ""})
    assert missing.status_code == 422 and 'id="reason-error"' in html_of(missing)
    done = client.post(f"/supervision/targets/{target}/revise", data=data | {"reason": "追加任务"})
    assert done.status_code == 303
    assert "15 户" in html_of(client.get("/supervision?district=D01"))
    stale = client.post(f"/supervision/targets/{target}/revise", data=data | {"reason": "再改"})
    assert stale.status_code == 409
    html = html_of(stale)
    assert "这个目标已经被调整了" in html and f'value="{version + 1}"' in html


def test_admin_withdraws_a_target_and_can_set_it_again(client, login, app_rt, admin, scene):
    token = login(admin)
    target = scene["d01_target"]
    assert "撤销这项目标" in html_of(client.get(f"/supervision/targets/{target}/withdraw"))
    version = app_rt.targets.target(target).version
    data = {"csrf_token": token, "version": str(version), "reason": "任务调整到永宁区"}
    assert client.post(f"/supervision/targets/{target}/withdraw", data=data).status_code == 303
    listed = html_of(client.get("/supervision/targets"))
    assert "已撤销的目标" in listed and "任务调整到永宁区" in listed
    assert 'href="/supervision/targets/new?metric=retrofit_accepted&amp;district=D01"' in listed
    assert rows(html_of(client.get("/supervision?programme=retrofit"))) == ["D02", "city"]
    again = client.post(f"/supervision/targets/{target}/withdraw",
                        data=data | {"version": str(version + 1)})  # fmt: skip
    assert again.status_code == 409 and "这个目标已经撤销过了。" in html_of(again)
    gone = client.get(f"/supervision/targets/{target}/revise")
    assert gone.status_code == 303


def test_only_admins_manage_targets(client, login, scene, supervisor):
    token = login(supervisor)
    assert client.get("/supervision/targets").status_code == 403
    assert client.get("/supervision/targets/new").status_code == 403
    posted = client.post("/supervision/targets/new", data={
        "csrf_token": token, "metric": "care_hours", "district": "city", "value": "1",
        "deadline": "2026-12-31"})  # fmt: skip
    assert posted.status_code == 403
    target = scene["d01_target"]
    assert client.get(f"/supervision/targets/{target}/withdraw").status_code == 403


# -- the public page -----------------------------------------------------------------------------
def test_public_page_shows_city_figures_without_personal_data(client, app_rt, scene):
    response = client.get("/progress")
    assert response.status_code == 200
    assert response.cache_control.public and response.cache_control.max_age == 300
    assert "Set-Cookie" not in response.headers
    html = html_of(response)
    assert "全市养老服务进展" in html and "少于5" in html  # two households: too few to publish
    assert "回访答卷少于5份" in html  # one survey answer: no rate
    reference = case_detail(app_rt.engine, ADMIN, scene["first"]).reference
    personal = ["张秀英", "李桂兰", "13812345678", "13987654321", national_id(),
                D02_ELDER["national_id"], reference, "SL-", "南湖老年助餐食堂"]  # fmt: skip
    assert not [p for p in personal if p in html]
    assert not [d for d in ("安康区", "永宁区", "长乐县", "富平县") if d in html]
    assert not re.search(r"\d{17}[\dX]", html) and not re.search(r"1\d{10}", html)
