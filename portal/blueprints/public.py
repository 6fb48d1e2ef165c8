"""The public progress page (宣传引导): city-wide figures anyone may read, without signing in.
No personal data and no small counts (fewer than 5 are shown as "少于5"); no district split."""

from __future__ import annotations

from flask import Blueprint, Response

from events import clock
from portal import supervision_labels as sl
from portal.rendering import page
from portal.runtime import runtime
from projections.public_figures import SUPPRESS_BELOW, public_figures

bp = Blueprint("public", __name__)

CACHE_SECONDS = 300  # figures move daily: five minutes in a shared cache is plenty fresh


@bp.get("/progress")
def progress() -> Response:
    """This year's city-wide figures in plain words, cacheable for a few minutes."""
    today = clock.today()
    response = page(
        "public/progress.html",
        figures=public_figures(runtime().engine, today),
        today=today,
        below=SUPPRESS_BELOW,
        sl=sl,
    )
    response.cache_control.public = True
    response.cache_control.max_age = CACHE_SECONDS
    response.vary.add("Cookie")  # the language (and larger text) come from cookies
    return response
