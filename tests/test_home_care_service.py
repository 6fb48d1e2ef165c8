"""The home care service on real databases: applying, privacy of the log, who may act, visits
by the assigned provider only, and staleness."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import func, select

from events.clock import frozen_at
from events.errors import IllegalTransition, InvalidApplication, NotOldEnough
from events.facility import Kind
from events.home_care import (
    CareStep,
    HomeCareCase,
    HomeCareNotEligible,
    InvalidVisit,
    ProviderUnavailable,
    VisitNotFound,
    VisitOverlaps,
)
from events.retrofit import SURVEY_QUESTIONS
from events.roles import Actor, Role
from portal.runtime import Runtime
from projections.home_care_cases import home_care_cases
from projections.home_care_delivery import home_care_case_scope, home_care_surveys, home_care_visits
from projections.home_care_queries import care_case_detail, provider_case, visit_log
from projections.home_care_timeline import home_care_timeline
from services.errors import CaseNotFound, NotPermitted, StaleCase
from services.home_care import VisitReceipt
from services.tables import persons
from tests.support.actors import (
    ADMIN,
    ASSESSOR,
    AUDITOR,
    CASEWORKER,
    CASEWORKER_D02,
    FAMILY,
    FINANCE,
    INSPECTOR,
    OTHER_ASSESSOR,
    OTHER_FAMILY,
    PROVIDER,
    SUPERVISOR,
    WORKER,
    WORKER_D02,
    WORKER_SONGHE,
    table_rows,
)
from tests.support.home_care import (
    ASSIGNED_AT,
    LOGGED_AT,
    apply_care,
    care_elder,
    current,
    log,
    provider_user,
    register_provider,
    walk_care,
)
from tests.support.scenario import national_id

ELDER_NAME = "欧阳桂兰"
ELDER_ID = national_id("19400212", "320106", "468")
ELDER_PHONE = "13987651234"
ELDER_ADDRESS = "颐和路66号3单元502室"
NEEDS = "老人中风后卧床,需要擦身、翻身和打扫卫生"
SCORES = dict.fromkeys(SURVEY_QUESTIONS, 5)
HOME_CARE_TABLES = (
    home_care_cases,
    home_care_timeline,
    home_care_case_scope,
    home_care_visits,
    home_care_surveys,
)


def apply_for_the_elder(rt: Runtime, actor: Actor = FAMILY, **overrides: Any) -> UUID:
    """An application carrying recognisable personal data."""
    profile = care_elder(
        name=ELDER_NAME, national_id=ELDER_ID, phone=ELDER_PHONE, address=ELDER_ADDRESS
    )
    return apply_care(rt, actor, elder=profile, needs=NEEDS, **overrides)


def stored_states(rt: Runtime) -> list[bytes]:
    """Every stored event's state, as the recorder hands it back (before decoding)."""
    notifications = rt.home_care.recorder.select_notifications(start=1, limit=10_000)
    return [bytes(n.state) for n in notifications]


def case_events(rt: Runtime, case_id: UUID) -> list[Any]:
    return list(rt.home_care.repository.event_store.get(case_id))


def person_count(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(persons)).scalar_one())


@pytest.fixture
def provider_id(rt: Runtime) -> UUID:
    """A home care provider organisation registered in D01."""
    return register_provider(rt)


@pytest.fixture
def in_service(rt: Runtime, provider_id: UUID) -> UUID:
    """A case whose provider was assigned on 2 March 2026."""
    with frozen_at(ASSIGNED_AT):
        return walk_care(rt, CareStep.IN_SERVICE, provider_id=provider_id)


