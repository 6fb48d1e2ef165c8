"""In a real browser, at desktop size and on a phone in elder mode: the providers log meals and
visits, the finance officer disburses a subsidy, the auditor replays a fund and exports it, the
supervisor filters the dashboard. Every page reached (and every htmx swap) is audited: axe-core
and the elder-friendly basics; screenshots are kept in test-artifacts/."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Locator, Page, expect

from events import clock
from projections.meal_queries import canteen_day
from services.ledger_export import MOVEMENT_HEADERS
from services.ledger_history import balance_at
from tests.browser.support_journey import SCREENS, Screen, start
from tests.browser.support_service_journeys import (
    BEFORE_ACCEPTANCE_DAYS_AGO,
    CANTEEN,
    CARE_ELDER,
    FUND_TITLE,
    HOME_CARE_PROVIDER,
    MEAL_ELDER,
    after_swap,
    canteen_with_an_elder,
    fund_and_accepted_case,
    fund_with_history,
    home_care_in_service,
    targets_and_work_done,
)
from tests.support.ledger import RECEIVED_AT, city
from tests.support.meals import provider_of

ON_SCREENS = pytest.mark.parametrize("screen", SCREENS, ids=lambda s: s.name)


def _nav(page: Page, name: str) -> None:
    """Follow a link of the main navigation."""
    page.get_by_role("navigation", name="主导航").get_by_role("link", name=name).click()


def _notice(page: Page) -> str:
    """The confirmation shown at the top after a form was accepted."""
    notice = page.locator("main .notice").first
    expect(notice).to_be_visible()
    return notice.inner_text()


def _movements(page: Page) -> Locator:
    """The table of a fund's movements (below its balances and districts)."""
    return page.locator("#ledger").get_by_role("table", name=re.compile("每一笔往来"))


