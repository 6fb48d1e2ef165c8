"""In a real browser: two minutes before an idle session would end, the page warns in plain
words and moves focus to the warning; "继续使用" keeps the session alive without leaving the
page, so what was typed stays. Playwright's clock stands in for the half hour of waiting."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from events.roles import Role
from tests.browser.test_supervision_dashboard import _sign_in
from tests.conftest import PASSWORD


def test_an_idle_caseworker_is_warned_and_carries_on_without_losing_the_page(
    page: Page, live_server
) -> None:
    base, rt = live_server.url, live_server.runtime
    rt.accounts.create_staff(login="cw-idle", password=PASSWORD, display_name="审核员",
                             role=Role.CASEWORKER, district="D01")  # fmt: skip
    page.clock.install()
    _sign_in(page, base, "cw-idle")
    page.goto(base + "/password")
    typed = page.get_by_label("当前密码")
    typed.fill("half-typed")
    warning = page.get_by_role("alertdialog", name="还在使用吗?")
    expect(warning).to_be_hidden()

    page.clock.run_for(27 * 60_000)  # staff sessions end after 30 idle minutes
    expect(warning).to_be_hidden()
    page.clock.run_for(90_000)
    expect(warning).to_be_visible()
    expect(warning).to_be_focused()
    expect(warning).to_contain_text("再过两分钟会自动退出登录")

    with page.expect_response("**/session/keep-alive") as kept:
        page.keyboard.press("Tab")  # from the dialog to its button, by keyboard
        page.keyboard.press("Enter")
    assert kept.value.status == 204
    expect(warning).to_be_hidden()
    expect(page.locator("#live-region")).to_have_text("好的,可以继续使用。")
    expect(typed).to_have_value("half-typed")  # nothing on the page was lost
    assert page.url == base + "/password"


def test_a_family_is_warned_only_near_its_own_longer_limit(page: Page, live_server) -> None:
    base, rt = live_server.url, live_server.runtime
    rt.accounts.register_family(mobile="13900009999", password=PASSWORD, display_name="家属")
    page.clock.install()
    _sign_in(page, base, "13900009999")
    warning = page.get_by_role("alertdialog", name="还在使用吗?")
    page.clock.run_for(60 * 60_000)
    expect(warning).to_be_hidden()  # families have two hours
    page.clock.run_for(59 * 60_000)
    expect(warning).to_be_visible()