# -- applying ----------------------------------------------------------------------------------
def test_application_opens_a_case_with_only_an_opaque_person_id(rt: Runtime) -> None:
    case_id = apply_for_the_elder(rt)
    case = rt.home_care.repository.get(case_id)
    assert isinstance(case, HomeCareCase)
    assert (case.step, case.version, case.channel, case.disability_level) == (
        CareStep.SUBMITTED,
        1,
        "online",
        "full",
    )
    assert case.reference.startswith("JH-")
    person = rt.persons.get(case.person_id)
    assert person is not None
    assert (person.name, person.national_id, person.disability_level) == (
        ELDER_NAME,
        ELDER_ID,
        "full",
    )
    assert rt.persons.needs(case_id) == NEEDS


def test_an_elder_who_is_neither_disabled_nor_semi_disabled_is_refused_and_nothing_is_kept(
    rt: Runtime,
) -> None:
    for level in ("none", "certified"):
        with pytest.raises(HomeCareNotEligible) as refused:
            apply_care(rt, FAMILY, elder=care_elder(disability_level=level))
        assert refused.value.params["disability_level"] == level
    assert stored_states(rt) == []
    assert person_count(rt) == 0  # the elder's data was not stored either


@pytest.mark.parametrize(
    ("overrides", "error", "detail"),
    [
        ({"community": "南湖社区"}, InvalidApplication, "community"),
        ({"relation": "neighbour"}, InvalidApplication, "relation"),
        ({"needs": "多" * 2001}, InvalidApplication, "needs"),
        ({"elder": care_elder(phone="12345")}, InvalidApplication, "phone"),
        (
            {"elder": care_elder(disability_level="bedridden")},
            InvalidApplication,
            "disability_level",
        ),
        ({"elder": care_elder(national_id=national_id("19800101"))}, NotOldEnough, ""),
    ],
)
def test_invalid_applications_store_nothing(
    rt: Runtime, overrides: dict[str, Any], error: type[Exception], detail: str
) -> None:
    with pytest.raises(error) as refused:
        apply_care(rt, FAMILY, **overrides)
    assert getattr(refused.value, "detail", "") == detail
    assert stored_states(rt) == []


def test_same_idempotency_key_from_the_same_user_is_one_case(rt: Runtime) -> None:
    first = apply_for_the_elder(rt, idempotency_key="draft-7")
    again = apply_for_the_elder(rt, idempotency_key="draft-7")
    other_user = apply_for_the_elder(rt, OTHER_FAMILY, idempotency_key="draft-7")
    assert first == again != other_user
    assert len(stored_states(rt)) == 2
    # The retrofit programme's key space is separate: the same key there is another case.
    assert rt.retrofit.application_id(FAMILY, "draft-7") != first


def test_community_worker_applies_only_in_their_own_community(rt: Runtime) -> None:
    case_id = apply_for_the_elder(rt, WORKER)
    assert rt.home_care.repository.get(case_id).channel == "proxy"
    with pytest.raises(NotPermitted):
        apply_for_the_elder(rt, WORKER_SONGHE)
    with pytest.raises(NotPermitted):
        apply_for_the_elder(rt, WORKER_D02)
    assert len(stored_states(rt)) == 1


@pytest.mark.parametrize("actor", [CASEWORKER, ASSESSOR, INSPECTOR, AUDITOR, PROVIDER, ADMIN])
def test_only_families_and_community_workers_apply(rt: Runtime, actor: Actor) -> None:
    with pytest.raises(NotPermitted):
        apply_for_the_elder(rt, actor)
    assert stored_states(rt) == []


def personal_forms() -> list[bytes]:
    """The elder's personal data as it could appear in stored bytes (UTF-8 or JSON-escaped)."""
    values = [ELDER_NAME, ELDER_ID, ELDER_PHONE, ELDER_ADDRESS, NEEDS, ELDER_ID[6:14]]
    forms = [v.encode() for v in values]
    forms += [json.dumps(v).strip('"').encode() for v in values]
    return forms


