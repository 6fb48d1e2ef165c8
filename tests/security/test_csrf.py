"""CSRF (issue 6, item 10): every state-changing route refuses a request without the session's
token, with a wrong one or with another session's, as a form field or as htmx's X-CSRFToken
header, with the friendly "page expired" page (400) and nothing changed; and no GET changes
anything, for anyone permitted to make it.

Runs on SQLite only: the refusal happens before any storage is touched.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from tests.security.support_routes import (
    ANONYMOUS,
    AUDITOR,
    CHANGES,
    FAMILY,
    ROUTES,
    SEES,
    SIGNED_IN,
    World,
    differences,
    fingerprint,
    max_notification_id,
    routed_rules,
    sign_in,
    token_of,
    world,
)

__all__ = ["world"]  # the module-scoped fixture, imported for pytest

HX = {"HX-Request": "true"}
EXPIRED = "页面已过期"  # the friendly page's title (portal.errors)
# Written by requests that change no record, and so allowed to change on any request:
# user_sessions: the idle timeout's last-seen time (at most once a minute per session).
SESSION_ACTIVITY = frozenset({"user_sessions"})
# And by GETs: audit_views, one row for each page an auditor opens (portal.audit). Nothing
# else; login_attempts in particular is written only by signing in (a POST).
AUDITOR_VIEWS = frozenset({"audit_views"})


def _first_slot(rule: Rule) -> str:
    return next(iter(SEES[ROUTES[rule.endpoint].kind]))


def _permitted(rule: Rule, slot: str) -> list[str]:
    """Everyone the matrix lets use this route on this slot (a visitor on public routes)."""
    route = ROUTES[rule.endpoint]
    users = [u for u in SIGNED_IN if route.allows(u, slot)]
    return [*users, *([ANONYMOUS] if route.anonymous is not None else [])]


def _changing_rules(world: World) -> list[Rule]:
    return [r for r in routed_rules(world.app) if r.methods & set(CHANGES)]


def test_the_portal_changes_state_only_by_post(world: World) -> None:
    methods = {m for r in routed_rules(world.app) for m in r.methods}
    assert methods <= {"GET", "HEAD", "OPTIONS", "POST"}
    assert len(_changing_rules(world)) > 50  # every step form, wizard page and ledger form


class Sessions:
    """A signed-in client per user, made once and reused (signing in is not what is tested)."""

    def __init__(self, world: World) -> None:
        self.world, self.clients = world, {}

    def of(self, user: str) -> tuple[FlaskClient, str]:
        if user not in self.clients:
            client = self.world.app.test_client()
            self.clients[user] = (client, sign_in(self.world, client, user))
        return self.clients[user]


@pytest.fixture
def sessions(world: World) -> Iterator[Sessions]:
    yield Sessions(world)


def test_every_change_refuses_a_missing_wrong_or_foreign_token(
    world: World, sessions: Sessions
) -> None:
    foreign = token_of(world.app.test_client())  # a valid token, of another session
    attempts = {
        "no token": ({}, {}),
        "a wrong token": ({"csrf_token": "wrong"}, {}),
        "another session's token": ({"csrf_token": foreign}, {}),
        "htmx without a token": ({}, HX),
        "htmx with a wrong header": ({}, HX | {"X-CSRFToken": "wrong"}),
        "htmx with another session's header": ({}, HX | {"X-CSRFToken": foreign}),
    }
    wrong: list[str] = []
    for rule in _changing_rules(world):
        slot = _first_slot(rule)
        user = _permitted(rule, slot)[0]
        client, _token = sessions.of(user)
        url = world.url(rule, slot, user)
        for what, (data, headers) in attempts.items():
            before = fingerprint(world.rt.engine, ignore=SESSION_ACTIVITY)
            with client.post(url, data=data, headers=headers) as response:
                status, html = response.status_code, response.get_data(as_text=True)
            changed = differences(before, fingerprint(world.rt.engine, ignore=SESSION_ACTIVITY))
            if status != 400 or EXPIRED not in html or changed:
                wrong.append(f"POST {url} as {user} with {what}: {status}, changed {changed}")
    assert not wrong, "\n".join(wrong)


def test_the_token_lets_the_same_change_through(world: World, sessions: Sessions) -> None:
    """The refusals above are about the token: with it, as a field or as htmx's header, the
    same request starts an application (a new server-side draft)."""
    client, token = sessions.of(FAMILY)
    engine = world.rt.engine
    before = fingerprint(engine, ignore=SESSION_ACTIVITY)
    with client.post("/apply/start") as refused:
        assert refused.status_code == 400
    assert differences(before, fingerprint(engine, ignore=SESSION_ACTIVITY)) == []
    with client.post("/apply/start", data={"csrf_token": token}) as started:
        assert started.status_code == 303
    assert differences(before, fingerprint(engine, ignore=SESSION_ACTIVITY)) == [
        "application_drafts"
    ]
    before = fingerprint(engine, ignore=SESSION_ACTIVITY)
    with client.post("/apply/start", headers=HX | {"X-CSRFToken": token}) as by_header:
        assert by_header.status_code == 303
    assert differences(before, fingerprint(engine, ignore=SESSION_ACTIVITY)) == [
        "application_drafts"
    ]


def test_no_get_changes_anything(world: World, sessions: Sessions) -> None:
    """Every GET, as every user permitted to make it (and as a visitor), as a page and as an
    htmx request, leaves the event log and every table as they were, but for the two named
    above."""
    engine, wrong = world.rt.engine, []
    world.rt.catch_up()
    for rule in routed_rules(world.app):
        if "GET" not in rule.methods:
            continue
        for slot in SEES[ROUTES[rule.endpoint].kind]:
            for user in {*_permitted(rule, slot), ANONYMOUS}:
                client = world.app.test_client() if user == ANONYMOUS else sessions.of(user)[0]
                url = world.url(rule, slot, user)
                expected = SESSION_ACTIVITY | (AUDITOR_VIEWS if user == AUDITOR else set())
                for headers in ({}, HX):
                    before = fingerprint(engine, ignore=frozenset(expected))
                    position = max_notification_id(world.rt)
                    with client.get(url, headers=headers) as response:
                        status = response.status_code
                    changed = differences(before, fingerprint(engine, ignore=frozenset(expected)))
                    if changed or max_notification_id(world.rt) != position or status >= 500:
                        wrong.append(f"GET {url} {headers} as {user}: {status}, changed {changed}")
    assert not wrong, "\n".join(wrong)


def test_an_auditors_page_view_is_the_one_write_a_get_makes(
    world: World, sessions: Sessions
) -> None:
    """The exception above is exactly what it says: one audit_views row per page an auditor
    opens, and only for auditors."""
    engine = world.rt.engine
    for user, written in ((AUDITOR, ["audit_views"]), ("supervisor", [])):
        client, _token = sessions.of(user)
        before = fingerprint(engine, ignore=SESSION_ACTIVITY)
        with client.get("/supervision") as response:
            assert response.status_code == 200
        assert differences(before, fingerprint(engine, ignore=SESSION_ACTIVITY)) == written
