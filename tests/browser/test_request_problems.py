"""In a real browser: when an in-place update (htmx) fails, the page says why at the top, in the
server's words, and moves focus there; when the network is down, it says that instead."""

from __future__ import annotations

from playwright.sync_api import Page, Route, expect

from events.roles import Role
from tests.browser.test_supervision_dashboard import _sign_in
from tests.conftest import PASSWORD

BUSY_PAGE = (
    "<!doctype html><html lang='zh'><body><main><h1>系统暂时忙</h1>"
    "<p class='lead'>您填写的内容没有丢失,请稍等一两分钟后再试。</p></main></body></html>"
)


def test_a_failed_update_is_explained_at_the_top_and_cleared_by_the_next(
    page: Page, live_server
) -> None:
    base, rt = live_server.url, live_server.runtime
    rt.accounts.create_staff(login="supervisor-wu", password=PASSWORD, display_name="督导吴",
                             role=Role.SUPERVISOR, district="")  # fmt: skip
    _sign_in(page, base, "supervisor-wu")
    page.goto(base + "/supervision")
    problem = page.locator("#request-problem")
    expect(problem).to_be_hidden()
    district = page.get_by_role("combobox", name="区县")

    def busy(route: Route) -> None:
        route.fulfill(status=503, body=BUSY_PAGE, content_type="text/html; charset=utf-8")

    page.route("**/supervision?*", busy)
    district.select_option(label="永宁区")
    expect(problem).to_be_visible()
    expect(problem).to_have_text("系统暂时忙 您填写的内容没有丢失,请稍等一两分钟后再试。")
    expect(problem).to_be_focused()
    expect(page.get_by_role("alert")).to_have_count(1)

    page.unroute("**/supervision?*")
    page.route("**/supervision?*", lambda route: route.abort("internetdisconnected"))
    district.select_option(label="安康区")
    expect(problem).to_contain_text("网络连接断了,您填写的内容还在")

    page.unroute("**/supervision?*")
    district.select_option(label="永宁区")
    expect(problem).to_be_hidden()
    expect(page.locator("#live-region")).to_contain_text("已显示 永宁区")
