"""Read models of this programme area; PROJECTIONS lists them for the projector."""

from __future__ import annotations

from projections.facility_inspections import FacilityInspections
from projections.facility_progress import FacilityProgress
from projections.runner import Projection
from projections.workforce import StaffingReports

PROJECTIONS: list[Projection] = [FacilityProgress(), FacilityInspections(), StaffingReports()]
