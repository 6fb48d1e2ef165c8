"""Drive the family wizard of any programme through the real pages, as a browser would."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

# The address segment of each programme (retrofit's pages have none).
PREFIX = {"retrofit": "/apply", "meal": "/apply/meal", "home_care": "/apply/home-care"}


def text(response: TestResponse) -> str:
    """The response body as text."""
    return response.get_data(as_text=True)


def begin(client: FlaskClient, token: str, programme: str) -> str:
    """Press 开始申请 on a programme's start page; returns the new draft's id."""
    response = client.post(f"{PREFIX[programme]}/start", data={"csrf_token": token})
    assert response.status_code == 303, text(response)[:1000]
    found = re.fullmatch(
        rf"{PREFIX[programme]}/([0-9a-f-]{{36}})/elder", response.headers["Location"]
    )
    assert found, response.headers["Location"]
    return found.group(1)


def answer(
    client: FlaskClient, token: str, programme: str, draft: str, page: str, data: dict[str, str],
    change: bool = False,
) -> TestResponse:  # fmt: skip
    """Post one question page."""
    url = f"{PREFIX[programme]}/{draft}/{page}" + ("?change=1" if change else "")
    return client.post(url, data={**data, "csrf_token": token})


def fill_all(
    client: FlaskClient, token: str, programme: str, draft: str, answers: dict[str, dict[str, str]]
) -> None:
    """Answer every page in order, checking each leads to the next (the last to the check page)."""
    pages = list(answers)
    for i, page in enumerate(pages):
        response = answer(client, token, programme, draft, page, answers[page])
        assert response.status_code == 303, (page, text(response)[:2000])
        following = pages[i + 1] if i + 1 < len(pages) else "check"
        assert response.headers["Location"] == f"{PREFIX[programme]}/{draft}/{following}", page


def submit(client: FlaskClient, token: str, programme: str, draft: str) -> TestResponse:
    """Press 确认并提交申请 on the check page; on success, open the confirmation page it
    redirects to, as a browser does (that page is what brings the new case into view)."""
    response = client.post(f"{PREFIX[programme]}/{draft}/check", data={"csrf_token": token})
    if response.status_code == 303 and "/done/" in response.headers["Location"]:
        confirmation = client.get(response.headers["Location"])
        assert confirmation.status_code == 200, text(confirmation)[:2000]
    return response


def done_case_id(response: TestResponse, programme: str) -> UUID:
    """The case id in the confirmation page's address."""
    assert response.status_code == 303, text(response)[:2000]
    found = re.fullmatch(
        rf"{PREFIX[programme]}/done/([0-9a-f-]{{36}})", response.headers["Location"]
    )
    assert found, response.headers["Location"]
    return UUID(found.group(1))


def survey_answers(token: str, current: int, **overrides: Any) -> dict[str, Any]:
    """A complete survey form: five scores of 5 and a comment, unless overridden."""
    scores = dict.fromkeys(("overall", "quality", "attitude", "timeliness", "usefulness"), "5")
    return {
        "csrf_token": token,
        "version": current,
        **scores,
        "comment": "护理员很细心。",
    } | overrides
