"""Auditors' replay of a fund from its event history: balances and movements as at any moment,
and the hash chain checked link by link. Nothing here reads a table that could be edited."""

from __future__ import annotations

import gc
import multiprocessing
import os
from bisect import bisect_right
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from events.fund import FEN, LOCAL_SOURCES, Fund, Movement
from events.ledger_chain import GENESIS, recompute
from services.errors import FundNotFound
from services.ledger import LedgerService

PAGE = 2_000  # stored events read per query while walking a whole fund (small pages keep the
# garbage collector from scanning many live events: a tenth faster than 10,000)
# From this many events, verification walks a fund in parallel segments (a worker process
# costs about a second to start, the time to check some 50,000 events).
PARALLEL_FROM = 100_000
MAX_VERSION = 2**62  # "to the end" for the last segment (stored versions are 64-bit integers)
# Failures of an event found before its prev_link is looked at (the order of a single walk).
_BEFORE_LINK = ("unreadable", "content_changed")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class FundBalance:
    """A fund's balances after its movements up to `version` (0: it did not exist yet)."""

    fund_id: UUID
    source: str
    programme: str
    year: int
    title: str
    matching_ratio: Decimal
    version: int
    recorded_at: datetime | None
    totals: dict[str, Decimal]
    available: Decimal
    districts: dict[str, dict[str, Decimal]]
    head: str


@dataclass(frozen=True)
class LedgerLine:
    """One movement as recorded: what, how much, where, for whom, who, when, why, on what."""

    fund_id: UUID
    seq: int
    recorded_at: datetime
    kind: str
    amount: Decimal
    district: str
    project: str
    target_kind: str
    target_id: str
    items: tuple[str, ...]
    commitment: int
    payee: str
    voucher: str
    document: str
    reason: str
    reverses: int
    actor_id: str
    link: str


@dataclass(frozen=True)
class ChainCheck:
    """The result of recomputing a fund's chain: where it first breaks, if it does."""

    fund_id: UUID
    checked: int
    head: str
    broken_at: int | None = None
    problem: str = ""  # content_changed, link_broken, missing_event, unreadable, snapshot_differs
    snapshots_checked: int = 0

    @property
    def intact(self) -> bool:
        """True when every link, version and snapshot agrees with the events."""
        return self.broken_at is None


def line_of(event: Fund.MovementRecorded) -> LedgerLine:
    """A movement event as a plain ledger line."""
    return LedgerLine(
        fund_id=event.originator_id, seq=event.originator_version,
        recorded_at=event.timestamp, kind=event.kind, amount=event.amount,
        district=event.district, project=event.project, target_kind=event.target_kind,
        target_id=event.target_id, items=tuple(event.items), commitment=event.commitment,
        payee=event.payee, voucher=event.voucher, document=event.document,
        reason=event.reason, reverses=event.reverses, actor_id=event.actor_id, link=event.link,
    )  # fmt: skip


def version_at(ledger: LedgerService, fund_id: UUID, moment: datetime) -> int:
    """The last version recorded at or before `moment` (times never run backwards in a fund),
    found by bisecting the stored events: about twenty reads for a million movements."""
    last = _last_version(ledger, fund_id)
    if _time_of(ledger, fund_id, last) <= moment:
        return last
    low, high = 0, last  # invariant: time(low) <= moment < time(high); version 0 is "before"
    while high - low > 1:
        middle = (low + high) // 2
        if _time_of(ledger, fund_id, middle) <= moment:
            low = middle
        else:
            high = middle
    return low


def balance_at(ledger: LedgerService, fund_id: UUID, moment: datetime | None) -> FundBalance:
    """The fund's balances as they stood at `moment` (now when None)."""
    version = None if moment is None else version_at(ledger, fund_id, moment)
    if version == 0:
        opened = ledger.fund(fund_id, version=1)
        return _balance(opened, version=0, empty=True)
    return _balance(ledger.fund(fund_id, version=version), version=None, empty=False)


def lines_up_to(
    ledger: LedgerService, fund_id: UUID, version: int, *, before: int | None = None, limit: int
) -> list[LedgerLine]:
    """Movements up to `version`, newest first, one page below `before` (keyset by version)."""
    upper = version if before is None else min(version, before - 1)
    if upper < 2:
        return []
    events = ledger.events.get(fund_id, gt=1, lte=upper, desc=True, limit=limit)
    return [line_of(e) for e in events if isinstance(e, Fund.MovementRecorded)]


