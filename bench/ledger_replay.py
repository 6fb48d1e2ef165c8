"""How fast an auditor replays one long fund: the whole chain verified, and balances as at a date.

    python -m bench.ledger_replay [--movements N] [--database-url URL]

Seeds one fund with N movements spread over a year (receipts, allocations to the four
districts, commitments to cases and facilities, payments against them, a few returns and
reversing corrections) through the real Fund aggregate, saved by LedgerService in batches (the
library snapshots every 500 events as it saves). Then times, on a fresh SQLite file or a fresh
PostgreSQL schema: reading and decoding every event (the floor), `verify` (every link
recomputed, balances replayed, snapshots compared) in one process and as it runs by default
(parallel for a long fund), `balance_at` for random moments (a few checked against a replay
without snapshots), the newest page of the ledger as at those moments, and loading the fund.
Wall-clock and CPU seconds are both shown: on a shared machine the CPU column is the steadier.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from bench.cli import command_line, write_figures
from bench.seeding import bench_runtime
from events import clock
from events.districts import DISTRICTS
from events.fund import Fund, Movement, Target
from services.ledger import SNAPSHOT_INTERVAL, LedgerService
from services.ledger_history import (
    PAGE,
    PARALLEL_FROM,
    balance_at,
    lines_up_to,
    verify,
    version_at,
)

ACTOR = "bench-finance"
YEAR = 2025
START = datetime(YEAR, 1, 1, 8, 0, tzinfo=clock.CITY_TZ)
SPAN = timedelta(days=364, hours=10)
RECEIPT = Decimal("20000000.00")  # a provincial tranche
ALLOCATION = Decimal("2000000.00")  # a district's share of it
REVERSE_EVERY = 1_500  # one mistaken commitment or payment in so many movements
RETURN_EVERY = 100_003  # unspent money sent back now and then
PAY_LAG = 300  # commitments wait about this many movements before they are paid


class _Seeder:
    """Drives one Fund through a plausible year, a batch of movements per save."""

    def __init__(self, ledger: LedgerService, fund: Fund, total: int, batch: int) -> None:
        self.ledger, self.fund, self.total, self.batch = ledger, fund, total, batch
        self.rng = random.Random(4)
        self.done = 0
        self.unpaid: deque[tuple[Any, Decimal]] = deque()  # (commitment event, still to pay)
        self.recent_payments: deque[Any] = deque(maxlen=50)
        self.targets = [str(uuid.uuid4()) for _ in range(2_000)]
        self.facilities = [str(uuid.uuid4()) for _ in range(40)]
        self.mix: Counter[str] = Counter()

    def run(self) -> None:
        while self.done < self.total:
            if self.done and self.done % REVERSE_EVERY == 0:
                self._correct()
            elif self.done and self.done % RETURN_EVERY == 0:
                self._return()
            elif len(self.unpaid) > PAY_LAG or (self.unpaid and self.rng.random() < 0.35):
                self._pay()
            else:
                self._commit()
        self._flush(force=True)

    # A commitment may first need money received and allocated: each step stops as soon as the
    # count is reached, so the fund ends with exactly `total` movements.
    def _record(self, label: str, move: Callable[[Fund], int]) -> Any:
        moment = START + SPAN * (self.done / self.total)
        with clock.frozen_at(moment):
            move(self.fund)
        event = self.fund.pending_events[-1]
        self.done += 1
        self.mix[label] += 1
        self._flush()
        return event

    def _flush(self, *, force: bool = False) -> None:
        pending = len(self.fund.pending_events)
        if pending and (force or pending >= self.batch):
            self.ledger.save(self.fund)

    def _commit(self) -> None:
        district = self.rng.choice(DISTRICTS).code
        amount = Decimal(self.rng.randint(80_000, 600_000)) / 100
        if self._room(district) < amount:
            self._allocate(district)
            if self.done >= self.total:
                return
        facility = self.rng.random() < 0.03
        kind = Target.FACILITY if facility else Target.RETROFIT_CASE
        target = self.rng.choice(self.facilities if facility else self.targets)
        amount = amount * 40 if facility else amount
        if self._room(district) < amount:
            return
        event = self._record(
            Movement.COMMITTED,
            lambda f: f.commit(
                amount=amount, district=district, target_kind=kind, target_id=target,
                items=[] if facility else ["T01", "F01"], document=f"核定〔{YEAR}〕{self.done}号",
                reason="", actor_id=ACTOR,
            )
        )  # fmt: skip
        self.unpaid.append((event, amount))

    def _room(self, district: str) -> Decimal:
        figures = self.fund.district_totals(district)
        return figures[Movement.ALLOCATED] - figures[Movement.COMMITTED]

    def _allocate(self, district: str) -> None:
        if self.fund.available < ALLOCATION:
            self._record(
                Movement.RECEIVED,
                lambda f: f.receive(amount=RECEIPT, document=f"省财〔{YEAR}〕{self.done}号",
                                    reason="省级专项资金到账", actor_id=ACTOR)
            )  # fmt: skip
            if self.done >= self.total:
                return
        self._record(
            Movement.ALLOCATED,
            lambda f: f.allocate(amount=ALLOCATION, district=district,
                                 document=f"下达〔{YEAR}〕{self.done}号", reason="", actor_id=ACTOR)
        )  # fmt: skip

    def _pay(self) -> None:
        commitment, remaining = self.unpaid.popleft()
        part = remaining if self.rng.random() < 0.7 else (remaining / 2).quantize(Decimal("0.01"))
        payment = self._record(
            Movement.DISBURSED,
            lambda f: f.disburse(commitment=commitment, amount=part, payee="安居装修工程有限公司",
                                 voucher=f"PZ{self.done:08d}", reason="", actor_id=ACTOR)
        )  # fmt: skip
        self.recent_payments.append((commitment, payment))
        if part < remaining:
            self.unpaid.append((commitment, remaining - part))

    def _correct(self) -> None:
        """Reverse a payment made in error (its commitment is open again), or a commitment not
        yet paid at all."""
        if self.rng.random() < 0.5 and self.recent_payments:
            commitment, payment = self.recent_payments.pop()
            if str(payment.originator_version) in self.fund.reversed:
                return self._commit()
            self._record(
                "reversal", lambda f: f.reverse(original=payment, reason="凭证重复", actor_id=ACTOR)
            )
            self.unpaid.append((commitment, payment.amount))
            return None
        untouched = [u for u in self.unpaid if u[0].amount == u[1]]
        if not untouched:
            return self._commit()
        commitment = untouched[-1]
        self.unpaid.remove(commitment)
        self._record(
            "reversal",
            lambda f: f.reverse(original=commitment[0], reason="金额录入错误", actor_id=ACTOR),
        )
        return None

    def _return(self) -> None:
        amount = min(self.fund.available, Decimal("50000.00"))
        if amount <= 0:
            return self._commit()
        self._record(
            Movement.RETURNED,
            lambda f: f.return_to_source(amount=amount, document=f"退回〔{YEAR}〕{self.done}号",
                                         reason="结余资金退回", actor_id=ACTOR)
        )  # fmt: skip
        return None


def seed(ledger: LedgerService, movements: int, batch: int) -> tuple[UUID, Any]:
    """One provincial retrofit fund with `movements` movements; returns its id and the seeder."""
    with clock.frozen_at(START - timedelta(days=1)):
        fund = Fund.open(source="provincial", programme="retrofit", year=YEAR,
                         title="省级适老化改造补助资金", matching_ratio=Decimal("1"),
                         actor_id=ACTOR)  # fmt: skip
    seeder = _Seeder(ledger, fund, movements, batch)
    seeder.run()
    return fund.id, seeder


def read_and_decode(ledger: LedgerService, fund_id: UUID) -> int:
    """The floor under any replay: every stored event of the fund read and decoded, a page of
    versions at a time as verification reads them."""
    after, count = 0, 0
    while True:
        batch = ledger.recorder.select_events(fund_id, gt=after, lte=after + PAGE)
        if not batch:
            return count
        for stored in batch:
            ledger.mapper.to_domain_event(stored)
        count += len(batch)
        after = batch[-1].originator_version


def replayed(ledger: LedgerService, fund_id: UUID, version: int) -> Fund:
    """The fund folded from its first event, no snapshot used (what balance_at must equal)."""
    fund: Any = None
    for event in ledger.events.get(fund_id, lte=version):
        fund = event.mutate(fund)
    return fund


def _same(balance: Any, fund: Fund) -> bool:
    return (
        balance.version == fund.version
        and balance.totals == fund.totals
        and balance.available == fund.available
        and balance.districts == fund.districts
        and balance.head == fund.head
    )


@dataclass(frozen=True)
class Row:
    """One line of the table: wall-clock seconds, and CPU seconds of this process and workers."""

    label: str
    wall: float
    cpu: float
    target: str = ""


def _timed(run: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds including worker processes that ended, answer)."""
    started, cpu = time.perf_counter(), _cpu()
    answer = run()
    return time.perf_counter() - started, _cpu() - cpu, answer


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def main(argv: list[str] | None = None) -> None:
    """Seed, replay, time, print a table."""
    args = _parse(argv)
    with bench_runtime(args.database_url) as rt:
        backend = "SQLite" if rt.settings.is_sqlite else "PostgreSQL"
        seeding, _, (fund_id, seeder) = _timed(lambda: seed(rt.ledger, args.movements, args.batch))
        snapshots = len(list(rt.ledger.snapshots.get(fund_id)))  # type: ignore[union-attr]
        load = os.getloadavg()[0]
        rows, notes = _measure(rt.ledger, fund_id, args)
        load = max(load, os.getloadavg()[0])
    events = args.movements + 1
    print(f"command: {command_line('bench.ledger_replay', argv)}")
    print(f"backend: {backend}; one fund, {args.movements:,} movements ({events:,} events), "
          f"{snapshots:,} snapshots (every {SNAPSHOT_INTERVAL}); {_cpus()} CPUs, "
          f"load average up to {load:.1f} while measuring")  # fmt: skip
    print(f"mix: {', '.join(f'{k} {v:,}' for k, v in seeder.mix.most_common())}")
    print(f"seeding (not a target): {seeding:.1f} s ({events / seeding:,.0f} events/s, "
          f"{args.batch} movements saved a transaction)")  # fmt: skip
    print(*notes, sep="\n")
    print(f"\n{'measure':<62}{'wall s':>9}{'CPU s':>9}{'target':>9}")
    for row in rows:
        print(f"{row.label:<62}{row.wall:>9.3f}{row.cpu:>9.3f}{row.target:>9}")
    write_figures(
        "ledger_replay", backend,
        {
            "backend": backend, "movements": args.movements, "events": events,
            "snapshots": snapshots, "cpus": _cpus(), "load_average_max": round(load, 2),
            "seeding_s": round(seeding, 2), "notes": notes,
            "measures": [
                {"measure": r.label, "wall_s": round(r.wall, 4), "cpu_s": round(r.cpu, 4),
                 "target": r.target}
                for r in rows
            ],
        },
        args.json,
    )  # fmt: skip


