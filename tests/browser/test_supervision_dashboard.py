"""In a real browser: a supervisor opens the dashboard, filters it to one district with the
form (htmx swaps the results in place), and sees only that district's targets."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from events import clock
from events.roles import Actor, Role
from tests.conftest import PASSWORD
from tests.support.actors import ADMIN, walk
from tests.support.scenario import apply, elder, national_id


def _sign_in(page: Page, base: str, login: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("手机号码或登录名").fill(login)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    # Signed in once the next page shows the sign-out button: a caller that goes on before it
    # loads (e.g. running a fake clock) would act on the login page instead.
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()


def test_supervisor_filters_the_dashboard_to_one_district(
    page: Page, live_server, screenshot_dir
) -> None:
    base, rt = live_server.url, live_server.runtime
    deadline = (clock.today() + timedelta(days=200)).isoformat()  # targets start today
    for district, value in (("D01", "10"), ("D02", "4")):
        rt.targets.set_target(ADMIN, metric_code="retrofit_accepted", district=district,
                              value=value, deadline=deadline)  # fmt: skip
    rt.targets.set_target(ADMIN, metric_code="retrofit_satisfaction", district="", value="90",
                          deadline=deadline)  # fmt: skip
    walk(rt, "surveyed")
    apply(rt, Actor("family-d02", Role.FAMILY), district="D02", street="南湖街道",
          community="南湖社区", elder=elder(name="李桂兰", national_id=national_id(seq="456")))  # fmt: skip
    rt.catch_up()
    rt.accounts.create_staff(login="supervisor-zhou", password=PASSWORD, display_name="督导老周",
                             role=Role.SUPERVISOR, district="")  # fmt: skip

    _sign_in(page, base, "supervisor-zhou")
    page.goto(base + "/supervision")
    expect(page.get_by_role("heading", level=1)).to_have_text("督导看板")
    rows = page.locator("#supervision-results tr.target-row")
    expect(rows).to_have_count(3)
    expect(page.get_by_role("img", name=re.compile("各区县完成情况")).first).to_be_visible()

    # Filtering swaps the results region in place: the page itself is not reloaded.
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_role("combobox", name="区县").select_option(label="永宁区")
    expect(page).to_have_url(re.compile(r"district=D02"))
    expect(rows).to_have_count(1)
    expect(page.locator('tr.target-row[data-district="D02"]')).to_have_count(1)
    expect(page.locator("#live-region")).to_contain_text("已显示 永宁区")
    assert page.evaluate("window.stillTheSamePage") is True

    shot = screenshot_dir / "supervision-dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.exists() and shot.stat().st_size > 0
