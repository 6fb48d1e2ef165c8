"""Satisfaction per programme: the share of surveys rating the service 4 or 5 overall."""

from __future__ import annotations

from sqlalchemy import Engine, case, func, select

from projections.home_care_queries import SATISFIED_FROM, Satisfaction, satisfaction
from projections.tables import retrofit_cases as rc


def retrofit_satisfaction(engine: Engine, *, district: str = "") -> Satisfaction:
    """Retrofit surveys (one per accepted case) and how many were satisfied overall."""
    happy = func.sum(case((rc.c.survey_overall >= SATISFIED_FROM, 1), else_=0))
    query = select(func.count(), happy).where(rc.c.survey_overall.is_not(None))
    if district:
        query = query.where(rc.c.district == district)
    with engine.connect() as conn:
        total, satisfied = conn.execute(query).one()
    return Satisfaction(int(total), int(satisfied or 0))


def satisfaction_by_programme(engine: Engine, *, district: str = "") -> dict[str, Satisfaction]:
    """Each surveyed programme's satisfaction (the meal service has no survey of its own)."""
    return {
        "retrofit": retrofit_satisfaction(engine, district=district),
        "home_care": satisfaction(engine, district=district),
    }
