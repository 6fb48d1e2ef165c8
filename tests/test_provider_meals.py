"""The canteen's day in the provider's room: tick the elders served and count the walk-ins once;
afterwards only a correction with a reason; never another canteen's day."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from eventsourcing.application import AggregateNotFoundError

from events.meal_day import CanteenDay, canteen_day_id
from events.roles import Role
from portal.runtime import Runtime
from projections.meal_queries import canteen_day
from tests.support.home_care import register_provider
from tests.support.meals import days_ago, open_canteen, provider_of
from tests.support.provider_room import (
    HX,
    enrol_elders,
    hidden,
    html_of,
    is_fragment,
    post,
    provider_account,
)


@pytest.fixture
def canteen(app_rt: Runtime) -> UUID:
    """An open canteen in 安康区 (D01), projected."""
    canteen_id = open_canteen(app_rt)
    app_rt.catch_up()
    return canteen_id


@pytest.fixture
def elders(app_rt: Runtime, canteen: UUID) -> dict[str, UUID]:
    """王桂兰, 李秀珍 and 赵德明, enrolled at the canteen for the last month."""
    return enrol_elders(app_rt, canteen)


@pytest.fixture
def token(login, make_user, canteen: UUID) -> str:
    """The canteen's provider, signed in."""
    return login(provider_account(make_user, canteen))


def stored(rt: Runtime, canteen: UUID, day) -> CanteenDay | None:
    """The day's aggregate as stored (None if never recorded)."""
    try:
        return rt.meals.repository.get(canteen_day_id(canteen, day))
    except AggregateNotFoundError:
        return None


def served(rt: Runtime, canteen: UUID, day) -> tuple[list[str], int] | None:
    record = stored(rt, canteen, day)
    return None if record is None else (record.served, record.walk_in_count)


# -- the page ------------------------------------------------------------------------------------
def test_the_days_page_lists_the_enrolled_elders_to_tick(client, token, elders):
    response = client.get("/provider/meals")
    assert response.status_code == 200
    html = html_of(response)
    assert "每日用餐登记" in html and "春晖社区老年食堂" in html
    for name, case_id in elders.items():
        assert name in html and f'value="{case_id}"' in html
    assert "(今天)" in html and 'action="/provider/meals"' in html
    assert 'name="walk_in_count"' in html and "散客人数" in html
    assert "最近14天" in html and "未登记" in html


def test_the_day_panel_is_an_htmx_fragment(client, token, elders):
    day = days_ago(3).isoformat()
    response = client.get(f"/provider/meals?day={day}", headers=HX)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    html = html_of(response)
    assert is_fragment(html)
    assert f"{day} 的用餐情况" in html and "王桂兰" in html
    assert "最近14天" not in html  # the history stays on the full page


def test_an_unreadable_day_in_the_link_is_a_400_that_says_so(client, token):
    response = client.get("/provider/meals?day=2026-02-30")
    assert response.status_code == 400
    assert "请选择日期" in html_of(response)
    response = client.get("/provider/meals?day=yesterday", headers=HX)
    assert response.status_code == 400 and response.headers["HX-Redirect"]


