"""The fund ledger in the portal, as finance officers and auditors use it: funds and matching,
a fund, a district, a case or a facility as at any moment (htmx redraws only the ledger), the
hash chain checked on request, exports and evidence packs, the finance officer's forms with the
ledger's refusals and their figures, and every page an auditor opens kept in the view log."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import text

from events import clock
from events.fund import fund_id_for
from events.roles import Actor, Role
from portal.runtime import Runtime
from projections.ledger_queries import case_subsidy, open_commitments
from services import audit_trail
from services.errors import FundNotFound
from services.ledger_history import balance_at
from tests.conftest import User
from tests.support.actors import FINANCE
from tests.support.ledger import (
    ALLOCATED_AT,
    RECEIVED_AT,
    TITLE,
    city,
    dated_fund,
    error_summary,
    field_value,
    version_of,
)
from tests.support.ledger_scenarios import accepted_case, facility, funded
from tests.support.provider_room import HX, html_of, is_fragment, post
from tests.test_ledger_tamper import RawRows

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def finance(make_user: Callable[..., User]) -> User:
    return make_user(Role.FINANCE, name="财务小周")


@pytest.fixture
def auditor(make_user: Callable[..., User]) -> User:
    return make_user(Role.AUDITOR, name="审计员老吴")


@pytest.fixture
def fund(app_rt: Runtime) -> UUID:
    return dated_fund(app_rt)


@pytest.fixture
def case(app_rt: Runtime) -> UUID:
    """An accepted D01 household whose subsidy (1,200.00) is not yet committed."""
    case_id = accepted_case(app_rt)
    app_rt.catch_up()
    return case_id


def reference(rt: Runtime, case_id: UUID) -> str:
    return case_subsidy(rt.engine, case_id).reference


# -- the funds and the matching table --------------------------------------------------------
def test_the_funds_list_shows_balances_and_flags_a_district_behind_on_matching(
    client, login, auditor, fund
):
    login(auditor)
    response = client.get("/ledger/")
    assert response.status_code == 200
    html = html_of(response)
    assert TITLE in html and f'href="/ledger/funds/{fund}"' in html
    assert "100,000.00" in html and "50,000.00" in html  # received; allocated (and available)
    matching = html.split('id="matching"')[1]
    assert "安康区" in matching and "落后" in matching
    assert "1:1" in matching and matching.count("50,000.00") >= 3  # allocated, required, gap
    assert 'href="/ledger/districts/D01"' in html and 'href="/ledger/attempts"' in html
    assert "/ledger/export.xlsx" in html and "/ledger/export.csv" in html
    assert "建立资金" not in html  # auditors open no funds


def test_the_matching_table_as_at_a_moment_is_an_htmx_fragment(client, login, auditor, fund):
    login(auditor)
    before = client.get(f"/ledger/?at={city(RECEIVED_AT, 30)}", headers=HX)
    assert before.status_code == 200 and "HX-Request" in before.headers["Vary"]
    assert is_fragment(html_of(before))
    assert "还没有要求配套的省级资金下达到区县" in html_of(before)
    after = html_of(client.get(f"/ledger/?at={city(ALLOCATED_AT)}", headers=HX))
    assert "落后" in after and "截至 2025-03-03 10:00" in after


# -- a fund as at a moment -------------------------------------------------------------------
def test_a_fund_page_shows_balances_districts_and_every_movement_with_who_and_why(
    client, login, auditor, app_rt, fund
):
    login(auditor)
    html = html_of(client.get(f"/ledger/funds/{fund}"))
    assert TITLE in html and "要求区县按 1:1 配套地方资金" in html
    assert 'type="datetime-local"' in html and f'hx-get="/ledger/funds/{fund}"' in html
    assert 'hx-target="#ledger"' in html and 'hx-push-url="true"' in html
    ledger = html.split('id="ledger"')[1]
    assert "财预〔2025〕12号" in ledger and "安康区下达文件" in ledger
    assert "第3笔" in ledger and "第2笔" in ledger
    assert ledger.index("第3笔") < ledger.index("第2笔")  # newest first
    assert "finance-1" in ledger  # recorded by an actor with no account: its id
    head = balance_at(app_rt.ledger, fund, None).head
    assert f'<code title="{head}">{head[:12]}…</code>' in ledger
    assert "2025-03-03 10:00:00" in ledger  # city time
    assert f'hx-get="/ledger/funds/{fund}/verify"' in html


def test_the_as_at_control_shows_a_movement_only_after_its_time(client, login, auditor, fund):
    login(auditor)
    early = client.get(f"/ledger/funds/{fund}?at={city(ALLOCATED_AT, -1)}", headers=HX)
    assert early.status_code == 200 and is_fragment(html_of(early))
    assert "财预〔2025〕12号" in html_of(early)
    assert "安康区下达文件" not in html_of(early)
    assert "截至 2025-03-03 09:59" in html_of(early)

    late = html_of(client.get(f"/ledger/funds/{fund}?at={city(ALLOCATED_AT)}", headers=HX))
    assert "安康区下达文件" in late and "截至 2025-03-03 10:00" in late
    exports = re.findall(r'href="(/ledger/export\.\w+\?[^"]+)"', late)
    assert len(exports) == 2 and all(
        f"fund={fund}" in e and "at=2025-03-03T10" in e for e in exports
    )

    before_opening = html_of(client.get(f"/ledger/funds/{fund}?at={city(RECEIVED_AT, -1)}"))
    assert "这笔资金还没有建立" in before_opening


@pytest.mark.parametrize("at", ["2025-13-40T10:00", "yesterday", "2025-03-03T25:61"])
def test_an_unreadable_moment_is_a_400_that_says_how_to_write_one(client, login, auditor, fund, at):
    login(auditor)
    message = "请选择日期和时间,例如 2025-07-15 10:30(北京时间)。"
    response = client.get(f"/ledger/funds/{fund}?at={at}")
    assert response.status_code == 400
    assert message in error_summary(html_of(response)) and "Traceback" not in html_of(response)

    fragment = client.get(f"/ledger/funds/{fund}?at={at}", headers=HX)
    assert fragment.status_code == 400 and message in html_of(fragment)
    assert fragment.headers["HX-Redirect"] == f"/ledger/funds/{fund}?at={at}"


def test_pages_of_movements_go_back_in_time_by_keyset(client, login, auditor, app_rt, fund):
    with clock.frozen_at(ALLOCATED_AT + timedelta(hours=1)):
        for n in range(50):
            app_rt.ledger.receive(FINANCE, fund, amount=str(n + 1), document=f"补拨{n + 1}号")
    login(auditor)
    first = html_of(client.get(f"/ledger/funds/{fund}"))
    assert "第53笔" in first and "第4笔" in first and "第3笔" not in first
    assert f'href="/ledger/funds/{fund}?before=4"' in first
    older = html_of(client.get(f"/ledger/funds/{fund}?before=4"))
    assert "第3笔" in older and "第2笔" in older and "第4笔" not in older
    assert client.get(f"/ledger/funds/{fund}?before=abc").status_code == 400


def test_the_verify_button_shows_the_chain_intact_with_its_head(
    client, login, auditor, app_rt, fund
):
    login(auditor)
    response = client.get(f"/ledger/funds/{fund}/verify", headers=HX)
    assert response.status_code == 200
    html = html_of(response)
    assert is_fragment(html)
    assert "哈希链完好" in html and "全部 3 条记录" in html
    assert balance_at(app_rt.ledger, fund, None).head in html
    whole = html_of(client.get(f"/ledger/funds/{fund}/verify"))
    assert "<html" in whole and "哈希链完好" in whole


def test_a_changed_amount_in_the_database_is_named_by_the_verify_button(
    client, login, auditor, app_rt, fund
):
    raw = RawRows(app_rt)
    raw.replace(raw.events, fund, 3, '"50000.00"', '"5000.00"')
    login(auditor)
    html = html_of(client.get(f"/ledger/funds/{fund}/verify", headers=HX))
    assert "哈希链在第 3 条记录处断开" in html and 'role="alert"' in html
    assert "这条记录的内容被改动过" in html and "在它之前的 2 条记录完好" in html


def test_an_unknown_fund_is_not_found(client, login, auditor):
    login(auditor)
    assert client.get(f"/ledger/funds/{fund_id_for('social', 'meal', 2031)}").status_code == 404


# -- a district, a case, a facility ----------------------------------------------------------
def test_a_district_page_and_its_fragment_as_at_a_moment(client, login, auditor, fund):
    login(auditor)
    html = html_of(client.get("/ledger/districts/D01"))
    assert "安康区的资金" in html and TITLE in html and "安康区下达文件" in html
    assert "落后,缺口 50,000.00 元" in html
    fragment = html_of(client.get(f"/ledger/districts/D01?at={city(ALLOCATED_AT, -1)}", headers=HX))
    assert is_fragment(fragment) and "还没有资金下达到这个区县" in fragment
    assert "安康区下达文件" not in fragment
    assert client.get("/ledger/districts/D99").status_code == 404
    assert client.get("/ledger/districts/D01?cursor=not-ours").status_code == 400


def test_a_case_page_shows_its_subsidy_movements_and_the_evidence_pack(
    client, login, auditor, app_rt, fund, case
):
    with clock.frozen_at(ALLOCATED_AT + timedelta(days=1)):
        seq = app_rt.ledger.commit_retrofit_subsidy(
            FINANCE, fund, case, amount="1200", document="核定通知"
        )
    app_rt.catch_up()
    login(auditor)
    html = html_of(client.get(f"/ledger/cases/{case}"))
    assert reference(app_rt, case) in html and "1,200.00" in html and "核定通知" in html
    assert f'href="/ledger/cases/{case}/evidence.zip"' in html
    assert f"/ledger/funds/{fund}/commitments/{seq}/pay" not in html  # auditors pay nothing
    before = html_of(client.get(f"/ledger/cases/{case}?at={city(ALLOCATED_AT)}", headers=HX))
    assert is_fragment(before) and "核定通知" not in before and "还没有资金往来" in before

    pack = client.get(f"/ledger/cases/{case}/evidence.zip")
    assert pack.status_code == 200 and pack.mimetype == "application/zip"
    assert pack.data[:2] == b"PK"
    assert f"evidence-{reference(app_rt, case)}.zip" in pack.headers["Content-Disposition"]


def test_an_unknown_case_is_not_found(client, login, auditor):
    login(auditor)
    assert client.get(f"/ledger/cases/{fund_id_for('social', 'meal', 2031)}").status_code == 404


def test_a_finance_officer_commits_money_to_a_facility_and_sees_it_there(
    client, login, finance, app_rt
):
    fund = funded(app_rt, programme="facility", title="2025年省级养老设施建设资金")
    centre = facility(app_rt, "care_centre")
    app_rt.catch_up()
    token = login(finance)
    listing = html_of(client.get("/ledger/facilities/"))
    assert f'href="/ledger/facilities/{centre}"' in listing
    form = html_of(client.get(f"/ledger/facilities/{centre}/commit"))
    assert f'<option selected value="{fund}">2025年省级养老设施建设资金</option>' in form

    response = post(client, f"/ledger/facilities/{centre}/commit", token, fund=str(fund),
                    amount="20000", document="建设资金核定文件")  # fmt: skip
    assert response.status_code == 303
    assert response.headers["Location"] == f"/ledger/facilities/{centre}"
    page = html_of(client.get(response.headers["Location"]))
    assert "已核定 20,000.00 元" in page and "建设资金核定文件" in page
    assert "20,000.00" in page.split("未付清的核定")[1]
    fragment = html_of(
        client.get(f"/ledger/facilities/{centre}?at={city(RECEIVED_AT)}", headers=HX)
    )
    assert is_fragment(fragment) and "建设资金核定文件" not in fragment


# -- exports ----------------------------------------------------------------------------------
def test_exports_download_with_their_content_type_and_file_name(client, login, auditor, fund):
    login(auditor)
    at = city(ALLOCATED_AT)
    csv = client.get(f"/ledger/export.csv?at={at}")
    assert csv.status_code == 200 and csv.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "filename=ledger-20250303-1000.csv" in csv.headers["Content-Disposition"]
    assert csv.headers["Content-Disposition"].startswith("attachment")
    assert "安康区下达文件" in csv.data.decode("utf-8-sig")

    xlsx = client.get(f"/ledger/export.xlsx?at={at}&fund={fund}")
    assert xlsx.status_code == 200 and xlsx.mimetype == XLSX and xlsx.data[:2] == b"PK"
    assert "ledger-20250303-1000.xlsx" in xlsx.headers["Content-Disposition"]

    assert client.get("/ledger/export.csv?at=soon").status_code == 400
    assert client.get("/ledger/export.csv?fund=nope").status_code == 404


def test_supervisors_read_the_ledger_but_take_nothing_away(client, login, make_user, fund):
    login(make_user(Role.SUPERVISOR))
    assert client.get(f"/ledger/funds/{fund}").status_code == 200
    assert client.get("/ledger/export.csv").status_code == 403
    assert "/ledger/export.csv" not in html_of(client.get("/ledger/"))


# -- the finance officer's forms -------------------------------------------------------------
def test_opening_a_fund_leads_to_its_page(client, login, finance, app_rt):
    token = login(finance)
    assert "资金来源" in html_of(client.get("/ledger/funds/new"))
    response = post(client, "/ledger/funds/new", token, source="county", programme="retrofit",
                    year="2025", title="2025年县级适老化改造配套资金", matching_ratio="")  # fmt: skip
    assert response.status_code == 303
    fund_id = fund_id_for("county", "retrofit", 2025)
    assert response.headers["Location"] == f"/ledger/funds/{fund_id}"
    html = html_of(client.get(response.headers["Location"]))
    assert "已建立资金“2025年县级适老化改造配套资金”。" in html and "县级配套资金" in html


def test_a_matching_ratio_on_local_money_is_refused_at_its_field(client, login, finance, app_rt):
    token = login(finance)
    response = post(client, "/ledger/funds/new", token, source="municipal", programme="retrofit",
                    year="2025", title="市级配套", matching_ratio="1")  # fmt: skip
    assert response.status_code == 422
    html = html_of(response)
    assert "配套比例只适用于省级资金" in error_summary(html)
    assert 'href="#matching_ratio"' in error_summary(html)
    assert 'id="matching_ratio-error"' in html and 'value="市级配套"' in html  # kept as typed
    with pytest.raises(FundNotFound):  # nothing was opened
        app_rt.ledger.fund(fund_id_for("municipal", "retrofit", 2025))


def test_a_receipt_is_recorded_and_appears_with_its_recorder(client, login, finance, app_rt, fund):
    token = login(finance)
    page = html_of(client.get(f"/ledger/funds/{fund}"))
    assert f'action="/ledger/funds/{fund}/receive"' in page and "冲销" in page
    response = post(client, f"/ledger/funds/{fund}/receive", token,
                    **{"receive-amount": "2,500.50", "receive-document": "财预〔2025〕30号"})  # fmt: skip
    assert response.status_code == 303
    assert response.headers["Location"] == f"/ledger/funds/{fund}"
    html = html_of(client.get(response.headers["Location"]))
    assert "已登记到账 2,500.50 元,是这笔资金的第4笔记录。" in html
    ledger = html.split('id="ledger"')[1]
    assert "财预〔2025〕30号" in ledger and "财务小周" in ledger and "102,500.50" in ledger


@pytest.mark.parametrize("amount", ["abc", "0", "-5", "12.345", ""])
def test_a_bad_amount_is_refused_at_the_field_and_nothing_is_recorded(
    client, login, finance, app_rt, fund, amount
):
    token = login(finance)
    response = post(client, f"/ledger/funds/{fund}/receive", token,
                    **{"receive-amount": amount, "receive-document": "财预〔2025〕30号"})  # fmt: skip
    assert response.status_code == 422
    html = html_of(response)
    message = "请填写金额:以元为单位,大于0,最多两位小数,例如 3000 或 1250.50。"
    assert message in error_summary(html) and 'href="#receive-amount"' in html
    assert 'id="receive-amount-error"' in html
    assert "<details open>" in html  # the refused form stays unfolded
    assert version_of(app_rt, fund) == 3


def test_allocating_more_than_is_available_is_refused_with_the_numbers(
    client, login, finance, app_rt, fund
):
    token = login(finance)
    response = post(client, f"/ledger/funds/{fund}/allocate", token,
                    **{"allocate-amount": "60000", "allocate-district": "D02",
                       "allocate-document": "永宁区下达文件"})  # fmt: skip
    assert response.status_code == 422
    assert (
        "下达后,这笔资金的已下达金额将超过已到账金额:可用 50,000.00 元,本次 60,000.00 元。"
        in error_summary(html_of(response))
    )
    assert version_of(app_rt, fund) == 3


def test_returning_allocated_money_is_refused_with_what_may_be_returned(
    client, login, finance, app_rt, fund
):
    token = login(finance)
    response = post(client, f"/ledger/funds/{fund}/return", token,
                    **{"return-amount": "70000", "return-document": "退回文件",
                       "return-reason": "项目取消"})  # fmt: skip
    assert response.status_code == 422
    assert (
        "退回后,这笔资金的已到账金额将少于已下达金额:最多可退回 50,000.00 元,本次 70,000.00 元。"
        in html_of(response)
    )


def test_a_mistaken_allocation_is_reversed_with_a_reason(client, login, finance, app_rt, fund):
    token = login(finance)
    confirm = html_of(client.get(f"/ledger/funds/{fund}/movements/3/reverse"))
    assert "冲销第3笔" in confirm and "安康区下达文件" in confirm and "50,000.00" in confirm
    refused = post(client, f"/ledger/funds/{fund}/movements/3/reverse", token, reason="")
    assert refused.status_code == 422
    assert "请写明原因(500字以内)。" in error_summary(html_of(refused))
    assert version_of(app_rt, fund) == 3

    response = post(client, f"/ledger/funds/{fund}/movements/3/reverse", token,
                    reason="下达区县录错,应为永宁区")  # fmt: skip
    assert response.status_code == 303
    html = html_of(client.get(response.headers["Location"]))
    assert "已冲销第3笔,冲销记录是第4笔。" in html
    assert "冲销第3笔" in html and "已被第4笔冲销" in html and "-50,000.00" in html

    again = post(client, f"/ledger/funds/{fund}/movements/3/reverse", token, reason="再冲一次")
    assert again.status_code == 422 and "这一笔已经冲销过了,不能重复冲销。" in html_of(again)
    assert client.get(f"/ledger/funds/{fund}/movements/99/reverse").status_code == 404


def test_the_subsidy_queue_leads_to_a_commitment_then_a_payment(
    client, login, finance, app_rt, fund, case
):
    token = login(finance)
    queue = html_of(client.get("/ledger/subsidies"))
    assert reference(app_rt, case) in queue and f'href="/ledger/cases/{case}/commit"' in queue
    assert is_fragment(html_of(client.get("/ledger/subsidies?district=D01", headers=HX)))
    form = html_of(client.get(f"/ledger/cases/{case}/commit"))
    assert field_value(form, "amount") == "1200.00"
    assert f'<option selected value="{fund}">' in form  # the only retrofit fund

    committed = post(client, f"/ledger/cases/{case}/commit", token, fund=str(fund),
                     amount="1200.00", document="补助核定通知")  # fmt: skip
    assert committed.status_code == 303
    assert committed.headers["Location"] == f"/ledger/cases/{case}"
    page = html_of(client.get(committed.headers["Location"]))
    assert f"已核定 1,200.00 元,是资金“{TITLE}”的第4笔记录。" in page
    assert reference(app_rt, case) not in html_of(client.get("/ledger/subsidies"))

    pay_form = html_of(client.get(f"/ledger/funds/{fund}/commitments/4/pay"))
    assert field_value(pay_form, "amount") == "1200.00"
    paid = post(client, f"/ledger/funds/{fund}/commitments/4/pay", token,
                payee="安居装修公司", voucher="PZ-2025-0301", amount="1200.00")  # fmt: skip
    assert paid.status_code == 303 and paid.headers["Location"] == f"/ledger/cases/{case}"
    page = html_of(client.get(paid.headers["Location"]))
    assert "已拨付 1,200.00 元给安居装修公司" in page and "PZ-2025-0301" in page
    assert case_subsidy(app_rt.engine, case).paid == 1200
    assert open_commitments(app_rt.engine, target_id=str(case)) == []
    assert client.get(f"/ledger/funds/{fund}/commitments/4/pay").status_code == 404


def test_committing_beyond_the_assessed_subsidy_is_refused_with_the_numbers(
    client, login, finance, app_rt, fund, case
):
    token = login(finance)
    response = post(client, f"/ledger/cases/{case}/commit", token, fund=str(fund),
                    amount="1500", document="补助核定通知")  # fmt: skip
    assert response.status_code == 422
    assert (
        "核定金额超过了评估的补助:评估补助 1,200.00 元,已核定 0.00 元,本次 1,500.00 元。"
        in error_summary(html_of(response))
    )
    assert version_of(app_rt, fund) == 3


def test_paying_more_than_a_commitment_has_left_names_the_commitment(
    client, login, finance, app_rt, fund, case
):
    app_rt.ledger.commit_retrofit_subsidy(FINANCE, fund, case, amount="1200", document="核定")
    app_rt.catch_up()
    token = login(finance)
    response = post(client, f"/ledger/funds/{fund}/commitments/4/pay", token,
                    payee="安居装修公司", voucher="PZ-1", amount="1300")  # fmt: skip
    assert response.status_code == 422
    assert (
        "拨付后,第4笔核定的已拨付金额将超过已核定金额:可用 1,200.00 元,本次 1,300.00 元。"
        in html_of(response)
    )


def test_a_second_subsidy_for_the_same_items_names_the_earlier_case(
    client, login, finance, auditor, app_rt, fund, case
):
    second = accepted_case(app_rt, family=Actor("family-c", Role.FAMILY))  # the same elder
    app_rt.ledger.commit_retrofit_subsidy(FINANCE, fund, case, amount="1200", document="核定")
    app_rt.catch_up()
    token = login(finance)
    response = post(client, f"/ledger/cases/{second}/commit", token, fund=str(fund),
                    amount="1200", document="再次核定")  # fmt: skip
    assert response.status_code == 422
    summary = error_summary(html_of(response))
    assert f"已经由案件 {reference(app_rt, case)} 核定过补助" in summary
    assert "在规定年限内不能重复补助" in summary

    app_rt.catch_up()
    login(auditor)
    attempts = html_of(client.get("/ledger/attempts"))
    assert reference(app_rt, second) in attempts and reference(app_rt, case) in attempts
    assert "财务小周" in attempts and TITLE in attempts


# -- who may do what --------------------------------------------------------------------------
def test_auditors_see_no_write_controls_and_every_finance_post_is_refused(
    client, login, auditor, app_rt, fund, case
):
    seq = app_rt.ledger.commit_retrofit_subsidy(FINANCE, fund, case, amount="600", document="d")
    centre = facility(app_rt, "care_centre")
    app_rt.catch_up()
    token = login(auditor)
    page = html_of(client.get(f"/ledger/funds/{fund}"))
    assert 'method="post" action="/ledger' not in page
    assert "/reverse" not in page and "/pay" not in page and "登记资金往来" not in page
    assert "/commit" not in html_of(client.get(f"/ledger/cases/{case}"))
    writes = [
        "/ledger/funds/new",
        f"/ledger/funds/{fund}/receive",
        f"/ledger/funds/{fund}/allocate",
        f"/ledger/funds/{fund}/return",
        f"/ledger/funds/{fund}/movements/3/reverse",
        f"/ledger/cases/{case}/commit",
        f"/ledger/facilities/{centre}/commit",
        f"/ledger/funds/{fund}/commitments/{seq}/pay",
    ]
    for path in writes:
        response = post(client, path, token, amount="1", document="d", reason="r")
        assert response.status_code == 403, path
        assert client.get(path).status_code in (403, 405), path
    assert version_of(app_rt, fund) == 4


@pytest.mark.parametrize("role", [Role.FAMILY, Role.CASEWORKER, Role.PROVIDER])
def test_families_and_caseworkers_cannot_open_the_ledger(client, login, make_user, fund, role):
    login(make_user(role, facility_id=str(uuid4())) if role == Role.PROVIDER else make_user(role))
    for path in ("/ledger/", f"/ledger/funds/{fund}", "/ledger/export.csv", "/ledger/attempts"):
        assert client.get(path).status_code == 403, path
    assert "/ledger/" not in html_of(client.get("/", follow_redirects=True))


def test_signed_out_visitors_are_sent_to_sign_in(client, fund):
    response = client.get(f"/ledger/funds/{fund}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# -- the auditors' view log -------------------------------------------------------------------
def test_every_page_an_auditor_opens_is_logged_with_path_and_time(
    client, login, auditor, finance, app_rt, fund
):
    login(finance)
    client.get(f"/ledger/funds/{fund}")  # finance officers are not logged
    login(auditor)
    seen = ALLOCATED_AT + timedelta(days=30)
    with clock.frozen_at(seen):
        client.get(f"/ledger/funds/{fund}?at={city(RECEIVED_AT)}", headers=HX)
        client.get("/cases")  # anywhere in the portal
        client.get(f"/ledger/funds/{fund}?at=never")  # a 400 showed nothing
        client.get("/static/css/anlao.css").close()
    views = audit_trail.recent(app_rt.engine, 10)
    assert [(v.user_id, v.endpoint, v.path) for v in views[:2]] == [
        (auditor.actor.user_id, "staff.queue", "/cases"),
        (auditor.actor.user_id, "ledger.fund",
         f"/ledger/funds/{fund}?at={city(RECEIVED_AT)}"),
    ]  # fmt: skip
    assert views[0].viewed_at == seen
    assert {v.user_id for v in views} == {auditor.actor.user_id}

    trail = html_of(client.get("/ledger/audit-trail"))
    assert "审计员老吴" in trail and f"/ledger/funds/{fund}?at=" in trail
    assert "2025-04-02 10:00:00" in trail  # when, in city time


def test_a_page_is_withheld_when_the_view_cannot_be_logged(client, login, auditor, app_rt, fund):
    login(auditor)
    with app_rt.engine.begin() as conn:
        conn.execute(text("DROP TABLE audit_views"))  # the log can no longer be written
    response = client.get(f"/ledger/funds/{fund}")
    assert response.status_code == 503
    html = html_of(response)
    assert "查看记录暂时无法保存,为此没有显示这个页面" in html and TITLE not in html


def test_the_view_log_is_for_auditors_and_admins(client, login, finance, make_user):
    login(finance)
    assert client.get("/ledger/audit-trail").status_code == 403
    login(make_user(Role.ADMIN))
    assert client.get("/ledger/audit-trail").status_code == 200
