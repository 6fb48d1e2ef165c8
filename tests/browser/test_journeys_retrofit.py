"""In a real browser, on a desktop and on a phone in elder mode: the retrofit programme's roles
each walk their main journey, every page audited (issue 8, item 6).

The family applies and answers the survey; the caseworker reviews; the assessor assesses; the
inspector accepts with a photo. Steps that belong to other roles are taken through the services.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from playwright.sync_api import Browser, Page, expect

from events.retrofit import Step
from tests.browser.support_journey import SCREENS, Journey, Screen, reference_in, start
from tests.browser.support_retrofit_journeys import arrow_to, make_cast, site_photo, tab_to
from tests.support.scenario import apply, elder, national_id
from tests.support.staff_helpers import detail

Open = Callable[[Screen, str], Journey]
ON_EVERY_SCREEN = pytest.mark.parametrize("screen", SCREENS, ids=lambda s: s.name)


@pytest.fixture
def open_journey(browser: Browser, live_server, screenshot_dir: Path) -> Iterator[Open]:
    """Start journeys on the live portal; their browser contexts are closed afterwards."""
    opened: list[Journey] = []

    def open_(screen: Screen, label: str) -> Journey:
        journey = start(browser, live_server.url, screen, screenshot_dir, label)
        opened.append(journey)
        return journey

    yield open_
    for journey in opened:
        journey.page.context.close()


def _arrive(journey: Journey, name: str) -> None:
    """Wait for a question page of the wizard, then audit it."""
    expect(journey.page).to_have_url(re.compile(rf"/apply/[0-9a-f-]{{36}}/{name}$"))
    journey.check(f"question: {name}")


def _next(page: Page) -> None:
    page.get_by_role("button", name="继续").click()


def _apply_through_the_wizard(journey: Journey) -> str:
    """The whole application, one question a page; returns the reference confirmed."""
    page = journey.page
    page.get_by_role("link", name="申请居家适老化改造").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申请居家适老化改造")
    journey.check("start page")
    page.get_by_role("button", name="开始申请").click()

    # The first page with the keyboard only: Tab to the name, type, Tab on, type, Enter.
    _arrive(journey, "elder")
    tab_to(page, page.get_by_label("老人姓名"))
    page.keyboard.type("王秀英")
    page.keyboard.press("Tab")
    page.keyboard.type(national_id("19450307", seq="124"))  # a woman
    page.keyboard.press("Enter")

    _arrive(journey, "phone")
    page.get_by_label("老人的联系电话").fill("13812345678")
    _next(page)

    # Choosing the district narrows the communities in place (htmx).
    _arrive(journey, "address")
    page.get_by_label("区县").select_option(label="安康区")
    expect(page.locator("#place-field optgroup")).to_have_count(1)
    journey.check("question: address, communities narrowed")
    page.get_by_label("街道(乡镇)和社区(村)").select_option(label="和平街道 春晖社区")
    page.get_by_label("详细地址").fill("和平路12号3单元201室")
    _next(page)

    # The household's category with the keyboard only: Tab into the group, arrows, Tab, Enter.
    _arrive(journey, "household")
    tab_to(page, page.get_by_role("radio").first)
    arrow_to(page, page.get_by_label("低保家庭", exact=True))
    tab_to(page, page.get_by_role("button", name="继续"))
    page.keyboard.press("Enter")

    for name, choice in (("health", "半失能(部分生活需要帮助)"), ("living", "独居"),
                         ("relation", "子女")):  # fmt: skip
        _arrive(journey, name)
        page.get_by_label(choice).check()
        _next(page)

    _arrive(journey, "needs")
    page.get_by_label(re.compile("家里哪些地方")).fill("卫生间地滑,想装扶手;床太矮,起身困难。")
    _next(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("检查您填写的内容")
    expect(page.locator("main")).to_contain_text("王秀英")
    expect(page.locator("main")).to_contain_text("和平街道 春晖社区")
    journey.check("check your answers")
    journey.shot("check-answers")
    page.get_by_role("button", name=re.compile("提交")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("申请已提交")
    reference = page.locator(".panel-confirm .reference").inner_text().strip()
    assert re.fullmatch(r"SL-[0-9A-Z]{4}-[0-9A-Z]{4}", reference)
    journey.check("confirmation")
    journey.shot("confirmation")
    return reference


def _answer_the_survey(journey: Journey) -> None:
    """Five questions, one score each, and a comment."""
    page = journey.page
    page.get_by_role("link", name="填写满意度回访").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("满意度回访")
    journey.check("survey")
    for question, score in (("总体来说", "5分 很满意"), ("质量", "4分 满意"),
                            ("态度", "5分 很满意"), ("按时", "4分 满意"),
                            ("更方便", "5分 很满意")):  # fmt: skip
        page.get_by_role("group", name=re.compile(question)).get_by_label(score).check()
    page.get_by_label(re.compile("还有什么想对我们说的")).fill("扶手很结实,老人洗澡放心多了。")
    journey.shot("survey")
    page.get_by_role("button", name="提交评价").click()


@ON_EVERY_SCREEN
def test_family_applies_and_answers_the_survey(
    screen: Screen, open_journey: Open, live_server
) -> None:
    rt = live_server.runtime
    cast = make_cast(rt)
    journey = open_journey(screen, "retrofit-family")
    page = journey.page
    journey.sign_in(cast.family.login)

    reference = _apply_through_the_wizard(journey)
    case_id = UUID(page.url.rsplit("/", 1)[-1])  # the confirmation is /apply/done/<case id>

    # Staff approve, assess, build and accept (through the services); the family confirms.
    cast.walk(rt, "accepted", case_id=case_id)

    page.get_by_role("link", name="我的申请").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的申请")
    expect(page.locator("main")).to_contain_text("验收通过,待回访")
    journey.check("my cases")
    page.get_by_role("link", name=re.compile(reference)).click()

    timeline = page.locator(".timeline li")
    expect(page.locator("#status-title")).to_contain_text("验收通过,待回访")
    expect(timeline).to_have_count(8)  # applied ... acceptance passed
    for done in ("提交申请", "审核通过", "入户评估完成", "确认改造方案", "开始施工", "验收通过"):
        expect(page.locator(".timeline")).to_contain_text(done)
    journey.check("case timeline")
    journey.shot("timeline")
    page.locator(".timeline").scroll_into_view_if_needed()
    journey.shot("timeline-screen", full_page=False)  # as the phone shows it (README)

    _answer_the_survey(journey)
    expect(page.get_by_text("谢谢您的评价!")).to_be_visible()
    expect(page.locator("#status-title")).to_contain_text("已回访")
    expect(timeline).to_have_count(9)
    expect(timeline.last).to_contain_text("完成满意度回访")
    journey.check("case timeline, surveyed")
    journey.shot("surveyed")
    assert detail(rt, cast.family.actor, case_id).step == Step.SURVEYED
    journey.assert_clean()


@ON_EVERY_SCREEN
def test_caseworker_finds_the_new_case_and_approves_it(
    screen: Screen, open_journey: Open, live_server
) -> None:
    rt = live_server.runtime
    cast = make_cast(rt)
    earlier = cast.walk(rt, "assessed")  # an older case at another step, also in the district
    new = apply(
        rt, cast.family.actor, elder=elder(name="李桂兰", national_id=national_id(seq="456"))
    )
    rt.catch_up()
    new_ref = detail(rt, cast.caseworker.actor, new).reference
    earlier_ref = detail(rt, cast.caseworker.actor, earlier).reference

    journey = open_journey(screen, "retrofit-caseworker")
    page = journey.page
    journey.sign_in(cast.caseworker.login)
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    rows = page.locator("#case-rows tbody tr")

    # All the district's cases, then only those waiting for review: each filter swaps the rows.
    page.get_by_label("全部", exact=True).check()
    expect(page).to_have_url(re.compile(r"view=all"))
    expect(rows).to_have_count(2)
    journey.check("queue, all cases")
    page.get_by_label("办理环节").select_option(Step.SUBMITTED)
    expect(page).to_have_url(re.compile(r"step=submitted"))
    expect(rows).to_have_count(1)
    expect(page.locator("#case-rows")).to_contain_text(new_ref)
    expect(page.locator("#case-rows")).not_to_contain_text(earlier_ref)
    expect(page.locator("#live-region")).to_contain_text("找到 1 个案件")
    journey.check("queue, waiting for review")
    journey.shot("queue")

    # Open the case with the keyboard only.
    tab_to(page, page.get_by_role("link", name=new_ref))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text(new_ref)
    expect(page.locator("main")).to_contain_text("李桂兰")
    expect(page.locator("main")).to_contain_text("已提交,待审核")
    journey.check("case waiting for review")

    page.get_by_label("安排哪位评估员上门").select_option(label="评估员老王")
    page.get_by_label(re.compile("审核意见")).fill("低保证明已核对。")
    page.get_by_role("button", name="审核通过").click()

    expect(page.locator(".notice").first).to_contain_text("已审核通过")
    expect(page.locator(".lead .tag")).to_have_text("审核通过,待入户评估")
    expect(page.locator("main")).to_contain_text("评估员老王")
    expect(page.locator(".timeline")).to_contain_text("审核通过")
    journey.check("case approved")
    journey.shot("approved")
    found = detail(rt, cast.caseworker.actor, new)
    assert (found.step, found.assessor_id) == (Step.APPROVED, cast.assessor.actor.user_id)
    journey.assert_clean()


@ON_EVERY_SCREEN
def test_assessor_fills_the_home_assessment(
    screen: Screen, open_journey: Open, live_server
) -> None:
    rt = live_server.runtime
    cast = make_cast(rt)
    case_id = cast.walk(rt, "approved")
    reference = detail(rt, cast.assessor.actor, case_id).reference

    journey = open_journey(screen, "retrofit-assessor")
    page = journey.page
    journey.sign_in(cast.assessor.login)
    expect(page.locator("#case-rows")).to_contain_text(reference)
    journey.check("worklist")
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    journey.check("case approved")
    page.get_by_role("link", name="填写入户评估").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("入户评估:选择改造项目")
    total = page.locator("#assessment-total")
    expect(total).to_contain_text("还没有选择项目")
    journey.check("assessment, nothing picked")

    # Basic items worth 3,600 yuan (over the 3,000 cap) and an optional care bed.
    floor = page.get_by_role("group", name="地面")
    floor.get_by_role("checkbox", name="地面防滑处理").check()
    floor.get_by_label("地面防滑处理 的数量(平方米)").fill("40")
    bathroom = page.get_by_role("group", name="如厕洗浴")
    bathroom.get_by_role("checkbox", name="安装扶手").check()
    bathroom.get_by_label("安装扶手 的数量(个)").fill("3")
    page.get_by_role("checkbox", name="配置护理床").check()
    expect(total).to_contain_text("已选项目3 项")
    journey.check("assessment, three items picked")

    # The bedside rail with the keyboard only: Tab to it, Space, Tab to its quantity, type 2.
    tab_to(page, page.get_by_role("checkbox", name="安装床边护栏(抓杆)"))
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    expect(page.get_by_label("安装床边护栏(抓杆) 的数量(个)")).to_have_value("2")
    expect(total).to_contain_text("已选项目4 项")
    expect(total).to_contain_text("6,100.00 元")
    expect(total).to_contain_text("超过了每户 3,000.00 元的补助上限")
    expect(page.locator("#live-region")).to_contain_text("政府补助 3,000.00 元")
    journey.check("assessment, live total over the cap")
    journey.shot("assessment")

    page.get_by_label(re.compile("评估说明")).fill("卫生间和卧室地面湿滑,老人起身困难。")
    page.get_by_role("button", name="保存评估结果").click()

    expect(page.locator(".notice").first).to_contain_text("评估结果已保存")
    expect(page.locator(".lead .tag")).to_have_text("已评估,待确认方案")
    plan = page.locator("main .summary-list").last
    expect(plan).to_contain_text("6,100.00 元")
    expect(plan).to_contain_text("3,000.00 元")
    expect(plan).to_contain_text("3,100.00 元")
    journey.check("case assessed")
    journey.shot("assessed")
    found = detail(rt, cast.assessor.actor, case_id)
    assert (found.step, found.subsidy, found.total_cost) == (
        Step.ASSESSED,
        Decimal("3000"),
        Decimal("6100"),
    )
    journey.assert_clean()


@ON_EVERY_SCREEN
def test_inspector_accepts_the_works_with_a_photo(
    screen: Screen, open_journey: Open, live_server, tmp_path: Path
) -> None:
    rt = live_server.runtime
    cast = make_cast(rt)
    case_id = cast.walk(rt, "works_completed")
    reference = detail(rt, cast.inspector.actor, case_id).reference

    journey = open_journey(screen, "retrofit-inspector")
    page = journey.page
    journey.sign_in(cast.inspector.login)
    expect(page.locator("#case-rows")).to_contain_text(reference)
    journey.check("worklist")
    page.get_by_role("link", name=reference).click()
    expect(page.locator(".lead .tag")).to_have_text("施工完成,待验收")
    journey.check("case waiting for acceptance")
    page.get_by_role("link", name="开始验收").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("验收")
    journey.check("acceptance form")

    # The grab bars with the keyboard only: Tab to the first check, then Space, Tab, Space ...
    bars = page.get_by_role("group", name=re.compile("^安装扶手"))
    tab_to(page, bars.get_by_label("已安装"))
    for _ in range(3):
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
    for check in ("已安装", "能正常使用", "安全牢固"):
        expect(bars.get_by_label(check)).to_be_checked()
    for item in ("地面防滑处理", "配置护理床"):
        group = page.get_by_role("group", name=re.compile(f"^{item}"))
        for check in ("已安装", "能正常使用", "安全牢固"):
            group.get_by_label(check).check()
    page.get_by_label("验收照片").set_input_files(site_photo(tmp_path))
    page.get_by_label(re.compile("验收意见")).fill("各项安装牢固,老人试用后满意。")
    journey.check("acceptance form filled")
    journey.shot("acceptance")
    page.get_by_role("button", name="提交验收结果").click()

    expect(page.locator(".notice").first).to_contain_text("验收通过")
    expect(page.locator(".lead .tag")).to_have_text("验收通过,待回访")
    photo = page.get_by_role("img", name=re.compile("验收照片 1"))
    expect(photo).to_have_count(1)
    photo.scroll_into_view_if_needed()
    expect(photo).to_have_js_property("complete", True)
    assert photo.evaluate("img => img.naturalWidth") > 0  # the stored photo is served
    journey.check("case accepted, photo listed")
    journey.shot("accepted")
    found = detail(rt, cast.inspector.actor, case_id)
    assert (found.step, found.last_acceptance_passed) == (Step.ACCEPTED, True)
    assert reference_in(page.locator("h1").inner_text()) == reference
    journey.assert_clean()
