"""What an auditor takes away: the ledger as at a date as CSV and XLSX (Chinese headers, numeric
amounts, totals), and one case's evidence pack whose manifest proves its files."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from events import clock
from events.clock import CITY_TZ
from events.facility import Kind
from portal.cli import main
from portal.runtime import Runtime
from services.errors import CaseNotFound
from services.evidence_pack import evidence_pack
from services.ledger_export import MOVEMENT_HEADERS, SUMMARY_HEADERS, export_csv, export_xlsx
from services.ledger_history import balance_at
from services.settings import Settings
from tests.support.actors import FINANCE
from tests.support.ledger_scenarios import (
    JPEG,
    PNG,
    accepted_case,
    facility,
    funded,
    kept_sha256,
    open_fund,
)
from tests.support.scenario import elder

D = Decimal
KIND_LABELS = ("到账", "下达", "核定", "拨付", "退回")


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=CITY_TZ)


BEFORE_COMMITMENT = at(5, 1)
END_OF_JUNE = at(6, 30, 23)


@pytest.fixture
def history(rt: Runtime) -> UUID:
    """A facility fund's first half-year: money in, a district's share, a commitment, a
    payment that was made to the wrong account and corrected, and the right payment."""
    with clock.frozen_at(at(3, 3)):
        fund = open_fund(rt, programme="facility", title="2025年省级养老服务设施补助资金")
        rt.ledger.receive(FINANCE, fund, amount="100000", document="省财社〔2025〕8号")
    with clock.frozen_at(at(4, 1)):
        rt.ledger.allocate(FINANCE, fund, amount="40000", district="D01", document="市财下达")
    centre = facility(rt, Kind.CARE_CENTRE)
    with clock.frozen_at(at(5, 10)):
        commitment = rt.ledger.commit_to_facility(
            FINANCE, fund, centre, amount="15000", document="建设合同", reason="一期工程款"
        )
    with clock.frozen_at(at(6, 1)):
        wrong = rt.ledger.disburse(
            FINANCE, fund, commitment, amount="10000", payee="宏达建设", voucher="记-0601"
        )
    with clock.frozen_at(at(6, 2)):
        rt.ledger.reverse(FINANCE, fund, wrong, reason="=收款账户错误")  # sic: starts with "="
        rt.ledger.disburse(
            FINANCE, fund, commitment, amount="10000", payee="宏建集团", voucher="记-0602"
        )
    return fund


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith("\ufeff".encode()), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def split(rows: list[list[str]]) -> tuple[list[list[str]], dict[str, str]]:
    """Movement rows, and the totals rows by kind."""
    movements = [r for r in rows[1:] if r[0] != "合计"]
    totals = {r[6]: r[7] for r in rows[1:] if r[0] == "合计"}
    return movements, totals


def column(name: str) -> int:
    return MOVEMENT_HEADERS.index(name)


# -- CSV ----------------------------------------------------------------------------------------
def test_csv_as_at_a_date_holds_only_what_was_recorded_by_then(rt: Runtime, history: UUID) -> None:
    rows = csv_rows(export_csv(rt.ledger, BEFORE_COMMITMENT))
    assert rows[0] == list(MOVEMENT_HEADERS)
    movements, totals = split(rows)
    assert [(r[column("类型")], r[column("金额(元)")]) for r in movements] == [
        ("到账", "100000.00"), ("下达", "40000.00"),
    ]  # fmt: skip
    assert movements[0][column("记账时间")] == "2025-03-03 09:00:00"  # city time
    assert movements[1][column("区县")] == "安康区"
    assert totals == {"到账": "100000.00", "下达": "40000.00", "核定": "0.00", "拨付": "0.00",
                      "退回": "0.00"}  # fmt: skip

    later, later_totals = split(csv_rows(export_csv(rt.ledger, END_OF_JUNE)))
    assert [r[column("类型")] for r in later] == [
        "到账",
        "下达",
        "核定",
        "拨付",
        "拨付(冲销)",
        "拨付",
    ]
    reversal = later[4]
    assert (reversal[column("金额(元)")], reversal[column("冲销序号")]) == ("-10000.00", "5")
    assert reversal[column("事由")] == "'=收款账户错误"  # shown as typed, never run as a formula
    for kind in KIND_LABELS:
        amounts = [D(r[column("金额(元)")]) for r in later if r[column("类型")].startswith(kind)]
        assert D(later_totals[kind]) == sum(amounts, D("0.00")), kind
    assert later_totals["拨付"] == "10000.00"
    paid = later[5]
    assert (paid[column("收款人")], paid[column("凭证号")]) == ("宏建集团", "记-0602")
    assert paid[column("哈希")] == rt.ledger.movement(history, 7).link
    assert paid[column("基金")] == "2025年省级养老服务设施补助资金"
    assert (paid[column("来源")], paid[column("项目")], paid[column("年度")]) == (
        "省级", "养老服务设施", "2025",
    )  # fmt: skip


def test_an_export_before_any_fund_opened_has_only_headers_and_zero_totals(
    rt: Runtime, history: UUID
) -> None:
    rows = csv_rows(export_csv(rt.ledger, at(1, 1)))
    movements, totals = split(rows)
    assert movements == [] and set(totals.values()) == {"0.00"}


def test_one_funds_export_leaves_the_others_out(rt: Runtime, history: UUID) -> None:
    with clock.frozen_at(at(6, 5)):
        other = funded(rt, source="county", received="500", allocated={"D02": "200"})
    everything, _ = split(csv_rows(export_csv(rt.ledger, None)))
    only, totals = split(csv_rows(export_csv(rt.ledger, None, other)))
    assert len(everything) == 6 + 2
    assert [r[column("来源")] for r in only] == ["县级配套", "县级配套"]
    assert (totals["到账"], totals["下达"]) == ("500.00", "200.00")


# -- XLSX ---------------------------------------------------------------------------------------
def test_xlsx_has_balances_and_movements_with_numeric_amounts_and_totals(
    rt: Runtime, history: UUID
) -> None:
    with clock.frozen_at(at(6, 5)):
        county = funded(
            rt, source="county", programme="facility", received="20000", allocated={"D01": "10000"}
        )
    book = load_workbook(io.BytesIO(export_xlsx(rt.ledger, END_OF_JUNE)))
    assert book.sheetnames == ["资金汇总", "资金明细"]

    summary = [[c.value for c in row] for row in book["资金汇总"].iter_rows()]
    assert tuple(summary[0]) == SUMMARY_HEADERS
    figures = {row[0]: row[4:10] for row in summary[1:]}
    for fund in (history, county):
        balance = balance_at(rt.ledger, fund, END_OF_JUNE)
        expected = [*(balance.totals[k] for k in ("received", "allocated", "committed",
                                                   "disbursed", "returned")), balance.available]  # fmt: skip
        assert [D(str(v)) for v in figures[balance.title]] == expected
    assert figures["合计"] == [120000, 50000, 15000, 10000, 0, 70000]

    sheet = book["资金明细"]
    assert [c.value for c in sheet[1]] == list(MOVEMENT_HEADERS)
    amount = column("金额(元)") + 1
    cells = [sheet.cell(row=r, column=amount) for r in range(2, sheet.max_row + 1)]
    assert all(isinstance(c.value, int | float) for c in cells)  # numbers, not text
    assert all(c.number_format == "0.00" for c in cells)
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    movements = [r for r in rows if r[0] != "合计"]
    totals = {r[6]: r[amount - 1] for r in rows if r[0] == "合计"}
    for kind in KIND_LABELS:
        kind_sum = sum(D(str(r[amount - 1])) for r in movements if r[6].startswith(kind))
        assert D(str(totals[kind])) == kind_sum, kind
    assert totals["到账"] == 120000 and totals["拨付"] == 10000
    reversal = next(r for r in movements if r[6] == "拨付(冲销)")
    assert reversal[column("事由")] == "=收款账户错误"  # kept as text: not a formula
    assert reversal[column("记账时间")] == datetime(2025, 6, 2, 9, 0)


def test_xlsx_as_at_a_date_before_a_movement_leaves_it_out(rt: Runtime, history: UUID) -> None:
    book = load_workbook(io.BytesIO(export_xlsx(rt.ledger, BEFORE_COMMITMENT)))
    kinds = [
        row[6].value for row in book["资金明细"].iter_rows(min_row=2) if row[0].value != "合计"
    ]
    assert kinds == ["到账", "下达"]
    summary = list(book["资金汇总"].iter_rows(min_row=2, values_only=True))
    assert summary[0][4:10] == (100000, 40000, 0, 0, 0, 60000)
    assert summary[0][10] == 3  # as at version 3


def test_exports_are_the_same_bytes_for_the_same_ledger_and_moment(
    rt: Runtime, history: UUID
) -> None:
    assert export_csv(rt.ledger, END_OF_JUNE) == export_csv(rt.ledger, END_OF_JUNE)
    assert export_xlsx(rt.ledger, END_OF_JUNE) == export_xlsx(rt.ledger, END_OF_JUNE)


def test_anlao_ledger_export_writes_the_ledger_as_at_a_city_time(
    rt: Runtime, history: UUID, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ANLAO_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ANLAO_INSTANCE_PATH", str(settings.instance_path))
    monkeypatch.setenv("ANLAO_SECRET_KEY", settings.secret_key)
    monkeypatch.delenv("ANLAO_EVENT_CIPHER_KEY", raising=False)
    out = tmp_path / "ledger.csv"
    result = CliRunner().invoke(
        main, ["ledger", "export", "--at", "2025-05-01 09:00", "--format", "csv", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == export_csv(rt.ledger, BEFORE_COMMITMENT)

    xlsx = tmp_path / "ledger.xlsx"
    result = CliRunner().invoke(main, ["ledger", "export", "--out", str(xlsx)])
    assert result.exit_code == 0, result.output
    assert load_workbook(xlsx).sheetnames == ["资金汇总", "资金明细"]


# -- the evidence pack --------------------------------------------------------------------------
GENERATED = datetime(2025, 7, 1, 10, 30, tzinfo=CITY_TZ)


@pytest.fixture
def paid_case(rt: Runtime) -> tuple[UUID, list[UUID]]:
    """An accepted case whose subsidy two funds committed and one paid."""
    provincial = funded(rt, source="provincial")
    county = funded(rt, source="county")
    case = accepted_case(rt, photos=[JPEG, PNG])
    first = rt.ledger.commit_retrofit_subsidy(FINANCE, provincial, case, amount="800", document="d")
    rt.ledger.commit_retrofit_subsidy(FINANCE, county, case, amount="400", document="d")
    rt.ledger.disburse(FINANCE, provincial, first, amount="800", payee="安居装修", voucher="V-9")
    return case, [provincial, county]


def unzip(pack: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(pack)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_evidence_pack_manifest_proves_every_file(
    rt: Runtime, paid_case: tuple[UUID, list[UUID]]
) -> None:
    case, _ = paid_case
    files = unzip(evidence_pack(rt.ledger, rt.photos, case, GENERATED))
    assert list(files) == sorted(files) == [
        "acceptance_photos.json", "chain.json", "events.jsonl", "manifest.json", "payments.json",
    ]  # fmt: skip
    manifest = json.loads(files["manifest.json"])
    assert manifest["case_id"] == str(case)
    assert manifest["reference"] == rt.retrofit.repository.get(case).reference
    assert manifest["generated_at"] == GENERATED.isoformat()
    listed = {f["name"]: f for f in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json"}
    for name, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files[name]).hexdigest(), name
        assert entry["size"] == len(files[name])


def test_the_evidence_pack_holds_events_photo_hashes_payments_and_chains(
    rt: Runtime, paid_case: tuple[UUID, list[UUID]]
) -> None:
    case, (provincial, county) = paid_case
    files = unzip(evidence_pack(rt.ledger, rt.photos, case, GENERATED))

    events = [json.loads(line) for line in files["events.jsonl"].decode().splitlines()]
    stored = rt.retrofit.repository.get(case)
    assert [e["version"] for e in events] == list(range(1, stored.version + 1))
    assert events[0]["topic"] == "events.retrofit:RetrofitCase.Applied"
    assert events[0]["state"]["person_id"] == str(stored.person_id)
    everything = b"".join(files.values()).decode()
    for personal in (elder()["name"], elder()["national_id"], elder()["phone"]):
        assert personal not in everything  # personal data stays in the person store

    photos = json.loads(files["acceptance_photos.json"])
    digests = [kept_sha256(rt, p) for p in (JPEG, PNG)]
    assert [(p["sha256"], p["status"]) for p in photos] == [(d, "intact") for d in digests]
    assert photos[0]["stored_name"] == f"{digests[0]}.jpg"

    payments = json.loads(files["payments.json"])
    assert [(p["fund_id"], p["kind"], p["amount"]) for p in payments] == [
        (str(provincial), "committed", "800.00"),
        (str(county), "committed", "400.00"),
        (str(provincial), "disbursed", "800.00"),
    ]
    for p in payments:
        assert p["link"] == rt.ledger.movement(UUID(p["fund_id"]), p["seq"]).link
        assert p["target_id"] == str(case)

    chains = json.loads(files["chain.json"])
    assert sorted(c["fund_id"] for c in chains) == sorted([str(provincial), str(county)])
    assert all(c["intact"] and c["broken_at"] is None for c in chains)


def test_the_evidence_pack_says_when_a_photo_file_was_altered_or_lost(
    rt: Runtime, paid_case: tuple[UUID, list[UUID]]
) -> None:
    case, _ = paid_case
    jpeg, png = (rt.photos.path_for(kept_sha256(rt, p)) for p in (JPEG, PNG))
    assert jpeg and png
    jpeg.write_bytes(JPEG + b" retouched")
    png.unlink()
    files = unzip(evidence_pack(rt.ledger, rt.photos, case, GENERATED))
    photos = json.loads(files["acceptance_photos.json"])
    assert [p["status"] for p in photos] == ["altered", "missing"]


def test_the_evidence_pack_is_the_same_bytes_each_time(
    rt: Runtime, paid_case: tuple[UUID, list[UUID]]
) -> None:
    case, _ = paid_case
    first = evidence_pack(rt.ledger, rt.photos, case, GENERATED)
    assert evidence_pack(rt.ledger, rt.photos, case, GENERATED) == first


def test_there_is_no_evidence_pack_for_an_unknown_case_or_a_fund(
    rt: Runtime, paid_case: tuple[UUID, list[UUID]]
) -> None:
    _, (fund, _) = paid_case
    for not_a_case in (UUID(int=1), fund):
        with pytest.raises(CaseNotFound):
            evidence_pack(rt.ledger, rt.photos, not_a_case, GENERATED)
