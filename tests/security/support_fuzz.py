"""Hostile values and the fuzz pass over the portal's forms and query parameters: what to send,
how a form is filled with it, and what every answer must look like (never a 500, a clear
message with a 4xx, and hostile markup only ever shown escaped)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from io import BytesIO

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from events.home_care import CareStep
from events.meal import EnrolmentStep
from events.retrofit import Step
from tests.security.support_world import Form, Page, endpoint_of, local
from tests.support.scenario import national_id

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
# Hostile values, by name: lengths, emptiness, control and direction characters, mixed
# scripts, markup, SQL, numbers beyond any type, dates at the ends of the calendar, spreadsheet
# formulas and path tricks.
PAYLOADS: dict[str, str] = {
    "script": SCRIPT,
    "nul": "a\x00b",
    "long": "长" * 10_000,
    "img": IMG,
    "huge_int": str(10**100),
    "empty": "",
    "controls": "\x01\x07\x08\x1b[31m\x7f\u0085",
    "date_low": "0001-01-01",
    "sql": "' OR 1=1 --",
    "huge_float": "1e309",
    "rtl_override": "\u202egnp.exe\u202c\u200b\ufeff",
    "date_high": "9999-12-31",
    "negative": "-1",
    "mixed_scripts": "张三Ωпривет١٢٣𝔘👵🏻é",
    "negative_big": "-99999999999999999999",
    "formula": '=HYPERLINK("http://x.example","x")',
    "date_bad": "2025-02-30",
    "long_ascii": "A" * 10_000,
    "nan": "NaN",
    "spaces": " \t \u3000 ",
    "fraction": "0.0000001",
    "datetime_far": "9999-12-31T23:59",
    "sql_drop": "1; DROP TABLE persons; --",
    "format": "%s%s%n{0}{}${x}",
    "path": "../../../etc/passwd",
    "uuid_like": "00000000-0000-0000-0000-000000000000",
}
# What a database may treat differently from another (PostgreSQL refuses NUL in text, checks
# lengths and integer ranges, stores characters beyond the BMP): the PostgreSQL pass sends these.
STORAGE_SENSITIVE = (
    "script", "nul", "long", "huge_int", "negative_big", "date_low", "date_high",
    "mixed_scripts", "controls", "sql_drop",
)  # fmt: skip
# Raw hostile markup: it may be stored and shown, but only ever escaped.
RAW_MARKERS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
ESCAPED_MARKERS = ("&lt;script&gt;alert(1)&lt;/script&gt;",)
# What an answer with a 4xx must show: the error page, a form's error summary or a message.
MESSAGE_MARKS = ('class="error-summary"', 'class="error-message"', 'class="lead"', 'role="alert"')
KEEP = {"csrf_token"}  # without it nothing is routed past the CSRF check
MAX_KINDS = 8  # fields of one kind (qty_T01, qty_F02 ...) count once; at most this many kinds


@dataclass
class Findings:
    """Problems found, each with where it happened; the tests assert there are none."""

    problems: list[str] = field(default_factory=list)
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    escaped_seen: int = 0

    def check(self, response: TestResponse, where: str, message: bool = True) -> None:
        """Never a 5xx; a 4xx says what is wrong (unless `message` is False: an htmx post to a
        form that is not an htmx form gets the page's fragment); markup comes back escaped."""
        self.requests += 1
        status = response.status_code
        self.statuses[status] = self.statuses.get(status, 0) + 1
        html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        if status >= 500:
            self.problems.append(f"{status} at {where}")
        elif message and 400 <= status < 500 and html and not any(m in html for m in MESSAGE_MARKS):
            self.problems.append(f"{status} without a message at {where}")
        self.problems += [
            f"unescaped {m!r} in the answer to {where}" for m in RAW_MARKERS if m in html
        ]
        self.escaped_seen += sum(html.count(m) for m in ESCAPED_MARKERS)


# -- where to look ------------------------------------------------------------------------------
def seeds(label: str, today: date, facility_ids: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Pages to start from besides the home page, so every step's forms are reached: queues
    filtered to each step (their first cases are at that step), past days and months, and
    the funding page of each facility."""
    queues = (
        [f"/cases?view=all&step={s}" for s in Step.ALL]
        + [f"/cases/care?view=all&step={s}" for s in CareStep.ALL]
        + [f"/cases/meals?view=all&step={s}" for s in EnrolmentStep.ALL]
    )
    months = [(today.replace(day=1) - timedelta(days=28 * n)).strftime("%Y-%m") for n in (1, 2)]
    return {
        "caseworker": tuple(queues),
        "assessor": tuple(queues),
        "inspector": tuple(queues),
        "community_worker": tuple(queues),
        "canteen": tuple(f"/provider/meals?day={today - timedelta(days=n)}" for n in (1, 2, 3)),
        "homecare": ("/provider/staffing", *(f"/provider/staffing?period={m}" for m in months)),
        "finance": ("/ledger/subsidies",),
        "finance_d01": tuple(f"/ledger/facilities/{f}/commit" for f in facility_ids),
        "anonymous": ("/login", "/register", "/progress"),
        "auditor": ("/password",),
    }.get(label, ())


# -- filling forms ------------------------------------------------------------------------------
_BY_NAME = (
    (r"amount|price", "100"),
    (r"qty|quantity|hours|value|caregivers|residents|hires|departures|trained|beds|count", "1"),
    (r"year", str(date.today().year)),
    (r"period", date.today().strftime("%Y-%m")),
    (r"(^|-)start$", "09:00"),
    (r"(^|-)end$", "10:00"),
    (r"date|_on$|deadline|day|as_at|^at$|before", date.today().isoformat()),
    (r"national_id", national_id(seq="901")),
    (r"phone|mobile", "010-12345678"),
    (r"address", "和平路1号3单元"),
    (r"login", "fuzz-user"),
    (r"password|current", "correct-horse-battery-9"),
)


def baseline(name: str, kind: str, default: str, options: list[str]) -> str:
    """A plausible valid value, so one hostile field at a time reaches the service."""
    if default:
        return default
    if kind in ("select", "radio") and options:
        return next((o for o in options if o), options[0])
    if kind == "datetime-local":
        return datetime.now().strftime("%Y-%m-%dT%H:%M")
    for expression, value in _BY_NAME:
        if re.search(expression, name.split("-")[-1] if "-" in name else name):
            return value
    return "正常,无异常"


def pattern(name: str) -> str:
    """Fields that repeat per checklist item or per elder count once (qty_T01 ~ qty_F02)."""
    return re.sub(r"(_[A-Z]\d{2}|_[0-9a-f-]{36})$", "_*", name)


def fill(form: Form, hostile: set[str], value: str) -> dict[str, list[object]]:
    """The form as the browser would post it, `value` in every field named in `hostile`
    (files get it as their content), a valid-looking value elsewhere."""
    body: dict[str, list[object]] = {}
    radios_done: set[str] = set()
    for name, kind, default in form.fields:
        options = form.choices.get(name, [])
        if kind.startswith("unchecked-") and name not in hostile:
            continue
        if kind == "file":
            content = value.encode() if name in hostile else b""
            body.setdefault(name, []).append((BytesIO(content), "photo.png" if content else ""))
            continue
        if kind == "radio" or kind.startswith("unchecked-radio"):
            if name in radios_done:
                continue
            radios_done.add(name)
        chosen = value if name in hostile and name not in KEEP else None
        body.setdefault(name, []).append(
            chosen if chosen is not None else baseline(name, kind.split("-")[-1], default, options)
        )
    for name in form.choices:  # radio groups with nothing checked on the page
        if name not in body and name not in radios_done:
            body[name] = [value if name in hostile else form.choices[name][0]]
    return body


def plan(form: Form, index: int, payloads: list[str]) -> Iterator[tuple[str, set[str], str]]:
    """(group, hostile fields, payload) to post: every visible field at once with the markup and
    NUL payloads and two more in turn, the hidden ones (version, idempotency key) with one, and
    each kind of field alone with one, the others valid; payloads rotate from form to form."""
    names = form.names()
    visible = {n for n, k, _ in form.fields if k != "hidden"} - KEEP
    hidden = {n for n, k, _ in form.fields if k == "hidden"} - KEEP
    turn = iter(payloads[(index * 3 + k) % len(payloads)] for k in range(10**6))
    firsts = [p for p in ("script", "nul") if p in payloads]
    for payload in firsts + [next(turn) for _ in range(2)]:
        yield "visible", visible, payload
    if hidden:
        yield "hidden", hidden, next(turn)
    kinds: dict[str, set[str]] = {}
    for name in names:
        if name not in KEEP:
            kinds.setdefault(pattern(name), set()).add(name)
    if len(kinds) > 1:
        for kind, members in list(kinds.items())[:MAX_KINDS]:
            yield kind, members, next(turn)


def submit(client: FlaskClient, form: Form, body: dict[str, list[object]], htmx: bool = False):
    """POST as multipart when the form says so (files), else urlencoded."""
    kind = "multipart/form-data" if form.multipart else "application/x-www-form-urlencoded"
    headers = {"HX-Request": "true"} if htmx else {}
    action = form.htmx_action if htmx and form.htmx_action else form.action
    return client.post(action, data=body, content_type=kind, headers=headers)


def fuzz_form(
    client: FlaskClient,
    form: Form,
    index: int,
    payloads: dict[str, str],
    findings: Findings,
    where: str,
) -> None:
    """Post the plan; after a redirect (the value was accepted) read the page it leads to."""
    for group, hostile, name in plan(form, index, list(payloads)):
        response = submit(client, form, fill(form, hostile, payloads[name]))
        findings.check(response, f"POST {where} [{group}={name}]")
        target = (
            local(response.headers.get("Location", ""))
            if response.status_code in (302, 303)
            else None
        )
        if target:
            findings.check(client.get(target), f"GET {target} after POST {where} [{group}={name}]")
    everything = set(form.names()) - {n for n, k, _ in form.fields if k == "hidden"}
    response = submit(client, form, fill(form, everything, payloads.get("script", SCRIPT)), True)
    findings.check(response, f"POST {where} [htmx visible=script]", message=False)


def post_forms(app: Flask, pages: list[Page]) -> Iterator[tuple[str, Form]]:
    """(endpoint, form) for each state-changing form on the pages."""
    for page in pages:
        for form in page.forms:
            if form.method == "post" and local(form.action):
                yield endpoint_of(app, form.action, "POST") or "?", form
            if form.htmx_action and local(form.htmx_action):  # a live preview of the same form
                preview = replace(form, action=form.htmx_action, htmx_action="")
                yield endpoint_of(app, form.htmx_action, "POST") or "?", preview
