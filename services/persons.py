"""The person store: the one place personal data lives, built so a person can be erased."""

from __future__ import annotations

import hashlib
import hmac
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from services.database import writing
from services.tables import application_details, persons


@dataclass(frozen=True)
class PersonRecord:
    """An elder's personal data as the services hand it to screens (erased fields are None)."""

    person_id: UUID
    name: str | None
    national_id: str | None
    sex: str | None
    birth_date: str | None
    phone: str | None
    address: str | None
    household_category: str | None
    disability_level: str | None
    living_situation: str | None
    erased: bool


PROFILE_FIELDS = (
    "name",
    "national_id",
    "sex",
    "birth_date",
    "phone",
    "address",
    "household_category",
    "disability_level",
    "living_situation",
)


class PersonStore:
    """Reads and writes personal data; events refer to people only by `person_id`."""

    def __init__(self, engine: Engine, secret_key: str) -> None:
        self._engine = engine
        self._key = hashlib.sha256(b"anlao-person-match:" + secret_key.encode()).digest()

    def _digest(self, national_id: str) -> str:
        return hmac.new(self._key, national_id.encode(), hashlib.sha256).hexdigest()

    def record(self, profile: dict[str, str]) -> UUID:
        """Store or refresh an elder's profile; the same ID number maps to the same person."""
        digest = self._digest(profile["national_id"])
        values = {f: profile.get(f) for f in PROFILE_FIELDS} | {"updated_at": datetime.now(UTC)}
        try:
            return self._upsert(digest, values)
        except IntegrityError:
            # The same elder submitted twice at once: on PostgreSQL (READ COMMITTED) both saw
            # no row and the other insert won; it has committed, so a second try updates it.
            return self._upsert(digest, values)

    def _upsert(self, digest: str, values: dict[str, object]) -> UUID:
        with writing(self._engine) as conn:
            found = conn.execute(select(persons.c.person_id).where(persons.c.id_digest == digest))
            person_id = found.scalar_one_or_none()
            if person_id is None:
                person_id = uuid4()
                conn.execute(
                    persons.insert().values(person_id=person_id, id_digest=digest, **values)
                )
            else:
                conn.execute(
                    update(persons)
                    .where(persons.c.person_id == person_id)
                    .values(erased_at=None, **values)
                )
        return person_id

    def record_needs(self, case_id: UUID, person_id: UUID, needs: str) -> None:
        """Keep an application's free-text needs with the person's erasable data."""
        # A simultaneous submission of the same application may insert first: keep its row.
        with suppress(IntegrityError), writing(self._engine) as conn:
            exists = conn.execute(
                select(application_details.c.case_id).where(
                    application_details.c.case_id == case_id
                )
            ).first()
            if exists is None:
                conn.execute(
                    application_details.insert().values(
                        case_id=case_id, person_id=person_id, needs=needs
                    )
                )

    def get(self, person_id: UUID) -> PersonRecord | None:
        """The person's data, or None if no such person was ever recorded."""
        with self._engine.connect() as conn:
            row = conn.execute(select(persons).where(persons.c.person_id == person_id)).first()
        if row is None:
            return None
        return PersonRecord(
            person_id=row.person_id,
            erased=row.erased_at is not None,
            **{f: getattr(row, f) for f in PROFILE_FIELDS},
        )

    def names(self, person_ids: list[UUID]) -> dict[UUID, str | None]:
        """Names for a page of list rows, in one query."""
        if not person_ids:
            return {}
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(persons.c.person_id, persons.c.name).where(
                    persons.c.person_id.in_(person_ids)
                )
            )
            return {r.person_id: r.name for r in rows}

    def needs(self, case_id: UUID) -> str | None:
        """The family's description of needs for one case (None once erased)."""
        with self._engine.connect() as conn:
            return conn.execute(
                select(application_details.c.needs).where(application_details.c.case_id == case_id)
            ).scalar_one_or_none()

    def erase(self, person_id: UUID) -> None:
        """PIPL erasure: blank every personal field; case events and totals stay as they were."""
        blank = dict.fromkeys(PROFILE_FIELDS) | {"id_digest": None, "erased_at": datetime.now(UTC)}
        with writing(self._engine) as conn:
            conn.execute(update(persons).where(persons.c.person_id == person_id).values(**blank))
            conn.execute(
                application_details.delete().where(application_details.c.person_id == person_id)
            )
