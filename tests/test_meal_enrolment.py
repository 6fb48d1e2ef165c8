"""Meal-service enrolments on real databases: applying, every step, who may act, privacy, staleness."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from events.clock import frozen_at
from events.errors import (
    IllegalTransition,
    InvalidApplication,
    InvalidNationalId,
    NotOldEnough,
    ReasonRequired,
)
from events.facility import Kind
from events.meal import CanteenUnavailable, EnrolmentStep, MealEnrolment, TooYoungForCategory
from events.roles import Actor
from portal.runtime import Runtime
from projections.meal_queries import enrolment_detail
from services.errors import CaseNotFound, NotPermitted, StaleCase
from services.meals import MealService
from tests.support.actors import (
    ADMIN,
    ASSESSOR,
    AUDITOR,
    CASEWORKER,
    CASEWORKER_D02,
    FAMILY,
    FINANCE,
    INSPECTOR,
    OTHER_FAMILY,
    PROVIDER,
    SUPERVISOR,
    WORKER,
    WORKER_D02,
    WORKER_SONGHE,
)
from tests.support.meals import apply_meal, meal_read_models, open_canteen, provider_of
from tests.support.scenario import apply, elder, national_id

ELDER_NAME = "司马桂兰"
ELDER_ID = national_id("19410923", "320106", "468")
ELDER_PHONE = "13911112222"
ELDER_ADDRESS = "松鹤路66号1单元502室"
DIETARY_NEEDS = "糖尿病,忌甜食,牙口不好要软饭"


@pytest.fixture
def canteen(rt: Runtime) -> UUID:
    """An open canteen in 安康区."""
    return open_canteen(rt)


def stored_states(rt: Runtime) -> list[bytes]:
    """Every stored event's state, as the recorder hands it back (before decoding)."""
    notifications = rt.meals.recorder.select_notifications(start=1, limit=10_000)
    return [bytes(n.state) for n in notifications]


def events_of(rt: Runtime, case_id: UUID) -> list[Any]:
    """The enrolment's domain events in order."""
    return list(rt.meals.repository.event_store.get(case_id))


def enrolment(rt: Runtime, case_id: UUID) -> MealEnrolment:
    found = rt.meals.repository.get(case_id)
    assert isinstance(found, MealEnrolment)
    return found


# -- applying ---------------------------------------------------------------------------------
def test_application_opens_an_enrolment_with_only_an_opaque_person_id(
    rt: Runtime, canteen: UUID
) -> None:
    profile = elder(name=ELDER_NAME, national_id=ELDER_ID, phone=ELDER_PHONE, address=ELDER_ADDRESS)
    case_id = apply_meal(
        rt, FAMILY, canteen, elder=profile, dietary_needs=DIETARY_NEEDS, mode="delivery"
    )

    found = enrolment(rt, case_id)
    assert (found.step, found.version, found.channel, found.mode) == (
        EnrolmentStep.SUBMITTED,
        1,
        "online",
        "delivery",
    )
    assert (found.canteen_id, found.subsidy_category, found.district) == (canteen, "dibao", "D01")
    assert found.reference.startswith("ZC-") and len(found.reference) == 12
    person = rt.persons.get(found.person_id)
    assert person is not None and (person.name, person.national_id) == (ELDER_NAME, ELDER_ID)
    assert rt.persons.needs(case_id) == DIETARY_NEEDS
    assert events_of(rt, case_id)[0].actor_id == FAMILY.user_id


def test_no_personal_or_health_data_in_the_stored_events_or_read_models(
    rt: Runtime, canteen: UUID
) -> None:
    profile = elder(name=ELDER_NAME, national_id=ELDER_ID, phone=ELDER_PHONE, address=ELDER_ADDRESS)
    case_id = apply_meal(rt, FAMILY, canteen, elder=profile, dietary_needs=DIETARY_NEEDS)
    v = rt.meals.return_for_information(CASEWORKER, case_id, 1, request="请补充低保证明")
    v = rt.meals.supply_information(FAMILY, case_id, v, reply="已上传低保证明")
    v = rt.meals.approve(CASEWORKER, case_id, v)
    rt.meals.record_day(provider_of(canteen), canteen, rt.meals.today(), [str(case_id)], 3)
    rt.catch_up()

    meal_events = [bytes(s.state) for s in rt.meals.recorder.select_events(case_id)]
    everything = stored_states(rt)
    assert len(meal_events) == 4
    values = [ELDER_NAME, ELDER_ID, ELDER_PHONE, ELDER_ADDRESS, DIETARY_NEEDS, ELDER_ID[6:14]]
    forms = [v.encode() for v in values] + [json.dumps(v).strip('"').encode() for v in values]
    for state in everything:
        for personal in forms:
            assert personal not in state
    # The check can fail: the person id is in the log, and the needs are in the person store.
    assert enrolment(rt, case_id).person_id.hex.encode() in meal_events[0]
    assert rt.persons.needs(case_id) == DIETARY_NEEDS

    tables = repr(meal_read_models(rt.engine))
    for value in values:
        assert value not in tables