def _measure(
    ledger: LedgerService, fund_id: UUID, args: argparse.Namespace
) -> tuple[list[Row], list[str]]:
    """Every figure of the table, and the notes that say what was checked."""
    wall, cpu, count = _timed(lambda: read_and_decode(ledger, fund_id))
    rows = [Row(f"read and decode all {count:,} events (the floor)", wall, cpu)]
    verified, check = _verify_rows(ledger, fund_id, count, floor=wall)
    rows += verified
    notes = [f"verify checked {check.checked:,} links and {check.snapshots_checked:,} snapshots"]
    rng = random.Random(9)
    moments = sorted(START + SPAN * rng.random() for _ in range(args.moments))
    rows += _as_at_rows(ledger, fund_id, moments, args.checked, notes)
    loads = sorted(_timed(lambda: ledger.fund(fund_id))[:2] for _ in range(5))
    rows.append(Row("load the fund now (snapshot + tail), p50 of 5", *loads[2]))
    return rows, notes


def _verify_rows(
    ledger: LedgerService, fund_id: UUID, count: int, *, floor: float
) -> tuple[list[Row], Any]:
    """verify in one process (as before), and as it runs by default (parallel when long)."""
    parallel = _cpus() if count >= PARALLEL_FROM else 1
    rows, check = [], None
    for segments, label in ((1, "one process"), (None, f"{parallel} processes")):
        wall, cpu, check = _timed(lambda s=segments: verify(ledger, fund_id, segments=s))
        if not check.intact or check.checked != count:
            raise SystemExit(f"verify failed: {check}")
        rows.append(Row(f"verify in {label}, {wall / floor:.2f}x the floor", wall, cpu, "<= 15"))
    return rows, check


