"""In a real browser: a family applies for meal service, a caseworker approves, the canteen
logs the day's meals, and the family sees the enrolment and the meal on its case page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from events.roles import Role
from tests.conftest import PASSWORD
from tests.support.meals import open_canteen
from tests.support.scenario import national_id


def _sign_in(page: Page, base: str, login: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("手机号码或登录名").fill(login)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def _next(page: Page) -> None:
    page.get_by_role("button", name="继续").click()


def _register_family(page: Page, base: str) -> None:
    page.goto(base + "/")
    page.get_by_role("link", name="申请老年助餐").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("申请老年助餐")
    page.get_by_role("link", name="还没有账户?用手机号码注册").click()
    page.get_by_label("手机号码").fill("13900003333")
    page.get_by_label("您的称呼").fill("王建国")
    page.get_by_label("设置密码").fill(PASSWORD)
    page.get_by_label("再输入一次密码").fill(PASSWORD)
    page.get_by_role("button", name="注册").click()


def _apply(page: Page, base: str) -> str:
    """The meal wizard, one question a page; returns the reference on the confirmation."""
    page.goto(base + "/apply/meal")
    page.get_by_role("button", name="开始申请").click()
    page.get_by_label("老人姓名").fill("王秀英")
    page.get_by_label("老人的身份证号码").fill(national_id("19450307"))
    _next(page)
    page.get_by_label("老人的联系电话").fill("13812345678")
    _next(page)
    page.get_by_label("区县").select_option(label="安康区")
    page.get_by_label("街道(乡镇)和社区(村)").select_option(label="和平街道 春晖社区")
    page.get_by_label("详细地址").fill("和平路12号3单元201室")
    _next(page)
    page.get_by_label("低保家庭").check()
    _next(page)
    page.get_by_label("半失能(部分生活需要帮助)").check()
    _next(page)
    page.get_by_label("独居").check()
    _next(page)
    page.get_by_label("子女").check()
    _next(page)
    # The canteen page offers only the open canteens of the elder's district.
    expect(page.locator("main")).not_to_contain_text("南湖老年食堂")
    page.get_by_label(re.compile("春晖社区老年食堂")).check()
    _next(page)
    page.get_by_label("送餐上门").check()
    _next(page)
    page.get_by_label("低保家庭").check()
    _next(page)
    page.get_by_label(re.compile("饮食上")).fill("糖尿病,少糖少盐。")
    _next(page)

    expect(page.get_by_role("heading", level=1)).to_contain_text("检查")
    expect(page.locator("main")).to_contain_text("春晖社区老年食堂")
    page.get_by_role("button", name=re.compile("提交")).click()
    reference = page.locator(".panel-confirm .reference").inner_text().strip()
    assert re.fullmatch(r"ZC-[0-9A-Z]{4}-[0-9A-Z]{4}", reference)
    return reference


def test_family_applies_for_meals_and_sees_the_days_served(
    page: Page, live_server, screenshot_dir
) -> None:
    base, rt = live_server.url, live_server.runtime
    canteen = open_canteen(rt, name="春晖社区老年食堂")
    open_canteen(rt, district="D02", name="南湖老年食堂")
    rt.catch_up()
    rt.accounts.create_staff(login="cw-d01", password=PASSWORD, display_name="安康区审核员",
                             role=Role.CASEWORKER, district="D01")  # fmt: skip
    rt.accounts.create_staff(login="canteen-chunhui", password=PASSWORD, display_name="春晖食堂",
                             role=Role.PROVIDER, district="D01", facility_id=str(canteen))  # fmt: skip

    _register_family(page, base)
    reference = _apply(page, base)
    page.screenshot(path=str(screenshot_dir / "meal-confirmation.png"), full_page=True)

    # The caseworker approves on the staff meal review page.
    staff = page.context.browser.new_context()
    cw = staff.new_page()
    _sign_in(cw, base, "cw-d01")
    cw.goto(base + "/cases/meals")
    cw.get_by_role("link", name=reference).click()
    expect(cw.locator("main")).to_contain_text("王秀英")
    cw.get_by_role("button", name="审核通过").click()
    expect(cw.locator(".notice").first).to_contain_text("已开通助餐")
    cw.screenshot(path=str(screenshot_dir / "meal-caseworker-approved.png"), full_page=True)
    staff.close()

    # The canteen's provider ticks the elder on today's meals and records the day.
    canteen_context = page.context.browser.new_context()
    provider = canteen_context.new_page()
    _sign_in(provider, base, "canteen-chunhui")
    provider.get_by_role("link", name="登记今天的用餐").click()
    provider.get_by_label(re.compile("王秀英")).check()
    provider.get_by_label("散客人数").fill("5")
    provider.get_by_role("button", name="登记", exact=True).click()
    expect(provider.locator(".notice").first).to_contain_text("已登记")
    provider.screenshot(path=str(screenshot_dir / "meal-provider-recorded.png"), full_page=True)
    canteen_context.close()

    # Back with the family: the enrolment and today's meal, in plain words.
    today = rt.meals.today().isoformat()
    page.goto(base + "/my/cases")
    expect(page.locator("main")).to_contain_text("老年助餐")
    page.get_by_role("link", name=re.compile(reference)).click()
    expect(page.locator(".timeline")).to_contain_text("审核通过,开通助餐")
    expect(page.locator("main")).to_contain_text("已开通助餐")
    expect(page.locator("main")).to_contain_text("送餐上门")
    expect(page.locator(f'time[datetime="{today}"]')).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "meal-family-case.png"), full_page=True)