def lines_for(ledger: LedgerService, keys: list[tuple[UUID, int]]) -> list[LedgerLine]:
    """Movements named by (fund, version), read from the event history (an index found them)."""
    return [line_of(ledger.movement(fund_id, seq)) for fund_id, seq in keys]


def fund_ids(ledger: LedgerService) -> list[UUID]:
    """Every fund ever opened, from the event log itself (the database filters by topic)."""
    topic = get_topic(Fund.Opened)
    found: list[UUID] = []
    start = 0
    while True:
        batch = ledger.recorder.select_notifications(
            start=start, limit=PAGE, topics=[topic], inclusive_of_start=False
        )
        found.extend(n.originator_id for n in batch)
        if len(batch) < PAGE:
            return found
        start = batch[-1].id


def verify(ledger: LedgerService, fund_id: UUID, *, segments: int | None = None) -> ChainCheck:
    """Recompute every link of the fund from its stored events, replay the balances, and check
    each snapshot against the replay; the first failure is named by its version.

    A long fund is walked in segments cut at snapshots, each in a worker process of its own
    (`segments`; by default one per CPU from PARALLEL_FROM events, else one walk here). Each
    segment replays from the snapshot that ends the one before, which that segment compares
    with its own replay, so the result is the same as one walk from the first event."""
    snapshots = _snapshot_states(ledger, fund_id)
    last = _last_version(ledger, fund_id)
    if segments is None:
        segments = _cpus() if last >= PARALLEL_FROM else 1
    cuts = _cuts(last, sorted(snapshots), segments)
    walks = _walk_segments(ledger, fund_id, cuts)
    return _joined(fund_id, walks, snapshots)


@dataclass(frozen=True)
class _Walk:
    """One segment's walk: where its events began and ended, and its first failure if any."""

    first_seen: int | None  # version of its first stored event (None: it had none)
    first_prev: str  # that event's prev_link, checked against the segment before by the caller
    last_seen: int
    head: str
    checked: int
    compared: int
    broken_at: int | None = None
    problem: str = ""


