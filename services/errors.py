"""Service-level failures: one type per kind, translated into messages by the portal."""

from __future__ import annotations


class ServiceError(Exception):
    """A command was refused before anything was written."""

    code = "service_error"


class StaleCase(ServiceError):
    """Someone changed the case after the form was rendered; nothing was overwritten."""

    code = "stale_case"

    def __init__(self, case_id: object, expected: int, current: int) -> None:
        super().__init__(f"case {case_id} is at version {current}, form had {expected}")
        self.case_id = case_id
        self.expected = expected
        self.current = current


class CaseNotFound(ServiceError):
    """No such case, or not one this actor may see (the two look the same on purpose)."""

    code = "case_not_found"


class NotPermitted(ServiceError):
    """The actor's role or scope does not allow this command on this case."""

    code = "not_permitted"


class AccountExists(ServiceError):
    """An account already uses this mobile number or login name."""

    code = "account_exists"


class InvalidAccount(ServiceError):
    """An account field is missing or malformed (the detail names which)."""

    code = "invalid_account"

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class StorageUnavailable(ServiceError):
    """The database could not be reached or written; nothing was recorded."""

    code = "storage_unavailable"


class FundNotFound(ServiceError):
    """No fund has this id."""

    code = "fund_not_found"


class FundExists(ServiceError):
    """The fund for this source, programme and year is already open."""

    code = "fund_exists"


class FundBusy(ServiceError):
    """Other movements kept taking the fund's next place; nothing was recorded, try again."""

    code = "fund_busy"
