"""Read models of this programme area; PROJECTIONS lists them for the projector."""

from __future__ import annotations

from projections.runner import Projection

PROJECTIONS: list[Projection] = []
