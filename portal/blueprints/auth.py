"""Signing in and out, family registration, language and larger-text switches."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.extensions import htmx
from portal.forms.auth import LoginForm, PasswordForm, RegisterForm, weak_password_message
from portal.messages import field_for, message_for
from portal.rendering import page
from portal.runtime import runtime
from portal.users import client_ip, end_session, load_user, start_session
from services.accounts import WrongPassword
from services.errors import AccountExists, InvalidAccount
from services.login_guard import LoginThrottled
from services.password_policy import WeakPassword

bp = Blueprint("auth", __name__)
__all__ = ["bp", "load_user", "unauthorized"]  # create_app wires the loader from here


def unauthorized() -> Response:
    """Send people to sign in; htmx requests get HX-Redirect, never a login page in a fragment."""
    target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    if htmx:
        response = Response(status=401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def _local_path(target: str) -> str:
    """`target` if it is a path on this site, else the home page: no open redirect. Browsers
    drop tabs and newlines and read a backslash as a slash, so "/\t/evil" is "//evil"."""
    parts = urlsplit(target)
    plain = all(0x20 < ord(c) != 0x7F for c in target) and "\\" not in target
    local = target.startswith("/") and not target.startswith("//")
    if plain and local and not parts.scheme and not parts.netloc:
        return target
    return url_for("home.index")


def _safe_next() -> str:
    return _local_path(request.args.get("next") or "")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    """Sign in with mobile number (families) or login name (staff)."""
    form = LoginForm()
    if form.validate_on_submit():
        try:
            account = runtime().accounts.sign_in(form.login.data, form.password.data, client_ip())
        except LoginThrottled as e:
            form.login.errors.append(_throttled_message(e))
            return page("auth/login.html", status=429, form=form)
        if account is not None:
            start_session(account, remember=bool(form.remember.data))
            return redirect(_safe_next(), 303)
        form.password.errors.append(_("手机号码(登录名)或密码不对,请再试一次。"))
    status = 422 if form.errors else 200
    return page("auth/login.html", status=status, form=form)


def _throttled_message(e: LoginThrottled) -> str:
    return _(
        "登录失败的次数太多,为了保护账户,请%(minutes)d分钟后再试。"
        "忘记密码可以到所在社区服务中心重新设置。",
        minutes=e.minutes_left(),
    )


@bp.route("/register", methods=["GET", "POST"])
def register() -> Response:
    """A family member creates an account with a mobile number and password."""
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user_id = runtime().accounts.register_family(
                mobile=form.mobile.data,
                password=form.password.data,
                display_name=form.display_name.data,
            )
        except WeakPassword as e:
            form.password.errors.append(weak_password_message(e.reason))
        except (AccountExists, InvalidAccount) as e:
            getattr(form, field_for(e) or "mobile").errors.append(message_for(e))
        else:
            start_session(runtime().accounts.get(user_id))
            return redirect(url_for("home.index"), 303)
    return page("auth/register.html", status=422 if form.errors else 200, form=form)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response:
    """Change one's password; every other session of the account ends (other devices too)."""
    form = PasswordForm(login=current_user.account.login)
    if form.validate_on_submit():
        try:
            runtime().accounts.change_password(
                current_user.get_id(), form.current.data, form.password.data, client_ip()
            )
        except WrongPassword:
            form.current.errors.append(_("当前密码不对,请再试一次。"))
        except WeakPassword as e:
            form.password.errors.append(weak_password_message(e.reason))
        except LoginThrottled as e:
            form.current.errors.append(_throttled_message(e))
            return page("auth/password.html", status=429, form=form)
        else:
            start_session(current_user.account, remember=session.permanent)
            flash(_("密码已修改。其他手机或电脑上的登录都已退出。"), "success")
            return redirect(url_for("home.index"), 303)
    return page("auth/password.html", status=422 if form.errors else 200, form=form)


@bp.post("/logout")
def logout() -> Response:
    """Sign out: the session ends server-side, so the old cookie no longer works anywhere."""
    end_session()
    return redirect(url_for("home.index"), 303)


@bp.post("/session/keep-alive")
@login_required
def keep_alive() -> Response:
    """The time-out warning's "继续使用": a signed-in request, so the session's idle clock
    starts again; the page and whatever is typed on it stay as they are."""
    return Response(status=204)


@bp.post("/language")
def language() -> Response:
    """Switch between 简体中文 and English; stays on the same page."""
    session["lang"] = "en" if request.form.get("lang") == "en" else "zh"
    return redirect(_back(), 303)


@bp.post("/elder-mode")
def elder_mode() -> Response:
    """Turn the larger-text 长辈版 on or off, remembered for a year on this device."""
    response = redirect(_back(), 303)
    on = request.form.get("on") == "1"
    response.set_cookie(
        "elder_mode",
        "1" if on else "0",
        max_age=365 * 24 * 3600,
        samesite="Lax",
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response


def _back() -> str:
    return _local_path(request.form.get("back") or "")