# -- 1. providers log meals and visits ------------------------------------------------------------
@ON_SCREENS
def test_providers_log_the_days_meals_and_a_home_care_visit(
    browser: Browser, live_server, screenshot_dir: Path, screen: Screen
) -> None:
    base, rt = live_server.url, live_server.runtime
    canteen_id = canteen_with_an_elder(rt)
    case_id = home_care_in_service(rt)
    today = clock.today()
    yesterday = today - timedelta(days=1)

    # The canteen: its room, then today's meals, ticked and counted with the keyboard only.
    canteen = start(browser, base, screen, screenshot_dir, "provider-canteen")
    page = canteen.page
    canteen.sign_in("canteen-chunhui")
    expect(page.get_by_role("heading", level=1)).to_have_text(CANTEEN)
    expect(page.locator("main")).to_contain_text("还没有登记。")
    page.get_by_role("link", name="登记今天的用餐").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("每日用餐登记")
    canteen.check("today's meals, not yet recorded")
    page.get_by_label(re.compile(MEAL_ELDER)).focus()
    page.keyboard.press("Space")
    expect(page.get_by_label(re.compile(MEAL_ELDER))).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_label("散客人数")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="登记", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    assert f"已登记 {today.isoformat()} 的用餐情况" in _notice(page)
    day = page.locator("#meal-day")
    expect(day.locator(".summary-list")).to_contain_text("6 人")  # 1 elder and 5 walk-ins
    expect(day.get_by_label(re.compile(MEAL_ELDER))).to_be_checked()  # now the correction form
    canteen.check("today's meals, recorded")
    canteen.shot("meals-recorded")

    # Another day through the day picker: htmx swaps only that day's panel in.
    page.get_by_label("日期", exact=True).fill(yesterday.isoformat())
    after_swap(canteen, f"已显示 {yesterday.isoformat()} 的用餐情况", "yesterday's meals (htmx)")
    expect(day).to_contain_text("这一天还没有登记")
    expect(page).to_have_url(re.compile(f"day={yesterday.isoformat()}"))

    # The room says what was recorded today; and so does the meal service.
    page.get_by_role("link", name="返回本机构工作台").click()
    expect(page.locator("main")).to_contain_text("已登记,共 6 人用餐。")
    canteen.check("the canteen's room")
    recorded = canteen_day(rt.engine, provider_of(canteen_id), canteen_id, today)
    assert recorded is not None
    assert (recorded.enrolled_served, recorded.walk_ins) == (1, 5)
    canteen.page.context.close()

    # The home-care organisation: its clients, then a visit made yesterday.
    care = start(browser, base, screen, screenshot_dir, "provider-homecare")
    page = care.page
    care.sign_in("kangle-dispatch")
    expect(page.get_by_role("heading", level=1)).to_have_text(HOME_CARE_PROVIDER)
    page.get_by_role("link", name="上门服务记录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("上门服务记录")
    expect(page.locator("main")).to_contain_text(CARE_ELDER)
    care.check("the visit log and the elders served")
    page.get_by_role("link", name="登记上门服务").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登记上门服务")
    care.check("the visit form")
    page.get_by_label("服务日期").fill(yesterday.isoformat())
    page.get_by_label("开始时间").fill("09:00")
    page.get_by_label("结束时间").fill("10:30")
    page.get_by_label("助洁").check()
    page.get_by_label("助浴").check()
    page.get_by_label("上门护理员姓名").fill("护理员王芳")
    page.get_by_label("老人本人确认").check()
    page.get_by_role("button", name="登记", exact=True).click()
    assert "已登记这次上门服务" in _notice(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(CARE_ELDER)
    row = page.locator("tbody tr").first
    expect(row).to_contain_text(yesterday.isoformat())
    expect(row).to_contain_text("09:00–10:30")
    expect(row).to_contain_text("1.5")
    expect(row).to_contain_text("助洁、助浴")
    care.check("the elder's page with the visit")
    care.shot("visit-logged")

    # Yesterday's log, through the day picker (htmx), lists the visit.
    page.get_by_role("link", name="返回上门服务记录").click()
    # The log page must have loaded (htmx on it ready) before the day is picked.
    expect(page.get_by_role("heading", level=1)).to_have_text("上门服务记录")
    page.get_by_label("日期", exact=True).fill(yesterday.isoformat())
    after_swap(care, f"已显示 {yesterday.isoformat()} 的上门服务", "yesterday's visits (htmx)")
    log = page.locator("#visit-log")
    expect(log).to_contain_text(CARE_ELDER)
    expect(log).to_contain_text("护理员王芳")
    visits = rt.home_care.repository.get(case_id).visits
    assert [(v["visit_date"], v["minutes"]) for v in visits.values()] == [
        (yesterday.isoformat(), 90)
    ]
    care.page.context.close()

    canteen.assert_clean()
    care.assert_clean()


# -- 2. the finance officer disburses -------------------------------------------------------------
@ON_SCREENS
def test_finance_officer_receives_commits_and_disburses_a_subsidy(
    browser: Browser, live_server, screenshot_dir: Path, screen: Screen
) -> None:
    base, rt = live_server.url, live_server.runtime
    world = fund_and_accepted_case(rt)
    journey = start(browser, base, screen, screenshot_dir, "finance")
    page = journey.page
    journey.sign_in("finance-wang")

    # Money arrives on the fund: recorded on the fund's own page.
    _nav(page, "资金台账")
    expect(page.get_by_role("heading", level=1)).to_have_text("资金台账")
    journey.check("the funds")
    page.get_by_role("link", name=FUND_TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FUND_TITLE)
    journey.check("the fund")
    receive = page.locator("details").filter(has=page.get_by_label("到账金额(元)"))
    receive.locator("summary").click()
    receive.get_by_label("到账金额(元)").fill("20000")
    receive.get_by_label("依据文件").fill("财预〔2025〕30号")
    receive.get_by_role("button", name="登记到账").click()
    assert "已登记到账 20,000.00 元" in _notice(page)
    expect(page.locator("#ledger .summary-list")).to_contain_text("120,000.00 元")
    journey.check("the fund, money received")

    # The accepted case waits on "待核定的改造补助"; filtering by district swaps the rows in.
    _nav(page, "待核定的改造补助")
    expect(page.get_by_role("heading", level=1)).to_have_text("待核定的改造补助")
    journey.check("subsidies awaiting commitment")
    page.get_by_label("区县", exact=True).select_option(label="安康区")
    after_swap(journey, "找到 1 户待核定补助", "subsidies of 安康区 (htmx)")
    page.get_by_role("link", name=f"核定补助 {world.reference}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(world.reference)
    expect(page.get_by_label("从哪笔资金核定")).to_have_value(str(world.fund_id))
    expect(page.get_by_label("核定金额(元)")).to_have_value("1200.00")
    journey.check("the commit form")
    page.get_by_label("依据文件").fill("安康区验收合格通知")
    page.get_by_role("button", name="核定", exact=True).click()
    assert "已核定 1,200.00 元" in _notice(page)
    journey.check("the case's subsidy, committed")

    # Paid with a voucher; the last step by keyboard: from the note, Tab to 拨付, Enter.
    page.get_by_role("link", name=re.compile("^拨付")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("拨付")
    expect(page.get_by_label("拨付金额(元)")).to_have_value("1200.00")
    journey.check("the payment form")
    page.get_by_label("收款单位或收款人").fill("安居装修公司")
    page.get_by_label("凭证号").fill("付-2025-0042")
    page.get_by_label("说明").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="拨付", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    assert "已拨付 1,200.00 元给安居装修公司" in _notice(page)
    journey.check("the case's subsidy, paid")

    # The fund shows the movement, with its voucher, and the balances.
    _nav(page, "资金台账")
    page.get_by_role("link", name=FUND_TITLE).click()
    balances = page.locator("#ledger .summary-list")
    for figure, amount in (("已到账", "120,000.00"), ("已下达", "50,000.00"),
                           ("已核定", "1,200.00"), ("已拨付", "1,200.00")):  # fmt: skip
        expect(balances.locator("div").filter(has_text=figure)).to_contain_text(f"{amount} 元")
    newest = _movements(page).locator("tbody tr").first
    expect(newest).to_contain_text("拨付")
    expect(newest).to_contain_text("付-2025-0042")
    expect(newest).to_contain_text(world.reference)
    journey.check("the fund after the payment")
    journey.shot("fund-after-payment")
    totals = balance_at(rt.ledger, world.fund_id, None).totals
    assert (totals["received"], totals["disbursed"]) == (Decimal("120000"), Decimal("1200"))
    journey.assert_clean()


# -- 3. the auditor replays and exports -----------------------------------------------------------
@ON_SCREENS
def test_auditor_replays_a_fund_verifies_its_chain_and_exports_it(
    browser: Browser, live_server, screenshot_dir: Path, screen: Screen
) -> None:
    base, rt = live_server.url, live_server.runtime
    fund_with_history(rt)
    journey = start(browser, base, screen, screenshot_dir, "auditor")
    page = journey.page
    journey.sign_in("auditor-li")

    _nav(page, "资金台账")
    journey.check("the funds")
    page.get_by_role("link", name=FUND_TITLE).click()
    ledger = page.locator("#ledger")
    expect(ledger.locator(".summary-list")).to_contain_text("50,000.00 元")
    journey.check("the fund now")

    # As at 09:30 on 3 March 2025, typed and sent with Enter: only the receipt had happened.
    moment = city(RECEIVED_AT, minutes=30)
    page.get_by_label("查看哪个时间的台账").fill(moment)
    page.get_by_label("查看哪个时间的台账").press("Enter")
    shown = moment.replace("T", " ")
    after_swap(journey, f"已显示截至 {shown} 的台账", "the fund as at 09:30 (htmx)")
    expect(page).to_have_url(re.compile(r"at=2025-03-03T09(%3A|:)30"))
    expect(ledger.get_by_role("heading", level=2).first).to_have_text(f"截至 {shown} 的余额")
    balances = ledger.locator(".summary-list")
    expect(balances.locator("div").filter(has_text="已到账")).to_contain_text("100,000.00 元")
    expect(balances.locator("div").filter(has_text="已下达")).to_contain_text("0.00 元")
    expect(_movements(page).locator("tbody tr")).to_have_count(1)
    journey.shot("fund-as-at")

    # 核验: the hash chain is recomputed from the stored events (htmx), by keyboard.
    page.get_by_role("button", name="核验哈希链").focus()
    page.keyboard.press("Enter")
    after_swap(journey, "哈希链完好", "the chain verified (htmx)")
    expect(page.locator("#chain-check")).to_contain_text("重新计算了全部 3 条记录")

    # The ledger as at that moment, taken away: CSV (Excel-friendly) and a workbook.
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="导出 CSV 文件").click()
    text = Path(csv_download.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(MOVEMENT_HEADERS)
    assert (rows[1][0], rows[1][6], rows[1][7]) == (FUND_TITLE, "到账", "100000.00")
    assert not any(row[6] == "下达" and row[0] == FUND_TITLE for row in rows)  # after 09:30
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="导出 Excel 表格").click()
    assert xlsx_download.value.suggested_filename == "ledger-20250303-0930.xlsx"
    book = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    assert book.sheetnames == ["资金汇总", "资金明细"]

    # The audit trail holds what the auditor looked at, the replay and the exports included.
    _nav(page, "审计查看记录")
    expect(page.get_by_role("heading", level=1)).to_have_text("审计查看记录")
    trail = page.locator("main table")
    for endpoint in ("ledger.fund", "ledger.verify_chain", "ledger.export_csv_file",
                     "ledger.export_xlsx_file"):  # fmt: skip
        expect(trail).to_contain_text(endpoint)
    expect(trail).to_contain_text("at=2025-03-03T09%3A30")
    journey.check("the audit trail")
    journey.shot("audit-trail")
    journey.assert_clean()


# -- 4. the supervisor filters the dashboard ------------------------------------------------------
@ON_SCREENS
def test_supervisor_filters_the_dashboard_to_a_district_and_a_past_day(
    browser: Browser, live_server, screenshot_dir: Path, screen: Screen
) -> None:
    base, rt = live_server.url, live_server.runtime
    targets_and_work_done(rt)
    journey = start(browser, base, screen, screenshot_dir, "supervisor")
    page = journey.page
    journey.sign_in("supervisor-zhou")

    _nav(page, "督导看板")
    expect(page.get_by_role("heading", level=1)).to_have_text("督导看板")
    rows = page.locator("#supervision-results tr.target-row")
    expect(rows).to_have_count(2)
    journey.check("the dashboard")

    # One district, chosen with the keyboard: the results swap in place and are announced.
    page.evaluate("window.stillTheSamePage = true")
    district = page.get_by_role("combobox", name="区县")
    district.focus()
    page.keyboard.press("ArrowDown")  # 全部区县 -> 安康区, sent on change
    expect(district).to_have_value("D01")
    after_swap(journey, "已显示 安康区", "the dashboard, 安康区 (htmx)")
    expect(page).to_have_url(re.compile(r"district=D01"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-district", "D01")
    expect(rows.first).to_contain_text("1 户")  # accepted ten days ago (ACCEPTED_DAYS_AGO)

    # As at a day before that household was accepted: nothing done yet.
    before = (clock.today() - timedelta(days=BEFORE_ACCEPTANCE_DAYS_AGO)).isoformat()
    page.get_by_label(re.compile("截至日期")).fill(before)
    after_swap(journey, f"已显示 安康区 截至 {before}", "the dashboard, a past day (htmx)")
    expect(page).to_have_url(re.compile(f"as_at={before}"))
    expect(page.locator(".results-summary")).to_contain_text(f"截至 {before} 日终")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("0 户")
    assert page.evaluate("window.stillTheSamePage") is True

    # Back to today, in 安康区: the README's screenshot of the dashboard.
    page.get_by_label(re.compile("截至日期")).fill(clock.today().isoformat())
    after_swap(journey, f"截至 {clock.today().isoformat()}", "the dashboard, today (htmx)")
    expect(rows.first).to_contain_text("1 户")
    journey.shot("dashboard")
    journey.assert_clean()
