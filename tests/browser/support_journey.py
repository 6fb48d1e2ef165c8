"""What every role's browser journey shares (issue 8): two screen sizes, signing in, an axe-core
audit of every page visited (zero serious or critical violations), checks of the elder-friendly
basics on each page (text size, line height, target size, nothing cut off sideways), and
screenshots kept as artefacts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.conftest import PASSWORD

AXE = Axe()
BLOCKING = ("serious", "critical")


@dataclass(frozen=True)
class Screen:
    """A screen a journey runs on; phones run in elder mode, so both modes are audited."""

    name: str
    width: int
    height: int
    elder_mode: bool


DESKTOP = Screen("desktop", 1280, 900, elder_mode=False)
PHONE = Screen("phone", 360, 740, elder_mode=True)
SCREENS = [DESKTOP, PHONE]

# What a page must measure up to (WCAG 2.2 AA and the 2021 age-friendly website specification).
MIN_BODY_PX = 18
MIN_ELDER_BODY_PX = 22
MIN_LINE_HEIGHT = 1.5
MIN_TARGET_PX = 44

_BASICS = """() => {
  const body = getComputedStyle(document.body);
  const size = parseFloat(body.fontSize);
  const lineHeight = parseFloat(body.lineHeight) / size;
  const small = [];
  for (const el of document.querySelectorAll('main a, main button, main input, main select, header button, nav a')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;  // hidden
    if (el.matches('input[type=radio], input[type=checkbox]')) continue;  // their label is the target
    if (el.closest('p, li, td, th, dd') && el.tagName === 'A' && !el.matches('.button, .button-secondary')) continue;  // links in running text (WCAG 2.5.8 exception)
    if (r.height < 44 - 0.5 || r.width < 24) small.push(el.outerHTML.slice(0, 120));
  }
  const doc = document.scrollingElement;
  return {size, lineHeight, small, overflow: doc.scrollWidth - window.innerWidth};
}"""


@dataclass
class Journey:
    """One role's walk through the portal on one screen: pages audited, problems found."""

    page: Page
    base: str
    screen: Screen
    shots: Path
    label: str
    visited: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def sign_in(self, login: str, password: str = PASSWORD) -> None:
        """Sign in through the form and, on a phone, switch on elder mode (长辈版)."""
        self.page.goto(self.base + "/login")
        self.page.get_by_label("手机号码或登录名").fill(login)
        self.page.get_by_label("密码").fill(password)
        self.page.get_by_role("button", name="登录").click()
        expect(self.page.get_by_role("button", name="退出登录")).to_be_visible()
        if self.screen.elder_mode:
            self.page.get_by_role("button", name="长辈版 / 大字").click()
            expect(self.page.locator("body.elder-mode")).to_have_count(1)
        self.check("signed in")

    def check(self, what: str) -> None:
        """Audit the page as it is now: axe, then the elder-friendly basics."""
        self.page.wait_for_load_state("networkidle")
        where = f"{self.label}/{self.screen.name}: {what} ({self.page.url.removeprefix(self.base)})"
        self.visited.append(where)
        for violation in AXE.run(self.page).response["violations"]:
            if violation["impact"] in BLOCKING:
                nodes = "; ".join(n["html"][:100] for n in violation["nodes"][:3])
                self.problems.append(
                    f"{where}: axe {violation['id']} ({violation['impact']}): {nodes}"
                )
        basics = self.page.evaluate(_BASICS)
        floor = MIN_ELDER_BODY_PX if self.screen.elder_mode else MIN_BODY_PX
        if basics["size"] < floor:
            self.problems.append(f"{where}: body text {basics['size']}px < {floor}px")
        if basics["lineHeight"] < MIN_LINE_HEIGHT:
            self.problems.append(f"{where}: line height {basics['lineHeight']:.2f}")
        if basics["overflow"] > 1:
            self.problems.append(f"{where}: {basics['overflow']}px cut off sideways")
        self.problems += [f"{where}: target under 44px: {s}" for s in basics["small"][:5]]

    def shot(self, name: str, full_page: bool = True) -> Path:
        """Save a screenshot (the whole page, or what the screen shows) as an artefact."""
        path = self.shots / f"{self.label}-{name}-{self.screen.name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def assert_clean(self) -> None:
        """Fail naming every problem found on every page visited."""
        assert self.visited, "the journey visited no page"
        assert not self.problems, "\n".join(self.problems)


def start(browser: Browser, base: str, screen: Screen, shots: Path, label: str) -> Journey:
    """A fresh browser context of the screen's size (its own cookies)."""
    context = browser.new_context(
        viewport={"width": screen.width, "height": screen.height}, locale="zh-CN"
    )
    return Journey(context.new_page(), base, screen, shots, label)


def reference_in(text: str) -> str:
    """A case reference (SL-XXXX-XXXX and the like) in a text."""
    found = re.search(r"[A-Z]{2}-[0-9A-Z]{4}-[0-9A-Z]{4}", text)
    assert found, text[:300]
    return found.group(0)
