"""A home-care provider's visits in its room: the day's log, its clients, logging, correcting and
cancelling visits with plain refusals; another organisation's cases are not found."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest

from events.clock import frozen_at
from events.home_care import CareStep
from events.roles import Role
from portal.runtime import Runtime
from tests.support.home_care import (
    ASSIGNED_AT,
    LOGGED_AT,
    apply_care,
    care_elder,
    current,
    log,
    provider_user,
    register_provider,
    walk_care,
)
from tests.support.meals import open_canteen
from tests.support.provider_room import (
    HX,
    hidden,
    html_of,
    is_fragment,
    post,
    provider_account,
)
from tests.support.scenario import national_id

VISIT = {
    "visit_date": "2026-03-03",
    "start": "09:00",
    "end": "10:00",
    "items": ["cleaning", "bathing"],
    "caregiver": "护理员王芳",
    "confirmed_by": "elder",
}


@pytest.fixture(autouse=True)
def evening_of_31_march() -> Iterator[None]:
    """Every request happens on 31 March 2026 at 21:00 in the city, after the day's visits."""
    with frozen_at(LOGGED_AT):
        yield


@pytest.fixture
def organisation(app_rt: Runtime) -> UUID:
    """康乐居家养老服务中心, a home-care provider organisation."""
    organisation_id = register_provider(app_rt)
    app_rt.catch_up()
    return organisation_id


@pytest.fixture
def in_service(app_rt: Runtime, organisation: UUID) -> UUID:
    """张秀英's case, served by the organisation since 2 March (40 hours a month, moderate)."""
    with frozen_at(ASSIGNED_AT):
        case_id = walk_care(app_rt, CareStep.IN_SERVICE, provider_id=organisation)
    app_rt.catch_up()
    return case_id


@pytest.fixture
def token(login, make_user, organisation: UUID) -> str:
    """The organisation's provider account, signed in."""
    return login(provider_account(make_user, organisation, "康乐调度员"))


def visits_of(rt: Runtime, case_id: UUID) -> dict[UUID, dict[str, Any]]:
    """The case's visits as the aggregate holds them."""
    return rt.home_care.repository.get(case_id).visits


def logged(
    rt: Runtime, organisation: UUID, case_id: UUID, start: str = "09:00", end: str = "10:00"
):
    """A visit on 3 March logged through the service, read models caught up."""
    visit_id = log(rt, provider_user(organisation), case_id, "2026-03-03", start, end)
    rt.catch_up()
    return visit_id


def new_form(client, case_id: UUID) -> tuple[str, str]:
    """Open the visit form: its version and the visit id it was given."""
    html = html_of(client.get(f"/provider/cases/{case_id}/visits/new"))
    return hidden(html, "version"), hidden(html, "visit_id")


# -- the visit log and the clients ---------------------------------------------------------------
def test_the_visit_log_shows_the_days_visits_and_the_elders_served(
    client, token, app_rt, organisation, in_service
):
    logged(app_rt, organisation, in_service)
    response = client.get("/provider/visits?day=2026-03-03")
    assert response.status_code == 200
    html = html_of(response)
    assert "上门服务记录" in html and "康乐居家养老服务中心" in html
    assert "2026-03-03 的上门服务" in html
    assert "09:00–10:00" in html and "助洁" in html and "护理员王芳" in html
    assert "老人本人确认" in html
    cases = html.split("正在服务的老人</h2>")[1]
    assert "张秀英" in cases and "中度" in cases and ">40<" in cases
    assert ">1.00<" in cases  # hours used this month
    assert f'href="/provider/cases/{in_service}/visits/new"' in cases


def test_the_visit_log_of_a_day_is_an_htmx_fragment(
    client, token, app_rt, organisation, in_service
):
    logged(app_rt, organisation, in_service)
    response = client.get("/provider/visits?day=2026-03-03", headers=HX)
    assert response.status_code == 200
    html = html_of(response)
    assert is_fragment(html) and "09:00–10:00" in html
    assert "正在服务的老人" not in html
    empty = html_of(client.get("/provider/visits?day=2026-03-04", headers=HX))
    assert "这一天还没有登记上门服务。" in empty


