"""How long a case may stay at one step before supervision lists it as stuck (in days)."""

from __future__ import annotations

from events.errors import DomainError
from events.home_care import CareStep
from events.meal import EnrolmentStep
from events.retrofit import Step

# Days a case may wait at each step, per programme; steps not listed have no limit (finished
# ones, and steps that are long by nature: a meal enrolment in service, home care in service).
DEFAULT_STEP_LIMITS: dict[str, dict[str, int]] = {
    "retrofit": {
        "submitted": 10,  # eligibility review
        "returned": 15,  # the family supplies information
        "approved": 15,  # the assessor visits
        "assessed": 10,  # the family confirms the plan
        "plan_confirmed": 10,  # a contractor is assigned
        "contractor_assigned": 15,  # works start
        "works_started": 30,  # works finish
        "works_completed": 10,  # acceptance inspection
        "rectification": 20,  # rectified and re-inspected
        "accepted": 30,  # the family answers the survey
    },
    "meal": {"submitted": 7, "returned": 15},
    "home_care": {
        "submitted": 10,
        "returned": 15,
        "assessor_assigned": 10,
        "assessed": 7,
        "approved": 7,  # a provider is assigned
    },
}


_STEPS = {
    "retrofit": set(Step.ALL),
    "meal": {v for k, v in vars(EnrolmentStep).items() if k.isupper() and isinstance(v, str)},
    "home_care": {v for k, v in vars(CareStep).items() if k.isupper() and isinstance(v, str)},
}


class InvalidStepLimits(DomainError):
    """ANLAO_STEP_LIMITS names an unknown programme or step, or a limit that is not 1-365."""

    code = "invalid_step_limits"


def step_limits(overrides: str = "") -> dict[str, dict[str, int]]:
    """The defaults with overrides like "retrofit.submitted=7,meal.submitted=5" applied."""
    limits = {programme: dict(steps) for programme, steps in DEFAULT_STEP_LIMITS.items()}
    for item in filter(None, (part.strip() for part in overrides.split(","))):
        name, _, days = item.partition("=")
        programme, _, step = name.strip().partition(".")
        if step not in _STEPS.get(programme, ()) or not days.strip().isdigit():
            raise InvalidStepLimits(item)
        if not 1 <= int(days) <= 365:
            raise InvalidStepLimits(item)
        limits[programme][step] = int(days)
    return limits
