"""The person store: one person per ID number, and erasure that leaves the case history whole."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from uuid import UUID

import pytest
from flask import Flask
from sqlalchemy import func, select

from events.elder import clean_profile
from events.retrofit import Step
from portal.people import elder_view
from portal.runtime import Runtime
from projections.retrofit_queries import case_detail, count_by_step, timeline
from services.persons import PROFILE_FIELDS
from services.tables import application_details, persons
from tests.support.actors import (
    ASSESSOR,
    AUDITOR,
    CASEWORKER,
    FAMILY,
    INSPECTOR,
    OTHER_FAMILY,
    WORKER,
    read_models,
    walk,
)
from tests.support.scenario import apply, elder, national_id

ELDER_ID = national_id("19380911", "440305", "246")


def profile(**overrides: str) -> dict[str, str]:
    """A cleaned profile as the service stores it."""
    cleaned, _ = clean_profile(elder(national_id=ELDER_ID) | overrides, date(2025, 6, 1))
    return cleaned


def person_of(rt: Runtime, case_id: UUID) -> UUID:
    return rt.retrofit.repository.get(case_id).person_id


def test_same_id_number_is_the_same_person(rt: Runtime) -> None:
    first = rt.persons.record(profile())
    again = rt.persons.record(profile(phone="13700001111", address="新地址路1号"))
    other = rt.persons.record(profile(national_id=national_id("19400101", "440305", "111")))
    assert first == again != other
    record = rt.persons.get(first)
    assert record is not None
    assert (record.phone, record.address, record.erased) == ("13700001111", "新地址路1号", False)
    with rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(persons)).scalar() == 2
        digests = conn.execute(select(persons.c.id_digest)).scalars().all()
    assert ELDER_ID not in "".join(digests)  # matched by keyed digest, not the number itself


def test_applications_for_one_elder_share_a_person(rt: Runtime) -> None:
    by_family = apply(rt, FAMILY, elder=elder(national_id=ELDER_ID))
    by_worker = apply(rt, WORKER, elder=elder(national_id=ELDER_ID, name="李桂兰"))
    assert person_of(rt, by_family) == person_of(rt, by_worker)
    # The latest application's answers are the person's current data.
    record = rt.persons.get(person_of(rt, by_family))
    assert record is not None and record.name == "李桂兰"
    assert rt.persons.names([person_of(rt, by_family)]) == {person_of(rt, by_family): "李桂兰"}


def test_unknown_person_is_none(rt: Runtime) -> None:
    assert rt.persons.get(UUID(int=1)) is None
    assert rt.persons.names([]) == {}


def test_erasure_blanks_personal_data_and_keeps_the_history(rt: Runtime) -> None:
    case_id = apply(rt, FAMILY, elder=elder(national_id=ELDER_ID), needs="厕所需要扶手")
    walk(rt, Step.ACCEPTED, case_id=case_id)
    keep = apply(rt, OTHER_FAMILY, needs="另一位老人")  # someone else: untouched
    rt.catch_up()
    person_id = person_of(rt, case_id)
    events_before = rt.retrofit.recorder.select_events(case_id)
    models_before = read_models(rt.engine)
    counts_before = count_by_step(rt.engine, AUDITOR)
    history_before = timeline(rt.engine, case_id)

    rt.persons.erase(person_id)

    record = rt.persons.get(person_id)
    assert record is not None and record.erased
    assert all(getattr(record, f) is None for f in PROFILE_FIELDS)
    with rt.engine.connect() as conn:
        row = conn.execute(select(persons).where(persons.c.person_id == person_id)).one()
        assert row.id_digest is None and row.erased_at is not None
        left = conn.execute(
            select(func.count())
            .select_from(application_details)
            .where(application_details.c.person_id == person_id)
        ).scalar()
    assert left == 0
    assert rt.persons.needs(case_id) is None
    assert rt.persons.names([person_id]) == {person_id: None}
    assert rt.persons.needs(keep) == "另一位老人"
    assert rt.persons.get(person_of(rt, keep)).name == "张秀英"  # type: ignore[union-attr]

    assert rt.retrofit.recorder.select_events(case_id) == events_before
    assert rt.projector.catch_up() == 0
    assert read_models(rt.engine) == models_before
    assert count_by_step(rt.engine, AUDITOR) == counts_before
    assert timeline(rt.engine, case_id) == history_before
    detail = case_detail(rt.engine, FAMILY, case_id)
    assert detail is not None and (detail.step, detail.person_id) == (Step.ACCEPTED, person_id)
    # The case goes on after erasure: the family can still answer the survey.
    rt.retrofit.answer_survey(
        FAMILY,
        case_id,
        8,
        scores=dict.fromkeys(("overall", "quality", "attitude", "timeliness", "usefulness"), 4),
    )
    assert rt.retrofit.repository.get(case_id).step == Step.SURVEYED


def test_erasing_twice_is_harmless(rt: Runtime) -> None:
    case_id = apply(rt, FAMILY)
    person_id = person_of(rt, case_id)
    rt.persons.erase(person_id)
    rt.persons.erase(person_id)
    assert rt.persons.get(person_id).erased  # type: ignore[union-attr]


def test_reapplying_after_erasure_starts_a_fresh_person(rt: Runtime) -> None:
    old_case = apply(rt, FAMILY, elder=elder(national_id=ELDER_ID))
    old_person = person_of(rt, old_case)
    rt.persons.erase(old_person)

    new_case = apply(rt, FAMILY, elder=elder(national_id=ELDER_ID, name="张秀英"), needs="再次申请")
    new_person = person_of(rt, new_case)
    record = rt.persons.get(new_person)
    assert record is not None and not record.erased
    assert (record.name, record.national_id) == ("张秀英", ELDER_ID)
    assert rt.persons.needs(new_case) == "再次申请"
    # The erased case stays erased: re-applying does not bring the old data back.
    assert rt.persons.get(old_person).erased  # type: ignore[union-attr]
    assert new_person != old_person
    assert rt.retrofit.repository.get(new_case).step == Step.SUBMITTED


@pytest.fixture
def people(app: Flask, app_rt: Runtime) -> Iterator[Runtime]:
    """The app's runtime, inside a request context (elder_view translates its placeholder)."""
    with app.test_request_context("/"):
        yield app_rt