def test_same_idempotency_key_from_the_same_user_is_one_enrolment(
    rt: Runtime, canteen: UUID
) -> None:
    first = apply_meal(rt, FAMILY, canteen, key="meal-draft-7")
    again = apply_meal(rt, FAMILY, canteen, key="meal-draft-7", mode="delivery")
    other_user = apply_meal(rt, OTHER_FAMILY, canteen, key="meal-draft-7")
    assert first == again != other_user
    assert enrolment(rt, first).mode == "dine_in"  # the repeat changed nothing
    assert len(rt.meals.recorder.select_events(first)) == 1
    assert rt.meals.application_id(FAMILY, "meal-draft-7") == first
    # Not the retrofit programme's id for the same key: the two programmes never collide.
    assert rt.retrofit.application_id(FAMILY, "meal-draft-7") != first


def test_community_worker_applies_only_in_their_own_community(rt: Runtime, canteen: UUID) -> None:
    case_id = apply_meal(rt, WORKER, canteen)
    found = enrolment(rt, case_id)
    assert (found.channel, found.applicant_user_id) == ("proxy", WORKER.user_id)
    with pytest.raises(NotPermitted):
        apply_meal(rt, WORKER_SONGHE, canteen)  # same district, other community
    songhe = apply_meal(rt, WORKER_SONGHE, canteen, community="松鹤社区")
    assert enrolment(rt, songhe).community == "松鹤社区"


@pytest.mark.parametrize(
    "actor", [CASEWORKER, ASSESSOR, INSPECTOR, AUDITOR, PROVIDER, ADMIN, WORKER_D02]
)
def test_only_families_and_community_workers_apply(
    rt: Runtime, canteen: UUID, actor: Actor
) -> None:
    before = stored_states(rt)
    with pytest.raises(NotPermitted):
        apply_meal(rt, actor, canteen)
    assert stored_states(rt) == before


@pytest.mark.parametrize(
    ("overrides", "error", "detail"),
    [
        ({"community": "南湖社区"}, InvalidApplication, "community"),
        ({"relation": "neighbour"}, InvalidApplication, "relation"),
        ({"mode": "takeaway"}, InvalidApplication, "mode"),
        ({"subsidy_category": "rich"}, InvalidApplication, "subsidy_category"),
        ({"dietary_needs": "少" * 1001}, InvalidApplication, "dietary_needs"),
        ({"elder": elder(name="张")}, InvalidApplication, "name"),
        ({"elder": elder(national_id="110105194503071234")}, InvalidNationalId, "check_digit"),
        ({"elder": elder(national_id=national_id("19800101"))}, NotOldEnough, ""),
        (
            {
                "elder": elder(national_id=national_id("19500101")),
                "subsidy_category": "aged_80_plus",
            },
            TooYoungForCategory,
            "subsidy_category",
        ),
    ],
)
def test_invalid_applications_store_nothing(
    rt: Runtime, canteen: UUID, overrides: dict[str, Any], error: type[Exception], detail: str
) -> None:
    before = stored_states(rt)
    with pytest.raises(error) as refused:
        apply_meal(rt, FAMILY, canteen, **overrides)
    assert getattr(refused.value, "detail", "") == detail
    assert stored_states(rt) == before
    if error is TooYoungForCategory:
        assert refused.value.params == {"age": 76, "minimum": 80}


def test_the_80_plus_category_is_for_elders_of_80_and_over(rt: Runtime, canteen: UUID) -> None:
    with frozen_at(datetime(2026, 3, 1, 4, tzinfo=UTC)):
        turned_80_today = national_id("19460301")
        case_id = apply_meal(
            rt, FAMILY, canteen, elder=elder(national_id=turned_80_today),
            subsidy_category="aged_80_plus",
        )  # fmt: skip
        with pytest.raises(TooYoungForCategory):
            apply_meal(
                rt, FAMILY, canteen, elder=elder(national_id=national_id("19460302")),
                subsidy_category="aged_80_plus",
            )  # fmt: skip
    assert enrolment(rt, case_id).subsidy_category == "aged_80_plus"


