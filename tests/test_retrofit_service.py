"""The retrofit service on real databases: applying, privacy of the log, who may act, staleness."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select

from events.errors import IllegalTransition, InvalidApplication, InvalidAssessment, NotOldEnough
from events.retrofit import RetrofitCase, Step
from events.roles import Actor
from portal.runtime import Runtime
from projections.retrofit_queries import case_detail
from projections.tables import retrofit_cases
from services.errors import CaseNotFound, NotPermitted, StaleCase
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
    OTHER_INSPECTOR,
    PROVIDER,
    SUPERVISOR,
    WORKER,
    WORKER_D02,
    WORKER_SONGHE,
    read_models,
    walk,
)
from tests.support.scenario import ASSESSED_LINES, apply, elder, national_id, version

ELDER_NAME = "欧阳秀英"
ELDER_ID = national_id("19440615", "320106", "357")
ELDER_PHONE = "13987654321"
ELDER_ADDRESS = "颐和路88号2单元1101室"
NEEDS = "卫生间没有扶手,夜里起身容易摔倒"


def personal_forms() -> list[bytes]:
    """The elder's personal data as it could appear in stored bytes (UTF-8 or JSON-escaped)."""
    values = [ELDER_NAME, ELDER_ID, ELDER_PHONE, ELDER_ADDRESS, NEEDS, ELDER_ID[6:14]]
    forms = [v.encode() for v in values]
    forms += [json.dumps(v).strip('"').encode() for v in values]
    return forms


def apply_for_the_elder(rt: Runtime, actor: Actor = FAMILY, **overrides: Any) -> UUID:
    """An application carrying recognisable personal data."""
    profile = elder(name=ELDER_NAME, national_id=ELDER_ID, phone=ELDER_PHONE, address=ELDER_ADDRESS)
    return apply(rt, actor, elder=profile, needs=NEEDS, **overrides)


def stored_states(rt: Runtime) -> list[bytes]:
    """Every stored event's state, as the recorder hands it back (before decoding)."""
    notifications = rt.retrofit.recorder.select_notifications(start=1, limit=10_000)
    return [bytes(n.state) for n in notifications]


def events_of(rt: Runtime, case_id: UUID) -> list[Any]:
    """The case's domain events in order."""
    return list(rt.retrofit.repository.event_store.get(case_id))


def test_application_opens_a_case_with_only_an_opaque_person_id(rt: Runtime) -> None:
    case_id = apply_for_the_elder(rt)
    assert isinstance(case_id, UUID)

    case = rt.retrofit.repository.get(case_id)
    assert isinstance(case, RetrofitCase)
    assert (case.step, case.version, case.channel) == (Step.SUBMITTED, 1, "online")
    assert case.reference.startswith("SL-")
    person = rt.persons.get(case.person_id)
    assert person is not None
    assert (person.name, person.national_id, person.phone) == (ELDER_NAME, ELDER_ID, ELDER_PHONE)
    assert rt.persons.needs(case_id) == NEEDS

    state = repr(vars(case))
    for value in (ELDER_NAME, ELDER_ID, ELDER_PHONE, ELDER_ADDRESS, NEEDS, ELDER_ID[6:14]):
        assert value not in state
        assert value not in str(case_id)


def test_no_personal_data_in_the_stored_events_or_read_models(rt: Runtime) -> None:
    case_id = apply_for_the_elder(rt)
    walk(rt, Step.SURVEYED, case_id=case_id)
    rt.catch_up()

    by_case = [bytes(s.state) for s in rt.retrofit.recorder.select_events(case_id)]
    everything = stored_states(rt)
    assert len(by_case) == len(everything) == 9
    for state in everything:
        for personal in personal_forms():
            assert personal not in state
    # The check can fail: the person id is in the log, and the name is in the person store.
    person_id = rt.retrofit.repository.get(case_id).person_id
    assert person_id.hex.encode() in everything[0]

    tables = repr(read_models(rt.engine))
    for value in (ELDER_NAME, ELDER_ID, ELDER_PHONE, ELDER_ADDRESS, NEEDS):
        assert value not in tables


def test_two_applications_for_the_same_elder_are_two_cases_of_one_person(rt: Runtime) -> None:
    first = apply_for_the_elder(rt)
    second = apply_for_the_elder(rt)
    by_someone_else = apply_for_the_elder(rt, OTHER_FAMILY)
    assert len({first, second, by_someone_else}) == 3
    people = {rt.retrofit.repository.get(c).person_id for c in (first, second, by_someone_else)}
    assert len(people) == 1
    references = {rt.retrofit.repository.get(c).reference for c in (first, second)}
    assert len(references) == 2


