"""A fund's ledger (资金台账): one source's money for one programme and year, every movement an
event, each chained to the one before by a hash, and the balances kept in order at every moment."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from events import clock
from events.base import AnlaoAggregate
from events.districts import district as known_district
from events.errors import DomainError
from events.ledger_chain import GENESIS, link_of

_NAMESPACE = uuid5(NAMESPACE_URL, "https://anlao.example/fund")

# 省级 / 市级 / 县级配套 / 福利彩票公益金 / 社会资本或捐赠
SOURCES = ("provincial", "municipal", "county", "lottery", "social")
# Local money that counts towards a provincial fund's matching requirement.
LOCAL_SOURCES = ("municipal", "county")
PROGRAMMES = ("retrofit", "meal", "home_care", "facility")
FEN = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000000")  # one movement above a billion yuan is a typing error


class Movement:
    """Kinds of movement; reversing corrections carry the kind they reverse."""

    RECEIVED = "received"  # 到账
    ALLOCATED = "allocated"  # 下达 (to a district, or a project in it)
    COMMITTED = "committed"  # 核定 (to a case or facility)
    DISBURSED = "disbursed"  # 拨付 (to a payee, with a voucher)
    RETURNED = "returned"  # 退回 (unspent money back to the source)

    ALL = (RECEIVED, ALLOCATED, COMMITTED, DISBURSED, RETURNED)
    BY_DISTRICT = (ALLOCATED, COMMITTED, DISBURSED)


class Target:
    """What a commitment pays for."""

    RETROFIT_CASE = "retrofit_case"  # a household's subsidy after a passed acceptance
    FACILITY = "facility"  # construction payment, or a canteen's meal subsidy

    ALL = (RETROFIT_CASE, FACILITY)


class InvalidFund(DomainError):
    """A fund's source, programme, year, title or matching ratio is missing or malformed
    (detail names the field)."""

    code = "invalid_fund"


class InvalidMovement(DomainError):
    """A movement's amount, district, payee, voucher or document is missing or malformed
    (detail names the field)."""

    code = "invalid_movement"


class InsufficientFunds(DomainError):
    """The movement would break disbursed <= committed <= allocated <= received (net of
    returns) for the fund, a district or one commitment; params carry the figures."""

    code = "insufficient_funds"


class CorrectionRefused(DomainError):
    """Only an original movement of this fund, not yet reversed, can be reversed; a commitment
    only once nothing is paid against it (detail: not_found, is_reversal, already_reversed,
    has_payments)."""

    code = "correction_refused"


class CommitmentNotOpen(DomainError):
    """A payment names a commitment that is not open in this fund (unknown, reversed or paid)."""

    code = "commitment_not_open"


def yuan(value: object, field: str = "amount") -> Decimal:
    """An amount in yuan to the fen: exact decimals only (never floats), positive, sane."""
    if isinstance(value, float | bool):
        raise InvalidMovement(field)
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise InvalidMovement(field) from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise InvalidMovement(field)
    if amount != amount.quantize(FEN):
        raise InvalidMovement(field)
    return amount.quantize(FEN)


def fund_id_for(source: str, programme: str, year: int) -> UUID:
    """One fund per source, programme and year: opening it twice names the same fund."""
    return uuid5(_NAMESPACE, f"{source}:{programme}:{year}")


def _text(value: object, field: str, *, required: bool = True, limit: int = 500) -> str:
    text = str(value or "").strip()
    if (required and not text) or len(text) > limit:
        raise InvalidMovement(field)
    return text


def _zeros(kinds: tuple[str, ...]) -> dict[str, Decimal]:
    return {k: Decimal("0.00") for k in kinds}


class Fund(AnlaoAggregate):
    """One fund's ledger. State is only running totals and open commitments, so snapshots stay
    small however long the history grows."""

    # Fund events are frozen at class version 1: no upcasting. A link hashes the fields an event
    # decodes to (events/ledger_chain.py recomputes it from vars(event)), so an upcast that added
    # or changed a field would make every stored link fail to verify and `anlao ledger verify`
    # would report tampering. If a fund event must ever change, first make the chain hash the
    # stored form (the fields as written, before upcasting), then add the new version.
    # tests/reliability/test_upcasting.py checks stored version-1 fund events still verify.

    class Opened(AnlaoAggregate.Created):
        source: str
        programme: str
        year: int
        title: str
        matching_ratio: Decimal
        actor_id: str
        prev_link: str
        link: str

    class MovementRecorded(AnlaoAggregate.Event):
        kind: str
        amount: Decimal  # negative on a reversing correction
        district: str
        project: str
        target_kind: str
        target_id: str
        person_id: str
        items: list[str]
        commitment: int  # the commitment a payment is made against (its version)
        payee: str
        voucher: str
        document: str
        reason: str
        reverses: int  # the version of the movement this one reverses, or 0
        actor_id: str
        prev_link: str
        link: str

        def apply(self, aggregate: Fund) -> None:
            aggregate._book(self)

    @classmethod
    def open(
        cls,
        *,
        source: str,
        programme: str,
        year: int,
        title: str,
        matching_ratio: Decimal,
        actor_id: str,
    ) -> Fund:
        """Open a fund; a provincial fund may require local matching at a ratio (1 = 1:1)."""
        if source not in SOURCES:
            raise InvalidFund("source")
        if programme not in PROGRAMMES:
            raise InvalidFund("programme")
        if not isinstance(year, int) or not 2000 <= year <= 2100:
            raise InvalidFund("year")
        if not isinstance(matching_ratio, Decimal) or not 0 <= matching_ratio <= 10:
            raise InvalidFund("matching_ratio")
        if matching_ratio and source != "provincial":
            raise InvalidFund("matching_ratio")
        fields: dict[str, Any] = {
            "source": source,
            "programme": programme,
            "year": year,
            "title": _text(title, "title", limit=100),
            "matching_ratio": matching_ratio,
            "actor_id": actor_id,
            "prev_link": GENESIS,
        }
        fund_id = fund_id_for(source, programme, year)
        now = clock.now()
        link = link_of(cls.Opened.__name__, fund_id, cls.INITIAL_VERSION, now, fields)
        return cls._create(cls.Opened, id=fund_id, timestamp=now, link=link, **fields)

    def __init__(
        self,
        *,
        source: str,
        programme: str,
        year: int,
        title: str,
        matching_ratio: Decimal,
        actor_id: str,
        prev_link: str,
        link: str,
    ) -> None:
        self.source = source
        self.programme = programme
        self.year = year
        self.title = title
        self.matching_ratio = matching_ratio
        self.head = link
        self.totals = _zeros(Movement.ALL)
        self.districts: dict[str, dict[str, Decimal]] = {}
        # commitment version (as text, for snapshots) -> [district, amount not yet paid]
        self.open_commitments: dict[str, list[Any]] = {}
        self.reversed: dict[str, int] = {}  # original version -> version of its reversal

    # -- balances -----------------------------------------------------------------------
    @property
    def available(self) -> Decimal:
        """Received, net of returns, not yet allocated."""
        t = self.totals
        return t[Movement.RECEIVED] - t[Movement.RETURNED] - t[Movement.ALLOCATED]

    def district_totals(self, district: str) -> dict[str, Decimal]:
        """Allocated, committed and disbursed in one district."""
        return dict(self.districts.get(district) or _zeros(Movement.BY_DISTRICT))

    def _check_after(self, kind: str, district: str, delta: Decimal) -> None:
        totals = dict(self.totals)
        totals[kind] += delta
        net = totals[Movement.RECEIVED] - totals[Movement.RETURNED]
        _in_order("fund", delta, ("received", net), *_chain(totals))
        if district and kind in Movement.BY_DISTRICT:
            local = self.district_totals(district)
            local[kind] += delta
            _in_order(district, delta, *_chain(local))

    # -- commands -----------------------------------------------------------------------
    def receive(self, *, amount: Decimal, document: str, reason: str, actor_id: str) -> int:
        """Money arrived from the source (到账), with the document that sent it."""
        return self._record(
            Movement.RECEIVED, amount, document=_text(document, "document"), reason=reason,
            actor_id=actor_id,
        )  # fmt: skip

    def allocate(
        self,
        *,
        amount: Decimal,
        district: str,
        project: str = "",
        document: str,
        reason: str,
        actor_id: str,
    ) -> int:
        """Allocate received money to a district, or a project within it (下达)."""
        if known_district(district) is None:
            raise InvalidMovement("district")
        return self._record(
            Movement.ALLOCATED, amount, district=district, project=_text(project, "project",
            required=False, limit=64), document=_text(document, "document"), reason=reason,
            actor_id=actor_id,
        )  # fmt: skip

    def commit(
        self,
        *,
        amount: Decimal,
        district: str,
        target_kind: str,
        target_id: str,
        person_id: str = "",
        items: list[str] | None = None,
        document: str,
        reason: str,
        actor_id: str,
    ) -> int:
        """Commit part of a district's allocation to one case or facility (核定)."""
        if known_district(district) is None:
            raise InvalidMovement("district")
        if target_kind not in Target.ALL or not target_id:
            raise InvalidMovement("target")
        return self._record(
            Movement.COMMITTED, amount, district=district, target_kind=target_kind,
            target_id=target_id, person_id=person_id, items=sorted(items or []),
            document=_text(document, "document"), reason=reason, actor_id=actor_id,
        )  # fmt: skip

    def disburse(
        self,
        *,
        commitment: MovementRecorded,
        amount: Decimal,
        payee: str,
        voucher: str,
        reason: str,
        actor_id: str,
    ) -> int:
        """Pay a payee against an open commitment of this fund, with the voucher number (拨付)."""
        seq = commitment.originator_version
        entry = self.open_commitments.get(str(seq))
        if commitment.originator_id != self.id or commitment.kind != Movement.COMMITTED:
            entry = None
        if entry is None or commitment.reverses:
            raise CommitmentNotOpen(str(seq), commitment=seq)
        amount = yuan(amount)
        _in_order(f"#{seq}", amount, ("committed", entry[1]), ("disbursed", amount))
        return self._record(
            Movement.DISBURSED, amount, district=entry[0], commitment=seq,
            target_kind=commitment.target_kind, target_id=commitment.target_id,
            person_id=commitment.person_id, items=list(commitment.items),
            payee=_text(payee, "payee", limit=100), voucher=_text(voucher, "voucher", limit=40),
            reason=reason, actor_id=actor_id,
        )  # fmt: skip

    def return_to_source(
        self, *, amount: Decimal, document: str, reason: str, actor_id: str
    ) -> int:
        """Send unallocated money back to its source (退回)."""
        return self._record(
            Movement.RETURNED, amount, document=_text(document, "document"), reason=reason,
            actor_id=actor_id,
        )  # fmt: skip

    def reverse(self, *, original: MovementRecorded, reason: str, actor_id: str) -> int:
        """Correct a mistaken movement by a reversing entry (红字冲销); nothing is ever edited."""
        if original.originator_id != self.id or original.originator_version > self.version:
            raise CorrectionRefused("not_found")
        why = _text(reason, "reason")  # asked first: a correction always says why
        if original.reverses:
            raise CorrectionRefused("is_reversal")
        if str(original.originator_version) in self.reversed:
            raise CorrectionRefused("already_reversed")
        if original.kind == Movement.COMMITTED:
            entry = self.open_commitments.get(str(original.originator_version))
            if entry is None or entry[1] != original.amount:
                raise CorrectionRefused("has_payments")
        self._check_after(original.kind, original.district, -original.amount)
        return self._trigger(
            kind=original.kind, amount=-original.amount, district=original.district,
            project=original.project, target_kind=original.target_kind,
            target_id=original.target_id, person_id=original.person_id,
            items=list(original.items), commitment=original.commitment, payee=original.payee,
            voucher=original.voucher, document=original.document,
            reason=why, reverses=original.originator_version,
            actor_id=actor_id,
        )  # fmt: skip

    # -- recording ----------------------------------------------------------------------
    def _record(self, kind: str, amount: Decimal, *, reason: str, **fields: Any) -> int:
        amount = yuan(amount)
        self._check_after(kind, fields.get("district", ""), amount)
        values: dict[str, Any] = {
            "district": "", "project": "", "target_kind": "", "target_id": "",
            "person_id": "", "items": [], "commitment": 0, "payee": "", "voucher": "",
            "document": "", "reverses": 0,
        }  # fmt: skip
        values.update(fields)
        return self._trigger(
            kind=kind, amount=amount, reason=_text(reason, "reason", required=False), **values
        )

    def _trigger(self, **fields: Any) -> int:
        # Recording time never runs backwards within a fund, so "as at" cuts are prefixes.
        now = max(clock.now(), self.modified_on)
        version = self.version + 1
        fields["prev_link"] = self.head
        link = link_of(self.MovementRecorded.__name__, self.id, version, now, fields)
        self.trigger_event(self.MovementRecorded, timestamp=now, link=link, **fields)
        return version

    def _book(self, e: MovementRecorded) -> None:
        self.totals[e.kind] += e.amount
        if e.district and e.kind in Movement.BY_DISTRICT:
            if e.district not in self.districts:
                self.districts[e.district] = _zeros(Movement.BY_DISTRICT)
            self.districts[e.district][e.kind] += e.amount
        if e.kind == Movement.COMMITTED:
            self._book_commitment(e)
        elif e.kind == Movement.DISBURSED:
            key = str(e.commitment)
            entry = self.open_commitments.get(key) or [e.district, Decimal("0.00")]
            entry[1] -= e.amount
            if entry[1]:
                self.open_commitments[key] = entry
            else:
                self.open_commitments.pop(key, None)
        if e.reverses:
            self.reversed[str(e.reverses)] = e.originator_version
        self.head = e.link

    def _book_commitment(self, e: MovementRecorded) -> None:
        if e.reverses:
            self.open_commitments.pop(str(e.reverses), None)
        else:
            self.open_commitments[str(e.originator_version)] = [e.district, e.amount]


def _chain(totals: dict[str, Decimal]) -> list[tuple[str, Decimal]]:
    return [(k, totals[k]) for k in Movement.BY_DISTRICT]


def _in_order(scope: str, delta: Decimal, *chain: tuple[str, Decimal]) -> None:
    """Each figure must stay within the one before it; the refusal carries the numbers."""
    for (upper, upper_amount), (lower, lower_amount) in pairwise(chain):
        if lower_amount > upper_amount:
            # Only the changed figure can break the order, so before the change the room was:
            available = max(upper_amount - lower_amount + abs(delta), Decimal("0.00"))
            raise InsufficientFunds(
                scope, scope=scope, upper=upper, upper_amount=upper_amount, lower=lower,
                lower_amount=lower_amount, available=available, requested=abs(delta),
            )  # fmt: skip


def movement_time(event: Any) -> datetime:
    """When a movement was recorded (the moment "as at" compares with)."""
    return event.timestamp