def test_the_canteen_must_be_an_open_canteen_of_the_elders_district(rt: Runtime) -> None:
    centre = open_canteen(rt, kind=Kind.CARE_CENTRE, name="春晖社区养老服务中心")
    unopened = open_canteen(rt, up_to="fit_out")
    elsewhere = open_canteen(rt, district="D02")
    before = stored_states(rt)
    for canteen_id, detail in (
        (uuid4(), "unknown"),
        (centre, "not_canteen"),
        (unopened, "not_in_operation"),
        (elsewhere, "other_district"),
    ):
        with pytest.raises(CanteenUnavailable) as refused:
            apply_meal(rt, FAMILY, canteen_id)
        assert refused.value.detail == detail
    assert stored_states(rt) == before
    d02 = apply_meal(rt, WORKER_D02, elsewhere, district="D02")
    assert enrolment(rt, d02).canteen_id == elsewhere


def test_a_retrofit_case_id_is_not_a_canteen(rt: Runtime) -> None:
    case_id = apply(rt, FAMILY)
    with pytest.raises(CanteenUnavailable):
        apply_meal(rt, FAMILY, case_id)


# -- every step, legal or not -----------------------------------------------------------------
def reach(rt: Runtime, canteen: UUID, step: str) -> UUID:
    """An enrolment at `step`, by the shortest path."""
    m, case_id = rt.meals, apply_meal(rt, FAMILY, canteen)
    match step:
        case EnrolmentStep.RETURNED:
            m.return_for_information(CASEWORKER, case_id, 1, request="请补充低保证明")
        case EnrolmentStep.APPROVED:
            m.approve(CASEWORKER, case_id, 1)
        case EnrolmentStep.REJECTED:
            m.reject(CASEWORKER, case_id, 1, reason="老人不在本社区居住")
        case EnrolmentStep.WITHDRAWN:
            m.withdraw(FAMILY, case_id, 1, reason="家里人自己做饭了")
        case EnrolmentStep.ENDED:
            m.end_enrolment(CASEWORKER, case_id, m.approve(CASEWORKER, case_id, 1), reason="搬走")
    return case_id


ACTIONS: dict[str, Callable[[MealService, UUID, int], int]] = {
    "approve": lambda m, c, v: m.approve(CASEWORKER, c, v, note="符合低保条件"),
    "reject": lambda m, c, v: m.reject(CASEWORKER, c, v, reason="不符合条件"),
    "return": lambda m, c, v: m.return_for_information(CASEWORKER, c, v, request="补材料"),
    "supply_information": lambda m, c, v: m.supply_information(FAMILY, c, v, reply="已补充"),
    "withdraw": lambda m, c, v: m.withdraw(FAMILY, c, v, reason="不需要了"),
    "end": lambda m, c, v: m.end_enrolment(CASEWORKER, c, v, reason="老人住院"),
}
S = EnrolmentStep
LEGAL: dict[tuple[str, str], str] = {
    (S.SUBMITTED, "approve"): S.APPROVED,
    (S.SUBMITTED, "reject"): S.REJECTED,
    (S.SUBMITTED, "return"): S.RETURNED,
    (S.SUBMITTED, "withdraw"): S.WITHDRAWN,
    (S.RETURNED, "supply_information"): S.SUBMITTED,
    (S.RETURNED, "withdraw"): S.WITHDRAWN,
    (S.APPROVED, "withdraw"): S.WITHDRAWN,
    (S.APPROVED, "end"): S.ENDED,
}


@pytest.mark.parametrize(("step", "action"), list(itertools.product(S.ALL, ACTIONS)))
def test_every_action_at_every_step(rt: Runtime, canteen: UUID, step: str, action: str) -> None:
    case_id = reach(rt, canteen, step)
    before = enrolment(rt, case_id)
    assert before.step == step
    if (step, action) in LEGAL:
        assert ACTIONS[action](rt.meals, case_id, before.version) == before.version + 1
        after = enrolment(rt, case_id)
        assert after.step == LEGAL[step, action]
        actor = FAMILY if action in ("supply_information", "withdraw") else CASEWORKER
        assert events_of(rt, case_id)[-1].actor_id == actor.user_id
    else:
        with pytest.raises(IllegalTransition) as refused:
            ACTIONS[action](rt.meals, case_id, before.version)
        assert refused.value.step == step
        assert enrolment(rt, case_id).version == before.version


