"""A canteen's meals on one day: recorded once by its provider, then only ever corrected."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from events.base import AnlaoAggregate
from events.errors import DomainError, InvalidApplication, ReasonRequired
from events.meal import TEXT_LIMIT, MealEnrolment, check_canteen

_DAY_NAMESPACE = uuid5(NAMESPACE_URL, "https://anlao.example/canteen-day")
# Far above any canteen's day ("hundreds of elders"): catches a slipped finger, not a busy day.
MAX_WALK_INS = 10_000


class InvalidMealRecord(DomainError):
    """A day's record is malformed or names elders the canteen may not count (detail says which)."""

    code = "invalid_meal_record"


class DayAlreadyRecorded(DomainError):
    """The canteen already recorded this day: change it with a correction, never a second record."""

    code = "day_already_recorded"


def canteen_day_id(canteen_id: UUID, day: date) -> UUID:
    """The one aggregate id of a canteen's day, so a second record of it cannot slip in."""
    return uuid5(_DAY_NAMESPACE, f"{canteen_id}:{day.isoformat()}")


def parse_day(value: date | str) -> date:
    """A business date from a date or an ISO string ("2026-11-29")."""
    if isinstance(value, datetime):  # an instant is not a day: which time zone would it be?
        raise InvalidMealRecord("date")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidMealRecord("date") from None


def served_ids(served: object) -> list[str]:
    """Enrolment ids as canonical strings, sorted; refuses a malformed or repeated id."""
    if not isinstance(served, list | tuple):
        raise InvalidMealRecord("served")
    ids: list[str] = []
    for raw in served:
        try:
            ids.append(str(UUID(str(raw))))
        except ValueError:
            raise InvalidMealRecord("served", enrolment_id=str(raw)) from None
    for position, enrolment_id in enumerate(ids):
        if enrolment_id in ids[:position]:
            raise InvalidMealRecord("duplicate", enrolment_id=enrolment_id)
    return sorted(ids)


def _walk_ins(value: object) -> int:
    # bool is an int subclass: True must not count as one walk-in elder.
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_WALK_INS:
        raise InvalidMealRecord("walk_in_count", maximum=MAX_WALK_INS)
    return value


def _checked(
    canteen_id: UUID,
    day: date,
    served: object,
    walk_in_count: object,
    enrolments: Mapping[str, MealEnrolment],
) -> tuple[list[str], int]:
    ids = served_ids(served)
    for enrolment_id in ids:
        enrolment = enrolments.get(enrolment_id)
        if enrolment is None or not enrolment.serves(canteen_id, day):
            raise InvalidMealRecord("not_enrolled", enrolment_id=enrolment_id)
    return ids, _walk_ins(walk_in_count)


class CanteenDay(AnlaoAggregate):
    """How many elders one canteen fed on one day: enrolled elders by id, walk-ins by count."""

    @classmethod
    def record(
        cls,
        *,
        canteen: object,
        day: date,
        served: object,
        walk_in_count: object,
        enrolments: Mapping[str, MealEnrolment],
        today: date,
        actor_id: str,
    ) -> CanteenDay:
        """The day's first record; `enrolments` are the served ids' aggregates that exist."""
        found = check_canteen(canteen)
        if day > today:
            raise InvalidMealRecord("future_date", day=day.isoformat(), today=today.isoformat())
        ids, walk_ins = _checked(found.id, day, served, walk_in_count, enrolments)
        return cls(
            canteen_id=found.id,
            district=found.district,
            day=day.isoformat(),
            served=ids,
            walk_in_count=walk_ins,
            actor_id=actor_id,
        )

    @staticmethod
    def create_id(canteen_id: UUID, day: str, **_: Any) -> UUID:
        return canteen_day_id(canteen_id, date.fromisoformat(day))

    @event("MealsRecorded")
    def __init__(
        self,
        *,
        canteen_id: UUID,
        district: str,
        day: str,
        served: list[str],
        walk_in_count: int,
        actor_id: str,
    ) -> None:
        self.canteen_id = canteen_id
        self.district = district
        self.day = day
        self.served = list(served)
        self.walk_in_count = walk_in_count
        self.corrections = 0

    @property
    def total(self) -> int:
        """Every elder fed that day: enrolled ones and walk-ins."""
        return len(self.served) + self.walk_in_count

    def correct(
        self,
        *,
        canteen: object,
        served: object,
        walk_in_count: object,
        reason: str,
        enrolments: Mapping[str, MealEnrolment],
        actor_id: str,
    ) -> None:
        """Replace the day's figures, saying why; the old ones stay in the history."""
        if check_canteen(canteen).id != self.canteen_id:
            raise InvalidMealRecord("canteen")
        day = date.fromisoformat(self.day)
        ids, walk_ins = _checked(self.canteen_id, day, served, walk_in_count, enrolments)
        if (ids, walk_ins) == (self.served, self.walk_in_count):
            raise InvalidMealRecord("unchanged")
        cleaned = (reason or "").strip()
        if not cleaned:
            raise ReasonRequired("reason")
        if len(cleaned) > TEXT_LIMIT:
            raise InvalidApplication("reason", limit=TEXT_LIMIT)
        self._corrected(served=ids, walk_in_count=walk_ins, reason=cleaned, actor_id=actor_id)

    @event("MealsCorrected")
    def _corrected(self, served: list[str], walk_in_count: int, reason: str, actor_id: str) -> None:
        self.served = list(served)
        self.walk_in_count = walk_in_count
        self.corrections += 1
