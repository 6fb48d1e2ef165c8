"""Satisfaction per programme against a hand-counted scenario, on both databases."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from events import clock
from events.home_care import CareStep
from events.retrofit import SURVEY_QUESTIONS, Step
from projections.satisfaction import satisfaction_by_programme
from tests.support.actors import FAMILY, walk
from tests.support.home_care import log, provider_user, register_provider, walk_care
from tests.support.scenario import version


def _retrofit_survey(rt, overall: int) -> None:
    case_id = walk(rt, Step.ACCEPTED)
    scores = dict.fromkeys(SURVEY_QUESTIONS, 5) | {"overall": overall}
    rt.retrofit.answer_survey(FAMILY, case_id, version(rt, FAMILY, case_id), scores=scores)


def test_satisfaction_is_counted_per_programme(rt):
    for overall in (5, 4, 2):  # two of three retrofit families satisfied
        _retrofit_survey(rt, overall)
    provider_id = register_provider(rt)
    provider = provider_user(provider_id)
    day = (clock.today() - timedelta(days=1)).isoformat()
    for overall in (3, 5):  # one of two home-care families satisfied
        with clock.frozen_at(clock.now() - timedelta(days=3)):
            case_id = walk_care(rt, CareStep.IN_SERVICE, provider_id=provider_id)
        log(rt, provider, case_id, day, "09:00", "10:00")
        case = rt.home_care.case_for(FAMILY, case_id)
        scores = dict.fromkeys(SURVEY_QUESTIONS, 4) | {"overall": overall}
        rt.home_care.answer_survey(FAMILY, case_id, case.version, scores=scores)
    rt.catch_up()

    found = satisfaction_by_programme(rt.engine)
    assert (found["retrofit"].surveys, found["retrofit"].satisfied) == (3, 2)
    assert found["retrofit"].rate == Decimal("0.6667")
    assert (found["home_care"].surveys, found["home_care"].satisfied) == (2, 1)
    assert found["home_care"].rate == Decimal("0.5000")
    assert satisfaction_by_programme(rt.engine, district="D02")["retrofit"].rate is None
