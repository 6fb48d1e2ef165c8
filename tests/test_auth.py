"""Signing in, registering, CSRF, language: through the real forms."""

from __future__ import annotations

from events.roles import Role
from tests.conftest import PASSWORD, csrf_token_of


def test_landing_page_is_chinese_first(client):
    html = client.get("/").get_data(as_text=True)
    assert "适老化改造" in html
    assert 'lang="zh-CN"' in html


def test_family_registers_and_lands_on_their_cases(client):
    token = csrf_token_of(client, "/register")
    response = client.post(
        "/register",
        data={
            "mobile": "13900001111",
            "display_name": "王建国",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    assert client.get("/").status_code == 302


def test_registration_with_bad_mobile_explains_in_chinese_and_stores_nothing(client, app_rt):
    token = csrf_token_of(client, "/register")
    response = client.post(
        "/register",
        data={
            "mobile": "12345",
            "display_name": "王建国",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请填写11位手机号码" in html
    assert "error-summary" in html
    assert 'value="王建国"' in html  # what was typed is kept
    assert app_rt.accounts.authenticate("12345", PASSWORD) is None


def test_duplicate_mobile_is_refused_with_a_message(client, make_user):
    family = make_user(Role.FAMILY)
    token = csrf_token_of(client, "/register")
    response = client.post(
        "/register",
        data={
            "mobile": family.login,
            "display_name": "又一个",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    assert "已经注册过了" in response.get_data(as_text=True)


def test_wrong_password_is_refused(client, make_user):
    family = make_user(Role.FAMILY)
    token = csrf_token_of(client, "/login")
    response = client.post(
        "/login", data={"login": family.login, "password": "wrong-pass", "csrf_token": token}
    )
    assert response.status_code == 422
    assert "密码不对" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_rejected(client, make_user):
    family = make_user(Role.FAMILY)
    response = client.post("/login", data={"login": family.login, "password": PASSWORD})
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)


def test_htmx_request_without_csrf_header_is_rejected(client, login, make_user):
    login(make_user(Role.FAMILY))
    response = client.post("/language", data={"lang": "en"}, headers={"HX-Request": "true"})
    assert response.status_code == 400


def test_htmx_request_with_csrf_header_is_accepted(client, login, make_user):
    token = login(make_user(Role.FAMILY))
    response = client.post(
        "/language", data={"lang": "en"}, headers={"HX-Request": "true", "X-CSRFToken": token}
    )
    assert response.status_code == 303


def test_language_switch_to_english(client):
    token = csrf_token_of(client)
    client.post("/language", data={"lang": "en", "csrf_token": token})
    assert 'lang="en"' in client.get("/").get_data(as_text=True)


def test_pages_carry_a_strict_content_security_policy(client):
    csp = client.get("/").headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe" not in csp


def test_staff_pages_need_sign_in_and_htmx_gets_hx_redirect(client):
    assert client.get("/cases").status_code == 302
    response = client.get("/cases", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_family_cannot_open_staff_rooms(client, login, make_user):
    login(make_user(Role.FAMILY))
    assert client.get("/cases").status_code == 403
