"""How an elder's personal data appears on screen: masked unless the role needs it in full."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from flask_babel import gettext as _

from events.national_id import mask_national_id, mask_phone
from events.roles import Actor, Role
from services.persons import PersonStore


@dataclass(frozen=True)
class ElderView:
    """The elder as one screen shows it."""

    name: str
    national_id: str
    phone: str
    address: str
    sex: str
    birth_date: str
    household_category: str
    disability_level: str
    living_situation: str
    erased: bool


def elder_view(persons: PersonStore, person_id: UUID, viewer: Actor) -> ElderView:
    """The elder's data for this viewer: full ID and phone only for roles that need them."""
    record = persons.get(person_id)
    if record is None or record.erased:
        gone = _("(个人信息已删除)")
        return ElderView(gone, "", "", "", "", "", "", "", "", erased=True)
    full_id = viewer.role in Role.SEES_FULL_ID_NUMBER
    full_phone = viewer.role in Role.SEES_FULL_PHONE
    return ElderView(
        name=record.name or "",
        national_id=(record.national_id or "")
        if full_id
        else mask_national_id(record.national_id or ""),
        phone=(record.phone or "") if full_phone else mask_phone(record.phone or ""),
        address=record.address or "",
        sex=record.sex or "",
        birth_date=record.birth_date or "",
        household_category=record.household_category or "",
        disability_level=record.disability_level or "",
        living_situation=record.living_situation or "",
        erased=False,
    )
