"""Helpers for the fund ledger's portal tests: a fund with a dated history, times as the "as at"
control sends them, and reading what a page or a refused form says."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from uuid import UUID

from events import clock
from portal.runtime import Runtime
from services.ledger_history import balance_at
from tests.support.actors import FINANCE
from tests.support.ledger_scenarios import T0, open_fund

TITLE = "2025年省级适老化改造补助资金"
RECEIVED_AT = T0  # 09:00 on 3 March 2025 in the city: opened and 100,000 received
ALLOCATED_AT = T0 + timedelta(hours=1)  # 10:00: 50,000 allocated to 安康区 (D01)


def dated_fund(rt: Runtime) -> UUID:
    """A provincial retrofit fund asking 1:1 local matching: 100,000.00 received at 09:00 and
    50,000.00 allocated to 安康区 at 10:00 (movements 2 and 3), read models caught up."""
    with clock.frozen_at(RECEIVED_AT):
        fund_id = open_fund(rt, ratio="1", title=TITLE)
        rt.ledger.receive(FINANCE, fund_id, amount="100000", document="财预〔2025〕12号")
    with clock.frozen_at(ALLOCATED_AT):
        rt.ledger.allocate(
            FINANCE, fund_id, amount="50000", district="D01", document="安康区下达文件"
        )
    rt.catch_up()
    return fund_id


def city(moment: datetime, minutes: int = 0) -> str:
    """A moment as the datetime-local control sends it (city time, to the minute)."""
    return clock.local(moment + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")


def version_of(rt: Runtime, fund_id: UUID) -> int:
    """How many events the fund has: a refused form must not add one."""
    return balance_at(rt.ledger, fund_id, None).version


def field_value(html: str, name: str) -> str:
    """The value a text input was rendered with."""
    found = re.search(rf'name="{re.escape(name)}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{re.escape(name)}"', html
    )
    assert found, f"no input {name} on the page"
    return found.group(1)


def error_summary(html: str) -> str:
    """The error summary at the top of a refused form's page."""
    found = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert found, "no error summary on the page"
    return found.group(0)
