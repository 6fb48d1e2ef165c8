"""The double-subsidy guard: which retrofit items one elder has been subsidised for, whichever
fund or programme paid, so the same item is not paid twice within the checklist's period."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from events.base import AnlaoAggregate
from events.errors import DomainError

_NAMESPACE = uuid5(NAMESPACE_URL, "https://anlao.example/elder-subsidies")


class DoubleSubsidy(DomainError):
    """The elder already had a subsidy for these items from another case or facility within
    the period (params items, existing: item -> the earlier claim)."""

    code = "double_subsidy"


def claims_id_for(person_id: UUID | str) -> UUID:
    """One guard per elder (the person id is opaque: no personal data in the id)."""
    return uuid5(_NAMESPACE, str(person_id))


def _within(claimed_on: str, on: date, period_years: int) -> bool:
    start = date.fromisoformat(claimed_on)
    try:
        until = start.replace(year=start.year + period_years)
    except ValueError:  # 29 February
        until = start.replace(year=start.year + period_years, day=28)
    return on < until


class ElderSubsidies(AnlaoAggregate):
    """Every item claim for one elder; concurrent commitments for the same elder collide on
    this aggregate's version, so two funds cannot both pay for one item."""

    @staticmethod
    def create_id(person_id: str, **_: Any) -> UUID:
        return claims_id_for(person_id)

    @event("Opened")
    def __init__(self, *, person_id: str) -> None:
        self.person_id = person_id
        self.claims: dict[str, dict[str, Any]] = {}  # item code -> the claim that holds it

    def conflicts(self, items: list[str], target_id: str, on: date, period_years: int) -> dict:
        """Items already claimed by another target within the period, with those claims."""
        return {
            item: claim
            for item in items
            if (claim := self.claims.get(item))
            and claim["target_id"] != target_id
            and _within(claim["on"], on, period_years)
        }

    def claim(
        self,
        *,
        items: list[str],
        target_id: str,
        fund_id: str,
        movement: int,
        on: date,
        period_years: int,
        actor_id: str,
    ) -> None:
        """Hold these items for this target; refused where another target holds one."""
        found = self.conflicts(items, target_id, on, period_years)
        if found:
            raise DoubleSubsidy(",".join(sorted(found)), items=sorted(found), existing=found)
        new = sorted(i for i in items if self.claims.get(i, {}).get("target_id") != target_id)
        if new:
            self._claimed(
                items=new, target_id=target_id, fund_id=fund_id, movement=movement,
                on=on.isoformat(), actor_id=actor_id,
            )  # fmt: skip

    @event("ItemsClaimed")
    def _claimed(
        self, items: list[str], target_id: str, fund_id: str, movement: int, on: str, actor_id: str
    ) -> None:
        for item in items:
            self.claims[item] = {
                "target_id": target_id, "fund_id": fund_id, "movement": movement, "on": on
            }  # fmt: skip

    @event("DoubleSubsidyRefused")
    def flag_attempt(
        self, *, items: list[str], target_id: str, fund_id: str, held_by: list[str], actor_id: str
    ) -> None:
        """Keep a record of a refused second subsidy, for auditors to follow up."""

    def release(self, *, target_id: str, actor_id: str) -> None:
        """A reversed commitment frees the items its target held."""
        items = sorted(i for i, c in self.claims.items() if c["target_id"] == target_id)
        if items:
            self._released(items=items, target_id=target_id, actor_id=actor_id)

    @event("ClaimsReleased")
    def _released(self, items: list[str], target_id: str, actor_id: str) -> None:
        for item in items:
            self.claims.pop(item, None)
