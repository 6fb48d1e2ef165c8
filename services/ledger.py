"""The fund ledger's application service: the only writer of fund movements (finance officers)."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from events import clock
from events.checklist import CURRENT_CHECKLIST_VERSION, checklist
from events.facility import FacilityProject, Kind
from events.fund import Fund, InvalidFund, Movement, Target, yuan
from events.retrofit import RetrofitCase
from events.roles import Actor, Role
from events.subsidy_claims import DoubleSubsidy, ElderSubsidies, claims_id_for
from services.application import AnlaoApplication
from services.errors import CaseNotFound, FundBusy, FundExists, FundNotFound, NotPermitted

# A fund is one long-lived aggregate: a snapshot every so many movements keeps loading it, and
# replaying it as at any date, to a bounded number of events whatever its age.
SNAPSHOT_INTERVAL = 500
# Movements in one fund race for its next version; a loser reloads and re-checks the balances,
# after a short random pause so that racing writers stop colliding in step.
MAX_ATTEMPTS = 10
BACKOFF_SECONDS = 0.004  # the longest first pause; doubles each time, about 4 s at most in all
# Which facilities each programme's fund may commit to.
FACILITY_KINDS = {
    "facility": Kind.BUILT,  # construction payments
    "meal": (Kind.CANTEEN,),  # canteens' meal subsidies
    "home_care": (Kind.HOME_CARE_PROVIDER,),  # purchased door-to-door care
}


class LedgerService(AnlaoApplication):
    """Funds and their movements; commits and payments of retrofit subsidies and facilities."""

    snapshotting_intervals = {Fund: SNAPSHOT_INTERVAL}  # noqa: RUF012 (the library's API)

    # -- funds ---------------------------------------------------------------------------------
    def open_fund(
        self,
        actor: Actor,
        *,
        source: str,
        programme: str,
        year: int | str,
        title: str,
        matching_ratio: Decimal | str = "0",
    ) -> UUID:
        """Open the fund for one source, programme and year (refused if it is already open)."""
        _require_finance(actor)
        fund = Fund.open(
            source=source, programme=programme, year=_year(year), title=title,
            matching_ratio=_ratio(matching_ratio), actor_id=actor.user_id,
        )  # fmt: skip
        if self._exists(fund.id):
            raise FundExists(fund.id)
        try:
            self.save(fund)
        except IntegrityError:
            raise FundExists(fund.id) from None
        return fund.id

    def fund(self, fund_id: UUID, *, version: int | None = None) -> Fund:
        """A fund as it stands (or stood at a version): from a snapshot and the events after it."""
        try:
            found = self.repository.get(fund_id, version=version)
        except AggregateNotFoundError:
            raise FundNotFound(fund_id) from None
        if not isinstance(found, Fund):
            raise FundNotFound(fund_id)
        return found

    # -- movements -----------------------------------------------------------------------------
    def receive(
        self, actor: Actor, fund_id: UUID, *, amount: object, document: str, reason: str = ""
    ) -> int:
        """Money arrived from the fund's source (到账)."""
        return self._on_fund(
            actor, fund_id,
            lambda f: f.receive(amount=yuan(amount), document=document, reason=reason,
                                actor_id=actor.user_id),
        )  # fmt: skip

    def allocate(
        self,
        actor: Actor,
        fund_id: UUID,
        *,
        amount: object,
        district: str,
        project: str = "",
        document: str,
        reason: str = "",
    ) -> int:
        """Allocate received money to a district, or a project within it (下达)."""
        return self._on_fund(
            actor, fund_id,
            lambda f: f.allocate(amount=yuan(amount), district=district, project=project,
                                 document=document, reason=reason, actor_id=actor.user_id),
        )  # fmt: skip

    def return_to_source(
        self, actor: Actor, fund_id: UUID, *, amount: object, document: str, reason: str
    ) -> int:
        """Send unallocated money back to the source (退回)."""
        return self._on_fund(
            actor, fund_id,
            lambda f: f.return_to_source(amount=yuan(amount), document=document, reason=reason,
                                         actor_id=actor.user_id),
        )  # fmt: skip

    def commit_retrofit_subsidy(
        self,
        actor: Actor,
        fund_id: UUID,
        case_id: UUID,
        *,
        amount: object,
        document: str,
        reason: str = "",
    ) -> int:
        """Commit (part of) a household's subsidy after a passed acceptance: never beyond the
        assessed, capped subsidy, and never for an item the elder was already subsidised for."""
        _require_finance(actor)
        value = yuan(amount)

        def attempt() -> int:
            fund = self._fund_for(fund_id, "retrofit")
            case = self._get(case_id, RetrofitCase)
            items = _subsidised_items(case)
            seq = fund.commit(
                amount=value, district=case.district, target_kind=Target.RETROFIT_CASE,
                target_id=str(case.id), person_id=str(case.person_id), items=items,
                document=document, reason=reason, actor_id=actor.user_id,
            )  # fmt: skip
            case.record_subsidy(
                kind=Movement.COMMITTED, amount=value, fund_id=str(fund.id), movement=seq,
                actor_id=actor.user_id,
            )  # fmt: skip
            claims = self._claims(case.person_id)
            self._claim(claims, actor, items, case, fund, seq)
            self.save(fund, case, claims)
            return seq

        return self._retrying(attempt)

    def commit_to_facility(
        self,
        actor: Actor,
        fund_id: UUID,
        facility_id: UUID,
        *,
        amount: object,
        document: str,
        reason: str = "",
    ) -> int:
        """Commit money to a facility: construction, a canteen's meal subsidy, purchased care."""
        _require_finance(actor)
        value = yuan(amount)

        def attempt() -> int:
            fund = self.fund(fund_id)
            facility = self._get(facility_id, FacilityProject)
            if facility.kind not in FACILITY_KINDS.get(fund.programme, ()):
                raise InvalidFund("target")
            seq = fund.commit(
                amount=value, district=facility.district, target_kind=Target.FACILITY,
                target_id=str(facility.id), document=document, reason=reason,
                actor_id=actor.user_id,
            )  # fmt: skip
            self.save(fund)
            return seq

        return self._retrying(attempt)

    def disburse(
        self,
        actor: Actor,
        fund_id: UUID,
        commitment: int,
        *,
        amount: object,
        payee: str,
        voucher: str,
        reason: str = "",
    ) -> int:
        """Pay a payee against a commitment, with the voucher number (拨付)."""
        _require_finance(actor)
        value = yuan(amount)

        def attempt() -> int:
            fund = self.fund(fund_id)
            committed = self.movement(fund_id, commitment)
            seq = fund.disburse(
                commitment=committed, amount=value, payee=payee, voucher=voucher,
                reason=reason, actor_id=actor.user_id,
            )  # fmt: skip
            touched = self._on_case(committed, Movement.DISBURSED, value, fund, seq, actor)
            self.save(fund, *touched)
            return seq

        return self._retrying(attempt)

    def reverse(self, actor: Actor, fund_id: UUID, seq: int, *, reason: str) -> int:
        """Correct a mistaken movement with a reversing entry (红字冲销); history stays whole."""
        _require_finance(actor)

        def attempt() -> int:
            fund = self.fund(fund_id)
            original = self.movement(fund_id, seq)
            new = fund.reverse(original=original, reason=reason, actor_id=actor.user_id)
            touched = self._on_case(original, original.kind, -original.amount, fund, new, actor)
            self.save(fund, *touched)
            return new

        return self._retrying(attempt)

    def movement(self, fund_id: UUID, seq: int) -> Fund.MovementRecorded:
        """One stored movement of a fund, read from the event history."""
        try:
            found = list(self.events.get(fund_id, gt=int(seq) - 1, lte=int(seq)))
        except (TypeError, ValueError):
            found = []
        if not found or not isinstance(found[0], Fund.MovementRecorded):
            raise CaseNotFound(f"{fund_id}#{seq}")
        return found[0]

    # -- helpers -------------------------------------------------------------------------------
    def _on_fund(self, actor: Actor, fund_id: UUID, change: Callable[[Fund], int]) -> int:
        _require_finance(actor)

        def attempt() -> int:
            fund = self.fund(fund_id)
            seq = change(fund)
            self.save(fund)
            return seq

        return self._retrying(attempt)

    def _retrying(self, attempt: Callable[[], int]) -> int:
        for tries in range(MAX_ATTEMPTS):
            try:
                return attempt()
            except IntegrityError:  # another movement took the version: reload, re-check, retry
                pause = BACKOFF_SECONDS * 2**tries
                time.sleep(random.uniform(0, pause))  # nosec B311 # retry jitter, not a secret
        raise FundBusy()

    def _fund_for(self, fund_id: UUID, programme: str) -> Fund:
        fund = self.fund(fund_id)
        if fund.programme != programme:
            raise InvalidFund("target")
        return fund

    def _get(self, aggregate_id: UUID, cls: type) -> Any:
        try:
            found = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise CaseNotFound(aggregate_id) from None
        if not isinstance(found, cls):
            raise CaseNotFound(aggregate_id)
        return found

    def _claims(self, person_id: UUID) -> ElderSubsidies:
        try:
            return self.repository.get(claims_id_for(person_id))
        except AggregateNotFoundError:
            return ElderSubsidies(person_id=str(person_id))

    def _claim(
        self,
        claims: ElderSubsidies,
        actor: Actor,
        items: list[str],
        case: RetrofitCase,
        fund: Fund,
        seq: int,
    ) -> None:
        period = checklist(_checklist_version(case)).period_years  # type: ignore[union-attr]
        try:
            claims.claim(
                items=items, target_id=str(case.id), fund_id=str(fund.id), movement=seq,
                on=clock.today(), period_years=period, actor_id=actor.user_id,
            )  # fmt: skip
        except DoubleSubsidy as refused:
            self._flag(claims, actor, refused, case, fund)
            raise

    def _flag(
        self,
        claims: ElderSubsidies,
        actor: Actor,
        refused: DoubleSubsidy,
        case: RetrofitCase,
        fund: Fund,
    ) -> None:
        """Keep the refused attempt on record for auditors (best effort: a lost race is
        retried by the caller, which flags it again)."""
        held_by = sorted({c["target_id"] for c in refused.params["existing"].values()})
        claims.flag_attempt(
            items=refused.params["items"], target_id=str(case.id), fund_id=str(fund.id),
            held_by=held_by, actor_id=actor.user_id,
        )  # fmt: skip
        with contextlib.suppress(IntegrityError):
            self.save(claims)

    def _on_case(
        self,
        movement: Fund.MovementRecorded,
        kind: str,
        amount: Decimal,
        fund: Fund,
        seq: int,
        actor: Actor,
    ) -> list[Any]:
        """A retrofit case keeps its committed and paid subsidy in step with the ledger."""
        if movement.target_kind != Target.RETROFIT_CASE or kind not in (
            Movement.COMMITTED,
            Movement.DISBURSED,
        ):
            return []
        case = self._get(UUID(movement.target_id), RetrofitCase)
        case.record_subsidy(
            kind=kind, amount=amount, fund_id=str(fund.id), movement=seq, actor_id=actor.user_id
        )
        if kind == Movement.COMMITTED and case.subsidy_committed == 0:
            claims = self._claims(case.person_id)
            claims.release(target_id=str(case.id), actor_id=actor.user_id)
            return [case, claims]
        return [case]


def _require_finance(actor: Actor) -> None:
    if actor.role != Role.FINANCE:
        raise NotPermitted("ledger")


def _year(value: int | str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise InvalidFund("year") from None


def _ratio(value: Decimal | str) -> Decimal:
    try:
        ratio = Decimal(str(value).strip() or "0")
    except InvalidOperation:
        raise InvalidFund("matching_ratio") from None
    if not ratio.is_finite():
        raise InvalidFund("matching_ratio")
    return ratio


def _checklist_version(case: RetrofitCase) -> str:
    return (case.assessment or {}).get("checklist_version", CURRENT_CHECKLIST_VERSION)


def _subsidised_items(case: RetrofitCase) -> list[str]:
    """The basic items the subsidy pays for, as the assessment priced them."""
    return sorted(i["code"] for i in (case.assessment or {}).get("items", []) if i.get("basic"))
