"""Signing in and out, family registration, language and larger-text switches."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user

from portal.extensions import htmx
from portal.forms.auth import LoginForm, RegisterForm
from portal.messages import field_for, message_for
from portal.rendering import page
from portal.runtime import runtime
from portal.users import PortalUser
from services.errors import AccountExists, InvalidAccount

bp = Blueprint("auth", __name__)


def load_user(user_id: str) -> PortalUser | None:
    """Flask-Login's loader: the account behind the session, if it still exists."""
    account = runtime().accounts.get(user_id)
    return PortalUser(account) if account else None


def unauthorized() -> Response:
    """Send people to sign in; htmx requests get HX-Redirect, never a login page in a fragment."""
    target = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    if htmx:
        response = Response(status=401)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def _safe_next() -> str:
    target = request.args.get("next") or ""
    return (
        target if target.startswith("/") and not target.startswith("//") else url_for("home.index")
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    """Sign in with mobile number (families) or login name (staff)."""
    form = LoginForm()
    if form.validate_on_submit():
        account = runtime().accounts.authenticate(form.login.data, form.password.data)
        if account is not None:
            session.clear()  # a fresh session on sign-in: no fixation
            login_user(PortalUser(account))
            return redirect(_safe_next(), 303)
        form.password.errors.append(_("手机号码(登录名)或密码不对,请再试一次。"))
    status = 422 if form.errors else 200
    return page("auth/login.html", status=status, form=form)


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
        except (AccountExists, InvalidAccount) as e:
            getattr(form, field_for(e) or "mobile").errors.append(message_for(e))
        else:
            session.clear()
            login_user(PortalUser(runtime().accounts.get(user_id)))
            return redirect(url_for("home.index"), 303)
    return page("auth/register.html", status=422 if form.errors else 200, form=form)


@bp.post("/logout")
def logout() -> Response:
    """Sign out and forget the session."""
    logout_user()
    session.clear()
    return redirect(url_for("home.index"), 303)


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
        "elder_mode", "1" if on else "0", max_age=365 * 24 * 3600, samesite="Lax", httponly=True
    )
    return response


def _back() -> str:
    target = request.form.get("back") or ""
    return (
        target if target.startswith("/") and not target.startswith("//") else url_for("home.index")
    )
