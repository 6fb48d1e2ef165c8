"""Event state encrypted at rest (AES): nothing readable in the database row, all readable in the app."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from uuid import UUID

import psycopg
import pytest
from eventsourcing.cipher import AESCipher
from eventsourcing.persistence import MapperDeserialisationError
from sqlalchemy import select
from sqlalchemy.engine import make_url

from events.retrofit import Step
from portal.runtime import Runtime, build_runtime
from projections.retrofit_cases import RetrofitCaseList
from projections.retrofit_timeline import RetrofitTimeline
from projections.runner import Projector
from projections.tables import retrofit_cases
from services.settings import Settings
from tests.conftest import CHEAP_HASHER
from tests.support.actors import FAMILY, walk
from tests.support.scenario import apply


def raw_rows(rt: Runtime, case_id: UUID) -> list[tuple[str, bytes]]:
    """(topic, state) of a case's events straight from the table, bypassing the library."""
    table = rt.retrofit.recorder.events_table_name  # stored_events, or anlao_events on PostgreSQL
    url = make_url(rt.settings.database_url)
    if url.get_backend_name() == "sqlite":
        with closing(sqlite3.connect(url.database or "")) as conn:
            rows = conn.execute(
                f"SELECT topic, state FROM {table} WHERE originator_id = ? "
                "ORDER BY originator_version",
                (case_id.hex,),
            ).fetchall()
        return [(topic, bytes(state)) for topic, state in rows]
    schema = url.query["schema"]
    plain = url.difference_update_query(["schema"]).set(drivername="postgresql")
    with psycopg.connect(plain.render_as_string(hide_password=False)) as conn:
        rows = conn.execute(
            f'SELECT topic, state FROM "{schema}"."{table}" WHERE originator_id = %s '
            "ORDER BY originator_version",
            (case_id,),
        ).fetchall()
    return [(topic, bytes(state)) for topic, state in rows]


def runtime_with_key(settings: Settings, key: str) -> Runtime:
    """A runtime on the test database whose event store uses `key` (empty: no encryption)."""
    keyed = Settings(
        instance_path=settings.instance_path,
        database_url=settings.database_url,
        secret_key=settings.secret_key,
        event_cipher_key=key,
    )
    return build_runtime(keyed, CHEAP_HASHER)


@pytest.fixture
def key() -> str:
    return AESCipher.create_key(16)


@pytest.fixture
def encrypted(settings: Settings, key: str) -> Iterator[Runtime]:
    runtime = runtime_with_key(settings, key)
    yield runtime
    runtime.dispose()


def plaintexts(rt: Runtime, case_id: UUID) -> list[bytes]:
    """Values of the case that would be readable in an unencrypted row."""
    case = rt.retrofit.repository.get(case_id)
    return [
        case.reference.encode(),
        b'"relative"',
        FAMILY.user_id.encode(),
        case.person_id.hex.encode(),
        "春晖社区".encode(),
        b"originator_topic",
    ]


@pytest.mark.parametrize("use_key", [True, False], ids=["with_key", "without_key"])
def test_stored_event_state_is_unreadable_only_with_a_key(
    settings: Settings, key: str, use_key: bool
) -> None:
    rt = runtime_with_key(settings, key if use_key else "")
    try:
        case_id = apply(rt, FAMILY, relation="relative")
        walk(rt, Step.ASSESSED, case_id=case_id)
        rows = raw_rows(rt, case_id)
        assert [topic for topic, _ in rows] == [  # topics and ids stay plain either way
            "events.retrofit:RetrofitCase.Applied",
            "events.retrofit:RetrofitCase.EligibilityApproved",
            "events.retrofit:RetrofitCase.HomeAssessed",
        ]
        applied_state = rows[0][1]
        for text in plaintexts(rt, case_id):
            assert (text in applied_state) is not use_key, text
        assessed_state = rows[2][1]
        assert (b"MCA-2020" in assessed_state) is not use_key
    finally:
        rt.dispose()


def test_encrypted_events_read_back_through_the_service(encrypted: Runtime) -> None:
    rt = encrypted
    case_id = apply(rt, FAMILY, relation="relative")
    walk(rt, Step.ACCEPTED, case_id=case_id)
    case = rt.retrofit.repository.get(case_id)
    assert (case.step, case.version) == (Step.ACCEPTED, 8)
    assert case.assessment["checklist_version"] == "MCA-2020"
    assert rt.retrofit.case_for(FAMILY, case_id).reference == case.reference

    retrofit_models = Projector(rt.engine, rt.retrofit, [RetrofitCaseList(), RetrofitTimeline()])
    assert retrofit_models.catch_up() == 2 * 8  # each event decrypted for both read models
    with rt.engine.connect() as conn:
        row = conn.execute(select(retrofit_cases).where(retrofit_cases.c.case_id == case_id)).one()
    assert (row.reference, row.relation, row.step) == (case.reference, "relative", Step.ACCEPTED)


def test_a_different_key_cannot_read_the_events(settings: Settings, encrypted: Runtime) -> None:
    case_id = apply(encrypted, FAMILY)
    intruder = runtime_with_key(settings, AESCipher.create_key(16))
    try:
        with pytest.raises(MapperDeserialisationError, match="MAC check failed"):
            intruder.retrofit.repository.get(case_id)
    finally:
        intruder.dispose()