def test_today_is_the_default_day_and_a_bad_day_is_a_400(client, token, in_service):
    assert "2026-03-31 的上门服务" in html_of(client.get("/provider/visits"))
    response = client.get("/provider/visits?day=31/03/2026")
    assert response.status_code == 400 and "请选择日期" in html_of(response)


def test_the_case_page_shows_the_elder_as_the_people_rule_allows_a_provider(
    client, token, app_rt, organisation, in_service
):
    visit_id = logged(app_rt, organisation, in_service)
    response = client.get(f"/provider/cases/{in_service}")
    assert response.status_code == 200
    html = html_of(response)
    assert "张秀英" in html and "和平路12号3单元201室" in html
    # The phone is shown exactly as portal.people.elder_view gives it to a provider: in full
    # while providers arrange visits by phone (Role.SEES_FULL_PHONE), masked otherwise.
    full = Role.PROVIDER in Role.SEES_FULL_PHONE
    assert ("13812345678" if full else "138****5678") in html
    assert full or "13812345678" not in html
    assert "40 小时" in html and "1.00 小时(1 次)" in html
    assert f"/provider/cases/{in_service}/visits/{visit_id}/correct" in html
    assert f"/provider/cases/{in_service}/visits/{visit_id}/cancel" in html


# -- logging a visit -----------------------------------------------------------------------------
def test_logging_a_visit_stores_it_once_even_if_the_form_is_sent_twice(
    client, token, app_rt, in_service
):
    version, visit_id = new_form(client, in_service)
    form = {**VISIT, "version": version, "visit_id": visit_id}
    response = post(client, f"/provider/cases/{in_service}/visits/new", token, **form)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/provider/cases/{in_service}"
    visits = visits_of(app_rt, in_service)
    assert list(visits) == [UUID(visit_id)]
    assert visits[UUID(visit_id)]["minutes"] == 60
    assert "已登记这次上门服务。" in html_of(client.get(response.headers["Location"]))

    again = post(client, f"/provider/cases/{in_service}/visits/new", token, **form)
    assert again.status_code == 303  # harmless: the same visit is found, nothing added
    assert list(visits_of(app_rt, in_service)) == [UUID(visit_id)]
    assert current(app_rt, in_service) == int(version) + 1


def test_times_typed_without_a_picker_are_read(client, token, app_rt, in_service):
    version, visit_id = new_form(client, in_service)
    form = {**VISIT, "start": "9:05", "end": "１０：３０", "version": version, "visit_id": visit_id}
    response = post(client, f"/provider/cases/{in_service}/visits/new", token, **form)
    assert response.status_code == 303
    assert visits_of(app_rt, in_service)[UUID(visit_id)]["start"] == "09:05"


