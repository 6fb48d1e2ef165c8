"""In a real browser: a family registers and applies; a caseworker approves; the family sees it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from events.roles import Role
from tests.conftest import PASSWORD
from tests.support.scenario import national_id


def _staff(live_server, role: str, login: str, name: str) -> None:
    live_server.runtime.accounts.create_staff(
        login=login, password=PASSWORD, display_name=name, role=role, district="D01"
    )


def _sign_in(page: Page, base: str, login: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("手机号码或登录名").fill(login)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_family_applies_and_caseworker_approves(page: Page, live_server, screenshot_dir) -> None:
    base = live_server.url
    _staff(live_server, Role.CASEWORKER, "cw-d01", "安康区审核员")
    _staff(live_server, Role.ASSESSOR, "as-d01", "李评估")

    # A family member registers with a mobile number, using only the keyboard-friendly form.
    page.goto(base + "/")
    page.get_by_role("link", name="开始申请").click()
    page.get_by_role("link", name="还没有账户?用手机号码注册").click()
    page.get_by_label("手机号码").fill("13900002222")
    page.get_by_label("您的称呼").fill("王建国")
    page.get_by_label("设置密码").fill(PASSWORD)
    page.get_by_label("再输入一次密码").fill(PASSWORD)
    page.get_by_role("button", name="注册").click()

    # The application, one question a page; a wrong ID number is explained, then fixed.
    page.goto(base + "/apply")
    page.get_by_role("button", name="开始申请").click()
    page.get_by_label("老人姓名").fill("王秀英")
    page.get_by_label("老人的身份证号码").fill("110105194503071230")
    page.get_by_role("button", name="继续").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("校验码")
    expect(page.get_by_label("老人姓名")).to_have_value("王秀英")  # what was typed is kept
    page.get_by_label("老人的身份证号码").fill(national_id("19450307"))
    page.get_by_role("button", name="继续").click()
    page.get_by_label("老人的联系电话").fill("13812345678")
    page.get_by_role("button", name="继续").click()
    page.get_by_label("区县").select_option(label="安康区")
    page.get_by_label("街道(乡镇)和社区(村)").select_option(label="和平街道 春晖社区")
    page.get_by_label("详细地址").fill("和平路12号3单元201室")
    page.get_by_role("button", name="继续").click()
    page.get_by_label("低保家庭").check()
    page.get_by_role("button", name="继续").click()
    page.get_by_label("半失能(部分生活需要帮助)").check()
    page.get_by_role("button", name="继续").click()
    page.get_by_label("独居").check()
    page.get_by_role("button", name="继续").click()
    page.get_by_label("子女").check()
    page.get_by_role("button", name="继续").click()
    page.get_by_label(re.compile("家里哪些地方")).fill("卫生间地滑,想装扶手。")
    page.get_by_role("button", name="继续").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("检查")
    expect(page.locator("main")).to_contain_text("王秀英")
    page.get_by_role("button", name=re.compile("提交")).click()
    reference = page.locator(".panel-confirm .reference").inner_text().strip()
    assert re.fullmatch(r"SL-[0-9A-Z]{4}-[0-9A-Z]{4}", reference)
    page.screenshot(path=str(screenshot_dir / "family-confirmation.png"), full_page=True)

    # The caseworker, in another browser session, finds the case in the district queue.
    staff = page.context.browser.new_context()
    cw = staff.new_page()
    _sign_in(cw, base, "cw-d01")
    expect(cw.locator("main")).to_contain_text(reference)
    cw.get_by_role("link", name=re.compile(reference)).click()
    expect(cw.locator("main")).to_contain_text("王秀英")
    cw.get_by_label("安排哪位评估员上门").select_option(label="李评估")
    cw.get_by_role("button", name="审核通过").click()
    expect(cw.locator(".notice").first).to_be_visible()
    cw.screenshot(path=str(screenshot_dir / "caseworker-approved.png"), full_page=True)
    staff.close()

    # Back with the family: the timeline says it was approved, in plain words.
    page.goto(base + "/my/cases")
    page.get_by_role("link", name=re.compile(reference)).click()
    expect(page.locator(".timeline")).to_contain_text("审核通过")
    expect(page.locator("main")).to_contain_text("评估员会打电话")

    # Nothing personal stays in the browser: no web storage but htmx's note of the current path
    # (a case id, never a name or number), no history snapshots, and the only cookie is the
    # HttpOnly session (scripts cannot read it).
    local, session, script_cookies = page.evaluate(
        "() => [localStorage.length, Object.keys(sessionStorage), document.cookie]"
    )
    assert (local, session, script_cookies) == (0, ["htmx-current-path-for-history"], "")
    cookies = page.context.cookies()
    assert [(c["httpOnly"], c["sameSite"]) for c in cookies] == [(True, "Lax")]
