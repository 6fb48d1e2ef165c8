"""One URL serves a full page or, for htmx, just its fragment."""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template

from portal.extensions import htmx


def page_or_fragment(page: str, fragment: str, status: int = 200, **context: Any) -> Response:
    """Render the fragment for an htmx request, the whole page otherwise (Vary: HX-Request)."""
    template = fragment if htmx and not htmx.boosted else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def page(template: str, status: int = 200, **context: Any) -> Response:
    """A full page with an explicit status (errors are never rendered with 200)."""
    return make_response(render_template(template, **context), status)
