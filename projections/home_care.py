"""Read models of this programme area; PROJECTIONS lists them for the projector."""

from __future__ import annotations

from projections.home_care_cases import HomeCareCaseList
from projections.home_care_delivery import HomeCareDelivery
from projections.home_care_timeline import HomeCareTimeline
from projections.runner import Projection

PROJECTIONS: list[Projection] = [HomeCareCaseList(), HomeCareTimeline(), HomeCareDelivery()]