def test_same_idempotency_key_from_the_same_user_is_one_case(rt: Runtime) -> None:
    first = apply_for_the_elder(rt, key="draft-42")
    again = apply_for_the_elder(rt, key="draft-42")
    other_user = apply_for_the_elder(rt, OTHER_FAMILY, key="draft-42")
    assert first == again
    assert other_user != first
    assert len(rt.retrofit.recorder.select_events(first)) == 1
    assert len(stored_states(rt)) == 2
    rt.catch_up()
    with rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(retrofit_cases)).scalar() == 2


def test_community_worker_applies_only_in_their_own_community(rt: Runtime) -> None:
    case_id = apply_for_the_elder(rt, WORKER)
    case = rt.retrofit.repository.get(case_id)
    assert (case.channel, case.applicant_user_id) == ("proxy", WORKER.user_id)

    with pytest.raises(NotPermitted):
        apply_for_the_elder(rt, WORKER_SONGHE)  # same district, other community
    with pytest.raises(NotPermitted):
        apply_for_the_elder(rt, WORKER_D02)
    songhe = apply_for_the_elder(rt, WORKER_SONGHE, community="松鹤社区")
    assert rt.retrofit.repository.get(songhe).channel == "proxy"
    assert len(stored_states(rt)) == 2


@pytest.mark.parametrize("actor", [CASEWORKER, ASSESSOR, INSPECTOR, AUDITOR, PROVIDER, ADMIN])
def test_only_families_and_community_workers_apply(rt: Runtime, actor: Actor) -> None:
    with pytest.raises(NotPermitted):
        apply_for_the_elder(rt, actor)
    assert stored_states(rt) == []


@pytest.mark.parametrize(
    ("overrides", "error", "detail"),
    [
        ({"community": "南湖社区"}, InvalidApplication, "community"),
        ({"street": "东城街道"}, InvalidApplication, "community"),
        ({"relation": "neighbour"}, InvalidApplication, "relation"),
        ({"needs": "多" * 2001}, InvalidApplication, "needs"),
        ({"elder": elder(name="张")}, InvalidApplication, "name"),
        ({"elder": elder(phone="12345")}, InvalidApplication, "phone"),
        ({"elder": elder(household_category="rich")}, InvalidApplication, "household_category"),
        ({"elder": elder(national_id=national_id("19800101"))}, NotOldEnough, ""),
    ],
)
def test_invalid_applications_store_nothing(
    rt: Runtime, overrides: dict[str, Any], error: type[Exception], detail: str
) -> None:
    with pytest.raises(error) as refused:
        apply(rt, FAMILY, **overrides)
    assert getattr(refused.value, "detail", "") == detail
    assert stored_states(rt) == []


def approve(rt: Runtime, actor: Actor, case_id: UUID) -> int:
    return rt.retrofit.approve(actor, case_id, 1, assessor_id=ASSESSOR.user_id)


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
)
def test_cases_out_of_scope_are_not_found(rt: Runtime, outsider: Actor) -> None:
    case_id = apply(rt, FAMILY)
    with pytest.raises(CaseNotFound):
        rt.retrofit.case_for(outsider, case_id)
    with pytest.raises(CaseNotFound):
        approve(rt, outsider, case_id)
    with pytest.raises(CaseNotFound):
        rt.retrofit.withdraw(outsider, case_id, 1, reason="不需要了")
    assert rt.retrofit.repository.get(case_id).version == 1
    rt.catch_up()
    assert case_detail(rt.engine, outsider, case_id) is None


def test_unknown_case_is_not_found(rt: Runtime) -> None:
    with pytest.raises(CaseNotFound):
        approve(rt, CASEWORKER, UUID(int=7))


@pytest.mark.parametrize(
    "insider", [FAMILY, WORKER, AUDITOR, SUPERVISOR, ADMIN], ids=lambda a: a.role
)
def test_who_may_see_a_case_but_not_review_it(rt: Runtime, insider: Actor) -> None:
    case_id = apply(rt, FAMILY)
    assert rt.retrofit.case_for(insider, case_id).version == 1
    with pytest.raises(NotPermitted):
        approve(rt, insider, case_id)
    with pytest.raises(NotPermitted):
        rt.retrofit.reject(insider, case_id, 1, reason="不符合")
    assert rt.retrofit.repository.get(case_id).version == 1


