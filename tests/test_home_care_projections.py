"""Home care read models: live equals rebuilt, exactly once, and the hours, visit log and
satisfaction they answer, checked against a scenario computed by hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from events.clock import frozen_at
from events.home_care import CareStep, may_see_home_care
from events.retrofit import SURVEY_QUESTIONS
from events.roles import Actor, Role
from portal.runtime import Runtime
from projections import runner
from projections.home_care import PROJECTIONS
from projections.home_care_cases import home_care_cases
from projections.home_care_delivery import home_care_case_scope, home_care_surveys, home_care_visits
from projections.home_care_queries import (
    CareHours,
    care_case_detail,
    care_timeline,
    case_visits,
    count_by_step,
    hours_per_case,
    hours_per_district,
    hours_per_provider,
    list_care_cases,
    provider_case,
    satisfaction,
    visit_log,
)
from projections.home_care_timeline import home_care_timeline
from projections.runner import Projector
from projections.tables import positions
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
    current,
    log,
    provider_user,
    register_provider,
    walk_care,
)

TABLES = (
    home_care_cases,
    home_care_timeline,
    home_care_case_scope,
    home_care_visits,
    home_care_surveys,
)
NAMES = ("home_care_cases", "home_care_timeline", "home_care_delivery")
D02_ASSESSOR = Actor("assessor-d02", Role.ASSESSOR, "D02")
MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 30)}


def read_models(rt: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    return {t.name: table_rows(rt.engine, t) for t in TABLES}


def rebuilt(rt: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    rt.projector.rebuild()
    return read_models(rt)


def head(rt: Runtime) -> int:
    return rt.home_care.recorder.max_notification_id() or 0


def scores(overall: int) -> dict[str, int]:
    return dict.fromkeys(SURVEY_QUESTIONS, 4) | {"overall": overall}


@dataclass
class Scenario:
    """Three cases, two providers, visits with a correction and cancellations (see below)."""

    p1: UUID
    p2: UUID
    a: UUID
    b: UUID
    c: UUID
    visits: dict[str, UUID]


def hours_scenario(rt: Runtime) -> Scenario:
    """Cases A, B (D01, provider P1) and C (D02, provider P2), assigned on 2 March.

    A: 3/3 09:00-10:30 (90); 3/4 09:00-11:00 corrected to 09:00-10:00 (60); 3/10 14:00-16:00
       cancelled; 3/12 08:00-09:15 (75).
    B: 3/3 13:00-14:00 (60); 3/31 10:00-12:00 (120); 3/20 15:00-16:00 corrected to
       3/21 15:00-17:00 (120).
    C: 3/5 09:00-12:00 (180); 3/6 09:00-09:45 (45); 3/6 10:00-10:30 cancelled.
    Surveys (overall): A 5, then after a new visit A 2; B 3; C 4.
    """
    p1 = register_provider(rt, name="康乐居家养老服务中心")
    p2 = register_provider(rt, district="D02", name="颐和上门护理服务公司")
    with frozen_at(ASSIGNED_AT):
        a = walk_care(rt, CareStep.IN_SERVICE, provider_id=p1)
        b = walk_care(rt, CareStep.IN_SERVICE, provider_id=p1, family=OTHER_FAMILY)
        c_applied = apply_care(
            rt, OTHER_FAMILY, district="D02", street="南湖街道", community="南湖社区"
        )
        c = walk_care(rt, CareStep.IN_SERVICE, provider_id=p2, case_id=c_applied,
                      caseworker=CASEWORKER_D02, assessor=D02_ASSESSOR)  # fmt: skip
    one, two = provider_user(p1, "p1-staff"), provider_user(p2, "p2-staff")
    hc, v = rt.home_care, {}
    with frozen_at(LOGGED_AT):
        v["a1"] = log(rt, one, a, "2026-03-03", "09:00", "10:30", items=["cleaning", "check_in"])
        v["a2"] = log(rt, one, a, "2026-03-04", "09:00", "11:00", items=["bathing"])
        hc.correct_visit(one, a, current(rt, a), visit_id=v["a2"], visit_date="2026-03-04",
                         start="09:00", end="10:00", items=["bathing"], caregiver="护理员王芳",
                         confirmed_by="family", reason="实际服务一小时")  # fmt: skip
        v["a3"] = log(rt, one, a, "2026-03-10", "14:00", "16:00", items=["medical_escort"])
        hc.cancel_visit(one, a, current(rt, a), visit_id=v["a3"], reason="老人当天住院,未上门")
        hc.answer_survey(FAMILY, a, current(rt, a), scores=scores(5))
        v["a4"] = log(rt, one, a, "2026-03-12", "08:00", "09:15", items=["rehabilitation"])
        hc.answer_survey(FAMILY, a, current(rt, a), scores=scores(2))
        v["b1"] = log(rt, one, b, "2026-03-03", "13:00", "14:00", confirmed_by="family")
        v["b2"] = log(rt, one, b, "2026-03-31", "10:00", "12:00", items=["mobility"])
        v["b3"] = log(rt, one, b, "2026-03-20", "15:00", "16:00")
        hc.correct_visit(one, b, current(rt, b), visit_id=v["b3"], visit_date="2026-03-21",
                         start="15:00", end="17:00", items=["cleaning"], caregiver="护理员李娟",
                         confirmed_by="elder", reason="日期登记错了")  # fmt: skip
        hc.answer_survey(OTHER_FAMILY, b, current(rt, b), scores=scores(3))
        v["c1"] = log(rt, two, c, "2026-03-05", "09:00", "12:00", items=["bathing", "cleaning"])
        v["c2"] = log(rt, two, c, "2026-03-06", "09:00", "09:45")
        v["c3"] = log(rt, two, c, "2026-03-06", "10:00", "10:30")
        hc.cancel_visit(two, c, current(rt, c), visit_id=v["c3"], reason="登记重复")
        hc.answer_survey(OTHER_FAMILY, c, current(rt, c), scores=scores(4))
    return Scenario(p1, p2, a, b, c, v)


def every_step(rt: Runtime, provider_id: UUID) -> list[UUID]:
    """Two cases at every step, by two families, plus a re-sent assessor and a re-assessment."""
    hc, made = rt.home_care, []
    with frozen_at(ASSIGNED_AT):
        for family in (FAMILY, OTHER_FAMILY):
            for step in (CareStep.SUBMITTED, CareStep.ASSESSOR_ASSIGNED, CareStep.ASSESSED,
                         CareStep.APPROVED, CareStep.IN_SERVICE):  # fmt: skip
                made.append(walk_care(rt, step, provider_id=provider_id, family=family))
            returned = apply_care(rt, family)
            hc.return_for_information(CASEWORKER, returned, 1, request="请补充病历")
            rejected = walk_care(rt, CareStep.ASSESSED, family=family)
            hc.reject(CASEWORKER, rejected, 3, reason="评估为能够自理")
            withdrawn = walk_care(rt, CareStep.APPROVED, family=family)
            hc.withdraw(family, withdrawn, 4, reason="家里请了保姆")
            closed = walk_care(rt, CareStep.IN_SERVICE, provider_id=provider_id, family=family)
            hc.close_case(CASEWORKER, closed, 5, reason="老人入住养老院")
            made += [returned, rejected, withdrawn, closed]
        resent = walk_care(rt, CareStep.ASSESSOR_ASSIGNED)
        hc.request_assessment(CASEWORKER, resent, 2, assessor_id=OTHER_ASSESSOR.user_id)
        supplied = apply_care(rt, WORKER)
        v = hc.return_for_information(CASEWORKER, supplied, 1, request="请补充病历")
        hc.supply_information(WORKER, supplied, v, reply="已补充")
        reassessed = walk_care(rt, CareStep.ASSESSED)
        hc.assess_care_level(ASSESSOR, reassessed, 3, level="severe", monthly_hours=90, note="复评")
    with frozen_at(LOGGED_AT):
        hc.record_follow_up(
            WORKER, made[4], current(rt, made[4]), note="回访", needs_attention=False
        )
    return [*made, resent, supplied, reassessed]


# -- rebuildable, exactly once ----------------------------------------------------------------
def test_live_projection_equals_a_rebuild(rt: Runtime) -> None:
    scenario = hours_scenario(rt)
    rt.catch_up()  # part of the history projected live, the rest later: as the portal does
    cases = every_step(rt, scenario.p1)
    rt.catch_up()
    live = read_models(rt)
    assert len(live["rm_home_care_cases"]) == len(cases) + 3
    assert len(live["rm_home_care_visits"]) == len(scenario.visits)
    assert len(live["rm_home_care_surveys"]) == 4
    case_events = head(rt) - 2  # the log also holds the two providers' registrations
    assert len(live["rm_home_care_timeline"]) == case_events

    mine = Projector(rt.engine, rt.home_care, PROJECTIONS)  # other areas' models left alone
    assert mine.rebuild() == 2 * case_events + (
        len(live["rm_home_care_cases"]) + len(scenario.visits) + 4 + 4  # applied, logged,
    )  # corrected twice and cancelled twice (4), surveyed (4): what the delivery model reads
    assert read_models(rt) == live
    assert {n: rt.projector.position(n) for n in NAMES} == dict.fromkeys(NAMES, head(rt))


def test_live_in_small_batches_equals_a_rebuild(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BATCH_SIZE", 3)  # visits, corrections and surveys cut apart
    hours_scenario(rt)
    rt.catch_up()
    live = read_models(rt)
    monkeypatch.setattr(runner, "BATCH_SIZE", 1000)
    assert rebuilt(rt) == live  # one batch folds the same history into the same rows


def test_catch_up_applies_each_event_once(rt: Runtime) -> None:
    hours_scenario(rt)
    assert rt.projector.catch_up() > 0
    before = read_models(rt)
    assert rt.projector.catch_up() == 0
    assert read_models(rt) == before
    with rt.engine.begin() as conn:  # positions lost, rows kept: replaying must not double them
        conn.execute(positions.update().where(positions.c.name.in_(NAMES)).values(position=0))
    for projection in PROJECTIONS:  # each model on its own: every one refuses the replay
        with pytest.raises(IntegrityError):
            Projector(rt.engine, rt.home_care, [projection]).catch_up()
    assert read_models(rt) == before


def test_projected_rows_match_the_aggregates(rt: Runtime) -> None:
    provider_id = register_provider(rt)
    cases = every_step(rt, provider_id)
    rt.catch_up()
    with rt.engine.connect() as conn:
        rows = {r.case_id: r for r in conn.execute(select(home_care_cases))}
    steps: dict[str, int] = {}
    for case_id in cases:
        case, row = rt.home_care.repository.get(case_id), rows[case_id]
        assert (row.step, row.version, row.assessor_id, row.provider_id) == (
            case.step, case.version, case.assessor_id, case.provider_id,
        )  # fmt: skip
        assert (row.care_level, row.monthly_hours, row.reference, row.person_id) == (
            case.care_level, case.monthly_hours, case.reference, case.person_id,
        )  # fmt: skip
        steps[case.step] = steps.get(case.step, 0) + 1
        assert [e.version for e in care_timeline(rt.engine, case_id)] == list(
            range(1, case.version + 1)
        )
    assert set(steps) == set(CareStep.ALL)
    assert count_by_step(rt.engine, AUDITOR) == steps


# -- hours, visit log, satisfaction -----------------------------------------------------------
def test_hours_per_elder_provider_and_district_match_the_hand_computed_scenario(
    rt: Runtime,
) -> None:
    s = hours_scenario(rt)
    rt.catch_up()
    assert hours_per_case(rt.engine, **MARCH) == {
        s.a: CareHours(3, 225), s.b: CareHours(2, 180), s.c: CareHours(2, 225),
    }  # fmt: skip
    assert hours_per_provider(rt.engine, **MARCH) == {
        s.p1: CareHours(5, 405),
        s.p2: CareHours(2, 225),
    }
    assert hours_per_district(rt.engine, **MARCH) == {
        "D01": CareHours(5, 405),
        "D02": CareHours(2, 225),
    }
    assert hours_per_case(rt.engine, **MARCH)[s.a].hours == Decimal("3.75")
    assert hours_per_provider(rt.engine, **MARCH)[s.p1].hours == Decimal("6.75")

    whole_month = {"start": date(2026, 3, 1), "end": date(2026, 3, 31)}
    assert hours_per_case(rt.engine, **whole_month)[s.b] == CareHours(3, 300)
    assert hours_per_district(rt.engine, **whole_month)["D01"] == CareHours(6, 525)
    one_day = {"start": date(2026, 3, 4), "end": date(2026, 3, 4)}
    assert hours_per_case(rt.engine, **one_day) == {s.a: CareHours(1, 60)}  # the corrected hour
    moved = {"start": date(2026, 3, 20), "end": date(2026, 3, 20)}
    assert hours_per_provider(rt.engine, **moved) == {}  # B's visit was corrected to the 21st
    assert hours_per_provider(rt.engine, start=date(2026, 4, 1), end=date(2026, 4, 30)) == {}
    # A page asks for one case, or one provider's cases, and gets just those.
    assert hours_per_case(rt.engine, **MARCH, case_id=s.b) == {s.b: CareHours(2, 180)}
    assert hours_per_case(rt.engine, **MARCH, provider_id=s.p2) == {s.c: CareHours(2, 225)}


def test_the_visit_rows_show_corrections_and_cancellations(rt: Runtime) -> None:
    s = hours_scenario(rt)
    rt.catch_up()
    visits = {v.visit_id: v for v in case_visits(rt.engine, s.a)}
    assert list(visits) == [s.visits[k] for k in ("a1", "a2", "a3", "a4")]
    a2, a3 = visits[s.visits["a2"]], visits[s.visits["a3"]]
    assert (a2.start, a2.end, a2.minutes, a2.confirmed_by, a2.corrections) == (
        "09:00", "10:00", 60, "family", 1,
    )  # fmt: skip
    assert (a3.cancelled, a3.cancel_reason, a3.minutes) == (True, "老人当天住院,未上门", 120)
    b3 = next(v for v in case_visits(rt.engine, s.b) if v.visit_id == s.visits["b3"])
    assert (b3.visit_date, b3.caregiver, b3.minutes) == (date(2026, 3, 21), "护理员李娟", 120)
    assert visits[s.visits["a1"]].items == ("cleaning", "check_in")


def test_a_providers_visit_log_shows_its_own_visits_of_the_day(rt: Runtime) -> None:
    s = hours_scenario(rt)
    rt.catch_up()
    one, two = provider_user(s.p1, "p1-staff"), provider_user(s.p2, "p2-staff")
    day = date(2026, 3, 3)
    assert [(v.visit_id, v.start) for v in visit_log(rt.engine, one, day)] == [
        (s.visits["a1"], "09:00"),
        (s.visits["b1"], "13:00"),
    ]
    assert visit_log(rt.engine, two, day) == ()
    cancelled = visit_log(rt.engine, one, date(2026, 3, 10))
    assert [(v.visit_id, v.cancelled) for v in cancelled] == [(s.visits["a3"], True)]
    assert [v.cancelled for v in visit_log(rt.engine, two, date(2026, 3, 6))] == [False, True]
    for not_a_provider in (CASEWORKER, AUDITOR, Actor("p-none", Role.PROVIDER)):
        assert visit_log(rt.engine, not_a_provider, day) == ()


def test_satisfaction_is_the_share_of_surveys_rating_four_or_five(rt: Runtime) -> None:
    s = hours_scenario(rt)
    rt.catch_up()
    overall = satisfaction(rt.engine)
    assert (overall.surveys, overall.satisfied, overall.rate) == (4, 2, Decimal("0.5"))
    assert satisfaction(rt.engine, district="D01").rate == Decimal("0.3333")
    assert satisfaction(rt.engine, district="D02").rate == Decimal("1")
    assert satisfaction(rt.engine, provider_id=s.p1).surveys == 3
    assert satisfaction(rt.engine, start=date(2026, 3, 31), end=date(2026, 3, 31)).surveys == 4
    assert satisfaction(rt.engine, end=date(2026, 3, 30)).rate is None
    detail = care_case_detail(rt.engine, FAMILY, s.a)
    assert detail is not None and (detail.surveys, detail.last_survey_overall) == (2, 2)


# -- lists, detail and timeline ----------------------------------------------------------------
NOW = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def listed(rt: Runtime, actor: Actor, **filters: Any) -> set[UUID]:
    return {
        r.case_id for r in list_care_cases(rt.engine, actor, now=NOW, limit=1000, **filters).rows
    }


def test_each_role_lists_exactly_the_cases_it_may_see(rt: Runtime) -> None:
    s = hours_scenario(rt)
    every_step(rt, s.p1)
    rt.catch_up()
    with rt.engine.connect() as conn:
        rows = conn.execute(select(home_care_cases)).all()
    one, two = provider_user(s.p1, "p1-staff"), provider_user(s.p2, "p2-staff")
    viewers = [FAMILY, OTHER_FAMILY, WORKER, WORKER_SONGHE, WORKER_D02, CASEWORKER, CASEWORKER_D02,
               ASSESSOR, OTHER_ASSESSOR, D02_ASSESSOR, INSPECTOR, AUDITOR, SUPERVISOR, ADMIN,
               FINANCE, one, two]  # fmt: skip
    for viewer in viewers:
        allowed = {r.case_id for r in rows if may_see_home_care(viewer, r)}
        assert listed(rt, viewer) == allowed, viewer
    assert listed(rt, two) == {s.c}
    assert s.a in listed(rt, one) and s.c not in listed(rt, one)
    assert all(r.step == CareStep.IN_SERVICE for r in rows if r.case_id in listed(rt, one))
    assert listed(rt, INSPECTOR) == listed(rt, FINANCE) == set()
    assert not listed(rt, FAMILY) & listed(rt, OTHER_FAMILY)
    assert listed(rt, CASEWORKER_D02) == {s.c}
    assert listed(rt, D02_ASSESSOR) == {s.c}
    assert listed(rt, CASEWORKER, worklist=True) == {
        r.case_id for r in rows if r.district == "D01"
        and r.step in (CareStep.SUBMITTED, CareStep.ASSESSED, CareStep.APPROVED)
    }  # fmt: skip
    assert listed(rt, AUDITOR, district="D02") == {s.c}
    assert listed(rt, CASEWORKER, district="D02") == set()  # a filter never widens the scope


def test_keyset_pages_walk_every_case_once(rt: Runtime) -> None:
    every_step(rt, register_provider(rt))
    rt.catch_up()
    expected = list_care_cases(rt.engine, CASEWORKER, now=NOW, limit=1000).rows
    walked, cursor = [], None
    for _ in range(20):
        page = list_care_cases(rt.engine, CASEWORKER, now=NOW, limit=4, cursor=cursor)
        walked += page.rows
        cursor = page.next_cursor
        if cursor is None:
            break
    assert [r.case_id for r in walked] == [r.case_id for r in expected]
    assert len({r.case_id for r in walked}) == len(expected) > 8


def test_the_provider_view_holds_only_what_a_visit_needs(rt: Runtime) -> None:
    s = hours_scenario(rt)
    rt.catch_up()
    view = provider_case(rt.engine, provider_user(s.p1, "p1-staff"), s.a)
    assert view is not None
    assert (view.care_level, view.monthly_hours, view.provider_assigned_on) == (
        "moderate", 40, date(2026, 3, 2),
    )  # fmt: skip
    assert not hasattr(view, "applicant_user_id") and not hasattr(view, "relation")
    assert provider_case(rt.engine, CASEWORKER, s.a) is None  # staff read the full detail


def test_the_timeline_tells_the_story_without_personal_data(rt: Runtime) -> None:
    s = hours_scenario(rt)
    rt.catch_up()
    entries = care_timeline(rt.engine, s.a)
    assert [e.kind for e in entries] == [
        "Applied", "AssessorAssigned", "CareLevelAssessed", "Approved", "ProviderAssigned",
        "VisitLogged", "VisitLogged", "VisitCorrected", "VisitLogged", "VisitCancelled",
        "SatisfactionSurveyAnswered", "VisitLogged", "SatisfactionSurveyAnswered",
    ]  # fmt: skip
    assert all(e.actor_id for e in entries)
    corrected = entries[7].details
    assert (corrected["visit_id"], corrected["end"], corrected["reason"]) == (
        str(s.visits["a2"]), "10:00", "实际服务一小时",
    )  # fmt: skip
    assert entries[2].details == {"level": "moderate", "monthly_hours": 40, "note": ""}
    assert all("caregiver" not in e.details for e in entries)
