"""The citizen and staff portal: Flask app factory."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask, request, session
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import labels
from portal.audit import register_audit
from portal.errors import register_error_handlers
from portal.extensions import babel, csrf, htmx, login_manager
from portal.runtime import build_runtime
from portal.security import add_security_headers
from services.sessions import POLICIES, REMEMBER_FOR, session_kind
from services.settings import Settings

LOCALES = ("zh", "en")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the portal; `config` may carry ANLAO_SETTINGS and PASSWORD_HASHER (tests)."""
    config = config or {}
    settings: Settings = config.pop("ANLAO_SETTINGS", None) or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.wsgi_app = QueryStringGuard(app.wsgi_app)  # type: ignore[method-assign]
    if settings.trusted_proxies:
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.config.update(
        SECRET_KEY=settings.secret_key,
        **session_cookie_config(settings),
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session: slow typists lose nothing
        MAX_CONTENT_LENGTH=6 * settings.max_photo_bytes,
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"),
    )
    app.config.update(config)
    app.extensions["anlao"] = build_runtime(settings, config.get("PASSWORD_HASHER"))
    _init_extensions(app)
    _register_blueprints(app)
    register_error_handlers(app)
    app.after_request(add_security_headers)
    register_audit(app)  # runs before the headers hook (Flask runs them last-in first)
    app.context_processor(_template_globals)
    return app


def session_cookie_config(settings: Settings) -> dict[str, Any]:
    """Session cookie flags (ASVS 5.0 V3.3): Secure with the __Host- prefix unless a plain-http
    deployment opts out, never readable by scripts, not sent on cross-site posts; a cookie
    outlives the browser only for a family's remember-me, and never beyond REMEMBER_FOR."""
    secure = not settings.insecure_cookies
    return {
        "SESSION_COOKIE_NAME": "__Host-anlao" if secure else "anlao",
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": REMEMBER_FOR,
        # Flask-Login's own remember cookie is never issued (sessions live server-side),
        # but should a stale one arrive, the loader still demands a live session.
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
    }


class QueryStringGuard:
    """Percent-encodes a query string that is not UTF-8 (only a hand-made request sends one:
    WSGI servers pass the raw bytes on), so Werkzeug reads it as text instead of failing."""

    _SAFE = "=&;+%/:,.-_~"

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        raw = environ.get("QUERY_STRING", "").encode("latin-1", "replace")
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            environ["QUERY_STRING"] = quote(raw, safe=self._SAFE)
        return self.wsgi_app(environ, start_response)


def select_locale() -> str:
    """Chinese first; English when the user chose it (kept in the session)."""
    chosen = session.get("lang")
    return chosen if chosen in LOCALES else "zh"


def _init_extensions(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    from portal.blueprints.auth import load_user, unauthorized

    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)


def _register_blueprints(app: Flask) -> None:
    from portal.blueprints import (
        auth,
        facilities,
        family,
        health,
        home,
        ledger,
        provider,
        public,
        staff,
        supervision,
    )

    blueprints = (auth, home, family, staff, provider, facilities, ledger, supervision, public)
    for module in (*blueprints, health):
        app.register_blueprint(module.bp)


def _template_globals() -> dict[str, Any]:
    return {
        "current_locale": select_locale(),
        "elder_mode": request.cookies.get("elder_mode") == "1",
        "labels": labels,
        "idle_seconds": idle_seconds(),
    }


def idle_seconds() -> int | None:
    """How long the signed-in user may stay idle before the session ends, so the page can warn
    two minutes before (None for visitors)."""
    if not current_user.is_authenticated:
        return None
    kind = "family_remembered" if session.permanent else session_kind(current_user.role, False)
    return int(POLICIES[kind].idle.total_seconds())
