"""Builders that walk a retrofit case through its steps via the real services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from events.national_id import check_digit
from events.roles import Actor
from portal.runtime import Runtime


def national_id(birth: str = "19450307", region: str = "110105", seq: str = "123") -> str:
    """A valid 18-character ID number for someone born on `birth` (YYYYMMDD)."""
    first17 = region + birth + seq
    return first17 + check_digit(first17)


def elder(**overrides: Any) -> dict[str, Any]:
    """A complete, valid elder profile."""
    return {
        "name": "张秀英",
        "national_id": national_id(),
        "phone": "13812345678",
        "address": "和平路12号3单元201室",
        "household_category": "dibao",
        "disability_level": "semi",
        "living_situation": "alone",
    } | overrides


def apply(rt: Runtime, family: Actor, *, key: str | None = None, **overrides: Any) -> UUID:
    """Submit a valid application for an elder in 安康区 和平街道 春晖社区."""
    values: dict[str, Any] = {
        "idempotency_key": key or str(uuid4()),
        "elder": elder(),
        "relation": "child",
        "district": "D01",
        "street": "和平街道",
        "community": "春晖社区",
        "needs": "卫生间地滑,想装扶手。",
    } | overrides
    return rt.retrofit.submit_application(family, **values)


ASSESSED_LINES = [
    {"code": "T01", "quantity": 3, "unit_price": Decimal("200")},
    {"code": "F01", "quantity": 10, "unit_price": Decimal("60")},
    {"code": "B01", "quantity": 1, "unit_price": Decimal("2500")},
]


def version(rt: Runtime, actor: Actor, case_id: UUID) -> int:
    """The case's current version, as a freshly rendered form would carry it."""
    return rt.retrofit.case_for(actor, case_id).version


def walk_to(
    rt: Runtime,
    step: str,
    *,
    family: Actor,
    caseworker: Actor,
    assessor: Actor,
    inspector: Actor,
    case_id: UUID | None = None,
) -> UUID:
    """Apply and take every step up to `step` (a Step value) along the happy path."""
    case_id = case_id or apply(rt, family)
    r = rt.retrofit
    steps = [
        ("approved", lambda: r.approve(caseworker, case_id, version(rt, caseworker, case_id), assessor_id=assessor.user_id)),
        ("assessed", lambda: r.assess(assessor, case_id, version(rt, assessor, case_id), lines=ASSESSED_LINES)),
        ("plan_confirmed", lambda: r.confirm_plan(family, case_id, version(rt, family, case_id))),
        ("contractor_assigned", lambda: r.assign_contractor(caseworker, case_id, version(rt, caseworker, case_id),
                                                           contractor="安居装修公司", inspector_id=inspector.user_id)),
        ("works_started", lambda: r.start_works(caseworker, case_id, version(rt, caseworker, case_id))),
        ("works_completed", lambda: r.complete_works(caseworker, case_id, version(rt, caseworker, case_id))),
        ("accepted", lambda: r.inspect_acceptance(
            inspector, case_id, version(rt, inspector, case_id),
            results=[{"code": line["code"], "installed": True, "works": True, "safe": True} for line in ASSESSED_LINES],
            photos=[{"sha256": "a" * 64, "media_type": "image/jpeg"}])),
        ("surveyed", lambda: r.answer_survey(family, case_id, version(rt, family, case_id),
                                            scores=dict.fromkeys(("overall", "quality", "attitude", "timeliness", "usefulness"), 5))),
        ("closed", lambda: r.close_case(caseworker, case_id, version(rt, caseworker, case_id))),
    ]  # fmt: skip
    if step == "submitted":
        return case_id
    for name, take in steps:
        take()
        if name == step:
            return case_id
    raise ValueError(f"walk_to does not reach step {step!r}")
