"""Door-to-door home care (上门照护): applications, care level, providers, visits, surveys."""

from __future__ import annotations

from eventsourcing.application import Application

from services.persons import PersonStore


class HomeCareService(Application):
    """Programme 2 home care for disabled and semi-disabled elders."""

    name = "Anlao"  # one city-wide event log shared by every programme's service

    def __init__(self, env: dict[str, str], persons: PersonStore) -> None:
        super().__init__(env=env)
        self.persons = persons