def test_no_personal_data_in_the_stored_events_or_read_models(
    rt: Runtime, provider_id: UUID
) -> None:
    with frozen_at(ASSIGNED_AT):
        case_id = walk_care(
            rt, CareStep.IN_SERVICE, provider_id=provider_id, case_id=apply_for_the_elder(rt)
        )
    staff = provider_user(provider_id)
    with frozen_at(LOGGED_AT):
        visit = log(rt, staff, case_id, "2026-03-03", "09:00", "11:00", confirmed_by="family")
        rt.home_care.correct_visit(
            staff, case_id, current(rt, case_id), visit_id=visit, visit_date="2026-03-03",
            start="09:00", end="10:30", items=["bathing"], caregiver="护理员李娟",
            confirmed_by="family", reason="结束时间登记错了",
        )  # fmt: skip
        rt.home_care.answer_survey(FAMILY, case_id, current(rt, case_id), scores=SCORES)
        rt.home_care.close_case(CASEWORKER, case_id, current(rt, case_id), reason="老人入住养老院")
    rt.catch_up()

    by_case = [bytes(s.state) for s in rt.home_care.recorder.select_events(case_id)]
    everything = stored_states(rt)
    assert len(by_case) == 9 and len(everything) == 10  # and the provider's registration
    for state in everything:
        for personal in personal_forms():
            assert personal not in state
    # The check can fail: the person id is in the log, and the name is in the person store.
    person_id = rt.home_care.repository.get(case_id).person_id
    assert person_id.hex.encode() in by_case[0]
    assert b"\\u62a4\\u7406\\u5458" in by_case[5] or "护理员".encode() in by_case[5]

    tables = repr([table_rows(rt.engine, t) for t in HOME_CARE_TABLES])
    for value in (ELDER_NAME, ELDER_ID, ELDER_PHONE, ELDER_ADDRESS, NEEDS):
        assert value not in tables
    assert "护理员李娟" in tables  # the caregiver is on the visit row, where it belongs
    assert "护理员" not in repr(table_rows(rt.engine, home_care_timeline))


# -- who may act -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "outsider",
    [
        OTHER_FAMILY,
        CASEWORKER_D02,
        WORKER_SONGHE,
        WORKER_D02,
        ASSESSOR,
        INSPECTOR,
        PROVIDER,
        FINANCE,
    ],
    ids=lambda a: a.user_id,
)
def test_cases_out_of_scope_are_not_found(rt: Runtime, outsider: Actor) -> None:
    case_id = apply_care(rt, FAMILY)
    with pytest.raises(CaseNotFound):
        rt.home_care.case_for(outsider, case_id)
    with pytest.raises(CaseNotFound):
        rt.home_care.request_assessment(outsider, case_id, 1, assessor_id=ASSESSOR.user_id)
    with pytest.raises(CaseNotFound):
        rt.home_care.withdraw(outsider, case_id, 1, reason="不需要了")
    assert current(rt, case_id) == 1
    rt.catch_up()
    assert care_case_detail(rt.engine, outsider, case_id) is None


def test_a_family_cannot_see_or_touch_another_familys_case(rt: Runtime) -> None:
    mine, theirs = apply_care(rt, FAMILY), apply_care(rt, OTHER_FAMILY)
    rt.catch_up()
    assert rt.home_care.case_for(FAMILY, mine).version == 1
    with pytest.raises(CaseNotFound):
        rt.home_care.case_for(FAMILY, theirs)
    with pytest.raises(CaseNotFound):
        rt.home_care.withdraw(FAMILY, theirs, 1, reason="不需要了")
    assert care_case_detail(rt.engine, FAMILY, mine) is not None
    assert care_case_detail(rt.engine, FAMILY, theirs) is None
    assert rt.home_care.repository.get(theirs).step == CareStep.SUBMITTED


