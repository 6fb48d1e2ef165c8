"""Who may do what: the roles of the domain guide, and the actor a command acts for."""

from __future__ import annotations

from dataclasses import dataclass


class Role:
    """Role names as stored on accounts and in sessions."""

    FAMILY = "family"
    COMMUNITY_WORKER = "community_worker"
    CASEWORKER = "caseworker"
    ASSESSOR = "assessor"
    INSPECTOR = "inspector"
    PROVIDER = "provider"
    FINANCE = "finance"
    AUDITOR = "auditor"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    ALL = (
        FAMILY,
        COMMUNITY_WORKER,
        CASEWORKER,
        ASSESSOR,
        INSPECTOR,
        PROVIDER,
        FINANCE,
        AUDITOR,
        SUPERVISOR,
        ADMIN,
    )
    STAFF = ALL[1:]
    # Roles whose work needs the full ID number / phone number rather than masked ones.
    SEES_FULL_ID_NUMBER = (COMMUNITY_WORKER, CASEWORKER)
    SEES_FULL_PHONE = (COMMUNITY_WORKER, CASEWORKER, ASSESSOR, INSPECTOR, PROVIDER)


@dataclass(frozen=True)
class Actor:
    """The signed-in person a command or query acts for, with the scope of their role."""

    user_id: str
    role: str
    district: str = ""
    community: str = ""
    facility_id: str = ""  # providers: the one facility or organisation they act for
