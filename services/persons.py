"""The person store: the one place personal data lives, built so a person can be erased."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from services.database import writing
from services.tables import application_details, drafts, persons

log = logging.getLogger(__name__)


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
        return self._record(profile)[0]

    @contextmanager
    def for_application(self, case_id: UUID, profile: dict[str, str], needs: str) -> Iterator[UUID]:
        """Record the elder and the application's needs for a case about to be saved, yielding
        the person id. If the case is not saved (the block raises: storage full or away), what
        this call stored is taken back, so a failed submission leaves no personal data behind."""
        person_id, before = self._record(profile, (case_id, needs))
        try:
            yield person_id
        except BaseException:
            self._withdraw(case_id, person_id, before)
            raise

    def _record(
        self, profile: dict[str, str], application: tuple[UUID, str] | None = None
    ) -> tuple[UUID, dict[str, object] | None]:
        """The person id and, if the person existed, their stored values before this write;
        with `application` (case id, needs), its needs row too, in the same transaction (one
        commit per submission: on SQLite every commit queues for the one write lock)."""
        digest = self._digest(profile["national_id"])
        values = {f: profile.get(f) for f in PROFILE_FIELDS} | {"updated_at": datetime.now(UTC)}
        try:
            return self._upsert(digest, values, application)
        except IntegrityError:
            # The same elder submitted twice at once: on PostgreSQL (READ COMMITTED) both saw
            # no row and the other insert won; it has committed, so a second try updates it.
            return self._upsert(digest, values, application)

    def _upsert(
        self, digest: str, values: dict[str, object], application: tuple[UUID, str] | None
    ) -> tuple[UUID, dict[str, object] | None]:
        kept = (persons.c.person_id, *(persons.c[f] for f in (*values, "erased_at")))
        with writing(self._engine) as conn:
            found = conn.execute(select(*kept).where(persons.c.id_digest == digest)).first()
            if found is None:
                person_id, before = uuid4(), None
                conn.execute(
                    persons.insert().values(person_id=person_id, id_digest=digest, **values)
                )
            else:
                before = dict(found._mapping)
                person_id = before.pop("person_id")
                conn.execute(
                    update(persons)
                    .where(persons.c.person_id == person_id)
                    .values(erased_at=None, **values)
                )
            if application is not None:
                case_id, needs = application
                _record_needs(conn, case_id, person_id, needs)
        return person_id, before

    def _withdraw(self, case_id: UUID, person_id: UUID, before: dict[str, object] | None) -> None:
        """Undo `for_application`: drop the case's needs; restore the person's earlier values,
        or remove a person this call created unless another application names them meanwhile.
        Best effort: when storage is down this fails too, and the orphan rows name no case."""
        try:
            with writing(self._engine) as conn:
                details = application_details.c
                conn.execute(application_details.delete().where(details.case_id == case_id))
                mine = persons.c.person_id == person_id
                if before is not None:
                    conn.execute(update(persons).where(mine).values(**before))
                    return
                others = select(details.case_id).where(details.person_id == person_id)
                conn.execute(persons.delete().where(mine, ~others.exists()))
        except Exception:
            log.warning("could not take back the person rows of unsaved case %s", case_id)

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
        """PIPL erasure: blank every personal field, drop the person's application answers and
        any unfinished application naming them; case events and totals stay as they were."""
        blank = dict.fromkeys(PROFILE_FIELDS) | {"id_digest": None, "erased_at": datetime.now(UTC)}
        on_sqlite = self._engine.dialect.name == "sqlite"
        with writing(self._engine) as conn:
            if on_sqlite:
                # Freed cells are zeroed, so the old values do not linger in the file's pages
                # (Debian's SQLite does so by default; other builds need asking).
                conn.exec_driver_sql("PRAGMA secure_delete=ON")
            number = conn.execute(
                select(persons.c.national_id).where(persons.c.person_id == person_id)
            ).scalar_one_or_none()
            conn.execute(update(persons).where(persons.c.person_id == person_id).values(**blank))
            conn.execute(
                application_details.delete().where(application_details.c.person_id == person_id)
            )
            if number:  # drafts hold typed answers as JSON, keyed by no person id
                conn.execute(drafts.delete().where(drafts.c.answers.contains(f'"{number}"')))
        if on_sqlite:
            self._checkpoint()

    def _checkpoint(self) -> None:
        """Copy the write-ahead log into the file and truncate it: its older frames still hold
        the values just erased. Best effort: a reader holding an old snapshot defers it."""
        raw = self._engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            raw.close()


def _record_needs(conn: Connection, case_id: UUID, person_id: UUID, needs: str) -> None:
    """Keep an application's free-text needs with the person's erasable data."""
    # A simultaneous submission of the same application may have inserted first: keep its row
    # (a conflict that aborted the transaction would, on PostgreSQL, take the person with it).
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(
        dialect_insert(application_details)
        .values(case_id=case_id, person_id=person_id, needs=needs)
        .on_conflict_do_nothing(index_elements=[application_details.c.case_id])
    )
