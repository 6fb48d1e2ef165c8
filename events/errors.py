"""Domain errors: one type per kind of refusal, each with a stable code the portal translates."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the programme refused a command; nothing was recorded."""

    code = "domain_error"

    def __init__(self, detail: str = "", **params: Any) -> None:
        super().__init__(f"{self.code}: {detail}" if detail else self.code)
        self.detail = detail
        self.params = params


class IllegalTransition(DomainError):
    """The case is not at a step where this action is allowed."""

    code = "illegal_transition"

    def __init__(self, action: str, step: str) -> None:
        super().__init__(f"{action} not allowed at step {step}", action=action, step=step)
        self.action = action
        self.step = step


class InvalidNationalId(DomainError):
    """The identity number fails GB 11643 (length, characters, check digit or birth date)."""

    code = "invalid_national_id"


class NotOldEnough(DomainError):
    """The elder is under the programme's minimum age."""

    code = "not_old_enough"


class InvalidApplication(DomainError):
    """An application answer is missing or out of range (detail names the field)."""

    code = "invalid_application"


class InvalidAssessment(DomainError):
    """An assessment names unknown items, impossible quantities or prices."""

    code = "invalid_assessment"


class InvalidAcceptance(DomainError):
    """An acceptance check does not cover exactly the planned items."""

    code = "invalid_acceptance"


class InvalidSurvey(DomainError):
    """A survey answer is missing or not on the 1-5 scale."""

    code = "invalid_survey"


class ReasonRequired(DomainError):
    """Refusals, returns and withdrawals must say why, for the family to read."""

    code = "reason_required"


class SubsidyNotDue(DomainError):
    """A retrofit subsidy is committed only after a passed acceptance, and never beyond the
    assessed subsidy (detail: acceptance, exceeds; params subsidy, committed, requested)."""

    code = "subsidy_not_due"
