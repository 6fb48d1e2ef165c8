"""Authorization matrix (issue 6, item 9): every route of the portal, as every role and as a
visitor, against records of the user's own side and of another family, community, district,
facility, assessor and inspector. Permitted users are served; everyone else gets 403 or 404,
and a refused POST changes nothing. GETs run as full pages and as htmx requests.

Authorization does not depend on the database engine, so this runs on SQLite only (in CI).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from events import clock
from tests.security.support_routes import (
    ANONYMOUS,
    ELDERS,
    ROUTES,
    SEES,
    SIGNED_IN,
    Route,
    World,
    differences,
    fingerprint,
    goes_to_login,
    may_read_name,
    routed_rules,
    sign_in,
    world,
)
from tests.support.scenario import apply, elder, national_id
from tests.support.staff_helpers import step_data

__all__ = ["world"]  # the module-scoped fixture, imported for pytest

HX = {"HX-Request": "true"}
DENIED = (403, 404)
# Touched by any signed-in request (the idle timeout's last-seen time, at most once a minute):
# not a change a refused request made.
SESSION_ACTIVITY = frozenset({"user_sessions"})


def test_every_route_is_in_the_matrix(world: World) -> None:
    endpoints = {rule.endpoint for rule in world.app.url_map.iter_rules()}
    assert sorted(endpoints - ROUTES.keys()) == [], "new routes: decide who may use them"
    assert sorted(ROUTES.keys() - endpoints) == [], "routes that no longer exist"


def test_the_matrix_names_only_known_users_and_objects(world: World) -> None:
    for endpoint, route in ROUTES.items():
        assert route.who <= set(SIGNED_IN) and route.kind in SEES, endpoint
        if route.kind not in ("-", "draft", "done"):  # the world has a record for every slot
            assert set(world.values[route.kind]) == set(SEES[route.kind]), endpoint


def test_every_route_is_served_to_somebody(world: World) -> None:
    """A matrix where nobody may use a route proves nothing about it: each route has a user
    who is served on the object of their own side."""
    for endpoint, route in ROUTES.items():
        first = next(iter(SEES[route.kind]))
        assert any(route.allows(user, first) for user in SIGNED_IN), endpoint


@pytest.mark.parametrize("user", [*SIGNED_IN, ANONYMOUS])
def test_each_route_answers_each_user_as_the_matrix_says(world: World, user: str) -> None:
    client = world.app.test_client()
    token = sign_in(world, client, user)
    wrong: list[str] = []
    for rule in routed_rules(world.app):
        route = ROUTES[rule.endpoint]
        for slot in world.slots(route):
            url = world.url(rule, slot, user)
            if "GET" in rule.methods:
                for headers in ({}, HX):
                    wrong += _check_get(client, route, user, slot, url, headers)
            if "POST" in rule.methods:
                wrong += _check_post(world, client, route, user, slot, url, token)
                if rule.endpoint.startswith("auth."):  # signed out, or a new session
                    token = sign_in(world, client, user)
    assert not wrong, f"{len(wrong)} answers differ from the matrix:\n" + "\n".join(wrong)


def _check_get(
    client: FlaskClient, route: Route, user: str, slot: str, url: str, headers: dict[str, str]
) -> list[str]:
    with client.get(url, headers=headers) as response:
        problem = _get_problem(route, user, slot, response, htmx=bool(headers))
        shown = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
    where = f"GET{' (htmx)' if headers else ''} {url} as {user} [{slot}]"
    problems = [f"{where}: {problem}"] if problem else []
    leaked = _names_not_theirs(user, shown)
    return [*problems, *([f"{where}: shows {leaked}"] if leaked else [])]


def _names_not_theirs(user: str, html: str) -> list[str]:
    """Elders' names on a page that this user may not see (lists and pages alike)."""
    return [
        name
        for (programme, slot), name in ELDERS.items()
        if name in html and not may_read_name(user, programme, slot)
    ]


def _get_problem(
    route: Route, user: str, slot: str, response: TestResponse, *, htmx: bool
) -> str | None:
    status = response.status_code
    if user == ANONYMOUS:
        if route.anonymous is not None:
            return (
                None if status == route.anonymous else f"{status}, visitors get {route.anonymous}"
            )
        if htmx and not (status == 401 and goes_to_login(response)):
            return f"{status}: htmx visitors get 401 with HX-Redirect to the login page"
        return None if goes_to_login(response) else f"{status}, not sent to sign in"
    if route.allows(user, slot):
        if status in route.ok and not goes_to_login(response):
            return None
        return f"{status}, expected {route.ok}"
    return None if status in DENIED else f"{status}, expected 403 or 404"


