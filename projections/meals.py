"""Read models of this programme area; PROJECTIONS lists them for the projector."""

from __future__ import annotations

from projections.meal_days import MealDays
from projections.meal_enrolments import MealEnrolmentList
from projections.meal_timeline import MealEnrolmentTimeline
from projections.runner import Projection

PROJECTIONS: list[Projection] = [MealEnrolmentList(), MealEnrolmentTimeline(), MealDays()]