def _as_at_rows(
    ledger: LedgerService, fund_id: UUID, moments: list[datetime], checked: int, notes: list[str]
) -> list[Row]:
    """balance_at each moment (some checked against a replay without snapshots), and the
    newest page of the ledger as at each moment."""
    samples = []
    for n, moment in enumerate(moments):
        wall, cpu, balance = _timed(lambda m=moment: balance_at(ledger, fund_id, m))
        samples.append((wall, cpu))
        if n % (len(moments) // checked or 1) == 0:
            if not _same(balance, replayed(ledger, fund_id, balance.version)):
                raise SystemExit(f"balance_at differs from a full replay at {moment}")
            notes.append(f"balance_at {moment:%Y-%m-%d %H:%M} (v{balance.version:,}): verified "
                         "equal to a replay from the first event, without snapshots")  # fmt: skip
    pages = [
        _timed(lambda m=moment: lines_up_to(ledger, fund_id, version_at(ledger, fund_id, m),
                                            limit=50))[:2]
        for moment in moments
    ]  # fmt: skip
    samples.sort()
    pages.sort()
    n = len(moments)
    return [
        Row(f"balance_at a random moment, p50 of {n}", *samples[n // 2], "<= 1"),
        Row(f"balance_at a random moment, max of {n}", *samples[-1], "<= 1"),
        Row(f"newest 50 movements as at a moment, p50 of {n}", *pages[n // 2]),
    ]


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movements", type=int, default=1_000_000, help="default 1,000,000")
    parser.add_argument("--batch", type=int, default=1_000, help="movements saved per transaction")
    parser.add_argument("--moments", type=int, default=20, help="random dates for balance_at")
    parser.add_argument("--checked", type=int, default=4, help="of those, replayed in full")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL; default: temp SQLite")
    parser.add_argument("--json", default="", help="where to write the figures")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