@pytest.mark.parametrize(
    "insider", [FAMILY, WORKER, AUDITOR, SUPERVISOR, ADMIN], ids=lambda a: a.role
)
def test_who_may_see_a_case_but_not_review_it(rt: Runtime, insider: Actor) -> None:
    case_id = apply_care(rt, FAMILY)
    assert rt.home_care.case_for(insider, case_id).version == 1
    with pytest.raises(NotPermitted):
        rt.home_care.request_assessment(insider, case_id, 1, assessor_id=ASSESSOR.user_id)
    with pytest.raises(NotPermitted):
        rt.home_care.reject(insider, case_id, 1, reason="不符合")
    assert current(rt, case_id) == 1


def test_only_the_assessor_sent_grades_the_care(rt: Runtime) -> None:
    case_id = walk_care(rt, CareStep.ASSESSOR_ASSIGNED)
    with pytest.raises(CaseNotFound):
        rt.home_care.assess_care_level(OTHER_ASSESSOR, case_id, 2, level="severe", monthly_hours=60)
    with pytest.raises(NotPermitted):
        rt.home_care.assess_care_level(CASEWORKER, case_id, 2, level="severe", monthly_hours=60)
    assert (
        rt.home_care.assess_care_level(ASSESSOR, case_id, 2, level="severe", monthly_hours=60) == 3
    )
    case = rt.home_care.repository.get(case_id)
    assert (case.care_level, case.monthly_hours, case.step) == ("severe", 60, CareStep.ASSESSED)
    assert case_events(rt, case_id)[-1].actor_id == ASSESSOR.user_id


def test_family_supplies_information_and_withdraws_but_takes_no_staff_step(rt: Runtime) -> None:
    case_id = apply_care(rt, FAMILY)
    v = rt.home_care.return_for_information(CASEWORKER, case_id, 1, request="请补充失能评估材料")
    with pytest.raises(NotPermitted):
        rt.home_care.return_for_information(FAMILY, case_id, v, request="x")
    rt.home_care.supply_information(FAMILY, case_id, v, reply="已上传出院小结")
    walk_care(rt, CareStep.APPROVED, case_id=case_id)
    v = current(rt, case_id)
    with pytest.raises(NotPermitted):
        rt.home_care.assign_provider(FAMILY, case_id, v, provider_id=uuid4())
    rt.home_care.withdraw(FAMILY, case_id, v, reason="家里请了保姆")
    assert rt.home_care.repository.get(case_id).step == CareStep.WITHDRAWN


def test_caseworker_rejects_after_assessment_with_a_reason(rt: Runtime) -> None:
    case_id = walk_care(rt, CareStep.ASSESSED)
    with pytest.raises(IllegalTransition):
        rt.home_care.assign_provider(CASEWORKER, case_id, 3, provider_id=uuid4())
    assert rt.home_care.reject(CASEWORKER, case_id, 3, reason="评估为能够自理") == 4
    assert rt.home_care.repository.get(case_id).step == CareStep.REJECTED


# -- providers ---------------------------------------------------------------------------------
def test_assigning_needs_a_home_care_provider(rt: Runtime, provider_id: UUID) -> None:
    case_id = walk_care(rt, CareStep.APPROVED)
    canteen = register_provider(rt, kind=Kind.CANTEEN, name="春晖社区老年食堂")
    for wrong, detail in ((uuid4(), "unknown"), ("not-a-uuid", "unknown"), (canteen, "kind")):
        with pytest.raises(ProviderUnavailable) as refused:
            rt.home_care.assign_provider(CASEWORKER, case_id, 4, provider_id=wrong)
        assert refused.value.detail == detail
    with pytest.raises(ProviderUnavailable):  # a case id is not an organisation either
        rt.home_care.assign_provider(CASEWORKER, case_id, 4, provider_id=case_id)
    assert current(rt, case_id) == 4
    assert rt.home_care.assign_provider(CASEWORKER, case_id, 4, provider_id=str(provider_id)) == 5
    case = rt.home_care.repository.get(case_id)
    assert (case.step, case.provider_id) == (CareStep.IN_SERVICE, provider_id)


