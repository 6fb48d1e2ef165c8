"""What the retrofit journeys share: one district's people, cases walked along through the
services, keyboard-only moves, and a real photo to upload."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw
from playwright.sync_api import Locator, Page

from events.roles import Actor, Role
from portal.runtime import Runtime
from tests.conftest import PASSWORD, User
from tests.support.staff_helpers import Team

MOST_TABS = 60  # a page has fewer focusable things before any control a journey needs


def _staff(rt: Runtime, role: str, login: str, name: str) -> User:
    user_id = rt.accounts.create_staff(
        login=login, password=PASSWORD, display_name=name, role=role, district="D01"
    )
    return User(login, Actor(user_id, role, "D01"))


def make_cast(rt: Runtime) -> Team:
    """Accounts for the family (a registered mobile number) and the district's staff."""
    family_id = rt.accounts.register_family(
        mobile="13900005555", password=PASSWORD, display_name="王建国"
    )
    return Team(
        family=User("13900005555", Actor(family_id, Role.FAMILY)),
        caseworker=_staff(rt, Role.CASEWORKER, "cw-d01", "审核员小李"),
        assessor=_staff(rt, Role.ASSESSOR, "as-d01", "评估员老王"),
        inspector=_staff(rt, Role.INSPECTOR, "in-d01", "验收员小陈"),
    )


def is_focused(target: Locator) -> bool:
    """Whether the keyboard focus is on this element now."""
    return bool(target.evaluate("el => el === document.activeElement"))


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab (only Tab, as a keyboard user would) until the focus reaches `target`."""
    for _ in range(MOST_TABS):
        if is_focused(target):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{MOST_TABS} presses of Tab never reached {target}")


def arrow_to(page: Page, radio: Locator, limit: int = 8) -> None:
    """Within a focused radio group, press the down arrow until `radio` is the one chosen."""
    for _ in range(limit):
        if radio.is_checked():
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"the arrow keys never chose {radio}")


def site_photo(folder: Path) -> Path:
    """A real JPEG, as a phone camera would give: a grab bar on a tiled wall, drawn by Pillow."""
    picture = Image.new("RGB", (960, 720), (226, 222, 210))
    draw = ImageDraw.Draw(picture)
    for x in range(0, 960, 80):
        draw.line([(x, 0), (x, 720)], fill=(190, 186, 175), width=3)
    for y in range(0, 720, 80):
        draw.line([(0, y), (960, y)], fill=(190, 186, 175), width=3)
    draw.rounded_rectangle([(180, 330), (780, 390)], radius=28, fill=(200, 40, 40))
    for x in (210, 750):
        draw.rectangle([(x - 20, 300), (x + 20, 420)], fill=(120, 120, 120))
    path = folder / "acceptance-grab-bar.jpg"
    picture.save(path, "JPEG", quality=85)
    return path
