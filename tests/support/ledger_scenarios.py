"""Builders for fund-ledger tests: funds with money in them, accepted retrofit cases with real
photos, and facilities to commit to, all through the real services."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any
from uuid import UUID

from PIL import Image

from events import clock
from events.retrofit import Step
from events.roles import Actor
from portal.runtime import Runtime
from tests.support import facilities
from tests.support.actors import FAMILY, FINANCE, INSPECTOR, walk
from tests.support.scenario import ASSESSED_LINES, apply, elder, national_id, version

# The assessed, capped subsidy of a case walked with ASSESSED_LINES (T01 600 + F01 600; B01 is
# not a basic item), and the basic items it pays for.
SUBSIDY = Decimal("1200.00")
SUBSIDISED_ITEMS = ["F01", "T01"]
T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 in the city


def _picture(kind: str, colour: tuple[int, int, int]) -> bytes:
    """A small real picture: the photo store decodes and re-encodes every upload."""
    out = BytesIO()
    Image.new("RGB", (16, 12), colour).save(out, kind)
    return out.getvalue()


JPEG = _picture("JPEG", (200, 120, 40))
PNG = _picture("PNG", (40, 120, 200))


def kept_sha256(rt: Runtime, content: bytes) -> str:
    """The hash an upload is kept and recorded under: that of its re-encoded bytes."""
    return rt.photos.prepare(content).sha256


def open_fund(
    rt: Runtime,
    source: str = "provincial",
    programme: str = "retrofit",
    year: int = 2025,
    ratio: str = "0",
    title: str = "",
) -> UUID:
    """Open one fund as the finance officer."""
    return rt.ledger.open_fund(
        FINANCE, source=source, programme=programme, year=year,
        title=title or f"{year}年{source}{programme}资金", matching_ratio=ratio,
    )  # fmt: skip


def funded(
    rt: Runtime, received: str = "100000", allocated: dict[str, str] | None = None, **fund: Any
) -> UUID:
    """A fund that has received money and allocated some of it to districts (D01 by default)."""
    fund_id = open_fund(rt, **fund)
    rt.ledger.receive(FINANCE, fund_id, amount=received, document="财预〔2025〕12号")
    for district, amount in (allocated or {"D01": "50000"}).items():
        rt.ledger.allocate(FINANCE, fund_id, amount=amount, district=district, document="下达文件")
    return fund_id


def accepted_case(
    rt: Runtime, family: Actor = FAMILY, photos: list[bytes] | None = None, elder_seq: str = ""
) -> UUID:
    """A D01 case whose works passed acceptance, with photos kept in the real photo store; the
    default elder unless `elder_seq` makes another identity number."""
    case_id = None
    if elder_seq:
        case_id = apply(rt, family, elder=elder(national_id=national_id(seq=elder_seq)))
    case_id = walk(rt, Step.WORKS_COMPLETED, family=family, case_id=case_id)
    stored = [rt.photos.store(p) for p in (photos or [JPEG, PNG])]
    rt.retrofit.inspect_acceptance(
        INSPECTOR, case_id, version(rt, INSPECTOR, case_id),
        results=[{"code": line["code"], "installed": True, "works": True, "safe": True}
                 for line in ASSESSED_LINES],
        photos=stored,
    )  # fmt: skip
    return case_id


def facility(rt: Runtime, kind: str, place: dict[str, str] | None = None) -> UUID:
    """A registered facility (registered on the facility tests' date, so planning is past)."""
    with clock.frozen_at(facilities.NOW):
        if kind == "home_care_provider":
            return facilities.register_provider(rt, place=place)
        return facilities.register(rt, kind, place=place)