def _cuts(last: int, snapshot_versions: list[int], segments: int) -> list[tuple[int, int]]:
    """(first, last) version ranges of about equal length; each one after the first starts
    just after a snapshot (the state it replays from)."""
    bounds = [0]
    for n in range(1, segments):
        below = bisect_right(snapshot_versions, last * n // segments)
        if below and snapshot_versions[below - 1] > bounds[-1]:
            bounds.append(snapshot_versions[below - 1])
    return [(b + 1, e) for b, e in pairwise([*bounds, MAX_VERSION])]


def _walk_segments(
    ledger: LedgerService, fund_id: UUID, cuts: list[tuple[int, int]]
) -> list[_Walk]:
    if len(cuts) == 1:
        return [_walk(ledger, fund_id, *cuts[0])]
    # Spawned, not forked: a forked child would share the parent's database connections.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(cuts), mp_context=context) as pool:
        env = _worker_env(ledger)
        walks = [pool.submit(_walk_apart, type(ledger), env, fund_id, *cut) for cut in cuts]
        return [walk.result() for walk in walks]


def _worker_env(ledger: LedgerService) -> dict[str, str]:
    """The ledger's own store settings, for a worker that reads one segment: one connection,
    and no table creation (two processes creating tables at once race on PostgreSQL)."""
    prefix = ledger.name.upper()
    return {
        **ledger.env,
        f"{prefix}_CREATE_TABLE": "n",
        f"{prefix}_POSTGRES_POOL_SIZE": "1",
        f"{prefix}_POSTGRES_MAX_OVERFLOW": "0",
    }


def _walk_apart(
    service: type[LedgerService], env: dict[str, str], fund_id: UUID, first: int, last: int
) -> _Walk:
    """A segment walked in a worker process, on its own connection to the same store. The
    worker lives for this walk only, so the cyclic garbage collector is off: it found nothing
    to free, yet rescanned every page of events kept alive while read (a sixth of the time)."""
    gc.disable()
    ledger = service(env)
    try:
        return _walk(ledger, fund_id, first, last)
    finally:
        ledger.close()


def _walk(ledger: LedgerService, fund_id: UUID, first: int, last: int) -> _Walk:
    """Check versions first..last: each event's link against its content, its prev_link against
    the event before (the first one's is left to the caller), and the snapshots in range."""
    fund, snapshots = _start(ledger, fund_id, first), _snapshot_states(ledger, fund_id, first, last)
    first_seen, first_prev, prev, expected, checked, compared = None, "", "", first, 0, 0

    def broken(version: int, problem: str) -> _Walk:
        seen = expected - 1
        return _Walk(first_seen or version, first_prev, seen, prev, checked, compared, version,
                     problem)  # fmt: skip

    for version, event, problem in _stored(ledger, fund_id, first - 1, last):
        if first_seen is None:
            first_seen, first_prev = version, event.prev_link if event is not None else ""
        if problem or version != expected:
            return broken(version, problem or "missing_event")
        if recompute(event) != event.link:
            return broken(version, "content_changed")
        if checked and event.prev_link != prev:
            return broken(version, "link_broken")
        fund = event.mutate(fund)
        snapshot = snapshots.get(version)
        if snapshot is not None:
            if snapshot != _state(fund):
                return broken(version, "snapshot_differs")
            compared += 1
        prev, expected, checked = event.link, version + 1, checked + 1
    return _Walk(first_seen, first_prev, expected - 1, prev, checked, compared)


def _joined(fund_id: UUID, walks: list[_Walk], snapshots: dict[int, Any]) -> ChainCheck:
    """The segments' walks read as one walk from the first event: the first failure wins, and
    each segment's first event must follow the last event of the one before."""
    prev, expected, checked, compared = GENESIS, 1, 0, 0
    for walk in walks:
        if walk.first_seen is None:
            continue
        if walk.first_seen != expected:
            return _broken(fund_id, checked, prev, walk.first_seen, "missing_event")
        if walk.broken_at == walk.first_seen and walk.problem in _BEFORE_LINK:
            return _broken(fund_id, checked, prev, walk.first_seen, walk.problem)
        if walk.first_prev != prev:
            return _broken(fund_id, checked, prev, walk.first_seen, "link_broken")
        if walk.broken_at is not None:
            head = walk.head if walk.checked else prev
            return _broken(fund_id, checked + walk.checked, head, walk.broken_at, walk.problem)
        prev, expected = walk.head, walk.last_seen + 1
        checked, compared = checked + walk.checked, compared + walk.compared
    if checked == 0:
        raise FundNotFound(fund_id)
    beyond = [v for v in snapshots if v >= expected]  # past the last event, or at no event
    if beyond:
        return _broken(fund_id, checked, prev, min(beyond), "snapshot_differs")
    return ChainCheck(fund_id, checked, prev, snapshots_checked=compared)


def _stored(
    ledger: LedgerService, fund_id: UUID, after: int, upto: int
) -> Iterator[tuple[int, Any, str]]:
    """Each stored event of the fund in order, decoded; an undecodable one is reported, not
    raised (an altered ciphertext or JSON is exactly what verification must name)."""
    for batch in _pages(ledger, fund_id, after, upto):
        for stored in batch:
            try:
                event = ledger.mapper.to_domain_event(stored)
            except Exception:  # any decoding failure is evidence of alteration, to be named
                yield stored.originator_version, None, "unreadable"
                return
            yield stored.originator_version, event, ""


def _pages(ledger: LedgerService, fund_id: UUID, after: int, upto: int) -> Iterator[list[Any]]:
    """The stored events after `after` up to `upto`, a page of versions at a time.

    Each query names its range of versions, not just where to start: asked for "the next
    10,000 after v" on a freshly loaded table, PostgreSQL collected and sorted every later
    event of the fund first, so the walk grew with the square of the fund (for a million
    events, 40 s of the 66 s verification took)."""
    while after < upto:
        batch = ledger.recorder.select_events(fund_id, gt=after, lte=min(after + PAGE, upto))
        if batch:
            yield batch
        if batch and batch[-1].originator_version == min(after + PAGE, upto):
            after = batch[-1].originator_version
            continue
        # The fund ends here, or versions are missing: find the next stored event, if any.
        seen = batch[-1].originator_version if batch else after
        following = ledger.recorder.select_events(fund_id, gt=seen, lte=upto, limit=1)
        if not following:
            return
        after = following[0].originator_version - 1


def _start(ledger: LedgerService, fund_id: UUID, first: int) -> Any:
    """The fund as the snapshot just before `first` holds it (nothing before the first event)."""
    if first == 1 or ledger.snapshots is None:
        return None
    found = list(ledger.snapshots.get(fund_id, gt=first - 2, lte=first - 1))
    return found[0].mutate(None) if found else None


def _snapshot_states(
    ledger: LedgerService, fund_id: UUID, first: int = 1, last: int | None = None
) -> dict[int, dict[str, Any]]:
    if ledger.snapshots is None:
        return {}
    found = ledger.snapshots.get(fund_id, gt=first - 1, lte=last)
    return {s.originator_version: dict(s.state) for s in found}


def _state(fund: Fund) -> dict[str, Any]:
    """The part of a fund's state a snapshot records (as the library takes it)."""
    state = dict(vars(fund))
    for private in ("_id", "_version", "_pending_events"):
        state.pop(private, None)
    return state


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not every platform can say which CPUs this process may use
        return os.cpu_count() or 1


def _broken(fund_id: UUID, checked: int, head: str, version: int, problem: str) -> ChainCheck:
    return ChainCheck(fund_id, checked, head, broken_at=version, problem=problem)


def _last_version(ledger: LedgerService, fund_id: UUID) -> int:
    found = ledger.recorder.select_events(fund_id, desc=True, limit=1)
    if not found:
        raise FundNotFound(fund_id)
    return found[0].originator_version


def _time_of(ledger: LedgerService, fund_id: UUID, version: int) -> datetime:
    stored = ledger.recorder.select_events(fund_id, gt=version - 1, lte=version)
    return ledger.mapper.to_domain_event(stored[0]).timestamp


def _balance(fund: Fund, *, version: int | None, empty: bool) -> FundBalance:
    zero = Decimal("0.00")
    return FundBalance(
        fund_id=fund.id, source=fund.source, programme=fund.programme, year=fund.year,
        title=fund.title, matching_ratio=fund.matching_ratio,
        version=fund.version if version is None else version,
        recorded_at=None if empty else fund.modified_on,
        totals={k: zero for k in Movement.ALL} if empty else dict(fund.totals),
        available=zero if empty else fund.available,
        districts={} if empty else {d: dict(v) for d, v in fund.districts.items()},
        head="" if empty else fund.head,
    )  # fmt: skip


@dataclass(frozen=True)
class MatchingLine:
    """Whether a district's local money keeps pace with a provincial fund's matching ratio."""

    programme: str
    year: int
    district: str
    ratio: Decimal
    provincial: Decimal  # provincial money allocated to the district
    required: Decimal  # local money the ratio asks for
    local: Decimal  # municipal and county money allocated to the district
    shortfall: Decimal

    @property
    def behind(self) -> bool:
        """True when the local share has fallen behind the ratio."""
        return self.shortfall > 0


def balances_at(ledger: LedgerService, moment: datetime | None) -> list[FundBalance]:
    """Every fund's balances as at `moment` (funds opened later are left out)."""
    found = [balance_at(ledger, fund_id, moment) for fund_id in fund_ids(ledger)]
    return [b for b in found if b.version > 0]


def matching_at(balances: list[FundBalance]) -> list[MatchingLine]:
    """Per programme, year and district: provincial allocations against the local matching
    they require (allocations, not receipts: what each district was given to spend)."""
    lines: list[MatchingLine] = []
    for fund in balances:
        if fund.source != "provincial" or not fund.matching_ratio:
            continue
        local = [
            b
            for b in balances
            if b.source in LOCAL_SOURCES and (b.programme, b.year) == (fund.programme, fund.year)
        ]
        for district, figures in sorted(fund.districts.items()):
            provincial = figures[Movement.ALLOCATED]
            required = (provincial * fund.matching_ratio).quantize(FEN)
            matched = sum(
                (b.districts.get(district, {}).get(Movement.ALLOCATED, ZERO) for b in local), ZERO
            )
            line = MatchingLine(
                programme=fund.programme, year=fund.year, district=district,
                ratio=fund.matching_ratio, provincial=provincial, required=required,
                local=matched, shortfall=max(required - matched, ZERO),
            )  # fmt: skip
            lines.append(line)
    return lines


def district_at(balances: list[FundBalance], district: str) -> list[tuple[FundBalance, dict]]:
    """Each fund that allocated money to the district, with the district's own figures."""
    return [(b, b.districts[district]) for b in balances if district in b.districts]