# -- recording -----------------------------------------------------------------------------------
def test_recording_a_day_stores_it_and_then_offers_a_correction(
    client, token, app_rt, canteen, elders
):
    day = days_ago(1)
    ticked = [str(elders["王桂兰"]), str(elders["赵德明"])]
    response = post(
        client, "/provider/meals", token, day=day.isoformat(), served=ticked, walk_in_count="12"
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/provider/meals?day={day.isoformat()}"
    assert served(app_rt, canteen, day) == (sorted(ticked), 12)

    html = html_of(client.get(response.headers["Location"]))
    assert f"已登记 {day.isoformat()} 的用餐情况。" in html
    assert "更正这一天的记录" in html and 'action="/provider/meals/correct"' in html
    assert hidden(html, "version") == "1"
    assert f'value="{elders["王桂兰"]}" checked' in html
    assert f'value="{elders["李秀珍"]}">' in html  # not ticked: not served that day
    assert "14 人" in html  # 2 enrolled + 12 walk-ins


def test_a_day_recorded_meanwhile_comes_back_as_a_correction_and_is_not_overwritten(
    client, token, app_rt, canteen, elders
):
    day = days_ago(1)
    app_rt.meals.record_day(provider_of(canteen), canteen, day, [str(elders["李秀珍"])], 4)
    app_rt.catch_up()
    typed = [str(elders["王桂兰"])]
    response = post(
        client, "/provider/meals", token, day=day.isoformat(), served=typed, walk_in_count="9"
    )
    assert response.status_code == 409
    html = html_of(response)
    assert "这一天的用餐情况已经登记过了。如需修改,请使用“更正”,并写明原因。" in html
    assert 'action="/provider/meals/correct"' in html and hidden(html, "version") == "1"
    assert f'value="{elders["王桂兰"]}" checked' in html  # what was typed is kept
    assert 'value="9"' in html
    assert served(app_rt, canteen, day) == ([str(elders["李秀珍"])], 4)


def test_a_future_day_shows_why_and_cannot_be_recorded(client, token, app_rt, canteen, elders):
    tomorrow = days_ago(-1)
    html = html_of(client.get(f"/provider/meals?day={tomorrow.isoformat()}"))
    assert "还没到这一天,不能提前登记" in html
    assert 'action="/provider/meals"' not in html.split("最近14天")[0].split("查看这一天")[1]
    response = post(
        client,
        "/provider/meals",
        token,
        day=tomorrow.isoformat(),
        served=[str(elders["王桂兰"])],
        walk_in_count="1",
    )
    assert response.status_code == 422
    assert "还没到这一天,不能提前登记。请登记今天或以前的用餐情况。" in html_of(response)
    assert stored(app_rt, canteen, tomorrow) is None


def test_an_elder_not_enrolled_here_is_refused_and_nothing_is_stored(
    client, token, app_rt, canteen, elders
):
    other = open_canteen(app_rt, name="南湖老年食堂")
    elsewhere = enrol_elders(app_rt, other, (("孙玉珍", "444"),))
    day = days_ago(1)
    for tampered in ([str(uuid4())], [str(elsewhere["孙玉珍"])], ["not-an-id"]):
        response = post(
            client,
            "/provider/meals",
            token,
            day=day.isoformat(),
            served=[str(elders["王桂兰"]), *tampered],
            walk_in_count="0",
        )
        assert response.status_code == 422
        html = html_of(response)
        assert "请刷新页面后重新勾选" in html and 'class="error-summary"' in html
    assert stored(app_rt, canteen, day) is None


@pytest.mark.parametrize("walk_ins", ["", "abc", "-3", "10001", "2.5"])
def test_walk_ins_must_be_a_whole_number(client, token, app_rt, canteen, elders, walk_ins):
    day = days_ago(1)
    response = post(
        client, "/provider/meals", token, day=day.isoformat(), served=[], walk_in_count=walk_ins
    )
    assert response.status_code == 422
    html = html_of(response)
    assert "散客人数请填写0到10000之间的整数。" in html
    assert f'value="{walk_ins}"' in html or walk_ins == ""  # kept as typed
    assert stored(app_rt, canteen, day) is None


def test_full_width_digits_from_a_chinese_keyboard_are_read(client, token, app_rt, canteen):
    day = days_ago(1)
    response = post(client, "/provider/meals", token, day=day.isoformat(), walk_in_count="１２")
    assert response.status_code == 303
    assert served(app_rt, canteen, day) == ([], 12)


def test_a_form_whose_day_was_tampered_with_is_a_400(client, token, app_rt, canteen):
    assert post(client, "/provider/meals", token, day="soon", walk_in_count="1").status_code == 400
    response = post(client, "/provider/meals", token, walk_in_count="1")
    assert response.status_code == 400


# -- correcting ----------------------------------------------------------------------------------
@pytest.fixture
def recorded(app_rt: Runtime, canteen: UUID, elders: dict[str, UUID]):
    """Yesterday recorded: 王桂兰 and 5 walk-ins."""
    day = days_ago(1)
    app_rt.meals.record_day(provider_of(canteen), canteen, day, [str(elders["王桂兰"])], 5)
    app_rt.catch_up()
    return day


def test_a_correction_with_a_reason_replaces_the_figures(
    client, token, app_rt, canteen, elders, recorded
):
    ticked = [str(elders["王桂兰"]), str(elders["李秀珍"])]
    response = post(
        client,
        "/provider/meals/correct",
        token,
        day=recorded.isoformat(),
        version="1",
        served=ticked,
        walk_in_count="6",
        reason="漏记了李秀珍,散客多来一位",
    )
    assert response.status_code == 303
    record = stored(app_rt, canteen, recorded)
    assert (record.served, record.walk_in_count, record.corrections) == (sorted(ticked), 6, 1)
    html = html_of(client.get(response.headers["Location"]))
    assert f"已更正 {recorded.isoformat()} 的用餐情况。" in html
    assert "已更正" in html.split("最近14天</h2>")[1]  # the mark in the two weeks' list
    assert hidden(html, "version") == "2"


def test_a_correction_without_a_reason_is_refused(client, token, app_rt, canteen, elders, recorded):
    response = post(
        client,
        "/provider/meals/correct",
        token,
        day=recorded.isoformat(),
        version="1",
        served=[],
        walk_in_count="7",
        reason="  ",
    )
    assert response.status_code == 422
    html = html_of(response)
    assert "请写明更正的原因。" in html and 'value="7"' in html
    assert served(app_rt, canteen, recorded) == ([str(elders["王桂兰"])], 5)


def test_a_correction_that_changes_nothing_is_refused(client, token, app_rt, elders, recorded):
    response = post(
        client,
        "/provider/meals/correct",
        token,
        day=recorded.isoformat(),
        version="1",
        served=[str(elders["王桂兰"])],
        walk_in_count="5",
        reason="核对",
    )
    assert response.status_code == 422
    assert "更正后的数字和原来一样" in html_of(response)


def test_a_stale_correction_shows_the_current_figures_and_overwrites_nothing(
    client, token, app_rt, canteen, elders, recorded
):
    app_rt.meals.correct_day(provider_of(canteen), canteen, recorded, 1, [], 20, reason="停电")
    app_rt.catch_up()
    response = post(
        client,
        "/provider/meals/correct",
        token,
        day=recorded.isoformat(),
        version="1",
        served=[],
        walk_in_count="8",
        reason="我的更正",
    )
    assert response.status_code == 409
    html = html_of(response)
    assert "在您填写期间,这条记录已经被更新了" in html
    assert "20 人" in html  # the figures as they now stand
    assert hidden(html, "version") == "2"  # resubmitting means "I have seen them"
    assert served(app_rt, canteen, recorded) == ([], 20)


def test_a_correction_of_a_day_never_recorded_is_not_found(client, token, app_rt, canteen):
    day = days_ago(4)
    response = post(
        client,
        "/provider/meals/correct",
        token,
        day=day.isoformat(),
        version="1",
        walk_in_count="3",
        reason="补",
    )
    assert response.status_code == 404
    assert stored(app_rt, canteen, day) is None


def test_a_correction_without_its_version_is_a_400(client, token, app_rt, canteen, recorded):
    response = post(
        client,
        "/provider/meals/correct",
        token,
        day=recorded.isoformat(),
        walk_in_count="3",
        reason="补",
    )
    assert response.status_code == 400
    assert stored(app_rt, canteen, recorded).version == 1


# -- another canteen's records -------------------------------------------------------------------
def test_a_provider_cannot_read_or_write_another_canteens_records(
    client, token, app_rt, canteen, elders
):
    """A provider of canteen A cannot see or record canteen B's days."""
    canteen_b = open_canteen(app_rt, name="松鹤老年食堂")
    b_elders = enrol_elders(app_rt, canteen_b, (("钱国华", "555"),))
    day = days_ago(2)
    app_rt.meals.record_day(provider_of(canteen_b), canteen_b, day, [str(b_elders["钱国华"])], 33)
    app_rt.catch_up()

    html = html_of(client.get(f"/provider/meals?day={day.isoformat()}"))
    assert "钱国华" not in html and "34 人" not in html and "松鹤老年食堂" not in html
    assert "这一天还没有登记" in html  # A's own day is empty; B's figures never show

    # The facility comes from the account, never the form: a canteen_id field is ignored, and
    # B's elder cannot be counted at A.
    response = post(
        client,
        "/provider/meals",
        token,
        day=day.isoformat(),
        canteen_id=str(canteen_b),
        served=[str(b_elders["钱国华"])],
        walk_in_count="1",
    )
    assert response.status_code == 422
    response = post(
        client,
        "/provider/meals/correct",
        token,
        day=day.isoformat(),
        version="1",
        canteen_id=str(canteen_b),
        served=[],
        walk_in_count="0",
        reason="改别人的",
    )
    assert response.status_code == 404  # A has no such day; B's is out of reach
    record_b = stored(app_rt, canteen_b, day)
    assert (record_b.served, record_b.walk_in_count, record_b.version) == (
        [str(b_elders["钱国华"])],
        33,
        1,
    )
    assert stored(app_rt, canteen, day) is None
    assert canteen_day(app_rt.engine, provider_of(canteen), canteen_b, day) is None


@pytest.mark.parametrize("role", [Role.FAMILY, Role.CASEWORKER])
def test_families_and_caseworkers_are_refused(client, login, make_user, canteen, role):
    token = login(make_user(role))
    assert client.get("/provider/meals").status_code == 403
    day = days_ago(1).isoformat()
    assert post(client, "/provider/meals", token, day=day, walk_in_count="1").status_code == 403


def test_a_provider_of_another_kind_is_told_plainly(client, login, make_user, app_rt):
    organisation = register_provider(app_rt)
    app_rt.catch_up()
    token = login(provider_account(make_user, organisation))
    response = client.get("/provider/meals")
    assert response.status_code == 403
    html = html_of(response)
    assert "只有老年助餐食堂登记每天的用餐情况。" in html and "上门照护服务机构" in html
    day = days_ago(1).isoformat()
    assert post(client, "/provider/meals", token, day=day, walk_in_count="1").status_code == 403
