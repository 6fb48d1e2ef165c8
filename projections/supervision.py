"""Read models of supervision; PROJECTIONS lists them for the projector."""

from __future__ import annotations

from projections.metric_days import MetricDays
from projections.runner import Projection
from projections.target_versions import TargetVersions

PROJECTIONS: list[Projection] = [MetricDays(), TargetVersions()]