def test_caseworker_of_the_district_reviews(rt: Runtime) -> None:
    case_id = apply(rt, FAMILY)
    assert approve(rt, CASEWORKER, case_id) == 2
    case = rt.retrofit.repository.get(case_id)
    assert (case.step, case.assessor_id) == (Step.APPROVED, ASSESSOR.user_id)
    assert events_of(rt, case_id)[-1].actor_id == CASEWORKER.user_id


def test_only_the_assigned_assessor_assesses(rt: Runtime) -> None:
    case_id = walk(rt, Step.APPROVED)
    with pytest.raises(CaseNotFound):
        rt.retrofit.assess(OTHER_ASSESSOR, case_id, 2, lines=ASSESSED_LINES)
    with pytest.raises(NotPermitted):
        rt.retrofit.assess(CASEWORKER, case_id, 2, lines=ASSESSED_LINES)
    with pytest.raises(InvalidAssessment):
        rt.retrofit.assess(ASSESSOR, case_id, 2, lines=ASSESSED_LINES, checklist_version="X-1999")
    assert rt.retrofit.assess(ASSESSOR, case_id, 2, lines=ASSESSED_LINES) == 3
    assessed = events_of(rt, case_id)[-1]
    assert (assessed.subsidy_cap, assessed.checklist_version) == (
        rt.settings.subsidy_cap,
        "MCA-2020",
    )


def test_only_the_assigned_inspector_inspects(rt: Runtime) -> None:
    case_id = walk(rt, Step.WORKS_STARTED)
    v = version(rt, CASEWORKER, case_id)
    photos = [{"sha256": "b" * 64, "media_type": "image/png"}]
    with pytest.raises(CaseNotFound):
        rt.retrofit.log_site_inspection(
            OTHER_INSPECTOR, case_id, v, findings="ok", follow_up_required=False, photos=photos
        )
    with pytest.raises(NotPermitted):
        rt.retrofit.log_site_inspection(
            CASEWORKER, case_id, v, findings="ok", follow_up_required=False, photos=photos
        )
    v = rt.retrofit.log_site_inspection(
        INSPECTOR, case_id, v, findings="施工规范", follow_up_required=False, photos=photos
    )
    v = rt.retrofit.complete_works(INSPECTOR, case_id, v)
    results = [
        {"code": line["code"], "installed": True, "works": True, "safe": True}
        for line in ASSESSED_LINES
    ]
    with pytest.raises(NotPermitted):
        rt.retrofit.inspect_acceptance(CASEWORKER, case_id, v, results=results, photos=photos)
    rt.retrofit.inspect_acceptance(INSPECTOR, case_id, v, results=results, photos=photos)
    assert rt.retrofit.repository.get(case_id).step == Step.ACCEPTED


def test_family_confirms_the_plan_and_answers_the_survey_but_not_staff_steps(rt: Runtime) -> None:
    case_id = walk(rt, Step.ASSESSED)
    with pytest.raises(NotPermitted):
        rt.retrofit.confirm_plan(CASEWORKER, case_id, 3)
    with pytest.raises(CaseNotFound):
        rt.retrofit.confirm_plan(OTHER_FAMILY, case_id, 3)
    assert rt.retrofit.confirm_plan(FAMILY, case_id, 3) == 4
    with pytest.raises(NotPermitted):
        rt.retrofit.assign_contractor(FAMILY, case_id, 4, contractor="自己找", inspector_id="x")
    with pytest.raises(NotPermitted):
        rt.retrofit.start_works(FAMILY, case_id, 4)


def test_community_worker_acts_for_the_family_in_their_community(rt: Runtime) -> None:
    case_id = apply(rt, FAMILY)
    v = rt.retrofit.return_for_information(CASEWORKER, case_id, 1, request="请补充低保证明")
    with pytest.raises(CaseNotFound):
        rt.retrofit.supply_information(WORKER_SONGHE, case_id, v, reply="已补充")
    v = rt.retrofit.supply_information(WORKER, case_id, v, reply="已补充低保证明复印件")
    v = rt.retrofit.withdraw(WORKER, case_id, v, reason="老人住院,暂不改造")
    case = rt.retrofit.repository.get(case_id)
    assert (case.step, case.version) == (Step.WITHDRAWN, v)
    assert [e.actor_id for e in events_of(rt, case_id)] == [
        FAMILY.user_id,
        CASEWORKER.user_id,
        WORKER.user_id,
        WORKER.user_id,
    ]


