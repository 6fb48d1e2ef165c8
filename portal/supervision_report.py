"""The supervision dashboard as an XLSX workbook for the monthly meeting: one sheet per
programme, Chinese headers, figures as numbers and dates as dates (so they can be summed and
sorted), each row's status with its rule written out."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from events.metrics import metric
from portal import supervision_labels as sl
from portal.supervision_board import Board, Section
from projections.supervision_queries import Progress

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = (
    _l("指标"),
    _l("区县"),
    _l("目标值"),
    _l("实际值"),
    _l("完成率"),
    _l("截止日期"),
    _l("剩余天数"),
    _l("预计完成"),
    _l("状态"),
    _l("判定规则"),
)
WIDTHS = (34, 10, 14, 14, 10, 13, 10, 16, 6, 60)
FORMATS = {3: "#,##0.##", 4: "#,##0.##", 5: "0.0%", 6: "yyyy-mm-dd", 7: "0", 8: "yyyy-mm-dd"}
MONEY = "#,##0.00"
SHEET_NAME_MAX = 31  # Excel's limit


def workbook(board: Board) -> bytes:
    """The workbook's bytes: a sheet for each programme the board shows."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for section in board.sections:
        _sheet(
            book.create_sheet(sl.programme_name(section.programme)[:SHEET_NAME_MAX]), section, board
        )
    book.properties.title = _("督导看板(截至 %(day)s)", day=board.filters.as_at.isoformat())
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet(ws: Worksheet, section: Section, board: Board) -> None:
    ws.append([str(h) for h in HEADERS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for p in section.rows:
        ws.append(_row(p, board))
        _format(ws, ws.max_row, p)
    for column, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(column)].width = width
    ws.freeze_panes = "A2"
    _notes(ws, section, board)


def _row(p: Progress, board: Board) -> list[object]:
    t = p.target
    share = None if p.percent is None else p.percent / 100
    finish: object = p.finish if p.finish and p.expected is not None else sl.finish(p)
    return [
        sl.metric_with_unit(t.metric),
        sl.place_name(t.district),
        t.value,
        p.actual,
        share,
        t.deadline,
        p.days_left,
        finish,
        sl.colour_name(p.judgement.colour),
        sl.rule_text(p, board.filters.as_at, board.today),
    ]


def _format(ws: Worksheet, row: int, p: Progress) -> None:
    money = (found := metric(p.target.metric)) is not None and found.unit == "yuan"
    for column, number_format in FORMATS.items():
        cell = ws.cell(row=row, column=column)
        if isinstance(cell.value, int | Decimal | float | date):
            cell.number_format = MONEY if money and column in (3, 4) else number_format
    ws.cell(row=row, column=10).alignment = Alignment(wrap_text=True, vertical="top")


def _notes(ws: Worksheet, section: Section, board: Board) -> None:
    """Below the table: the day and district shown, and the rule in full."""
    ws.append([])
    if not section.rows:
        ws.append([_("这个项目还没有设定目标。")])
    place = sl.place_name(board.filters.district) if board.filters.district else _("全部区县")
    ws.append(
        [
            _(
                "数据截至 %(day)s 日终;范围:%(place)s。",
                day=board.filters.as_at.isoformat(),
                place=place,
            )
        ]
    )
    for heading, sentences in sl.legend():
        ws.append([heading])
        for sentence in sentences:
            ws.append([sentence])
