"""Helpers for the provider room's portal tests: accounts bound to a facility, elders enrolled
with names of their own, posting forms with the session's CSRF token, reading pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from uuid import UUID

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from events.roles import Role
from portal.runtime import Runtime
from tests.conftest import User
from tests.support.meals import days_ago, enrol
from tests.support.scenario import elder, national_id

# Elders with distinct names and ID numbers, so a page shows whose meal is whose.
CANTEEN_ELDERS = (("王桂兰", "111"), ("李秀珍", "222"), ("赵德明", "333"))
HX = {"HX-Request": "true"}


def provider_account(make_user: Callable[..., User], facility_id: UUID, name: str = "") -> User:
    """A provider login acting for one facility."""
    return make_user(Role.PROVIDER, facility_id=str(facility_id), name=name or "食堂管理员")


def enrol_elders(
    rt: Runtime,
    canteen: UUID,
    people: tuple[tuple[str, str], ...] = CANTEEN_ELDERS,
    *,
    district: str = "D01",
) -> dict[str, UUID]:
    """Enrol named elders at the canteen from a month ago; returns enrolment ids by name."""
    enrolled = {
        name: enrol(
            rt,
            canteen,
            district=district,
            on=days_ago(30),
            elder=elder(name=name, national_id=national_id(seq=seq)),
        )
        for name, seq in people
    }
    rt.catch_up()
    return enrolled


def post(client: FlaskClient, path: str, token: str, **fields: Any) -> TestResponse:
    """Submit a form as a browser would (lists become repeated fields)."""
    return client.post(path, data={"csrf_token": token, **fields})


def html_of(response: TestResponse) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def hidden(html: str, name: str) -> str:
    """The value of a hidden input on a page."""
    found = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html) or re.search(
        rf'type="hidden" name="{name}" value="([^"]*)"', html
    )
    assert found, f"no hidden {name} on the page"
    return found.group(1)


def is_fragment(html: str) -> bool:
    """An htmx fragment: no page around it."""
    return "<html" not in html and "<body" not in html
