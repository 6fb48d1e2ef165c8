"""Helpers for the staff pages of meal service, home care and facilities: a district's team
with real accounts, reading references off queue pages, and the read models after catching up."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from events.roles import Actor, Role
from portal.runtime import Runtime
from projections.home_care_queries import CareCaseDetail, care_case_detail
from projections.meal_queries import EnrolmentDetail, enrolment_detail
from tests.conftest import User

MEAL_REFERENCE = re.compile(r">(ZC-[0-9A-Z]{4}-[0-9A-Z]{4})</a>")
CARE_REFERENCE = re.compile(r">(JH-[0-9A-Z]{4}-[0-9A-Z]{4})</a>")
READER = Actor("reader", Role.AUDITOR)


@dataclass(frozen=True)
class Staff:
    """The family and the staff of one district that meal and home-care cases need."""

    family: User
    caseworker: User
    assessor: User
    inspector: User


def make_staff(make_user: Callable[..., User], district: str = "D01") -> Staff:
    """A family and the caseworker, assessor and inspector of one district, with accounts."""
    return Staff(
        family=make_user(Role.FAMILY),
        caseworker=make_user(Role.CASEWORKER, district=district, name="审核员小李"),
        assessor=make_user(Role.ASSESSOR, district=district, name="评估员老王"),
        inspector=make_user(Role.INSPECTOR, district=district, name="检查员小陈"),
    )


def enrolment(rt: Runtime, case_id: UUID) -> EnrolmentDetail:
    """The enrolment as the read model has it now (after catching up)."""
    rt.catch_up()
    found = enrolment_detail(rt.engine, READER, case_id)
    assert found is not None
    return found


def care_case(rt: Runtime, case_id: UUID) -> CareCaseDetail:
    """The home care case as the read model has it now (after catching up)."""
    rt.catch_up()
    found = care_case_detail(rt.engine, READER, case_id)
    assert found is not None
    return found


def meal_references(html: str) -> list[str]:
    """Enrolment references linked from a queue page or fragment, in order."""
    return MEAL_REFERENCE.findall(html)


def care_references(html: str) -> list[str]:
    """Home care case references linked from a queue page or fragment, in order."""
    return CARE_REFERENCE.findall(html)
