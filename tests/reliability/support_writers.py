"""What the worker processes of the reliability tests do: take a case's next step, log visits,
move money, submit an application, or save several new cases in one call. Each job runs in a
child process on that process's own runtime (see support_processes), in several threads."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import IntegrityError

from events import clock
from events.checklist import CURRENT_CHECKLIST_VERSION, checklist
from events.errors import SubsidyNotDue
from events.fund import InsufficientFunds
from events.national_id import parse_national_id
from events.retrofit import RetrofitCase, Step
from portal.runtime import Runtime
from projections.runner import Projector
from services.errors import FundBusy, StaleCase
from services.references import reference_for
from tests.reliability.support_processes import in_threads
from tests.support.actors import ASSESSOR, CASEWORKER, FAMILY, FINANCE, INSPECTOR, walk
from tests.support.scenario import ASSESSED_LINES, apply, elder, national_id

BARRIER_TIMEOUT_S = 60
PHOTOS = [{"sha256": "d" * 64, "media_type": "image/jpeg"}]
SCORES = dict.fromkeys(("overall", "quality", "attitude", "timeliness", "usefulness"), 5)
RESULTS = [
    {"code": line["code"], "installed": True, "works": True, "safe": True}
    for line in ASSESSED_LINES
]
Take = Callable[[Runtime, UUID, int], int]

# The next step of the happy path from each step, who takes it, and how.
NEXT_STEP: dict[str, tuple[str, Take]] = {
    Step.SUBMITTED: ("EligibilityApproved", lambda rt, c, v: rt.retrofit.approve(
        CASEWORKER, c, v, assessor_id=ASSESSOR.user_id)),
    Step.APPROVED: ("HomeAssessed", lambda rt, c, v: rt.retrofit.assess(
        ASSESSOR, c, v, lines=ASSESSED_LINES)),
    Step.ASSESSED: ("PlanConfirmed", lambda rt, c, v: rt.retrofit.confirm_plan(FAMILY, c, v)),
    Step.PLAN_CONFIRMED: ("ContractorAssigned", lambda rt, c, v: rt.retrofit.assign_contractor(
        CASEWORKER, c, v, contractor="安居装修公司", inspector_id=INSPECTOR.user_id)),
    Step.CONTRACTOR_ASSIGNED: ("WorksStarted", lambda rt, c, v: rt.retrofit.start_works(
        CASEWORKER, c, v)),
    Step.WORKS_STARTED: ("WorksCompleted", lambda rt, c, v: rt.retrofit.complete_works(
        CASEWORKER, c, v)),
    Step.WORKS_COMPLETED: ("AcceptanceInspected", lambda rt, c, v: rt.retrofit.inspect_acceptance(
        INSPECTOR, c, v, results=RESULTS, photos=PHOTOS)),
    Step.ACCEPTED: ("SatisfactionSurveyAnswered", lambda rt, c, v: rt.retrofit.answer_survey(
        FAMILY, c, v, scores=SCORES)),
    Step.SURVEYED: ("Closed", lambda rt, c, v: rt.retrofit.close_case(CASEWORKER, c, v)),
}  # fmt: skip


def _abort_on_error(barrier: Any, work: Callable[[int], Any]) -> Callable[[int], Any]:
    """A worker that fails breaks the barrier, so the others stop instead of waiting."""

    def guarded(t: int) -> Any:
        try:
            return work(t)
        except BaseException:
            barrier.abort()
            raise

    return guarded


# -- one case, many writers ------------------------------------------------------------------------


def race_the_next_step(
    rt: Runtime, index: int, barrier: Any, case_id: UUID, threads: int
) -> list[tuple[str, int, str, int]]:
    """Round after round, every worker reads the case, waits until all have read it, then takes
    the next step at the version it read; to the end of the case. Returns (event, version read,
    "won" or "stale", version after) for every attempt."""

    def work(_t: int) -> list[tuple[str, int, str, int]]:
        attempts = []
        while True:
            case = rt.retrofit.repository.get(case_id)
            barrier.wait(BARRIER_TIMEOUT_S)  # everyone has read this version: now all write
            if case.step == Step.CLOSED:
                return attempts
            name, take = NEXT_STEP[case.step]
            try:
                attempts.append((name, case.version, "won", take(rt, case_id, case.version)))
            except StaleCase as stale:
                assert stale.expected == case.version
                attempts.append((name, case.version, "stale", stale.current))

    return [a for found in in_threads(threads, _abort_on_error(barrier, work)) for a in found]


def log_visits(
    rt: Runtime, index: int, case_id: UUID, threads: int, visits: int, tries: int
) -> list[dict[str, Any]]:
    """Each thread logs its own site visits on one case as fast as it can, each at the version
    it just read: a stale save is retried from a fresh read, up to `tries` times, then given up.
    Returns per thread what was saved (findings, version), given up, and how often refused."""

    def work(t: int) -> dict[str, Any]:
        saved, given_up, refused = [], [], 0
        for k in range(visits):
            findings = f"进程{index}线程{t}第{k}次巡查"
            for _ in range(tries):
                current = rt.retrofit.case_for(INSPECTOR, case_id).version
                try:
                    version = rt.retrofit.log_site_inspection(
                        INSPECTOR, case_id, current, findings=findings,
                        follow_up_required=False, photos=PHOTOS,
                    )  # fmt: skip
                except StaleCase:
                    refused += 1
                    continue
                saved.append((findings, version))
                break
            else:
                given_up.append(findings)
        return {"saved": saved, "given_up": given_up, "refused": refused}

    return in_threads(threads, work)


# -- the fund ledger -------------------------------------------------------------------------------
def accepted(rt: Runtime, elder_seq: str) -> UUID:
    """A D01 case that passed acceptance, for an elder of its own (so claims do not collide)."""
    case_id = apply(rt, FAMILY, elder=elder(national_id=national_id(seq=elder_seq)))
    return walk(rt, Step.ACCEPTED, case_id=case_id)


COMMIT = Decimal("500.00")  # per attempt; a case's capped subsidy (1,200) takes two, not three
ALLOCATION = Decimal("100.00")


def move_money(
    rt: Runtime, index: int, barrier: Any, fund_id: UUID, case_ids: list[UUID], threads: int
) -> list[tuple[str, str, Decimal, str, int | None, str]]:
    """Receipts, allocations and subsidy commitments on one fund, from every thread at once,
    in a different order in each. Returns (kind, document, amount, case, seq or None, refusal)."""

    def work(t: int) -> list[tuple[str, str, Decimal, str, int | None, str]]:
        rng = random.Random(index * 1000 + t)
        plan: list[tuple[str, str, Decimal, str]] = [
            *(("received", f"到账-{index}-{t}-{k}", Decimal(rng.randint(1, 9999)) / 100, "")
              for k in range(3)),
            *(("allocated", f"下达-{index}-{t}-{k}", ALLOCATION, "") for k in range(2)),
            *(("committed", f"核定-{index}-{t}-{c}", COMMIT, str(c)) for c in case_ids),
        ]  # fmt: skip
        rng.shuffle(plan)
        barrier.wait(BARRIER_TIMEOUT_S)
        return [(*step, *_move(rt, fund_id, *step)) for step in plan]

    return [m for found in in_threads(threads, _abort_on_error(barrier, work)) for m in found]


def _move(
    rt: Runtime, fund_id: UUID, kind: str, document: str, amount: Decimal, case: str
) -> tuple[int | None, str]:
    """One movement: its version in the fund, or why it was refused (nothing written then)."""
    ledger = rt.ledger
    try:
        if kind == "received":
            return ledger.receive(FINANCE, fund_id, amount=amount, document=document), ""
        if kind == "allocated":
            seq = ledger.allocate(FINANCE, fund_id, amount=amount, district="D01",
                                  document=document)  # fmt: skip
            return seq, ""
        seq = ledger.commit_retrofit_subsidy(FINANCE, fund_id, UUID(case), amount=amount,
                                             document=document)  # fmt: skip
        return seq, ""
    except (FundBusy, SubsidyNotDue, InsufficientFunds) as refused:
        return None, type(refused).__name__


# -- the same application twice --------------------------------------------------------------------


def submit_twice_at_once(
    rt: Runtime, index: int, barrier: Any, keys: list[str], threads: int
) -> list[list[str]]:
    """For each idempotency key, every thread of every process submits the same application at
    the same moment. Returns, per thread, the case id each submission got."""

    def work(_t: int) -> list[str]:
        got = []
        for key in keys:
            barrier.wait(BARRIER_TIMEOUT_S)
            got.append(str(apply(rt, FAMILY, key=key)))
        return got

    return in_threads(threads, _abort_on_error(barrier, work))


# -- several new cases in one save -----------------------------------------------------------------
_BATCH_NAMESPACE = uuid5(NAMESPACE_URL, "https://anlao.example/tests/reliability/batch")
PERSON = UUID("00000000-0000-4000-8000-00000000e1de")
EVENTS_PER_CASE = 3  # applied, approved, assessed


def batch_case_id(tag: str, batch: int, i: int) -> UUID:
    """The id of the i-th case of a batch: a test finds what each batch saved by its ids."""
    return uuid5(_BATCH_NAMESPACE, f"{tag}/{batch}/{i}")


def new_cases(tag: str, batch: int, count: int) -> list[RetrofitCase]:
    """`count` new cases, each applied, approved and assessed, not yet saved."""
    today = clock.today()
    elder_id = parse_national_id(national_id(), today)
    found = checklist(CURRENT_CHECKLIST_VERSION)
    assert found is not None
    cases = []
    for i in range(count):
        case = RetrofitCase.open(
            case_id=(case_id := batch_case_id(tag, batch, i)), reference=reference_for(case_id),
            person_id=PERSON,
            elder_id=elder_id, today=today, channel="online", applicant_user_id=FAMILY.user_id,
            relation="child", district="D01", street="和平街道", community="春晖社区",
            actor_id=FAMILY.user_id,
        )  # fmt: skip
        case.approve(actor_id=CASEWORKER.user_id, assessor_id=ASSESSOR.user_id)
        case.assess(actor_id=ASSESSOR.user_id, checklist=found, lines=ASSESSED_LINES,
                    subsidy_cap=Decimal("3000"))  # fmt: skip
        cases.append(case)
    return cases


def save_batches(
    rt: Runtime, index: int, tag: str, threads: int, batches: int, size: int
) -> list[str]:
    """Each thread saves `batches` batches of `size` new cases, one call each; returns the ids."""

    def work(t: int) -> list[str]:
        mine = f"{tag}-{index}-{t}"
        for b in range(batches):
            rt.retrofit.save(*new_cases(mine, b, size))
        return [str(batch_case_id(mine, b, i)) for b in range(batches) for i in range(size)]

    return [case for found in in_threads(threads, work) for case in found]


def save_batches_until_killed(rt: Runtime, tag: str, size: int, pause: float = 0.0) -> None:
    """Save batches of `size` new cases, one call each (`pause` seconds apart), until this
    process is killed."""
    batch = 0
    while True:
        rt.retrofit.save(*new_cases(tag, batch, size))
        batch += 1
        time.sleep(pause)


def commit_and_pay_until_killed(rt: Runtime, fund_id: UUID, case_id: UUID, tag: str) -> None:
    """Commit a cent of a case's subsidy and pay it, over and over: each save writes the fund
    and the case (and the elder's claims the first time) in one call."""
    n = 0
    while True:
        seq = rt.ledger.commit_retrofit_subsidy(
            FINANCE, fund_id, case_id, amount="0.01", document=f"核定-{tag}-{n}"
        )
        rt.ledger.disburse(FINANCE, fund_id, seq, amount="0.01", payee="安居装修公司",
                           voucher=f"V-{tag}-{n}")  # fmt: skip
        n += 1


def catch_up_until_killed(rt: Runtime, seed: int) -> None:
    """The projection worker's work, round after round, until this process is killed; each
    round takes the projections in a new order, so kills land in every one of them."""
    rng = random.Random(seed)
    projections = rt.projector.projections
    while True:
        order = rng.sample(projections, k=len(projections))
        Projector(rt.engine, rt.retrofit, order).catch_up()


def save_contested_batches(
    rt: Runtime, index: int, barrier: Any, tag: str, batches: int, size: int
) -> list[int]:
    """Every writer saves the same batches (the same new case ids) at the same moment: one save
    of each wins, the others fail in the database and roll back. Returns the batches won."""

    def work(_t: int) -> list[int]:
        won = []
        for b in range(batches):
            barrier.wait(BARRIER_TIMEOUT_S)
            try:
                rt.retrofit.save(*new_cases(tag, b, size))
            except IntegrityError:
                continue
            won.append(b)
        return won

    return in_threads(1, _abort_on_error(barrier, work))[0]
