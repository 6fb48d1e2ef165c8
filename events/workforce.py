"""Workforce reports (护理员队伍): a facility's caregivers, the elders it serves, hires, departures
and trained staff for one month; a wrong report is corrected by a new event, never overwritten."""

from __future__ import annotations

import re
from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from events.base import AnlaoAggregate
from events.errors import DomainError, ReasonRequired

# What a report counts, all whole numbers of people for the period.
FIGURES = ("caregivers", "residents_or_clients", "hires", "departures", "trained")
MAX_COUNT = 100_000  # far above any facility: catches a slipped digit
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_NAMESPACE = uuid5(NAMESPACE_URL, "https://anlao.example/staffing-report")


class InvalidStaffingReport(DomainError):
    """A figure is not a whole number in range, trained staff exceed caregivers, the period is
    malformed or in the future, or a correction changes nothing (detail names which)."""

    code = "invalid_staffing_report"


class AlreadyReported(DomainError):
    """This facility already reported this period: send a correction with a reason instead."""

    code = "staffing_already_reported"


def report_id(organisation_id: UUID, period: str) -> UUID:
    """The one report id of a facility and period: a second report cannot slip in beside it."""
    return uuid5(_NAMESPACE, f"{organisation_id}:{period}")


def period_index(period: str) -> int:
    """Months since year 0, so that periods can be counted back (12 up to and including)."""
    year, month = period.split("-")
    return int(year) * 12 + int(month) - 1


def period_of(index: int) -> str:
    """The "YYYY-MM" period of a month index (the inverse of `period_index`)."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def check_period(period: str, today: date) -> str:
    """A "YYYY-MM" month that has begun by `today` (the current month may be reported)."""
    if not isinstance(period, str) or not _PERIOD.match(period):
        raise InvalidStaffingReport("period")
    if period_index(period) > today.year * 12 + today.month - 1:
        raise InvalidStaffingReport("period_in_future", today=today.isoformat())
    return period


def check_figures(figures: dict[str, object]) -> dict[str, int]:
    """Whole numbers of people from 0 to MAX_COUNT; trained staff are among the caregivers."""
    clean: dict[str, int] = {}
    for field in FIGURES:
        value = figures.get(field)
        # bool is an int subclass: True must not count as one caregiver.
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
            raise InvalidStaffingReport(field, maximum=MAX_COUNT)
        clean[field] = value
    if clean["trained"] > clean["caregivers"]:
        raise InvalidStaffingReport("trained", caregivers=clean["caregivers"])
    return clean


class StaffingReport(AnlaoAggregate):
    """One facility's staffing figures for one month, with any corrections."""

    @classmethod
    def report(
        cls,
        *,
        organisation_id: UUID,
        period: str,
        district: str,
        kind: str,
        figures: dict[str, object],
        today: date,
        actor_id: str,
    ) -> StaffingReport:
        """The month's first and only report (later changes are corrections)."""
        return cls(
            report_id=report_id(organisation_id, check_period(period, today)),
            organisation_id=organisation_id,
            period=period,
            district=district,
            kind=kind,
            **check_figures(figures),
            actor_id=actor_id,
        )

    @staticmethod
    def create_id(report_id: UUID, **_: object) -> UUID:
        return report_id

    @event("Reported")
    def __init__(
        self,
        *,
        report_id: UUID,
        organisation_id: UUID,
        period: str,
        district: str,
        kind: str,
        caregivers: int,
        residents_or_clients: int,
        hires: int,
        departures: int,
        trained: int,
        actor_id: str,
    ) -> None:
        self.organisation_id = organisation_id
        self.period = period
        self.district = district
        self.kind = kind
        self.figures = {
            "caregivers": caregivers,
            "residents_or_clients": residents_or_clients,
            "hires": hires,
            "departures": departures,
            "trained": trained,
        }
        self.corrections = 0

    def correct(self, *, figures: dict[str, object], reason: str, actor_id: str) -> None:
        """Replace the month's figures, saying why; the first report stays in the history."""
        clean = check_figures(figures)
        if clean == self.figures:
            raise InvalidStaffingReport("unchanged")
        why = (reason or "").strip() if isinstance(reason, str) else ""
        if not why:
            raise ReasonRequired("reason")
        if len(why) > 500:
            raise InvalidStaffingReport("reason", limit=500)
        self._corrected(**clean, reason=why, actor_id=actor_id)

    @event("Corrected")
    def _corrected(
        self,
        caregivers: int,
        residents_or_clients: int,
        hires: int,
        departures: int,
        trained: int,
        reason: str,
        actor_id: str,
    ) -> None:
        self.figures = {
            "caregivers": caregivers,
            "residents_or_clients": residents_or_clients,
            "hires": hires,
            "departures": departures,
            "trained": trained,
        }
        self.corrections += 1