def test_the_assigned_provider_logs_corrects_and_cancels_visits(
    rt: Runtime, provider_id: UUID, in_service: UUID
) -> None:
    staff = provider_user(provider_id)
    with frozen_at(LOGGED_AT):
        receipt = rt.home_care.log_visit(
            staff, in_service, 5, visit_date="2026-03-03", start="09:00", end="10:30",
            items=["cleaning", "check_in"], caregiver="护理员王芳", confirmed_by="elder",
        )  # fmt: skip
        assert isinstance(receipt, VisitReceipt) and receipt.version == 6
        v = rt.home_care.correct_visit(
            staff, in_service, 6, visit_id=receipt.visit_id, visit_date="2026-03-03",
            start="09:00", end="10:00", items=["cleaning"], caregiver="护理员王芳",
            confirmed_by="elder", reason="多登记了半小时",
        )  # fmt: skip
        assert (
            rt.home_care.cancel_visit(
                staff, in_service, v, visit_id=receipt.visit_id, reason="重复登记"
            )
            == 8
        )
    kinds = [type(e).__name__ for e in case_events(rt, in_service)[-3:]]
    assert kinds == ["VisitLogged", "VisitCorrected", "VisitCancelled"]
    assert {e.actor_id for e in case_events(rt, in_service)[-3:]} == {staff.user_id}
    assert case_events(rt, in_service)[-3].provider_id == provider_id


def test_a_visit_id_from_the_form_makes_a_resubmission_harmless(
    rt: Runtime, provider_id: UUID, in_service: UUID
) -> None:
    staff, visit_id = provider_user(provider_id), uuid4()
    values = dict(visit_date="2026-03-03", start="09:00", end="10:00", items=["cleaning"],
                  caregiver="王芳", confirmed_by="elder", visit_id=visit_id)  # fmt: skip
    with frozen_at(LOGGED_AT):
        assert rt.home_care.log_visit(staff, in_service, 5, **values).visit_id == visit_id
        with pytest.raises(StaleCase):  # the same form posted twice
            rt.home_care.log_visit(staff, in_service, 5, **values)
        with pytest.raises(InvalidVisit):  # and even with a fresh version: one visit, once
            rt.home_care.log_visit(staff, in_service, 6, **values)
    assert current(rt, in_service) == 6


def test_another_organisation_can_neither_log_nor_read(
    rt: Runtime, provider_id: UUID, in_service: UUID
) -> None:
    other_org = register_provider(rt, name="福寿上门护理服务公司")
    intruder = provider_user(other_org, "provider-user-2")
    staff = provider_user(provider_id)
    with frozen_at(LOGGED_AT):
        visit = log(rt, staff, in_service, "2026-03-03", "09:00", "10:00")
        with pytest.raises(NotPermitted):
            log(rt, intruder, in_service, "2026-03-04", "09:00", "10:00")
        with pytest.raises(NotPermitted):
            rt.home_care.cancel_visit(intruder, in_service, 6, visit_id=visit, reason="x")
        with pytest.raises(NotPermitted):
            rt.home_care.correct_visit(
                intruder, in_service, 6, visit_id=visit, visit_date="2026-03-03", start="09:00",
                end="09:30", items=["cleaning"], caregiver="x", confirmed_by="elder", reason="x",
            )  # fmt: skip
        with pytest.raises(NotPermitted):  # a provider account without an organisation
            log(rt, Actor("provider-x", Role.PROVIDER), in_service, "2026-03-04", "09:00", "10:00")
    with pytest.raises(CaseNotFound):
        rt.home_care.case_for(intruder, in_service)
    assert rt.home_care.case_for(staff, in_service).version == 6
    assert current(rt, in_service) == 6
    rt.catch_up()
    assert provider_case(rt.engine, intruder, in_service) is None
    assert provider_case(rt.engine, staff, in_service) is not None
    assert care_case_detail(rt.engine, staff, in_service) is None  # providers get their view only
    day = ASSIGNED_AT.date().replace(day=3)
    assert visit_log(rt.engine, intruder, day) == ()
    assert [v.visit_id for v in visit_log(rt.engine, staff, day)] == [visit]


