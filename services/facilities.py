"""Facility projects (care centres, canteens, support institutions) and workforce reports."""

from __future__ import annotations

from eventsourcing.application import Application


class FacilityService(Application):
    """Programmes 2 and 3 facilities: milestones, inspections, beds, acceptance, staffing."""

    name = "Anlao"  # one city-wide event log shared by every programme's service

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env=env)