BAD_VISITS = [
    pytest.param({"start": "10:00", "end": "09:00"}, "结束时间要晚于开始时间。", id="end-before-start"),
    pytest.param({"start": "09:30", "end": "10:30"}, "这位老人在09:00到10:00已经登记了一次服务,时间不能重叠,请核对。", id="overlap"),
    pytest.param({"items": []}, "请至少选择一项服务内容。", id="no-items"),
    pytest.param({"items": ["massage"]}, "所选服务内容不在服务项目中,请重新选择。", id="unknown-item"),
    pytest.param({"confirmed_by": None}, "请注明这次服务由老人本人还是家属确认。没有确认的服务不能登记。", id="not-confirmed"),
    pytest.param({"caregiver": " "}, "请填写上门护理员的姓名(30字以内)。", id="no-caregiver"),
    pytest.param({"visit_date": "2026-04-01"}, "服务还没有结束,请在服务结束后再登记。", id="future"),
    pytest.param({"visit_date": "2026-03-01"}, "服务日期早于本机构接手这位老人的日期(2026-03-02),请核对。", id="before-assignment"),
    pytest.param({"start": "25:00"}, "请填写开始时间,格式如 09:00。", id="bad-start"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message"), BAD_VISITS)
def test_a_visit_that_breaks_a_rule_is_refused_in_plain_words_and_nothing_is_stored(
    client, token, app_rt, organisation, in_service, change, message
):
    first = logged(app_rt, organisation, in_service)  # 09:00-10:00 on 3 March
    version, visit_id = new_form(client, in_service)
    form = {**VISIT, "version": version, "visit_id": visit_id, "start": "11:00", "end": "12:00"}
    form |= change
    form = {k: v for k, v in form.items() if v is not None}
    response = post(client, f"/provider/cases/{in_service}/visits/new", token, **form)
    assert response.status_code == 422
    html = html_of(response)
    assert message in html and 'class="error-summary"' in html
    assert 'value="护理员王芳"' in html or change.get("caregiver")  # what was typed is kept
    assert list(visits_of(app_rt, in_service)) == [first]
    assert current(app_rt, in_service) == int(version)


def test_a_stale_visit_form_shows_the_case_as_it_stands_and_can_then_be_sent(
    client, token, app_rt, organisation, in_service
):
    version, visit_id = new_form(client, in_service)
    other = logged(app_rt, organisation, in_service)  # someone else logged meanwhile
    form = {**VISIT, "start": "14:00", "end": "15:00", "version": version, "visit_id": visit_id}
    response = post(client, f"/provider/cases/{in_service}/visits/new", token, **form)
    assert response.status_code == 409
    html = html_of(response)
    assert "在您填写期间,这条记录已经被更新了" in html
    assert hidden(html, "version") == str(int(version) + 1)
    assert hidden(html, "visit_id") == visit_id and 'value="14:00"' in html
    assert list(visits_of(app_rt, in_service)) == [other]

    form["version"] = hidden(html, "version")
    assert (
        post(client, f"/provider/cases/{in_service}/visits/new", token, **form).status_code == 303
    )
    assert set(visits_of(app_rt, in_service)) == {other, UUID(visit_id)}


def test_a_form_with_a_tampered_visit_id_or_version_is_a_400(client, token, app_rt, in_service):
    version, _ = new_form(client, in_service)
    path = f"/provider/cases/{in_service}/visits/new"
    assert post(client, path, token, **VISIT, version=version, visit_id="x").status_code == 400
    assert post(client, path, token, **VISIT, visit_id=str(uuid4())).status_code == 400
    assert visits_of(app_rt, in_service) == {}


# -- correcting and cancelling -------------------------------------------------------------------
def test_correcting_a_visit_keeps_the_first_record_and_says_why(
    client, token, app_rt, organisation, in_service
):
    visit_id = logged(app_rt, organisation, in_service)
    path = f"/provider/cases/{in_service}/visits/{visit_id}/correct"
    html = html_of(client.get(path))
    assert "更正上门服务记录" in html and 'value="09:00"' in html and 'value="2026-03-03"' in html
    assert 'value="cleaning" checked' in html and 'value="mobility">' in html
    assert re.search(r'<input checked[^>]*value="elder"', html)
    version = hidden(html, "version")

    response = post(client, path, token, **(VISIT | {"end": "09:30"}), version=version, reason="  ")
    assert response.status_code == 422
    assert "请写明更正的原因。" in html_of(response)
    response = post(
        client, path, token, **(VISIT | {"end": "08:30"}), version=version, reason="填错"
    )
    assert response.status_code == 422
    assert "结束时间要晚于开始时间。" in html_of(response)
    assert visits_of(app_rt, in_service)[visit_id]["end"] == "10:00"

    response = post(
        client, path, token, **(VISIT | {"end": "09:30"}), version=version, reason="提前结束"
    )
    assert response.status_code == 303
    assert visits_of(app_rt, in_service)[visit_id]["end"] == "09:30"
    page = html_of(client.get(f"/provider/cases/{in_service}"))
    assert "已更正这次上门服务的记录。" in page and "已更正</span>" in page


def test_cancelling_a_visit_needs_a_reason_and_then_it_counts_no_more(
    client, token, app_rt, organisation, in_service
):
    visit_id = logged(app_rt, organisation, in_service)
    path = f"/provider/cases/{in_service}/visits/{visit_id}/cancel"
    html = html_of(client.get(path))
    assert "作废这条服务记录" in html and "09:00–10:00" in html
    version = hidden(html, "version")
    response = post(client, path, token, version=version, reason="")
    assert response.status_code == 422
    assert "请写明作废的原因。" in html_of(response)
    assert visits_of(app_rt, in_service)[visit_id]["cancelled"] is False

    response = post(client, path, token, version=version, reason="重复登记了")
    assert response.status_code == 303
    assert visits_of(app_rt, in_service)[visit_id]["cancelled"] is True
    page = html_of(client.get(f"/provider/cases/{in_service}"))
    assert "已作废" in page and "重复登记了" in page and "0.00 小时(0 次)" in page

    # A cancelled visit can be neither corrected nor cancelled again: back to the case.
    for again in (path, f"/provider/cases/{in_service}/visits/{visit_id}/correct"):
        response = client.get(again)
        assert response.status_code == 303
        assert response.headers["Location"] == f"/provider/cases/{in_service}"
    response = post(client, path, token, version=str(current(app_rt, in_service)), reason="再作废")
    assert response.status_code == 303
    assert "这条服务记录已经作废,不能再修改或作废。" in html_of(
        client.get(f"/provider/cases/{in_service}")
    )


def test_an_unknown_visit_of_the_case_is_not_found(client, token, in_service):
    path = f"/provider/cases/{in_service}/visits/{uuid4()}"
    assert client.get(f"{path}/correct").status_code == 404
    assert client.get(f"{path}/cancel").status_code == 404


# -- another organisation's records --------------------------------------------------------------
def test_a_provider_cannot_read_or_write_another_organisations_cases(
    client, token, app_rt, organisation, in_service
):
    """A provider cannot log, correct or cancel visits on another provider's case (404)."""
    other_org = register_provider(app_rt, name="福寿上门护理服务公司")
    elder = care_elder(name="周凤英", national_id=national_id(seq="777"))
    with frozen_at(ASSIGNED_AT):
        theirs = walk_care(
            app_rt,
            CareStep.IN_SERVICE,
            provider_id=other_org,
            case_id=apply_care(app_rt, elder=elder),
        )
    their_visit = logged(app_rt, other_org, theirs)
    my_visit = logged(app_rt, organisation, in_service)
    before = current(app_rt, theirs)

    assert "周凤英" not in html_of(client.get("/provider/visits?day=2026-03-03"))
    assert client.get(f"/provider/cases/{theirs}").status_code == 404
    assert client.get(f"/provider/cases/{theirs}/visits/new").status_code == 404
    form = {
        **VISIT,
        "start": "13:00",
        "end": "14:00",
        "version": str(before),
        "visit_id": str(uuid4()),
    }
    assert post(client, f"/provider/cases/{theirs}/visits/new", token, **form).status_code == 404
    for action in ("correct", "cancel"):
        path = f"/provider/cases/{theirs}/visits/{their_visit}/{action}"
        assert client.get(path).status_code == 404
        fields = {**VISIT, "version": str(before), "reason": "改别人的"}
        assert post(client, path, token, **fields).status_code == 404
        # Their visit id under my own case is not a visit of mine either.
        assert (
            client.get(f"/provider/cases/{in_service}/visits/{their_visit}/{action}").status_code
            == 404
        )
    assert current(app_rt, theirs) == before
    assert set(visits_of(app_rt, theirs)) == {their_visit}
    assert visits_of(app_rt, theirs)[their_visit]["cancelled"] is False
    assert set(visits_of(app_rt, in_service)) == {my_visit}


def test_a_case_not_yet_given_to_the_organisation_is_not_found(client, token, app_rt):
    with frozen_at(ASSIGNED_AT):
        approved = walk_care(app_rt, CareStep.APPROVED)
    app_rt.catch_up()
    assert client.get(f"/provider/cases/{approved}").status_code == 404
    assert client.get(f"/provider/cases/{approved}/visits/new").status_code == 404


def test_a_canteen_is_told_plainly_that_it_logs_no_visits(client, login, make_user, app_rt):
    canteen = open_canteen(app_rt)
    app_rt.catch_up()
    login(provider_account(make_user, canteen))
    response = client.get("/provider/visits")
    assert response.status_code == 403
    html = html_of(response)
    assert "只有上门照护服务机构登记上门服务。" in html and "老年助餐食堂" in html
    assert client.get(f"/provider/cases/{uuid4()}").status_code == 403


@pytest.mark.parametrize("role", ["family", "caseworker"])
def test_families_and_caseworkers_are_refused(client, login, make_user, in_service, role):
    login(make_user(role))
    assert client.get("/provider/visits").status_code == 403
    assert client.get(f"/provider/cases/{in_service}").status_code == 403