def test_a_provider_logs_nothing_before_it_is_assigned(rt: Runtime, provider_id: UUID) -> None:
    with frozen_at(ASSIGNED_AT):
        case_id = walk_care(rt, CareStep.APPROVED)
        with pytest.raises(IllegalTransition) as refused:
            log(rt, provider_user(provider_id), case_id, "2026-03-02", "08:00", "09:00")
    assert (refused.value.action, refused.value.step) == ("log_visit", CareStep.APPROVED)
    with pytest.raises(CaseNotFound):  # nor may it read the case
        rt.home_care.case_for(provider_user(provider_id), case_id)
    assert current(rt, case_id) == 4


def test_no_visits_once_the_service_has_ended_and_the_provider_loses_sight(
    rt: Runtime, provider_id: UUID, in_service: UUID
) -> None:
    staff = provider_user(provider_id)
    with frozen_at(LOGGED_AT):
        log(rt, staff, in_service, "2026-03-03", "09:00", "10:00")
        rt.home_care.close_case(CASEWORKER, in_service, 6, reason="老人去世")
        with pytest.raises(IllegalTransition):
            log(rt, staff, in_service, "2026-03-04", "09:00", "10:00")
    with pytest.raises(CaseNotFound):
        rt.home_care.case_for(staff, in_service)


@pytest.mark.parametrize("actor", [CASEWORKER, FAMILY, ASSESSOR, AUDITOR], ids=lambda a: a.role)
def test_only_providers_log_visits(rt: Runtime, in_service: UUID, actor: Actor) -> None:
    with frozen_at(LOGGED_AT), pytest.raises(NotPermitted):
        log(rt, actor, in_service, "2026-03-03", "09:00", "10:00")
    assert current(rt, in_service) == 5


@pytest.mark.parametrize(
    ("day", "start", "end", "more", "refusal"),
    [
        ("2026-04-01", "09:00", "10:00", {}, "future"),
        ("2026-03-01", "09:00", "10:00", {}, "before_assignment"),
        ("2026-03-03", "10:00", "09:00", {}, "end_before_start"),
        ("2026-03-03", "08:00", "16:30", {}, "too_long"),
        ("2026-03-03", "09:00", "10:00", {"items": []}, "no_items"),
        ("2026-03-03", "09:00", "10:00", {"items": ["massage"]}, "unknown_item"),
        ("2026-03-03", "09:00", "10:00", {"confirmed_by": ""}, "not_confirmed"),
        ("2026-03-03", "09:30", "10:30", {}, "overlap"),
    ],
)
def test_visit_rules_through_the_service_write_nothing(
    rt: Runtime, provider_id: UUID, in_service: UUID, day: str, start: str, end: str,
    more: dict[str, Any], refusal: str,
) -> None:  # fmt: skip
    staff = provider_user(provider_id)
    with frozen_at(LOGGED_AT):
        log(rt, staff, in_service, "2026-03-03", "09:00", "10:00")
        before = rt.home_care.recorder.select_events(in_service)
        with pytest.raises((InvalidVisit, VisitOverlaps)) as refused:
            log(rt, staff, in_service, day, start, end, **more)
    assert refused.value.detail == refusal
    assert rt.home_care.recorder.select_events(in_service) == before