def test_illegal_step_through_the_service_writes_nothing(rt: Runtime) -> None:
    case_id = apply(rt, FAMILY)
    with pytest.raises(IllegalTransition):
        rt.retrofit.start_works(CASEWORKER, case_id, 1)
    assert len(rt.retrofit.recorder.select_events(case_id)) == 1


ACTIONS_ON_SUBMITTED: dict[str, Callable[[Runtime, UUID, int], int]] = {
    "approve": lambda rt, c, v: rt.retrofit.approve(CASEWORKER, c, v, assessor_id=ASSESSOR.user_id),
    "reject": lambda rt, c, v: rt.retrofit.reject(CASEWORKER, c, v, reason="不符合条件"),
    "return": lambda rt, c, v: rt.retrofit.return_for_information(
        CASEWORKER, c, v, request="补材料"
    ),
    "withdraw": lambda rt, c, v: rt.retrofit.withdraw(FAMILY, c, v, reason="不需要了"),
}


@pytest.mark.parametrize("action", list(ACTIONS_ON_SUBMITTED))
def test_an_old_version_is_stale_and_writes_nothing(rt: Runtime, action: str) -> None:
    case_id = apply(rt, FAMILY)
    v = rt.retrofit.return_for_information(CASEWORKER, case_id, 1, request="请补充材料")
    v = rt.retrofit.supply_information(FAMILY, case_id, v, reply="已补充")
    assert v == 3
    before = rt.retrofit.recorder.select_events(case_id)

    with pytest.raises(StaleCase) as stale:
        ACTIONS_ON_SUBMITTED[action](rt, case_id, 1)  # a form rendered before the return
    assert (stale.value.expected, stale.value.current, stale.value.case_id) == (1, 3, case_id)
    with pytest.raises(StaleCase):
        ACTIONS_ON_SUBMITTED[action](rt, case_id, 4)  # a version from the future is stale too
    assert rt.retrofit.recorder.select_events(case_id) == before
    assert rt.retrofit.repository.get(case_id).step == Step.SUBMITTED

    assert ACTIONS_ON_SUBMITTED[action](rt, case_id, 3) == 4


def test_write_lost_to_a_concurrent_one_is_stale(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both read version 1; the other save lands first, so ours hits the store's conflict."""
    case_id = apply(rt, FAMILY)
    save = rt.retrofit.save

    def save_after_someone_else(*aggregates: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(rt.retrofit, "save", save)
        rival = rt.retrofit.repository.get(case_id)
        rival.reject(actor_id=CASEWORKER_D02.user_id, reason="另一位审核员先处理了")
        save(rival)
        return save(*aggregates, **kwargs)

    monkeypatch.setattr(rt.retrofit, "save", save_after_someone_else)
    with pytest.raises(StaleCase) as stale:
        approve(rt, CASEWORKER, case_id)
    assert (stale.value.expected, stale.value.current) == (1, 2)
    stored = events_of(rt, case_id)
    assert [type(e).__name__ for e in stored] == ["Applied", "EligibilityRejected"]
    assert rt.retrofit.repository.get(case_id).step == Step.REJECTED


def test_the_full_journey_through_the_service_is_readable_at_every_version(rt: Runtime) -> None:
    case_id = walk(rt, Step.CLOSED)
    final = rt.retrofit.repository.get(case_id)
    assert (final.step, final.version) == (Step.CLOSED, 10)
    history = [rt.retrofit.case_history(case_id, as_of_version=v).step for v in range(1, 11)]
    assert history == [
        Step.SUBMITTED,
        Step.APPROVED,
        Step.ASSESSED,
        Step.PLAN_CONFIRMED,
        Step.CONTRACTOR_ASSIGNED,
        Step.WORKS_STARTED,
        Step.WORKS_COMPLETED,
        Step.ACCEPTED,
        Step.SURVEYED,
        Step.CLOSED,
    ]


def test_every_programme_writes_to_the_one_city_wide_log(rt: Runtime) -> None:
    services = (rt.retrofit, rt.facilities, rt.meals, rt.home_care)
    assert {type(s).name for s in services} == {"Anlao"}
