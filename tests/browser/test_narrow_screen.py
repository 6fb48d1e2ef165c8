"""The narrowest screen WCAG reflows to (320 CSS px, what 1280px at 400% zoom or a small phone
gives): a family's pages in elder mode lose nothing sideways and pass the same audit."""

from __future__ import annotations

import re

from playwright.sync_api import Browser

from events.roles import Actor, Role
from tests.browser.support_journey import Screen, start
from tests.conftest import PASSWORD
from tests.support.actors import D01_TEAM
from tests.support.scenario import walk_to

NARROW = Screen("320px", 320, 640, elder_mode=True)


def test_a_familys_pages_reflow_to_320_pixels(browser: Browser, live_server, screenshot_dir):
    base, rt = live_server.url, live_server.runtime
    user_id = rt.accounts.register_family(
        mobile="13900003200", password=PASSWORD, display_name="家属"
    )
    case_id = walk_to(rt, "accepted", family=Actor(user_id, Role.FAMILY), **D01_TEAM)
    rt.catch_up()
    journey = start(browser, base, NARROW, screenshot_dir, "family-narrow")
    journey.sign_in("13900003200")
    for path in ("/my/cases", f"/my/cases/{case_id}", "/apply", "/apply/meal", "/progress"):
        journey.page.goto(base + path)
        journey.check(path)
    journey.page.goto(base + "/apply")
    journey.page.get_by_role("button", name="开始申请").click()
    journey.page.wait_for_url(re.compile(r"/apply/[0-9a-f-]{36}/elder"))
    journey.page.get_by_role("button", name="继续").click()  # nothing typed: the error summary
    journey.check("the first question with its error summary")
    journey.shot("question-errors")
    journey.assert_clean()
