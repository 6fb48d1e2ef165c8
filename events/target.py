"""A supervision target (目标任务): a metric's value to reach by a deadline, for one district or
the whole city; set, revised and withdrawn by events, so any past day's targets can be replayed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from events.base import AnlaoAggregate
from events.districts import district as known_district
from events.errors import DomainError
from events.metrics import metric

_NAMESPACE = uuid5(NAMESPACE_URL, "https://anlao.example/supervision-target")
CITY = ""  # the district of a city-wide target
MAX_VALUE = Decimal("100000000000")


class InvalidTarget(DomainError):
    """A target's metric, district, value, deadline or reason is missing or out of range
    (detail names the field)."""

    code = "invalid_target"


class TargetWithdrawn(DomainError):
    """A withdrawn target can be set again, but not revised or withdrawn twice."""

    code = "target_withdrawn"


def target_id_for(metric_code: str, district: str) -> UUID:
    """One live target per metric and district (or the city): setting it again revives it."""
    return uuid5(_NAMESPACE, f"{metric_code}:{district or 'city'}")


def target_value(value: object, unit: str) -> Decimal:
    """A positive exact value; percentages up to 100."""
    if isinstance(value, float | bool):
        raise InvalidTarget("value")
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise InvalidTarget("value") from None
    top = Decimal(100) if unit == "percent" else MAX_VALUE
    if (
        not number.is_finite()
        or not 0 < number <= top
        or number != number.quantize(Decimal("0.01"))
    ):
        raise InvalidTarget("value")
    return number.quantize(Decimal("0.01"))


def deadline_of(value: object, today: date) -> date:
    """A deadline in the future, within ten years."""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise InvalidTarget("deadline") from None
    if not today < day <= today.replace(year=today.year + 10):
        raise InvalidTarget("deadline")
    return day


def _reason(value: str) -> str:
    text = (value or "").strip()
    if not text or len(text) > 500:
        raise InvalidTarget("reason")
    return text


class SupervisionTarget(AnlaoAggregate):
    """The target for one metric in one district (or the city)."""

    @classmethod
    def set(
        cls, *, metric_code: str, district: str, value: object, deadline: object, today: date,
        note: str, actor_id: str,
    ) -> SupervisionTarget:  # fmt: skip
        """Set a new target; the straight line to it starts today."""
        found = metric(metric_code)
        if found is None:
            raise InvalidTarget("metric")
        if district != CITY and known_district(district) is None:
            raise InvalidTarget("district")
        return cls(
            metric_code=metric_code, programme=found.programme, district=district,
            value=target_value(value, found.unit),
            deadline=deadline_of(deadline, today).isoformat(), start=today.isoformat(),
            note=(note or "").strip()[:500], actor_id=actor_id,
        )  # fmt: skip

    @staticmethod
    def create_id(metric_code: str, district: str, **_: object) -> UUID:
        return target_id_for(metric_code, district)

    @event("Set")
    def __init__(
        self, *, metric_code: str, programme: str, district: str, value: Decimal, deadline: str,
        start: str, note: str, actor_id: str,
    ) -> None:  # fmt: skip
        self.metric_code = metric_code
        self.programme = programme
        self.district = district
        self._take(value, deadline, start)

    def _take(self, value: Decimal, deadline: str, start: str) -> None:
        self.value = value
        self.deadline = deadline
        self.start = start
        self.withdrawn = False

    def revise(
        self, *, value: object, deadline: object, today: date, reason: str, actor_id: str
    ) -> None:
        """Change the value or deadline, saying why (the history keeps the old ones)."""
        if self.withdrawn:
            raise TargetWithdrawn("revise")
        unit = metric(self.metric_code).unit  # type: ignore[union-attr]
        self._revised(
            value=target_value(value, unit), deadline=deadline_of(deadline, today).isoformat(),
            reason=_reason(reason), actor_id=actor_id,
        )  # fmt: skip

    @event("Revised")
    def _revised(self, value: Decimal, deadline: str, reason: str, actor_id: str) -> None:
        self.value = value
        self.deadline = deadline

    def withdraw(self, *, reason: str, actor_id: str) -> None:
        """Stop supervising this figure here (it stays in the history)."""
        if self.withdrawn:
            raise TargetWithdrawn("withdraw")
        self._withdrawn(reason=_reason(reason), actor_id=actor_id)

    @event("Withdrawn")
    def _withdrawn(self, reason: str, actor_id: str) -> None:
        self.withdrawn = True

    def set_again(
        self, *, value: object, deadline: object, today: date, note: str, actor_id: str
    ) -> None:
        """Revive a withdrawn target with a new value, deadline and start."""
        if not self.withdrawn:
            raise InvalidTarget("exists")
        unit = metric(self.metric_code).unit  # type: ignore[union-attr]
        self._set_again(
            value=target_value(value, unit), deadline=deadline_of(deadline, today).isoformat(),
            start=today.isoformat(), note=(note or "").strip()[:500], actor_id=actor_id,
        )  # fmt: skip

    @event("SetAgain")
    def _set_again(
        self, value: Decimal, deadline: str, start: str, note: str, actor_id: str
    ) -> None:
        self._take(value, deadline, start)
