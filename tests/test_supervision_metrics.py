"""Supervision's figures against small scenarios worked out by hand: each metric, the
red/amber/green rule at its boundaries, targets and figures as at a past day, late and stuck
work, and the public page's suppression of small counts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from events import clock
from events.facility import Kind
from events.metrics import BY_CODE, judge
from events.target import InvalidTarget, TargetWithdrawn
from portal.runtime import Runtime
from projections.late_work import late_facilities, on_time_by_district, stuck_cases
from projections.public_figures import public_figures
from projections.supervision_queries import Progress, progress_at, targets_at
from services.errors import NotPermitted
from tests.support import facilities as fac
from tests.support.actors import ADMIN, CASEWORKER, FAMILY, FINANCE, INSPECTOR, SUPERVISOR, walk
from tests.support.home_care import log, provider_user, register_provider, walk_care
from tests.support.meals import open_canteen
from tests.support.meals import provider_of as canteen_provider
from tests.support.scenario import ASSESSED_LINES, version

SET_ON = datetime(2026, 1, 5, 2, tzinfo=UTC)  # 10:00 in the city: targets start on 5 January
SURVEY = ("overall", "quality", "attitude", "timeliness", "usefulness")


def on(month: int, day: int) -> datetime:
    """10:00 city time on a day of 2026."""
    return datetime(2026, month, day, 2, tzinfo=UTC)


def target(rt: Runtime, metric: str, value: str, district: str = "D01") -> None:
    with clock.frozen_at(SET_ON):
        rt.targets.set_target(
            ADMIN, metric_code=metric, district=district, value=value, deadline="2026-12-31"
        )


def progress(rt: Runtime, day: date, **filters: str) -> dict[tuple[str, str], Progress]:
    rt.catch_up()
    rows = progress_at(rt.engine, day, **filters)
    return {(p.target.metric, p.target.district): p for p in rows}


def fail_acceptance(rt: Runtime, case_id) -> None:
    results = [
        {"code": line["code"], "installed": True, "works": line["code"] != "T01", "safe": True}
        for line in ASSESSED_LINES
    ]
    rt.retrofit.inspect_acceptance(
        INSPECTOR, case_id, version(rt, INSPECTOR, case_id), results=results,
        photos=[{"sha256": "c" * 64, "media_type": "image/jpeg"}],
    )  # fmt: skip


def pass_acceptance(rt: Runtime, case_id) -> None:
    results = [
        {"code": line["code"], "installed": True, "works": True, "safe": True}
        for line in ASSESSED_LINES
    ]
    rt.retrofit.inspect_acceptance(
        INSPECTOR, case_id, version(rt, INSPECTOR, case_id), results=results,
        photos=[{"sha256": "d" * 64, "media_type": "image/jpeg"}],
    )  # fmt: skip


def survey(rt: Runtime, case_id, overall: int) -> None:
    scores = dict.fromkeys(SURVEY, 5) | {"overall": overall}
    rt.retrofit.answer_survey(FAMILY, case_id, version(rt, FAMILY, case_id), scores=scores)


@pytest.fixture
def retrofit_year(rt: Runtime) -> Runtime:
    """Case A accepted 10 March (surveyed 5 on 15 March); case B failed on 20 March, passed on
    1 April (surveyed 3 on 5 April): 2 households, 1 failure in 3 inspections, 1 of 2 happy."""
    target(rt, "retrofit_accepted", "4")
    target(rt, "retrofit_accepted", "2", district="D02")
    target(rt, "acceptance_failure_rate", "20", district="")
    target(rt, "retrofit_satisfaction", "90")
    with clock.frozen_at(on(3, 10)):
        a = walk(rt, "accepted")
    with clock.frozen_at(on(3, 15)):
        survey(rt, a, 5)
    with clock.frozen_at(on(3, 20)):
        b = walk(rt, "works_completed")
        fail_acceptance(rt, b)
    with clock.frozen_at(on(4, 1)):
        rt.retrofit.complete_rectification(
            CASEWORKER, b, version(rt, CASEWORKER, b), note="扶手已重新安装牢固。"
        )
        pass_acceptance(rt, b)
    with clock.frozen_at(on(4, 5)):
        survey(rt, b, 3)
    return rt


def test_retrofit_figures_at_midyear(retrofit_year: Runtime) -> None:
    rows = progress(retrofit_year, date(2026, 6, 30))
    accepted = rows[("retrofit_accepted", "D01")]
    assert accepted.actual == 2
    assert accepted.percent == Decimal("50.0")
    assert accepted.days_left == 184
    # The straight line: 4 households over 360 days, 176 days in: 1.96; 2 is on the line.
    assert accepted.expected == Decimal("1.96")
    assert (accepted.judgement.colour, accepted.judgement.rule) == ("green", "on_plan")
    assert accepted.finish is None  # nothing accepted in the last 30 days: no pace to project
    assert rows[("retrofit_accepted", "D02")].actual == 0
    assert rows[("retrofit_accepted", "D02")].judgement.colour == "red"
    failure = rows[("acceptance_failure_rate", "")]
    assert failure.actual == Decimal("33.3")  # 1 failure in 3 inspections, city-wide
    assert (failure.judgement.colour, failure.judgement.rule) == ("red", "off")
    assert rows[("retrofit_satisfaction", "D01")].actual == Decimal("50.0")


def test_the_burn_up_series_and_projected_finish(retrofit_year: Runtime) -> None:
    accepted = progress(retrofit_year, date(2026, 4, 15))[("retrofit_accepted", "D01")]
    assert accepted.series == (
        (date(2026, 1, 5), 0),
        (date(2026, 3, 10), 1),
        (date(2026, 4, 1), 2),
        (date(2026, 4, 15), 2),
    )
    # One household in the last 30 days: the two still to do take 60 days more.
    assert accepted.finish == date(2026, 6, 14)


def test_figures_as_at_a_past_day_leave_out_what_came_later(retrofit_year: Runtime) -> None:
    rows = progress(retrofit_year, date(2026, 3, 31))
    assert rows[("retrofit_accepted", "D01")].actual == 1
    assert rows[("acceptance_failure_rate", "")].actual == Decimal("50.0")  # 1 of 2 by then
    assert rows[("retrofit_satisfaction", "D01")].actual == Decimal("100.0")
    assert targets_at(retrofit_year.engine, date(2026, 1, 4)) == []  # set on 5 January


def test_a_revised_target_applies_from_its_revision(retrofit_year: Runtime) -> None:
    rt = retrofit_year
    rt.catch_up()
    target_id = next(
        t.target_id
        for t in targets_at(rt.engine, date(2026, 6, 1))
        if (t.metric, t.district) == ("retrofit_accepted", "D01")
    )
    with clock.frozen_at(on(6, 1)):
        current = rt.targets.target(target_id).version
        rt.targets.revise(
            ADMIN, target_id, current, value="3", deadline="2026-10-31", reason="省厅调整任务数"
        )
    before = progress(rt, date(2026, 5, 31))[("retrofit_accepted", "D01")]
    after = progress(rt, date(2026, 6, 30))[("retrofit_accepted", "D01")]
    assert (before.target.value, before.target.deadline) == (Decimal("4.00"), date(2026, 12, 31))
    assert (after.target.value, after.target.deadline) == (Decimal("3.00"), date(2026, 10, 31))
    assert after.percent == Decimal("66.7")
    with clock.frozen_at(on(7, 1)):
        rt.targets.withdraw(ADMIN, target_id, current + 1, reason="任务并入全市指标")
    assert ("retrofit_accepted", "D01") not in progress(rt, date(2026, 7, 2))
    assert ("retrofit_accepted", "D01") in progress(rt, date(2026, 6, 30))


def test_filters_narrow_to_one_programme_and_district(retrofit_year: Runtime) -> None:
    target(retrofit_year, "care_hours", "100")
    only_d02 = progress(retrofit_year, date(2026, 6, 30), district="D02")
    assert set(only_d02) == {("retrofit_accepted", "D02")}
    care = progress(retrofit_year, date(2026, 6, 30), programme="home_care")
    assert set(care) == {("care_hours", "D01")}


def test_facilities_meals_care_funds_and_workforce(rt: Runtime) -> None:
    for metric, value in [
        ("centres_operating", "2"), ("canteens_operating", "1"), ("institutions_renovated", "1"),
        ("beds_added", "50"), ("meals_per_day", "20"), ("care_hours", "10"),
        ("care_satisfaction", "80"), ("funds_disbursed", "10000"), ("elders_per_caregiver", "5"),
    ]:  # fmt: skip
        target(rt, metric, value)
    with clock.frozen_at(on(5, 1)):
        centre = fac.walk_to(rt, fac.register(rt, Kind.CARE_CENTRE), "in_operation")
        canteen = open_canteen(rt)
        home = fac.walk_to(rt, fac.register(rt, Kind.INSTITUTION), "in_operation")
        rt.facilities.record_beds(
            fac.ADMIN, home, fac.version(rt, home), beds_before=40, beds_after=60, nursing_beds=10
        )
    with clock.frozen_at(on(5, 10)):  # the count was wrong: 70 beds after renovation
        rt.facilities.record_beds(
            fac.ADMIN, home, fac.version(rt, home), beds_before=40, beds_after=70, nursing_beds=10
        )
    cook = canteen_provider(canteen)
    with clock.frozen_at(on(6, 30)):
        for day in range(24, 31):  # 14 walk-ins a day in the last week of June
            rt.meals.record_day(cook, canteen, f"2026-06-{day}", served=[], walk_in_count=14)
    provider_id = register_provider(rt)
    carer = provider_user(provider_id)
    with clock.frozen_at(on(6, 1)):
        case = walk_care(rt, "in_service", provider_id=provider_id)
    with clock.frozen_at(on(6, 12)):
        first = log(rt, carer, case, "2026-06-10", "09:00", "10:30")
        second = log(rt, carer, case, "2026-06-11", "09:00", "11:00")
    with clock.frozen_at(on(6, 20)):
        hc = rt.home_care
        hc.correct_visit(
            carer, case, hc.repository.get(case).version, visit_id=first,
            visit_date="2026-06-10", start="09:00", end="10:00", items=["cleaning"],
            caregiver="护理员王芳", confirmed_by="elder", reason="结束时间填错",
        )  # fmt: skip
        hc.cancel_visit(
            carer, case, hc.repository.get(case).version, visit_id=second, reason="重复登记"
        )
        hc.answer_survey(
            FAMILY, case, hc.repository.get(case).version, scores=dict.fromkeys(SURVEY, 4)
        )
        rt.facilities.report_staffing(
            provider_user(provider_id), organisation_id=provider_id, period="2026-06",
            caregivers=10, residents_or_clients=40, hires=0, departures=0, trained=2,
        )  # fmt: skip
    with clock.frozen_at(on(6, 25)):
        fund = rt.ledger.open_fund(
            FINANCE, source="provincial", programme="facility", year=2026, title="省级机构改造资金"
        )
        rt.ledger.receive(FINANCE, fund, amount="50000", document="省财〔2026〕3号")
        rt.ledger.allocate(
            FINANCE, fund, amount="20000", district="D01", document="市民〔2026〕8号"
        )
        seq = rt.ledger.commit_to_facility(FINANCE, fund, home, amount="15000", document="合同")
        rt.ledger.disburse(FINANCE, fund, seq, amount="6000", payee="安居建设公司", voucher="V-001")
    june = progress(rt, date(2026, 6, 30))
    assert june[("centres_operating", "D01")].actual == 1
    assert june[("canteens_operating", "D01")].actual == 1
    assert june[("institutions_renovated", "D01")].actual == 1
    assert june[("beds_added", "D01")].actual == 30
    assert june[("meals_per_day", "D01")].actual == Decimal("14.0")
    assert june[("care_hours", "D01")].actual == 1  # 90 min corrected to 60; 120 min cancelled
    assert june[("care_satisfaction", "D01")].actual == Decimal("100.0")
    assert june[("funds_disbursed", "D01")].actual == 6000
    assert june[("elders_per_caregiver", "D01")].actual == Decimal("4.00")
    assert june[("elders_per_caregiver", "D01")].judgement.colour == "green"
    # As at 15 June the visits stood as first logged (3.5 hours) and no beds correction
    # was undone: 5 May saw only the first count.
    assert progress(rt, date(2026, 6, 15))[("care_hours", "D01")].actual == Decimal("3.5")
    assert progress(rt, date(2026, 5, 5))[("beds_added", "D01")].actual == 20
    assert centre  # the centre counted is the one walked to operation


@pytest.mark.parametrize(
    ("actual", "colour", "rule"),
    [
        ("100", "green", "met"),
        ("48.89", "green", "on_plan"),  # exactly on the line: 100 x 176 / 360 days
        ("38.89", "amber", "near_plan"),  # 10% of the target behind: still amber
        ("38.88", "red", "behind_plan"),  # a hundredth more: red
    ],
)
def test_the_rule_for_counts_at_its_boundaries(actual: str, colour: str, rule: str) -> None:
    found = judge(
        BY_CODE["retrofit_accepted"], Decimal(100), Decimal(actual),
        date(2026, 1, 5), date(2026, 12, 31), date(2026, 6, 30),
    )  # fmt: skip
    assert found.expected == Decimal("48.89")
    assert (found.colour, found.rule) == (colour, rule)


def test_a_count_short_after_its_deadline_is_red() -> None:
    found = judge(
        BY_CODE["retrofit_accepted"], Decimal(100), Decimal(99),
        date(2026, 1, 5), date(2026, 6, 30), date(2026, 7, 1),
    )  # fmt: skip
    assert (found.colour, found.rule) == ("red", "overdue")


@pytest.mark.parametrize(
    ("code", "actual", "colour"),
    [
        ("caregiver_turnover", "20", "green"),  # at the target: within
        ("caregiver_turnover", "22", "amber"),  # 10% over a lower-is-better target
        ("caregiver_turnover", "22.01", "red"),
        ("retrofit_satisfaction", "90", "green"),
        ("retrofit_satisfaction", "81", "amber"),  # 10% under a higher-is-better target
        ("retrofit_satisfaction", "80.99", "red"),
    ],
)
def test_the_rule_for_levels_at_its_boundaries(code: str, actual: str, colour: str) -> None:
    value = Decimal(20) if code == "caregiver_turnover" else Decimal(90)
    found = judge(
        BY_CODE[code],
        value,
        Decimal(actual),
        date(2026, 1, 5),
        date(2026, 12, 31),
        date(2026, 6, 30),
    )
    assert found.colour == colour


def test_no_data_is_grey_not_red() -> None:
    found = judge(
        BY_CODE["retrofit_satisfaction"], Decimal(90), None,
        date(2026, 1, 5), date(2026, 12, 31), date(2026, 6, 30),
    )  # fmt: skip
    assert (found.colour, found.rule) == ("grey", "no_data")


def test_targets_are_for_admins_and_checked(rt: Runtime) -> None:
    with pytest.raises(NotPermitted):
        rt.targets.set_target(
            SUPERVISOR, metric_code="care_hours", district="D01", value="1", deadline="2027-01-01"
        )
    with clock.frozen_at(SET_ON):
        for field, values in {
            "metric": {"metric_code": "happiness"},
            "district": {"district": "D99"},
            "value": {"value": "-3"},
            "deadline": {"deadline": "2025-12-31"},
        }.items():
            given = {
                "metric_code": "care_hours",
                "district": "D01",
                "value": "10",
                "deadline": "2026-12-31",
            }
            with pytest.raises(InvalidTarget) as refused:
                rt.targets.set_target(ADMIN, **(given | values))
            assert refused.value.detail == field
        with pytest.raises(InvalidTarget):  # a satisfaction rate above 100%
            rt.targets.set_target(
                ADMIN,
                metric_code="care_satisfaction",
                district="D01",
                value="101",
                deadline="2026-12-31",
            )
        target_id = rt.targets.set_target(
            ADMIN, metric_code="care_hours", district="D01", value="10", deadline="2026-12-31"
        )
        with pytest.raises(InvalidTarget):  # live already: revise it instead
            rt.targets.set_target(
                ADMIN, metric_code="care_hours", district="D01", value="12", deadline="2026-12-31"
            )
        rt.targets.withdraw(ADMIN, target_id, 1, reason="不再考核")
        with pytest.raises(TargetWithdrawn):
            rt.targets.withdraw(ADMIN, target_id, 2, reason="再次撤回")
        assert (
            rt.targets.set_target(
                ADMIN, metric_code="care_hours", district="D01", value="12", deadline="2026-12-31"
            )
            == target_id
        )
    rt.catch_up()
    [revived] = targets_at(rt.engine, date(2026, 1, 6))
    assert revived.value == Decimal("12.00")


def test_stuck_cases_and_late_projects_most_overdue_first(rt: Runtime) -> None:
    limits = {"retrofit": {"submitted": 10, "approved": 15}, "meal": {}, "home_care": {}}
    with clock.frozen_at(on(3, 1)):
        waiting_long = walk(rt, "submitted")
    with clock.frozen_at(on(3, 15)):
        waiting_less = walk(rt, "submitted")
        visited = walk(rt, "approved")
    with clock.frozen_at(on(3, 28)):
        fresh = walk(rt, "submitted")
    fac.register(rt, Kind.CARE_CENTRE)  # deadline 2025-09-30, never opened
    rt.catch_up()
    now = on(4, 1)
    found = stuck_cases(rt.engine, limits, now=now)
    assert [(c.case_id, c.days_in_step, c.days_over) for c in found] == [
        (waiting_long, 31, 21),
        (waiting_less, 17, 7),
        (visited, 17, 2),
    ]
    assert fresh not in {c.case_id for c in found}
    assert stuck_cases(rt.engine, limits, now=now, district="D02") == []
    [late] = late_facilities(rt.engine, today=date(2026, 4, 1))
    assert late.days_late == (date(2026, 4, 1) - fac.DEADLINE).days
    [d01] = on_time_by_district(rt.engine, limits, now=now, today=date(2026, 4, 1))
    # Five open items in D01 (four cases at limited steps, one project): four are late.
    assert (d01.district, d01.open_items, d01.late_items) == ("D01", 5, 4)
    assert d01.on_time_rate == pytest.approx(0.2)


def test_public_figures_suppress_small_counts(rt: Runtime) -> None:
    with clock.frozen_at(on(3, 10)):
        accepted = [walk(rt, "accepted") for _ in range(3)]
    rt.catch_up()
    figures = {f.code: f for f in public_figures(rt.engine, date(2026, 6, 30))}
    assert figures["retrofit_accepted"].suppressed  # 3 households: fewer than 5
    assert figures["satisfaction"].suppressed  # no surveys
    with clock.frozen_at(on(3, 11)):
        accepted += [walk(rt, "accepted") for _ in range(2)]
    rt.catch_up()
    figures = {f.code: f for f in public_figures(rt.engine, date(2026, 6, 30))}
    assert figures["retrofit_accepted"].value == 5
    assert len(accepted) == 5
