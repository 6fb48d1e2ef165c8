"""Meal service (老年助餐): enrolments at canteens and the meals each canteen serves per day."""

from __future__ import annotations

from eventsourcing.application import Application

from services.persons import PersonStore


class MealService(Application):
    """Programme 2 meal service: applications, approvals, daily meal records and corrections."""

    name = "Anlao"  # one city-wide event log shared by every programme's service

    def __init__(self, env: dict[str, str], persons: PersonStore) -> None:
        super().__init__(env=env)
        self.persons = persons