def _check_post(
    world: World, client: FlaskClient, route: Route, user: str, slot: str, url: str, token: str
) -> list[str]:
    """POST the form empty but for its CSRF token: a refusal must come before any change (and
    before the form is even read: an empty form would otherwise be 400 or 422)."""
    allowed = route.allows(user, slot) or (user == ANONYMOUS and route.anonymous is not None)
    before = None if allowed else fingerprint(world.rt.engine, ignore=SESSION_ACTIVITY)
    with client.post(url, data={"csrf_token": token}) as response:
        status, to_login = response.status_code, goes_to_login(response)
    where = f"POST {url} as {user} [{slot}]"
    if allowed:
        if status in (401, *DENIED, 405) or status >= 500 or to_login:
            return [f"{where}: {status}, expected to be let through (400, 422, 303...)"]
        return []
    problems = []
    if user == ANONYMOUS and not to_login:
        problems.append(f"{where}: {status}, not sent to sign in")
    if user != ANONYMOUS and status not in DENIED:
        problems.append(f"{where}: {status}, expected 403 or 404")
    after = fingerprint(world.rt.engine, ignore=SESSION_ACTIVITY)
    if before is not None and (changed := differences(before, after)):
        problems.append(f"{where}: refused, yet changed {changed}")
    return problems


def test_the_matrix_can_fail(world: World) -> None:
    """The checks above are not vacuous: a served page fails a denial, a refusal fails a
    permission, and a visitor's login redirect is told apart from a page."""
    client = world.app.test_client()
    sign_in(world, client, "caseworker")
    rule = _rule(world, "staff.case")
    url = world.url(rule, "mine", "caseworker")
    with client.get(url) as served:
        assert served.status_code == 200
        assert _get_problem(Route(frozenset()), "caseworker", "mine", served, htmx=False)
    far = world.url(rule, "far", "caseworker")
    with client.get(far) as refused:
        assert refused.status_code == 404
        assert _get_problem(ROUTES["staff.case"], "caseworker", "far", refused, htmx=False) is None
        wide_open = Route(ROUTES["staff.case"].who, kind="-")
        assert _get_problem(wide_open, "caseworker", "-", refused, htmx=False)


def _rule(world: World, endpoint: str) -> Rule:
    return next(r for r in routed_rules(world.app) if r.endpoint == endpoint)


# Each list and the programme whose elders it lists (view=all: not only the worklist).
LISTS = {
    "/cases?view=all": "retrofit",
    "/cases/meals": "meal",
    "/cases/care?view=all": "care",
    "/my/cases": "",  # a family's cases in every programme
    "/provider/meals": "meal",
    "/provider/visits": "care",
}


@pytest.mark.parametrize("user", SIGNED_IN)
def test_lists_name_exactly_the_elders_a_user_may_see(world: World, user: str) -> None:
    """The name check above is not vacuous: every list a user may open names all the elders
    of its programme that they may see, and no other."""
    client = world.app.test_client()
    sign_in(world, client, user)
    for path, programme in LISTS.items():
        with client.get(path) as response:
            if response.status_code != 200:
                continue
            html = response.get_data(as_text=True)
        listed = {name for name in ELDERS.values() if name in html}
        expected = {
            name
            for (kind, slot), name in ELDERS.items()
            if (kind == programme or not programme) and may_read_name(user, kind, slot)
        }
        assert listed == expected, f"{path} as {user}"


# -- records named inside a form, not in the URL ------------------------------------------------
def test_a_caseworker_cannot_send_another_districts_assessor(world: World) -> None:
    """Naming an assessor gives them the case: only the district's own assessors are taken."""
    rt, actors = world.rt, world.actors
    case_id = apply(
        rt, actors["family"], elder=elder(name="测试老人", national_id=national_id(seq="901"))
    )
    rt.catch_up()
    client = world.app.test_client()
    token = sign_in(world, client, "caseworker")
    url = f"/cases/{case_id}/approve"
    for outsider in ("assessor_d02", "inspector", "family"):
        before = fingerprint(rt.engine, ignore=SESSION_ACTIVITY)
        data = step_data(token, "approve", 1, assessor_id=actors[outsider].user_id)
        with client.post(url, data=data) as refused:
            assert refused.status_code == 422, outsider
        assert differences(before, fingerprint(rt.engine, ignore=SESSION_ACTIVITY)) == []
    data = step_data(token, "approve", 1, assessor_id=actors["assessor"].user_id)
    with client.post(url, data=data) as approved:
        assert approved.status_code == 303


def test_a_canteen_cannot_record_meals_of_another_canteens_elder(world: World) -> None:
    rt = world.rt
    client = world.app.test_client()
    token = sign_in(world, client, "provider_canteen")
    today = clock.today()
    elsewhere = world.values["meal"]["far"]["case_id"]
    before = fingerprint(rt.engine, ignore=SESSION_ACTIVITY)
    form = {"csrf_token": token, "day": today.isoformat(), "walk_in_count": "0"}
    with client.post("/provider/meals", data=form | {"served": str(elsewhere)}) as refused:
        assert refused.status_code == 422
    assert differences(before, fingerprint(rt.engine, ignore=SESSION_ACTIVITY)) == []
    own = world.values["meal"]["mine"]["case_id"]
    yesterday = (today - timedelta(days=1)).isoformat()
    with client.post("/provider/meals", data=form | {"day": yesterday, "served": str(own)}) as ok:
        assert ok.status_code == 303