# -- staleness ---------------------------------------------------------------------------------
def test_an_old_version_is_stale_and_writes_nothing(
    rt: Runtime, provider_id: UUID, in_service: UUID
) -> None:
    staff = provider_user(provider_id)
    with frozen_at(LOGGED_AT):
        log(rt, staff, in_service, "2026-03-03", "09:00", "10:00")
        before = rt.home_care.recorder.select_events(in_service)
        for stale_version in (5, 7):  # rendered before the visit was logged; from the future
            with pytest.raises(StaleCase) as stale:
                rt.home_care.log_visit(
                    staff, in_service, stale_version, visit_date="2026-03-04", start="09:00",
                    end="10:00", items=["cleaning"], caregiver="王芳", confirmed_by="elder",
                )  # fmt: skip
            assert (stale.value.expected, stale.value.current) == (stale_version, 6)
            with pytest.raises(StaleCase):
                rt.home_care.close_case(CASEWORKER, in_service, stale_version, reason="x")
    assert rt.home_care.recorder.select_events(in_service) == before


def test_write_lost_to_a_concurrent_one_is_stale(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both read version 1; the other save lands first, so ours hits the store's conflict."""
    case_id = apply_care(rt, FAMILY)
    save = rt.home_care.save

    def save_after_someone_else(*aggregates: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(rt.home_care, "save", save)
        rival = rt.home_care.repository.get(case_id)
        rival.return_for_information(actor_id=CASEWORKER.user_id, request="请补充材料")
        save(rival)
        return save(*aggregates, **kwargs)

    monkeypatch.setattr(rt.home_care, "save", save_after_someone_else)
    with pytest.raises(StaleCase) as stale:
        rt.home_care.request_assessment(CASEWORKER, case_id, 1, assessor_id=ASSESSOR.user_id)
    assert (stale.value.expected, stale.value.current) == (1, 2)
    assert [type(e).__name__ for e in case_events(rt, case_id)] == [
        "Applied",
        "ReturnedForInformation",
    ]


def test_the_full_journey_is_readable_at_every_version(
    rt: Runtime, provider_id: UUID, in_service: UUID
) -> None:
    with frozen_at(LOGGED_AT):
        log(rt, provider_user(provider_id), in_service, "2026-03-03", "09:00", "10:00")
        rt.home_care.answer_survey(FAMILY, in_service, 6, scores=SCORES, comment="很满意")
        rt.home_care.record_follow_up(WORKER, in_service, 7, note="上门回访", needs_attention=True)
        rt.home_care.close_case(CASEWORKER, in_service, 8, reason="老人搬去外地")
    history = [rt.home_care.case_history(in_service, as_of_version=v).step for v in range(1, 10)]
    assert history == [
        CareStep.SUBMITTED, CareStep.ASSESSOR_ASSIGNED, CareStep.ASSESSED, CareStep.APPROVED,
        *[CareStep.IN_SERVICE] * 4, CareStep.CLOSED,
    ]  # fmt: skip
    with pytest.raises(NotPermitted):
        rt.home_care.answer_survey(CASEWORKER, in_service, 9, scores=SCORES)


def test_visit_ids_from_forms_may_be_strings(
    rt: Runtime, provider_id: UUID, in_service: UUID
) -> None:
    staff, visit_id = provider_user(provider_id), uuid4()
    with frozen_at(LOGGED_AT):
        assert (
            log(rt, staff, in_service, "2026-03-03", "09:00", "10:00", visit_id=str(visit_id))
            == visit_id
        )
        assert log(rt, staff, in_service, "2026-03-04", "09:00", "10:00", visit_id="") != visit_id
        with pytest.raises(InvalidVisit) as refused:
            log(rt, staff, in_service, "2026-03-05", "09:00", "10:00", visit_id="not-a-visit")
        assert refused.value.field == "visit_id"
        for unknown in ("not-a-visit", "", str(uuid4())):
            with pytest.raises(VisitNotFound):
                rt.home_care.cancel_visit(staff, in_service, 7, visit_id=unknown, reason="重复")
        assert (
            rt.home_care.cancel_visit(staff, in_service, 7, visit_id=str(visit_id), reason="重复")
            == 8
        )
    assert rt.home_care.repository.get(in_service).visits[visit_id]["cancelled"] is True
