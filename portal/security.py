"""HTTP security headers for every response: a strict CSP, HTTPS only, no framing or sniffing,
and nothing with personal data kept in any cache (OWASP ASVS 5.0 V3.4, V14.3)."""

from __future__ import annotations

from flask import Response, current_app, request, session

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)
# Two years, subdomains included (ASVS level 2 asks for at least one year and subdomains).
# Browsers only heed it over HTTPS; sent over plain HTTP it is ignored, so always send it.
HSTS = "max-age=63072000; includeSubDomains"
# The full URL goes to our own pages only: Flask-WTF's CSRF check over HTTPS compares the
# Referer with our origin, and other sites learn nothing (not even which case was open).
REFERRER_POLICY = "same-origin"
HEADERS = {
    "Content-Security-Policy": CSP,
    "Strict-Transport-Security": HSTS,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": REFERRER_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers without CSP level 2
    "Cross-Origin-Opener-Policy": "same-origin",
}
CACHEABLE_ENDPOINTS = ("static",)  # stylesheets and scripts: revalidated by their ETag


def add_security_headers(response: Response) -> Response:
    """Every response gets the headers above and, unless it may be cached, `no-store`."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if not _may_be_cached(response):
        forbid_caching(response)
    return response


def _may_be_cached(response: Response) -> bool:
    """Static files (the same for everyone), and pages that declared themselves public (the
    progress page) unless they set a cookie, which a shared cache would hand to others."""
    if request.endpoint in CACHEABLE_ENDPOINTS:
        return True
    sets_cookie = "Set-Cookie" in response.headers or _session_cookie_follows()
    return bool(response.cache_control.public) and not sets_cookie


def _session_cookie_follows() -> bool:
    """Whether Flask will add the session cookie after these hooks (it saves the session
    last): a changed session, or a permanent one refreshed on every request."""
    return current_app.session_interface.should_set_cookie(current_app, session)


def forbid_caching(response: Response) -> None:
    """`no-store` for every page, fragment, file and redirect behind the login (and error
    pages): a shared office computer's cache must not keep an elder's data. A view's own
    `private` stays; a lifetime it asked for (photos: an hour) does not."""
    control = response.cache_control
    control.no_store = True
    control.public = False
    control.max_age = None
    control.s_maxage = None
    control.immutable = False
    response.headers.pop("Expires", None)