def test_enrolment_dates_are_the_citys_calendar_days(rt: Runtime, canteen: UUID) -> None:
    case_id = apply_meal(rt, FAMILY, canteen)
    with frozen_at(datetime(2026, 3, 1, 23, 30, tzinfo=UTC)):  # 07:30 on 2 March in the city
        rt.meals.approve(CASEWORKER, case_id, 1)
    with frozen_at(datetime(2026, 4, 30, 16, 5, tzinfo=UTC)):  # 00:05 on 1 May
        rt.meals.end_enrolment(CASEWORKER, case_id, 2, reason="老人随子女去外地居住")
    found = enrolment(rt, case_id)
    assert (found.enrolled_on, found.left_on) == ("2026-03-02", "2026-05-01")
    assert found.serves(canteen, date(2026, 3, 2)) and found.serves(canteen, date(2026, 5, 1))
    assert not found.serves(canteen, date(2026, 3, 1))
    assert not found.serves(canteen, date(2026, 5, 2))
    assert not found.serves(uuid4(), date(2026, 4, 1))


def test_withdrawing_while_enrolled_ends_the_meals_but_not_before(
    rt: Runtime, canteen: UUID
) -> None:
    before_approval = apply_meal(rt, FAMILY, canteen)
    rt.meals.withdraw(FAMILY, before_approval, 1, reason="不需要了")
    assert enrolment(rt, before_approval).left_on is None
    assert events_of(rt, before_approval)[-1].left_on is None

    enrolled = reach(rt, canteen, S.APPROVED)
    rt.meals.withdraw(WORKER, enrolled, 2, reason="老人住进养老院了")
    found = enrolment(rt, enrolled)
    assert found.left_on == found.enrolled_on == rt.meals.today().isoformat()


@pytest.mark.parametrize(
    ("action", "field"),
    [
        ("reject", "reason"),
        ("return", "request"),
        ("withdraw", "reason"),
        ("end", "reason"),
        ("supply_information", "reply"),
    ],
)
def test_refusals_returns_and_endings_must_say_why(
    rt: Runtime, canteen: UUID, action: str, field: str
) -> None:
    step = {"end": S.APPROVED, "supply_information": S.RETURNED}.get(action, S.SUBMITTED)
    case_id = reach(rt, canteen, step)
    v = enrolment(rt, case_id).version
    blank: dict[str, Callable[[], int]] = {
        "reject": lambda: rt.meals.reject(CASEWORKER, case_id, v, reason="  "),
        "return": lambda: rt.meals.return_for_information(CASEWORKER, case_id, v, request=""),
        "withdraw": lambda: rt.meals.withdraw(FAMILY, case_id, v, reason="\n"),
        "end": lambda: rt.meals.end_enrolment(CASEWORKER, case_id, v, reason=""),
        "supply_information": lambda: rt.meals.supply_information(FAMILY, case_id, v, reply=" "),
    }
    with pytest.raises(ReasonRequired) as refused:
        blank[action]()
    assert refused.value.detail == field
    with pytest.raises(InvalidApplication):
        rt.meals.reject(CASEWORKER, reach(rt, canteen, S.SUBMITTED), 1, reason="长" * 1001)
    assert enrolment(rt, case_id).version == v


# -- who may act ------------------------------------------------------------------------------
def test_who_may_see_an_enrolment(rt: Runtime, canteen: UUID) -> None:
    other_canteen = open_canteen(rt, name="松鹤社区老年食堂")
    case_id = apply_meal(rt, FAMILY, canteen)
    insiders = [FAMILY, WORKER, CASEWORKER, provider_of(canteen), AUDITOR, SUPERVISOR, ADMIN]
    outsiders = [
        OTHER_FAMILY,
        WORKER_SONGHE,
        WORKER_D02,
        CASEWORKER_D02,
        provider_of(other_canteen),
        PROVIDER,  # a provider account with no facility
        ASSESSOR,
        INSPECTOR,
        FINANCE,
    ]
    for actor in insiders:
        assert rt.meals.enrolment_for(actor, case_id).version == 1
    for actor in outsiders:
        with pytest.raises(CaseNotFound):
            rt.meals.enrolment_for(actor, case_id)
        with pytest.raises(CaseNotFound):
            rt.meals.withdraw(actor, case_id, 1, reason="不需要了")
    rt.catch_up()
    assert all(enrolment_detail(rt.engine, a, case_id) is not None for a in insiders)
    assert all(enrolment_detail(rt.engine, a, case_id) is None for a in outsiders)
    with pytest.raises(CaseNotFound):
        rt.meals.enrolment_for(CASEWORKER, uuid4())


