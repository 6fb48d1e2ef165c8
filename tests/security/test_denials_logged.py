"""Denials are logged (issue 6 item 9): every 403, and every 404 for a record the user may not
see, leaves a record on the `anlao.security` logger naming who, which route, which object and
when, and nothing personal: no ID number, no phone number (a family's login is one)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import pytest
from flask.testing import FlaskClient

from events.roles import Role
from portal.runtime import Runtime
from tests.conftest import User
from tests.support.scenario import apply, elder

ELDER = elder()  # the elder's ID number and phone must never reach the log


@pytest.fixture
def case_of_another_family(app_rt: Runtime, make_user: Callable[..., User]) -> tuple[User, UUID]:
    """A family in 安康区 (D01) and the retrofit case it applied for (in the read models, so a
    refusal below is about who asks, not a case that is not there yet)."""
    owner = make_user(Role.FAMILY)
    case_id = apply(app_rt, owner.actor, elder=ELDER)
    app_rt.catch_up()
    return owner, case_id


def denials(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The access-denied records written so far."""
    return [
        r
        for r in caplog.records
        if r.name == "anlao.security" and getattr(r, "event", "") == "access_denied"
    ]


def assert_names_no_one(record: logging.LogRecord, *logins: str) -> None:
    """Nothing personal in the message or any field of the record."""
    text = record.getMessage() + repr(vars(record))
    for secret in (ELDER["national_id"], ELDER["phone"], ELDER["name"], *logins):
        assert secret not in text


def test_a_family_opening_another_familys_case_is_logged(
    client: FlaskClient,
    login: Callable[[User], str],
    make_user: Callable[..., User],
    case_of_another_family: tuple[User, UUID],
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner, case_id = case_of_another_family
    prying = make_user(Role.FAMILY)
    login(prying)
    caplog.set_level(logging.INFO, logger="anlao.security")

    response = client.get(f"/my/cases/{case_id}")

    assert response.status_code in (403, 404)
    [record] = denials(caplog)
    assert record.levelno == logging.WARNING
    assert record.user_id == prying.actor.user_id and record.role == Role.FAMILY  # type: ignore[attr-defined]
    assert record.route == "family.case" and record.method == "GET"  # type: ignore[attr-defined]
    assert record.objects == f"case_id={case_id}"  # type: ignore[attr-defined]
    assert record.status == response.status_code  # type: ignore[attr-defined]
    assert datetime.fromisoformat(record.at).tzinfo is not None  # type: ignore[attr-defined]
    assert str(case_id) in record.getMessage() and prying.actor.user_id in record.getMessage()
    assert_names_no_one(record, owner.login, prying.login)


def test_a_caseworker_opening_another_districts_case_is_logged(
    client: FlaskClient,
    login: Callable[[User], str],
    make_user: Callable[..., User],
    case_of_another_family: tuple[User, UUID],
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner, case_id = case_of_another_family
    elsewhere = make_user(Role.CASEWORKER, district="D02")
    login(elsewhere)
    caplog.set_level(logging.INFO, logger="anlao.security")

    page = client.get(f"/cases/{case_id}")
    fragment = client.get(f"/cases/{case_id}", headers={"HX-Request": "true"})

    assert page.status_code in (403, 404) and fragment.status_code in (403, 404)
    records = denials(caplog)
    assert len(records) == 2
    for record in records:
        assert record.user_id == elsewhere.actor.user_id  # type: ignore[attr-defined]
        assert record.role == Role.CASEWORKER and record.route == "staff.case"  # type: ignore[attr-defined]
        assert record.objects == f"case_id={case_id}"  # type: ignore[attr-defined]
        assert_names_no_one(record, owner.login)


def test_a_role_refused_a_page_is_logged_as_403(
    client: FlaskClient,
    login: Callable[[User], str],
    make_user: Callable[..., User],
    case_of_another_family: tuple[User, UUID],
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner, case_id = case_of_another_family
    login(owner)
    caplog.set_level(logging.INFO, logger="anlao.security")

    response = client.get(f"/cases/{case_id}")  # the staff page of the family's own case

    assert response.status_code == 403
    [record] = denials(caplog)
    assert record.status == 403 and record.route == "staff.case"  # type: ignore[attr-defined]
    assert_names_no_one(record, owner.login)


def test_what_the_user_may_see_is_not_logged_as_a_denial(
    client: FlaskClient,
    login: Callable[[User], str],
    case_of_another_family: tuple[User, UUID],
    caplog: pytest.LogCaptureFixture,
) -> None:
    owner, case_id = case_of_another_family
    login(owner)
    caplog.set_level(logging.INFO, logger="anlao.security")

    assert client.get(f"/my/cases/{case_id}").status_code == 200
    assert client.get("/no-such-page").status_code == 404  # no record named: not a denial

    assert denials(caplog) == []
