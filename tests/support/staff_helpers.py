"""Helpers for the staff portal tests: a district's team, a small real PNG, reading pages."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from flask.testing import FlaskClient

from events.roles import Actor, Role
from portal.runtime import Runtime
from projections.retrofit_queries import CaseDetail, case_detail
from tests.conftest import User
from tests.support.scenario import walk_to

REFERENCE = re.compile(r">(SL-[0-9A-Z]{4}-[0-9A-Z]{4})</a>")


@dataclass(frozen=True)
class Team:
    """The people one district's cases need."""

    family: User
    caseworker: User
    assessor: User
    inspector: User

    def walk(self, rt: Runtime, step: str, case_id: UUID | None = None) -> UUID:
        """A case taken to `step` by this team, with read models caught up."""
        case_id = walk_to(
            rt,
            step,
            family=self.family.actor,
            caseworker=self.caseworker.actor,
            assessor=self.assessor.actor,
            inspector=self.inspector.actor,
            case_id=case_id,
        )
        rt.catch_up()
        return case_id


def make_team(make_user: Callable[..., User], district: str = "D01") -> Team:
    """A family and the caseworker, assessor and inspector of one district."""
    return Team(
        family=make_user(Role.FAMILY),
        caseworker=make_user(Role.CASEWORKER, district=district, name="审核员小李"),
        assessor=make_user(Role.ASSESSOR, district=district, name="评估员老王"),
        inspector=make_user(Role.INSPECTOR, district=district, name="验收员小陈"),
    )


def png_bytes(red: int = 200) -> bytes:
    """A valid 1x1 RGB PNG (signature, IHDR, IDAT, IEND with CRCs); `red` varies the hash."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes((red, 30, 30)))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def references(html: str) -> list[str]:
    """Case references linked from a queue page or fragment, in order."""
    return REFERENCE.findall(html)


def detail(rt: Runtime, actor: Actor, case_id: UUID) -> CaseDetail:
    """The case as the read model has it now (after catching up)."""
    rt.catch_up()
    found = case_detail(rt.engine, actor, case_id)
    assert found is not None
    return found


def step_data(token: str, action: str, version: int, **fields: object) -> dict[str, object]:
    """A case-page step form as the browser posts it (fields carry the form's prefix)."""
    data: dict[str, object] = {"csrf_token": token, f"{action}-version": str(version)}
    return data | {f"{action}-{name}": value for name, value in fields.items()}


@dataclass(frozen=True)
class Fetched:
    """A response read fully and closed (file responses hold the file open until closed)."""

    status_code: int
    data: bytes
    mimetype: str | None
    cache_control: str


def fetch(client: FlaskClient, url: str) -> Fetched:
    """GET a URL and close the response."""
    with client.get(url) as response:
        return Fetched(
            response.status_code,
            response.get_data(),
            response.mimetype,
            response.headers.get("Cache-Control", ""),
        )
