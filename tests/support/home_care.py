"""Builders for home care tests: provider organisations, applications, a case walked to a step."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from events.clock import CITY_TZ
from events.facility import FacilityProject, Kind
from events.home_care import CareStep
from events.roles import Actor, Role
from portal.runtime import Runtime
from tests.support.actors import ASSESSOR, CASEWORKER, FAMILY
from tests.support.scenario import elder

# The business calendar of most tests: a provider assigned on 2 March, visits logged later.
ASSIGNED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=CITY_TZ)
LOGGED_AT = datetime(2026, 3, 31, 21, 0, tzinfo=CITY_TZ)


def register_provider(
    rt: Runtime,
    *,
    district: str = "D01",
    kind: str = Kind.HOME_CARE_PROVIDER,
    name: str = "康乐居家养老服务中心",
) -> UUID:
    """A provider organisation (or, with another kind, some other facility) in the event log."""
    facility_id = uuid4()
    facility = FacilityProject.register(
        facility_id=facility_id,
        kind=kind,
        name=name,
        district=district,
        street="和平街道",
        community="春晖社区",
        deadline="2026-12-31",
        planned_on="2026-01-05",
        actor_id="admin-1",
    )
    rt.home_care.save(facility)
    return facility_id


def provider_user(facility_id: UUID, user_id: str = "provider-user-1") -> Actor:
    """An account of the provider organisation, acting only for it."""
    return Actor(user_id, Role.PROVIDER, "D01", "", str(facility_id))


def care_elder(**overrides: Any) -> dict[str, Any]:
    """A complete elder profile of someone who qualifies (disabled)."""
    return elder(disability_level="full") | overrides


def apply_care(rt: Runtime, applicant: Actor = FAMILY, **overrides: Any) -> UUID:
    """Apply for home care for an elder in 安康区 和平街道 春晖社区."""
    values: dict[str, Any] = {
        "idempotency_key": str(uuid4()),
        "elder": care_elder(),
        "relation": "child",
        "district": "D01",
        "street": "和平街道",
        "community": "春晖社区",
        "needs": "老人卧床,需要有人帮忙擦身和打扫。",
    } | overrides
    return rt.home_care.submit_application(applicant, **values)


def current(rt: Runtime, case_id: UUID) -> int:
    """The case's version now, as a freshly rendered form would carry it."""
    return rt.home_care.repository.get(case_id).version


HAPPY_PATH = (
    CareStep.ASSESSOR_ASSIGNED,
    CareStep.ASSESSED,
    CareStep.APPROVED,
    CareStep.IN_SERVICE,
)


def walk_care(
    rt: Runtime,
    step: str,
    *,
    provider_id: UUID | None = None,
    case_id: UUID | None = None,
    family: Actor = FAMILY,
    caseworker: Actor = CASEWORKER,
    assessor: Actor = ASSESSOR,
    hours: int = 40,
) -> UUID:
    """Apply (unless given a case) and take the happy path up to `step`."""
    case_id = case_id or apply_care(rt, family)
    hc = rt.home_care
    take = {
        CareStep.ASSESSOR_ASSIGNED: lambda: hc.request_assessment(
            caseworker, case_id, current(rt, case_id), assessor_id=assessor.user_id
        ),
        CareStep.ASSESSED: lambda: hc.assess_care_level(
            assessor, case_id, current(rt, case_id), level="moderate", monthly_hours=hours
        ),
        CareStep.APPROVED: lambda: hc.approve(caseworker, case_id, current(rt, case_id)),
        CareStep.IN_SERVICE: lambda: hc.assign_provider(
            caseworker, case_id, current(rt, case_id), provider_id=provider_id or uuid4()
        ),
    }
    if step == CareStep.SUBMITTED:
        return case_id
    for name in HAPPY_PATH:
        take[name]()
        if name == step:
            return case_id
    raise ValueError(f"walk_care does not reach step {step!r}")


def log(
    rt: Runtime, provider: Actor, case_id: UUID, day: str, start: str, end: str, **more: Any
) -> UUID:
    """The provider logs a visit (cleaning, confirmed by the elder unless said otherwise)."""
    values: dict[str, Any] = {
        "items": ["cleaning"],
        "caregiver": "护理员王芳",
        "confirmed_by": "elder",
    } | more
    receipt = rt.home_care.log_visit(
        provider, case_id, current(rt, case_id), visit_date=day, start=start, end=end, **values
    )
    return receipt.visit_id
