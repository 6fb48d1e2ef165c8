"""Read models of the fund ledger; PROJECTIONS lists them for the projector."""

from __future__ import annotations

from projections.funds import Funds
from projections.ledger_movements import LedgerMovements
from projections.runner import Projection
from projections.subsidy_attempts import DoubleSubsidyAttempts

PROJECTIONS: list[Projection] = [Funds(), LedgerMovements(), DoubleSubsidyAttempts()]