def test_elder_view_masks_by_role_and_shows_erasure(people: Runtime) -> None:
    rt = people
    case_id = apply(rt, FAMILY, elder=elder(national_id=ELDER_ID, phone="13800001234"))
    person_id = person_of(rt, case_id)

    family_view = elder_view(rt.persons, person_id, FAMILY)
    assert family_view.national_id == "440***********" + ELDER_ID[-4:]
    assert family_view.phone == "138****1234"
    assert family_view.name == "张秀英" and not family_view.erased
    staff_view = elder_view(rt.persons, person_id, CASEWORKER)
    assert (staff_view.national_id, staff_view.phone) == (ELDER_ID, "13800001234")
    assessor_view = elder_view(rt.persons, person_id, ASSESSOR)
    assert assessor_view.national_id != ELDER_ID and assessor_view.phone == "13800001234"
    inspector_view = elder_view(rt.persons, person_id, INSPECTOR)
    assert inspector_view.national_id.startswith("440*")
    auditor_view = elder_view(rt.persons, person_id, AUDITOR)
    assert (auditor_view.national_id, auditor_view.phone) == (
        "440***********" + ELDER_ID[-4:],
        "138****1234",
    )

    rt.persons.erase(person_id)
    for viewer in (FAMILY, CASEWORKER, AUDITOR):
        gone = elder_view(rt.persons, person_id, viewer)
        assert gone.erased
        assert gone.name == "(个人信息已删除)"
        assert (gone.national_id, gone.phone, gone.address, gone.birth_date) == ("", "", "", "")
    assert elder_view(rt.persons, UUID(int=3), FAMILY).erased
