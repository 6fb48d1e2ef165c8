"""What the service roles' browser journeys start from, made through the real services: a
canteen with an enrolled elder, a home-care case in service, a funded fund and an accepted
retrofit case, a fund with a dated history, supervision targets with work done in the past;
and how a journey waits for an htmx swap before it audits the page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID

from playwright.sync_api import expect

from events import clock
from events.clock import CITY_TZ
from events.home_care import CareStep
from events.roles import Role
from portal.runtime import Runtime
from projections.ledger_queries import case_subsidy
from tests.browser.support_journey import Journey
from tests.conftest import PASSWORD
from tests.support.actors import ADMIN, walk
from tests.support.home_care import apply_care, care_elder, register_provider, walk_care
from tests.support.ledger import dated_fund
from tests.support.ledger_scenarios import accepted_case, funded
from tests.support.meals import days_ago, enrol, open_canteen
from tests.support.scenario import elder, national_id

CANTEEN = "春晖社区老年食堂"
MEAL_ELDER = "王桂兰"
HOME_CARE_PROVIDER = "康乐居家养老服务中心"
CARE_ELDER = "赵德明"
FUND_TITLE = "2025年省级适老化改造补助资金"


def staff(rt: Runtime, login: str, name: str, role: str, **scope: str) -> str:
    """A staff account (district D01 unless told) that signs in with the test password."""
    scope = {"district": "D01"} | scope
    rt.accounts.create_staff(login=login, password=PASSWORD, display_name=name, role=role, **scope)
    return login


def at_noon(day: date) -> datetime:
    """Noon in the city on `day`, for clock.frozen_at."""
    return datetime.combine(day, time(12, 0), tzinfo=CITY_TZ)


# -- 1. the providers -----------------------------------------------------------------------------
def canteen_with_an_elder(rt: Runtime) -> UUID:
    """春晖社区老年食堂, open, with 王桂兰 enrolled (dine-in) since a week ago, and its account."""
    canteen = open_canteen(rt, name=CANTEEN)
    enrol(rt, canteen, on=days_ago(7),
          elder=elder(name=MEAL_ELDER, national_id=national_id(seq="111")))  # fmt: skip
    rt.catch_up()
    staff(rt, "canteen-chunhui", "春晖食堂管理员", Role.PROVIDER, facility_id=str(canteen))
    return canteen


def home_care_in_service(rt: Runtime) -> UUID:
    """赵德明's home-care case, served by 康乐居家养老服务中心 since three days ago, and the
    organisation's account; returns the case id."""
    organisation = register_provider(rt, name=HOME_CARE_PROVIDER)
    person = care_elder(name=CARE_ELDER, national_id=national_id(birth="19400512", seq="333"))
    with clock.frozen_at(at_noon(clock.today() - timedelta(days=3))):
        case_id = apply_care(rt, elder=person)
        walk_care(rt, CareStep.IN_SERVICE, case_id=case_id, provider_id=organisation)
    rt.catch_up()
    staff(rt, "kangle-dispatch", "康乐调度员", Role.PROVIDER, facility_id=str(organisation))
    return case_id


# -- 2. the finance officer -----------------------------------------------------------------------
@dataclass(frozen=True)
class Disbursement:
    """A fund with money allocated to 安康区, and an accepted case awaiting its subsidy."""

    fund_id: UUID
    case_id: UUID
    reference: str


def fund_and_accepted_case(rt: Runtime) -> Disbursement:
    """100,000 received and 50,000 allocated to D01; a D01 case accepted (subsidy 1,200)."""
    fund_id = funded(rt, title=FUND_TITLE)
    case_id = accepted_case(rt)
    rt.catch_up()
    found = case_subsidy(rt.engine, case_id)
    assert found is not None
    staff(rt, "finance-wang", "财务王会计", Role.FINANCE)
    return Disbursement(fund_id, case_id, found.reference)


# -- 3. the auditor -------------------------------------------------------------------------------
def fund_with_history(rt: Runtime) -> UUID:
    """The fund of tests.support.ledger.dated_fund (100,000 received at 09:00 on 3 March 2025,
    50,000 allocated at 10:00), and an auditor's account."""
    fund_id = dated_fund(rt)
    staff(rt, "auditor-li", "审计李明", Role.AUDITOR, district="")
    return fund_id


# -- 4. the supervisor ----------------------------------------------------------------------------
TARGETS_SET_DAYS_AGO = 60
ACCEPTED_DAYS_AGO = 10
BEFORE_ACCEPTANCE_DAYS_AGO = 20


def targets_and_work_done(rt: Runtime) -> None:
    """Targets set two months ago in 安康区 and 永宁区; one 安康区 household accepted and
    surveyed ten days ago; a supervisor's account."""
    set_on = clock.today() - timedelta(days=TARGETS_SET_DAYS_AGO)
    deadline = (clock.today() + timedelta(days=200)).isoformat()
    with clock.frozen_at(at_noon(set_on)):
        for district, value in (("D01", "10"), ("D02", "4")):
            rt.targets.set_target(ADMIN, metric_code="retrofit_accepted", district=district,
                                  value=value, deadline=deadline)  # fmt: skip
    with clock.frozen_at(at_noon(clock.today() - timedelta(days=ACCEPTED_DAYS_AGO))):
        walk(rt, "surveyed")
    rt.catch_up()
    staff(rt, "supervisor-zhou", "督导老周", Role.SUPERVISOR, district="")


# -- htmx ------------------------------------------------------------------------------------------
def after_swap(journey: Journey, announced: str, what: str) -> None:
    """Wait until the swap was announced in the live region, then audit the page as it is."""
    expect(journey.page.locator("#live-region")).to_contain_text(announced)
    journey.check(what)
