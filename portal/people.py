"""How an elder's personal data appears on screen: masked unless the role needs it in full,
and every full showing logged (who saw whose ID number or phone, when, on which page)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from flask import has_request_context, request
from flask_babel import gettext as _

from events import clock
from events.national_id import mask_national_id, mask_phone
from events.roles import Actor, Role
from services.persons import PersonRecord, PersonStore

security_log = logging.getLogger("anlao.security")


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
    log_reveal(viewer, record, national_id=full_id, phone=full_phone)
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


def log_reveal(viewer: Actor, record: PersonRecord, *, national_id: bool, phone: bool) -> None:
    """PIPL accountability: a full ID or phone number shown is a processing of personal data,
    so it is logged by opaque ids (never the values themselves) for auditors to follow up."""
    fields = [
        name
        for name, shown in (("national_id", national_id), ("phone", phone))
        if shown and getattr(record, name)
    ]
    if not fields:
        return
    at = clock.now().isoformat()
    in_request = has_request_context()
    route = (request.endpoint or "") if in_request else ""
    path = request.path if in_request else ""
    security_log.info(
        "personal data shown in full: fields=%s person=%s user=%s role=%s route=%s path=%s at=%s",
        ",".join(fields), record.person_id, viewer.user_id, viewer.role, route, path, at,
        extra={"event": "personal_data_revealed", "fields": fields,
               "person_id": str(record.person_id), "user_id": viewer.user_id,
               "role": viewer.role, "route": route, "path": path, "at": at},
    )  # fmt: skip