@pytest.mark.parametrize(
    "insider", [FAMILY, WORKER, AUDITOR, SUPERVISOR, ADMIN, "provider"], ids=str
)
def test_only_the_districts_caseworker_reviews_and_ends(
    rt: Runtime, canteen: UUID, insider: Actor | str
) -> None:
    actor = provider_of(canteen) if insider == "provider" else insider
    assert isinstance(actor, Actor)
    case_id = apply_meal(rt, FAMILY, canteen)
    for review in (
        lambda: rt.meals.approve(actor, case_id, 1),
        lambda: rt.meals.reject(actor, case_id, 1, reason="不符合"),
        lambda: rt.meals.return_for_information(actor, case_id, 1, request="补材料"),
    ):
        with pytest.raises(NotPermitted):
            review()
    v = rt.meals.approve(CASEWORKER, case_id, 1)
    with pytest.raises(NotPermitted):
        rt.meals.end_enrolment(actor, case_id, v, reason="老人去世")
    assert enrolment(rt, case_id).version == v


def test_staff_and_providers_do_not_answer_for_the_family(rt: Runtime, canteen: UUID) -> None:
    case_id = reach(rt, canteen, S.RETURNED)
    for actor in (CASEWORKER, provider_of(canteen), AUDITOR):
        with pytest.raises(NotPermitted):
            rt.meals.supply_information(actor, case_id, 2, reply="已补充")
    with pytest.raises(NotPermitted):
        rt.meals.withdraw(provider_of(canteen), case_id, 2, reason="不来吃了")
    assert rt.meals.supply_information(WORKER, case_id, 2, reply="已补充低保证明") == 3
    assert rt.meals.withdraw(CASEWORKER, case_id, 3, reason="家属电话申请撤回") == 4
    assert [e.actor_id for e in events_of(rt, case_id)] == [
        FAMILY.user_id,
        CASEWORKER.user_id,
        WORKER.user_id,
        CASEWORKER.user_id,
    ]


def test_d02_enrolments_are_reviewed_only_by_d02(rt: Runtime) -> None:
    canteen = open_canteen(rt, district="D02")
    case_id = apply_meal(rt, FAMILY, canteen, district="D02")
    with pytest.raises(CaseNotFound):
        rt.meals.approve(CASEWORKER, case_id, 1)
    assert rt.meals.approve(CASEWORKER_D02, case_id, 1) == 2


# -- staleness --------------------------------------------------------------------------------
@pytest.mark.parametrize("action", ["approve", "reject", "return", "withdraw"])
def test_an_old_version_is_stale_and_writes_nothing(
    rt: Runtime, canteen: UUID, action: str
) -> None:
    case_id = reach(rt, canteen, S.RETURNED)
    v = rt.meals.supply_information(FAMILY, case_id, 2, reply="已补充")
    before = rt.meals.recorder.select_events(case_id)
    for stale_version in (1, 4):
        with pytest.raises(StaleCase) as stale:
            ACTIONS[action](rt.meals, case_id, stale_version)
        assert (stale.value.expected, stale.value.current) == (stale_version, 3)
    assert rt.meals.recorder.select_events(case_id) == before
    assert ACTIONS[action](rt.meals, case_id, v) == 4


def test_write_lost_to_a_concurrent_one_is_stale(
    rt: Runtime, canteen: UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both read version 1; the other save lands first, so ours hits the store's conflict."""
    case_id = apply_meal(rt, FAMILY, canteen)
    save = rt.meals.save

    def save_after_someone_else(*aggregates: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(rt.meals, "save", save)
        rival = rt.meals.repository.get(case_id)
        rival.reject(actor_id="caseworker-other", reason="另一位审核员先处理了")
        save(rival)
        return save(*aggregates, **kwargs)

    monkeypatch.setattr(rt.meals, "save", save_after_someone_else)
    with pytest.raises(StaleCase) as stale:
        rt.meals.approve(CASEWORKER, case_id, 1)
    assert (stale.value.expected, stale.value.current) == (1, 2)
    assert [type(e).__name__ for e in events_of(rt, case_id)] == ["Applied", "EnrolmentRejected"]
