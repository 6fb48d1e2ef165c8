"""A facility's staffing reports in the provider's room: one report a month, then corrections
with a reason; elders per caregiver and annual turnover; only its own facility's reports."""

from __future__ import annotations

from uuid import UUID

import pytest

from events import clock
from events.facility import Kind
from events.roles import Role
from events.workforce import period_index, period_of
from portal.runtime import Runtime
from projections.workforce_queries import staffing_report
from tests.support.facilities import figures, provider_of, register
from tests.support.meals import open_canteen
from tests.support.provider_room import HX, hidden, html_of, is_fragment, post, provider_account


def month(offset: int = 0) -> str:
    """This month in the city ("YYYY-MM"), or `offset` months from it."""
    today = clock.today()
    return period_of(period_index(f"{today.year:04d}-{today.month:02d}") + offset)


FIGURES = {k: str(v) for k, v in figures().items()}  # 10 caregivers, 40 elders, 1 hire, 1 left


@pytest.fixture
def institution(app_rt: Runtime) -> UUID:
    """长乐镇敬老院, a rural support institution, projected."""
    facility_id = register(app_rt, Kind.INSTITUTION)
    app_rt.catch_up()
    return facility_id


@pytest.fixture
def token(login, make_user, institution: UUID) -> str:
    """The institution's provider account, signed in."""
    return login(provider_account(make_user, institution, "敬老院院长"))


def report_of(rt: Runtime, facility: UUID, period: str):
    """The month's report as the read model holds it (None if never reported)."""
    rt.catch_up()
    return staffing_report(rt.engine, provider_of(facility), facility, period)


def reported(rt: Runtime, facility: UUID, period: str, **overrides: int) -> None:
    """The month reported through the service by the facility's own account."""
    rt.facilities.report_staffing(
        provider_of(facility), organisation_id=facility, period=period, **figures(**overrides)
    )
    rt.catch_up()


# -- the page ------------------------------------------------------------------------------------
def test_the_page_offers_the_newest_month_not_yet_reported(client, token, app_rt, institution):
    reported(app_rt, institution, month())
    response = client.get("/provider/staffing")
    assert response.status_code == 200
    html = html_of(response)
    assert "护理员情况填报" in html and "长乐镇敬老院" in html
    assert hidden(html, "period") == month(-1)  # this month is done: last month is next
    assert 'action="/provider/staffing"' in html and "填报</button>" in html
    assert "(已填报)" in html  # the picker marks this month
    assert "已填报的月份" in html and "4.00" in html  # 40 elders for 10 caregivers


def test_a_months_panel_is_an_htmx_fragment(client, token, app_rt, institution):
    reported(app_rt, institution, month(-2))
    response = client.get(f"/provider/staffing?period={month(-2)}", headers=HX)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    html = html_of(response)
    assert is_fragment(html)
    assert "这个月已经填报过了" in html and 'action="/provider/staffing/correct"' in html
    assert hidden(html, "version") == "1" and 'value="40"' in html
    assert "已填报的月份" not in html


def test_an_unreadable_month_in_the_link_is_a_400(client, token):
    response = client.get("/provider/staffing?period=2026-13")
    assert response.status_code == 400
    assert "请从列表中选择填报月份。" in html_of(response)


# -- reporting -----------------------------------------------------------------------------------
def test_reporting_a_month_stores_it_and_shows_the_ratios(client, token, app_rt, institution):
    period = month(-1)
    response = post(client, "/provider/staffing", token, period=period, **FIGURES)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/provider/staffing?period={period}"
    row = report_of(app_rt, institution, period)
    assert (row.caregivers, row.residents_or_clients, row.trained, row.version) == (10, 40, 8, 1)

    html = html_of(client.get(response.headers["Location"]))
    assert f"已填报 {period} 的护理员情况。" in html
    history = html.split("已填报的月份</h2>")[1]
    assert period in history and ">4.00<" in history
    assert ">10.0%<" in history  # 1 departure over an average of 10 caregivers
    assert 'action="/provider/staffing/correct"' in html  # now a correction


def test_a_month_reported_meanwhile_comes_back_as_a_correction(client, token, app_rt, institution):
    period = month(-1)
    reported(app_rt, institution, period)
    typed = FIGURES | {"departures": "3"}
    response = post(client, "/provider/staffing", token, period=period, **typed)
    assert response.status_code == 409
    html = html_of(response)
    assert "这个月的护理员情况已经填报过了。如需修改,请提交更正并写明原因。" in html
    assert 'action="/provider/staffing/correct"' in html and hidden(html, "version") == "1"
    assert 'name="departures" type="number" value="3"' in html  # what was typed is kept
    assert report_of(app_rt, institution, period).departures == 1


BAD_FIGURES = [
    pytest.param({"trained": "11"}, "受过培训的护理员人数不能多于护理员总数(10人)。", id="trained"),
    pytest.param({"hires": "两个"}, "请填写0到100000之间的整数。", id="words"),
    pytest.param({"caregivers": ""}, "请填写0到100000之间的整数。", id="empty"),
    pytest.param({"departures": "-1"}, "请填写0到100000之间的整数。", id="negative"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), BAD_FIGURES)
