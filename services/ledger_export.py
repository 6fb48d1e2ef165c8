"""The fund ledger as at a moment, as files auditors take away: CSV and XLSX, read from the
event history (never from an editable table), with Chinese headers and totals."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from events import clock
from events.districts import district as known_district
from events.fund import Movement
from services.ledger import LedgerService
from services.ledger_history import (
    FundBalance,
    LedgerLine,
    balance_at,
    balances_at,
    lines_up_to,
)

# Exports are files, not templates: their few labels live here rather than in the catalogue.
LABELS: dict[str, str] = {
    # kinds of movement
    "received": "到账",
    "allocated": "下达",
    "committed": "核定",
    "disbursed": "拨付",
    "returned": "退回",
    "reversal": "冲销",
    # sources
    "provincial": "省级",
    "municipal": "市级",
    "county": "县级配套",
    "lottery": "福彩公益金",
    "social": "社会资本/捐赠",
    # programmes
    "retrofit": "适老化改造",
    "meal": "老年助餐",
    "home_care": "居家上门服务",
    "facility": "养老服务设施",
    # what a commitment pays for
    "target.retrofit_case": "改造个案",
    "target.facility": "设施",
}
TOTAL = "合计"
MOVEMENT_HEADERS = (
    "基金", "来源", "项目", "年度", "序号", "记账时间", "类型", "金额(元)", "区县", "对象",
    "收款人", "凭证号", "依据文件", "事由", "冲销序号", "经办人", "哈希",
)  # fmt: skip
SUMMARY_HEADERS = (
    "基金", "来源", "项目", "年度", "到账", "下达", "核定", "拨付", "退回", "可下达余额",
    "截至序号", "链头哈希",
)  # fmt: skip
AMOUNT_COLUMN = MOVEMENT_HEADERS.index("金额(元)")
AMOUNT_FORMAT = "0.00"
# Column widths (in characters) wider than the default, so a printed sheet is readable.
WIDTHS = {"基金": 28, "记账时间": 20, "对象": 44, "依据文件": 24, "事由": 24, "哈希": 66,
          "链头哈希": 66}  # fmt: skip
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# Excel and LibreOffice run a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ZERO = Decimal("0.00")
# Fixed times inside the XLSX, so the same ledger exports to the same bytes.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
PAGE = 5_000

Row = list[Any]


def export_csv(
    ledger: LedgerService, moment: datetime | None, fund_id: UUID | None = None
) -> bytes:
    """The movements as at `moment` (all funds, or one) with totals per kind, as a CSV that
    Excel opens with its Chinese intact (UTF-8 with a byte-order mark)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(MOVEMENT_HEADERS)
    for row in _movement_rows(ledger, _balances(ledger, moment, fund_id)):
        writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def export_xlsx(
    ledger: LedgerService, moment: datetime | None, fund_id: UUID | None = None
) -> bytes:
    """The ledger as at `moment` as a workbook: per-fund balances (资金汇总) and every movement
    (资金明细), amounts as numeric cells, each sheet with its totals."""
    balances = _balances(ledger, moment, fund_id)
    book = Workbook()
    summary = book.active
    summary.title = "资金汇总"
    _fill(summary, SUMMARY_HEADERS, _summary_rows(balances))
    details = book.create_sheet("资金明细")
    _fill(details, MOVEMENT_HEADERS, _movement_rows(ledger, balances))
    stamp = _naive_local(moment or clock.now())
    book.properties.creator = "Anlao"
    book.properties.title = f"资金台账 截至 {stamp:%Y-%m-%d %H:%M}"
    book.properties.created = book.properties.modified = stamp
    buffer = io.BytesIO()
    book.save(buffer)
    return _fixed_zip(buffer.getvalue())


# -- reading the history ------------------------------------------------------------------------
def _balances(
    ledger: LedgerService, moment: datetime | None, fund_id: UUID | None
) -> list[FundBalance]:
    if fund_id is None:
        return balances_at(ledger, moment)
    found = balance_at(ledger, fund_id, moment)
    return [found] if found.version > 0 else []


def _lines(ledger: LedgerService, balance: FundBalance) -> list[LedgerLine]:
    """Every movement of the fund up to the balance's version, oldest first (walks pages)."""
    pages: list[LedgerLine] = []
    before: int | None = None
    while True:
        page = lines_up_to(ledger, balance.fund_id, balance.version, before=before, limit=PAGE)
        pages.extend(page)
        if len(page) < PAGE:
            return pages[::-1]
        before = page[-1].seq


# -- rows ---------------------------------------------------------------------------------------
def _movement_rows(ledger: LedgerService, balances: list[FundBalance]) -> Iterator[Row]:
    totals = dict.fromkeys(Movement.ALL, ZERO)
    for balance in balances:
        for line in _lines(ledger, balance):
            totals[line.kind] += line.amount
            yield _movement_row(balance, line)
    for kind in Movement.ALL:
        row: Row = [""] * len(MOVEMENT_HEADERS)
        row[0], row[6], row[AMOUNT_COLUMN] = TOTAL, LABELS[kind], totals[kind]
        yield row


def _movement_row(fund: FundBalance, line: LedgerLine) -> Row:
    kind = LABELS[line.kind] + (f"({LABELS['reversal']})" if line.reverses else "")
    place = known_district(line.district)
    return [
        fund.title, LABELS[fund.source], LABELS[fund.programme], fund.year, line.seq,
        _naive_local(line.recorded_at), kind, line.amount,
        place.name_zh if place else line.district, _target(line), line.payee, line.voucher,
        line.document, line.reason, line.reverses or "", line.actor_id, line.link,
    ]  # fmt: skip


def _target(line: LedgerLine) -> str:
    if line.target_kind:
        return f"{LABELS['target.' + line.target_kind]} {line.target_id}"
    return line.project


def _summary_rows(balances: list[FundBalance]) -> Iterator[Row]:
    sums = [ZERO] * (len(Movement.ALL) + 1)
    for b in balances:
        figures = [b.totals[k] for k in Movement.ALL] + [b.available]
        sums = [s + f for s, f in zip(sums, figures, strict=True)]
        head = [b.title, LABELS[b.source], LABELS[b.programme], b.year]
        yield [*head, *figures, b.version, b.head]
    yield [TOTAL, "", "", "", *sums, "", ""]


# -- writing ------------------------------------------------------------------------------------
def _csv_cell(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value  # shown as typed, never run as a formula
    return str(value)


def _fill(sheet: Worksheet, headers: Iterable[str], rows: Iterable[Row]) -> None:
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        sheet.column_dimensions[cell.column_letter].width = WIDTHS.get(cell.value, 12)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=None if value == "" else value)
            if isinstance(value, Decimal):
                cell.number_format = AMOUNT_FORMAT
            elif isinstance(value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            elif isinstance(value, str):
                cell.data_type = "s"  # text stays text, even when it starts with "="
            if row[0] == TOTAL:
                cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"


def _naive_local(moment: datetime) -> datetime:
    """City time without a zone: what spreadsheet cells hold and people read."""
    return clock.local(moment).replace(tzinfo=None)


def _fixed_zip(data: bytes) -> bytes:
    """The same archive with fixed entry times, so equal ledgers give equal files."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            entry = zipfile.ZipInfo(item.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(item.filename))
    return out.getvalue()