def test_figures_that_break_a_rule_are_refused_and_nothing_is_stored(
    client, token, app_rt, institution, change, message
):
    period = month(-1)
    response = post(client, "/provider/staffing", token, period=period, **(FIGURES | change))
    assert response.status_code == 422
    html = html_of(response)
    assert message in html and 'class="error-summary"' in html
    field = next(iter(change))
    assert f'href="#{field}"' in html  # the summary points at the field
    assert report_of(app_rt, institution, period) is None


def test_a_future_month_shows_why_and_cannot_be_reported(client, token, app_rt, institution):
    html = html_of(client.get(f"/provider/staffing?period={month(1)}"))
    assert "还不能填报以后月份的情况。" in html
    assert 'action="/provider/staffing"' not in html.split("选择</button>")[1]
    response = post(client, "/provider/staffing", token, period=month(1), **FIGURES)
    assert response.status_code == 422
    assert "还不能填报以后月份的情况。" in html_of(response)
    assert report_of(app_rt, institution, month(1)) is None


def test_a_form_with_a_tampered_month_is_a_400(client, token, app_rt, institution):
    assert post(client, "/provider/staffing", token, period="last", **FIGURES).status_code == 400
    assert post(client, "/provider/staffing", token, **FIGURES).status_code == 400


# -- correcting ----------------------------------------------------------------------------------
def test_a_correction_with_a_reason_replaces_the_figures(client, token, app_rt, institution):
    period = month(-1)
    reported(app_rt, institution, period)
    fields = FIGURES | {"departures": "2", "version": "1", "period": period}
    response = post(client, "/provider/staffing/correct", token, **fields, reason="漏报一人离职")
    assert response.status_code == 303
    row = report_of(app_rt, institution, period)
    assert (row.departures, row.corrections, row.last_reason) == (2, 1, "漏报一人离职")
    html = html_of(client.get(response.headers["Location"]))
    assert f"已更正 {period} 的护理员情况。" in html and "已更正</span>" in html
    assert ">20.0%<" in html and hidden(html, "version") == "2"


def test_a_correction_without_a_reason_is_refused(client, token, app_rt, institution):
    period = month(-1)
    reported(app_rt, institution, period)
    fields = FIGURES | {"departures": "2", "version": "1", "period": period, "reason": ""}
    response = post(client, "/provider/staffing/correct", token, **fields)
    assert response.status_code == 422
    html = html_of(response)
    assert "请写明更正的原因。" in html and 'href="#reason"' in html
    assert report_of(app_rt, institution, period).departures == 1


def test_a_stale_correction_shows_the_current_figures(client, token, app_rt, institution):
    period = month(-1)
    reported(app_rt, institution, period)
    app_rt.facilities.correct_staffing(
        provider_of(institution), institution, period, 1, **figures(hires=4), reason="补报"
    )
    fields = FIGURES | {"departures": "2", "version": "1", "period": period}
    response = post(client, "/provider/staffing/correct", token, **fields, reason="我的更正")
    assert response.status_code == 409
    html = html_of(response)
    assert "在您填写期间,这条记录已经被更新了" in html and hidden(html, "version") == "2"
    row = report_of(app_rt, institution, period)
    assert (row.hires, row.departures, row.version) == (4, 1, 2)


# -- another facility's reports ------------------------------------------------------------------
def test_a_provider_cannot_read_or_write_another_facilitys_reports(
    client, token, app_rt, institution
):
    """A provider's reports and corrections are always its own facility's."""
    centre = register(app_rt, Kind.CARE_CENTRE)
    period = month(-1)
    reported(app_rt, centre, period, caregivers=77, residents_or_clients=99)
    html = html_of(client.get(f"/provider/staffing?period={period}"))
    assert ">77<" not in html and 'value="77"' not in html and "这个月还没有填报" in html

    fields = FIGURES | {"departures": "5", "version": "1", "period": period, "reason": "改别人的"}
    assert post(client, "/provider/staffing/correct", token, **fields).status_code == 404
    response = post(client, "/provider/staffing", token, period=period, **FIGURES)
    assert response.status_code == 303  # a report of its own month, for its own facility
    theirs = report_of(app_rt, centre, period)
    assert (theirs.caregivers, theirs.departures, theirs.version) == (77, 1, 1)
    assert report_of(app_rt, institution, period).caregivers == 10


def test_a_canteen_is_told_plainly_that_it_reports_no_caregivers(client, login, make_user, app_rt):
    canteen = open_canteen(app_rt)
    app_rt.catch_up()
    token = login(provider_account(make_user, canteen))
    response = client.get("/provider/staffing")
    assert response.status_code == 403
    assert "助餐食堂不需要填报护理员情况。" in html_of(response)
    assert post(client, "/provider/staffing", token, period=month(-1), **FIGURES).status_code == 403


@pytest.mark.parametrize("role", [Role.FAMILY, Role.CASEWORKER])
def test_families_and_caseworkers_are_refused(client, login, make_user, institution, role):
    token = login(make_user(role))
    assert client.get("/provider/staffing").status_code == 403
    assert post(client, "/provider/staffing", token, period=month(-1), **FIGURES).status_code == 403
