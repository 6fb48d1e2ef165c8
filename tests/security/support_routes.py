"""The route catalogue of the security tests: a small city with two of everything (families,
districts, facilities, inspectors), who may use each route, and which objects each user may
see; plus signing in, building a rule's URL and a fingerprint of the whole database.

Every endpoint of `app.url_map` must have an entry in ROUTES (test_authorization_matrix checks),
so a new route cannot ship without someone deciding who may use it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, inspect, select, table, text
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from events import clock
from events.clock import CITY_TZ
from events.home_care import CareStep
from events.retrofit import Step
from events.roles import Actor, Role
from portal import create_app
from portal.forms.family_programmes import PROGRAMMES
from portal.runtime import Runtime
from services.settings import Settings
from tests.conftest import CHEAP_HASHER, PASSWORD
from tests.support import meals as meal_support
from tests.support.home_care import walk_care
from tests.support.scenario import ASSESSED_LINES, apply, elder, national_id, walk_to
from tests.support.staff_helpers import png_bytes

# -- who ----------------------------------------------------------------------------------------
# The users the matrix signs in as: one per role, two providers (a canteen and a home-care
# organisation: "another facility" for each other), and nobody signed in.
FAMILY = "family"
COMMUNITY_WORKER = "community_worker"
CASEWORKER = "caseworker"
ASSESSOR = "assessor"
INSPECTOR = "inspector"
PROVIDER_CANTEEN = "provider_canteen"
PROVIDER_CARE = "provider_care"
FINANCE = "finance"
AUDITOR = "auditor"
SUPERVISOR = "supervisor"
ADMIN = "admin"
ANONYMOUS = "anonymous"
SIGNED_IN = (
    FAMILY, COMMUNITY_WORKER, CASEWORKER, ASSESSOR, INSPECTOR, PROVIDER_CANTEEN, PROVIDER_CARE,
    FINANCE, AUDITOR, SUPERVISOR, ADMIN,
)  # fmt: skip
EVERYONE = frozenset(SIGNED_IN)
READ_ALL = frozenset({AUDITOR, SUPERVISOR, ADMIN})  # city-wide readers
APPLICANTS = frozenset({FAMILY, COMMUNITY_WORKER})
STAFF = EVERYONE - {FAMILY}
PROVIDERS = frozenset({PROVIDER_CANTEEN, PROVIDER_CARE})
LEDGER_READERS = frozenset({FINANCE}) | READ_ALL
FACILITY_ROLES = frozenset({CASEWORKER, INSPECTOR}) | READ_ALL

# -- what each user may see ---------------------------------------------------------------------
# Objects come in slots: "mine" belongs to the signed-in users' side (family A, district D01,
# 春晖社区, assessor A, inspector A, canteen C1, home-care organisation P1); "neighbour" is
# another family's in another community of D01 with another assessor, inspector and provider;
# "far" is in D02; "swapped" pairs my record with another record's photo or visit; a draft's
# "mine" is the requesting user's own, "other" another family's. SEES[kind][slot] is who may
# open it (the route's roles permitting); "-" is a route without objects.
RETROFIT_MINE = frozenset({FAMILY, COMMUNITY_WORKER, CASEWORKER, ASSESSOR, INSPECTOR}) | READ_ALL
FACILITY_MINE = (
    frozenset({COMMUNITY_WORKER, CASEWORKER, ASSESSOR, INSPECTOR, FINANCE, PROVIDER_CANTEEN})
    | READ_ALL
)
NOBODY: frozenset[str] = frozenset()
SEES: dict[str, dict[str, frozenset[str]]] = {
    "-": {"-": EVERYONE},
    "retrofit": {
        "mine": RETROFIT_MINE,
        "neighbour": frozenset({CASEWORKER}) | READ_ALL,
        "far": READ_ALL,
    },
    "retrofit_photo": {"mine": RETROFIT_MINE, "far": READ_ALL, "swapped": NOBODY},
    # The ledger is city-wide: its readers see every case's subsidy.
    "ledger_case": {"mine": EVERYONE, "neighbour": EVERYONE, "far": EVERYONE},
    "meal": {
        "mine": frozenset({FAMILY, COMMUNITY_WORKER, CASEWORKER, PROVIDER_CANTEEN}) | READ_ALL,
        "neighbour": frozenset({CASEWORKER, PROVIDER_CANTEEN}) | READ_ALL,
        "far": READ_ALL,
    },
    # Providers read their clients only through their own room (provider_case).
    "care": {
        "mine": frozenset({FAMILY, COMMUNITY_WORKER, CASEWORKER, ASSESSOR}) | READ_ALL,
        "neighbour": frozenset({CASEWORKER}) | READ_ALL,
        "far": READ_ALL,
    },
    "provider_case": {"mine": frozenset({PROVIDER_CARE}), "neighbour": NOBODY, "far": NOBODY},
    "visit": {"mine": frozenset({PROVIDER_CARE}), "neighbour": NOBODY, "swapped": NOBODY},
    "facility": {"mine": FACILITY_MINE, "far": READ_ALL},
    "facility_photo": {"mine": FACILITY_MINE, "far": READ_ALL, "swapped": NOBODY},
    "fund": {"mine": EVERYONE},
    "fund_action": {"mine": EVERYONE},
    "movement": {"mine": EVERYONE},
    "commitment": {"mine": EVERYONE},
    "district": {"mine": EVERYONE, "far": EVERYONE},
    "target": {"mine": EVERYONE},
    "draft": {"mine": APPLICANTS, "other": NOBODY},
    "done": {"mine": APPLICANTS, "neighbour": NOBODY, "far": NOBODY},
    "static": {"-": EVERYONE},
}


@dataclass(frozen=True)
class Route:
    """What must happen on one endpoint: `who` may use it (on objects they may see, per SEES
    of its `kind`); everyone else gets 403 or 404. A permitted GET answers with a status in
    `ok`; a visitor gets `anonymous` (None: sent to sign in)."""

    who: frozenset[str]
    kind: str = "-"
    ok: tuple[int, ...] = (200,)
    anonymous: int | None = None

    def allows(self, user: str, slot: str) -> bool:
        """Whether this signed-in user may use the route on the object in `slot`."""
        return user in self.who and user in SEES[self.kind][slot]


def only(*users: str) -> frozenset[str]:
    """A set of users, as the catalogue reads best."""
    return frozenset(users)


# A state-dependent page may send a permitted user on (303) to the record's page instead.
PAGE_OR_ONWARD = (200, 303)
ROUTES: dict[str, Route] = {
    # signing in and the front door
    "auth.login": Route(EVERYONE, anonymous=200),
    "auth.register": Route(EVERYONE, anonymous=200),
    "auth.change_password": Route(EVERYONE),
    "auth.logout": Route(EVERYONE, anonymous=303),
    "auth.keep_alive": Route(EVERYONE),  # the time-out warning's button: signed-in users only
    "auth.language": Route(EVERYONE, anonymous=303),
    "auth.elder_mode": Route(EVERYONE, anonymous=303),
    "home.index": Route(EVERYONE, ok=(302,), anonymous=200),
    "public.progress": Route(EVERYONE, anonymous=200),
    "health.live": Route(EVERYONE, anonymous=200),  # probes: no personal data, no login
    "health.ready": Route(EVERYONE, anonymous=200),
    "static": Route(EVERYONE, kind="static", anonymous=200),
    # applying (families and community workers, on their own drafts)
    "family.start": Route(APPLICANTS, anonymous=200),
    "family.begin": Route(APPLICANTS),
    "family.question": Route(APPLICANTS, kind="draft"),
    "family.cannot_continue": Route(APPLICANTS, kind="draft", ok=PAGE_OR_ONWARD),
    "family.check": Route(APPLICANTS, kind="draft"),
    "family.done": Route(APPLICANTS, kind="done"),
    # following a case
    "family.my_cases": Route(only(FAMILY)),
    "family.case": Route(APPLICANTS, kind="retrofit"),
    "family.supply_information": Route(APPLICANTS, kind="retrofit"),
    "family.confirm_plan": Route(APPLICANTS, kind="retrofit"),
    "family.survey": Route(APPLICANTS, kind="retrofit"),
    "family.withdraw": Route(APPLICANTS, kind="retrofit"),
    "family.meal_case": Route(APPLICANTS, kind="meal"),
    "family.meal_supply_information": Route(APPLICANTS, kind="meal"),
    "family.meal_withdraw": Route(APPLICANTS, kind="meal"),
    "family.care_case": Route(APPLICANTS, kind="care"),
    "family.care_supply_information": Route(APPLICANTS, kind="care"),
    "family.care_survey": Route(APPLICANTS, kind="care"),
    "family.care_withdraw": Route(APPLICANTS, kind="care"),
    # staff: retrofit queue, case page, step forms, photos
    "staff.queue": Route(STAFF),
    "staff.case": Route(STAFF, kind="retrofit"),
    "staff.photo": Route(STAFF, kind="retrofit_photo"),
    "staff.approve": Route(only(CASEWORKER), kind="retrofit"),
    "staff.reject": Route(only(CASEWORKER), kind="retrofit"),
    "staff.ask_information": Route(only(CASEWORKER), kind="retrofit"),
    "staff.assign": Route(only(CASEWORKER), kind="retrofit"),
    "staff.start_works": Route(only(CASEWORKER, INSPECTOR), kind="retrofit"),
    "staff.complete_works": Route(only(CASEWORKER, INSPECTOR), kind="retrofit"),
    "staff.rectify": Route(only(CASEWORKER, INSPECTOR), kind="retrofit"),
    "staff.close": Route(only(CASEWORKER), kind="retrofit"),
    "staff.follow_up": Route(only(CASEWORKER, COMMUNITY_WORKER), kind="retrofit"),
    "staff.assessment": Route(only(ASSESSOR), kind="retrofit", ok=PAGE_OR_ONWARD),
    "staff.assess": Route(only(ASSESSOR), kind="retrofit"),
    "staff.assessment_preview": Route(only(ASSESSOR), kind="retrofit"),
    "staff.acceptance": Route(only(INSPECTOR), kind="retrofit", ok=PAGE_OR_ONWARD),
    "staff.inspect_acceptance": Route(only(INSPECTOR), kind="retrofit"),
    "staff.site_inspection": Route(only(INSPECTOR), kind="retrofit"),
    # staff: meal service
    "staff.meal_queue": Route(only(COMMUNITY_WORKER, CASEWORKER) | READ_ALL),
    "staff.meal_case": Route(only(COMMUNITY_WORKER, CASEWORKER) | READ_ALL, kind="meal"),
    "staff.meal_approve": Route(only(CASEWORKER), kind="meal"),
    "staff.meal_reject": Route(only(CASEWORKER), kind="meal"),
    "staff.meal_ask_information": Route(only(CASEWORKER), kind="meal"),
    "staff.meal_end": Route(only(CASEWORKER), kind="meal"),
    # staff: home care
    "staff.care_queue": Route(only(COMMUNITY_WORKER, CASEWORKER, ASSESSOR) | READ_ALL),
    "staff.care_case": Route(only(COMMUNITY_WORKER, CASEWORKER, ASSESSOR) | READ_ALL, kind="care"),
    "staff.care_send_assessor": Route(only(CASEWORKER), kind="care"),
    "staff.care_reject": Route(only(CASEWORKER), kind="care"),
    "staff.care_ask_information": Route(only(CASEWORKER), kind="care"),
    "staff.care_assess": Route(only(ASSESSOR), kind="care"),
    "staff.care_approve": Route(only(CASEWORKER), kind="care"),
    "staff.care_assign_provider": Route(only(CASEWORKER), kind="care"),
    "staff.care_follow_up": Route(only(CASEWORKER, COMMUNITY_WORKER), kind="care"),
    "staff.care_close": Route(only(CASEWORKER), kind="care"),
    # facility projects
    "facilities.index": Route(FACILITY_ROLES),
    "facilities.new": Route(only(CASEWORKER, ADMIN)),
    "facilities.register": Route(only(CASEWORKER, ADMIN)),
    "facilities.facility": Route(FACILITY_ROLES, kind="facility"),
    "facilities.photo": Route(FACILITY_ROLES, kind="facility_photo"),
    "facilities.milestone": Route(only(CASEWORKER, ADMIN), kind="facility"),
    "facilities.deadline": Route(only(CASEWORKER, ADMIN), kind="facility"),
    "facilities.beds": Route(only(CASEWORKER, ADMIN), kind="facility"),
    "facilities.rooms": Route(only(CASEWORKER, ADMIN), kind="facility"),
    "facilities.site_inspection": Route(only(INSPECTOR), kind="facility"),
    "facilities.food_safety": Route(only(INSPECTOR), kind="facility"),
    "facilities.acceptance": Route(only(INSPECTOR), kind="facility"),
    # the provider's room: its own facility only
    "provider.room": Route(PROVIDERS),
    "provider.meals": Route(only(PROVIDER_CANTEEN)),
    "provider.record_meals": Route(only(PROVIDER_CANTEEN)),
    "provider.correct_meals": Route(only(PROVIDER_CANTEEN)),
    "provider.staffing": Route(only(PROVIDER_CARE)),
    "provider.report_staffing": Route(only(PROVIDER_CARE)),
    "provider.correct_staffing": Route(only(PROVIDER_CARE)),
    "provider.visits": Route(only(PROVIDER_CARE)),
    "provider.case": Route(only(PROVIDER_CARE), kind="provider_case"),
    "provider.new_visit": Route(only(PROVIDER_CARE), kind="provider_case"),
    "provider.log_visit": Route(only(PROVIDER_CARE), kind="provider_case"),
    "provider.correct_visit_form": Route(only(PROVIDER_CARE), kind="visit"),
    "provider.correct_visit": Route(only(PROVIDER_CARE), kind="visit"),
    "provider.cancel_visit_form": Route(only(PROVIDER_CARE), kind="visit"),
    "provider.cancel_visit": Route(only(PROVIDER_CARE), kind="visit"),
    # the fund ledger: readers see the whole city; finance writes; exports leave the system
    "ledger.index": Route(LEDGER_READERS),
    "ledger.fund": Route(LEDGER_READERS, kind="fund"),
    "ledger.verify_chain": Route(LEDGER_READERS, kind="fund"),
    "ledger.district": Route(LEDGER_READERS, kind="district"),
    "ledger.case": Route(LEDGER_READERS, kind="ledger_case"),
    "ledger.facility": Route(LEDGER_READERS, kind="facility"),
    "ledger.facilities": Route(LEDGER_READERS),
    "ledger.subsidies": Route(LEDGER_READERS),
    "ledger.attempts": Route(LEDGER_READERS),
    "ledger.audit_log": Route(only(AUDITOR, ADMIN)),
    "ledger.export_csv_file": Route(only(FINANCE, AUDITOR)),
    "ledger.export_xlsx_file": Route(only(FINANCE, AUDITOR)),
    "ledger.evidence": Route(only(FINANCE, AUDITOR), kind="ledger_case"),
    "ledger.new_fund": Route(only(FINANCE)),
    "ledger.open_fund": Route(only(FINANCE)),
    "ledger.record": Route(only(FINANCE), kind="fund_action"),
    "ledger.confirm_reverse": Route(only(FINANCE), kind="movement"),
    "ledger.reverse": Route(only(FINANCE), kind="movement"),
    "ledger.commit_case": Route(only(FINANCE), kind="ledger_case"),
    "ledger.commit_facility": Route(only(FINANCE), kind="facility"),
    "ledger.pay": Route(only(FINANCE), kind="commitment"),
    # supervision: the dashboard for overseers, targets for admins
    "supervision.dashboard": Route(READ_ALL),
    "supervision.report": Route(READ_ALL),
    "supervision.print_page": Route(READ_ALL),
    "supervision.targets": Route(only(ADMIN)),
    "supervision.new_target": Route(only(ADMIN)),
    "supervision.set_target": Route(only(ADMIN)),
    "supervision.revise_form": Route(only(ADMIN), kind="target"),
    "supervision.revise": Route(only(ADMIN), kind="target"),
    "supervision.withdraw_form": Route(only(ADMIN), kind="target"),
    "supervision.withdraw": Route(only(ADMIN), kind="target"),
}
CHANGES = ("POST", "PUT", "PATCH", "DELETE")


# Each elder's name, to tell whose personal data a page shows: (programme, slot) -> name.
ELDERS = {
    ("retrofit", "mine"): "张秀英", ("retrofit", "neighbour"): "李桂兰", ("retrofit", "far"): "王淑芬",
    ("meal", "mine"): "赵德明", ("meal", "neighbour"): "钱玉珍", ("meal", "far"): "孙志强",
    ("care", "mine"): "周凤英", ("care", "neighbour"): "吴建国", ("care", "far"): "郑秀兰",
}  # fmt: skip


def may_read_name(user: str, programme: str, slot: str) -> bool:
    """Whether a page shown to `user` may carry this elder's name: who may see the record
    (a home-care provider sees its own clients through its room)."""
    seen_by = SEES[programme][slot] | (
        SEES["provider_case"][slot] if programme == "care" else NOBODY
    )
    return user in seen_by


# -- the small city -----------------------------------------------------------------------------
@dataclass
class World:
    """The app, its runtime, how each user signs in, and the URL values of every slot."""

    app: Flask
    rt: Runtime
    logins: dict[str, str] = field(default_factory=dict)
    actors: dict[str, Actor] = field(default_factory=dict)
    values: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    drafts: dict[str, dict[str, str]] = field(default_factory=dict)  # programme -> user -> id

    def slots(self, route: Route) -> tuple[str, ...]:
        """The slots the matrix tries on a route of this kind."""
        return tuple(SEES[route.kind])

    def url(self, rule: Rule, slot: str, user: str) -> str:
        """The rule's URL naming the object in `slot` (a draft: the user's own, or another's)."""
        route = ROUTES[rule.endpoint]
        # The family wizard's rules: retrofit's (programme a default) and the others' (meal).
        wanted = set(rule.arguments) - set(rule.defaults or {})
        programme = "meal" if "programme" in wanted else "retrofit"
        values: dict[str, Any] = {"programme": programme}
        if route.kind == "draft":
            owner = (user if user in APPLICANTS else FAMILY) if slot == "mine" else "family_b"
            first = PROGRAMMES[programme].names[0]
            values |= {"draft_id": self.drafts[programme][owner], "name": first}
        elif route.kind == "done":
            values |= self.values[programme][slot]
        elif route.kind != "-":
            values |= self.values[route.kind][slot]
        return build(rule, {k: v for k, v in values.items() if k in wanted})


def build(rule: Rule, values: dict[str, Any]) -> str:
    """The path of exactly this rule (not another rule of the same endpoint)."""
    built = rule.build(values, append_unknown=False)
    assert built is not None, f"cannot build {rule.rule} from {values}"
    return built[1]


def routed_rules(app: Flask) -> list[Rule]:
    """Every rule of the app, in a stable order."""
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint, r.rule))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The small city on SQLite (authorization does not depend on the database engine)."""
    folder = tmp_path_factory.mktemp("city")
    settings = Settings(
        instance_path=folder / "instance",
        database_url=f"sqlite:///{folder / 'anlao.sqlite3'}",
        secret_key="security-tests",
    )
    app = create_app({"ANLAO_SETTINGS": settings, "PASSWORD_HASHER": CHEAP_HASHER, "TESTING": True})
    built = build_world(app)
    yield built
    built.rt.dispose()


def build_world(app: Flask) -> World:
    """Accounts for every user, and two of every kind of record, through the real services."""
    rt: Runtime = app.extensions["anlao"]
    world = World(app=app, rt=rt)
    yesterday = clock.today() - timedelta(days=1)
    with clock.frozen_at(datetime.combine(yesterday, time(8, 0), tzinfo=CITY_TZ)):
        facilities = _facilities(world)
        _accounts(world, facilities)
        _retrofit(world)
        _meals(world, facilities)
        _home_care(world, facilities)
        _ledger(world, facilities)
        _target(world)
        _drafts(world)
    rt.catch_up()
    return world


def _account(world: World, name: str, role: str, **scope: str) -> Actor:
    accounts = world.rt.accounts
    if role == Role.FAMILY:
        login = f"1390000{len(world.logins):04d}"
        user_id = accounts.register_family(mobile=login, password=PASSWORD, display_name=name)
    else:
        login = name.replace("_", "-")
        user_id = accounts.create_staff(
            login=login, password=PASSWORD, display_name=name, role=role, **scope
        )
    world.logins[name] = login
    world.actors[name] = Actor(
        user_id, role, scope.get("district", ""), scope.get("community", ""),
        scope.get("facility_id", ""),
    )  # fmt: skip
    return world.actors[name]


def _accounts(world: World, facilities: dict[str, UUID]) -> None:
    d01, d02 = {"district": "D01"}, {"district": "D02"}
    _account(world, FAMILY, Role.FAMILY)
    _account(world, "family_b", Role.FAMILY)
    _account(world, COMMUNITY_WORKER, Role.COMMUNITY_WORKER, community="春晖社区", **d01)
    for role, district in ((CASEWORKER, d01), ("caseworker_d02", d02)):
        _account(world, role, Role.CASEWORKER, **district)
    for name in (ASSESSOR, "assessor_b"):
        _account(world, name, Role.ASSESSOR, **d01)
    _account(world, "assessor_d02", Role.ASSESSOR, **d02)
    for name in (INSPECTOR, "inspector_b"):
        _account(world, name, Role.INSPECTOR, **d01)
    _account(world, "inspector_d02", Role.INSPECTOR, **d02)
    for name, facility in (
        (PROVIDER_CANTEEN, "canteen"), (PROVIDER_CARE, "care_org"), ("provider_care_b", "care_org_b"),
    ):  # fmt: skip
        _account(world, name, Role.PROVIDER, facility_id=str(facilities[facility]), **d01)
    _account(world, FINANCE, Role.FINANCE, **d01)
    for name, role in ((AUDITOR, Role.AUDITOR), (SUPERVISOR, Role.SUPERVISOR), (ADMIN, Role.ADMIN)):
        _account(world, name, role)


def _photo(world: World, shade: int) -> dict[str, str]:
    return world.rt.photos.store(png_bytes(shade))


# Where each side's records are: family A in 春晖社区, family B in 松鹤社区 (same district), D02.
PLACES = {
    "mine": {"district": "D01", "street": "和平街道", "community": "春晖社区"},
    "neighbour": {"district": "D01", "street": "和平街道", "community": "松鹤社区"},
    "far": {"district": "D02", "street": "南湖街道", "community": "南湖社区"},
}
APPLICANT = {"mine": FAMILY, "neighbour": "family_b", "far": "family_b"}


def _team(world: World, slot: str) -> dict[str, Actor]:
    suffix = {"mine": "", "neighbour": "_b", "far": "_d02"}[slot]
    a = world.actors
    return {
        "family": a[APPLICANT[slot]],
        "caseworker": a[CASEWORKER if slot != "far" else "caseworker_d02"],
        "assessor": a[ASSESSOR + suffix],
        "inspector": a[INSPECTOR + suffix],
    }


def _retrofit(world: World) -> None:
    rt, values = world.rt, world.values
    for kind in ("retrofit", "retrofit_photo", "ledger_case"):
        values[kind] = {}
    for n, slot in enumerate(("mine", "neighbour", "far")):
        team = _team(world, slot)
        person = elder(name=ELDERS["retrofit", slot], national_id=national_id(seq=f"{n + 1}11"))
        case_id = apply(rt, team["family"], elder=person, **PLACES[slot])
        walk_to(rt, Step.WORKS_COMPLETED, case_id=case_id, **team)
        photo = _photo(world, 40 + n)
        inspector = team["inspector"]
        rt.retrofit.inspect_acceptance(
            inspector, case_id, rt.retrofit.case_for(inspector, case_id).version,
            results=[{"code": line["code"], "installed": True, "works": True, "safe": True}
                     for line in ASSESSED_LINES],
            photos=[photo],
        )  # fmt: skip
        values["retrofit"][slot] = {"case_id": case_id}
        values["ledger_case"][slot] = {"case_id": case_id}
        values["retrofit_photo"][slot] = {"case_id": case_id, "sha256": photo["sha256"]}
    mine, far = values["retrofit_photo"]["mine"], values["retrofit_photo"]["far"]
    values["retrofit_photo"]["swapped"] = {"case_id": mine["case_id"], "sha256": far["sha256"]}
    values["retrofit_photo"].pop("neighbour")


def _facilities(world: World) -> dict[str, UUID]:
    """Canteens in D01 and D02 (each with a food-safety photo), home-care organisations."""
    rt = world.rt
    admin = Actor("admin-setup", Role.ADMIN)
    found = {
        "canteen": meal_support.open_canteen(rt, district="D01", name="春晖老年食堂"),
        "canteen_d02": meal_support.open_canteen(rt, district="D02", name="南湖老年食堂"),
    }
    for name, slot in (("care_org", "mine"), ("care_org_b", "far")):
        found[name] = rt.facilities.register_provider_organisation(
            admin, idempotency_key=name, name=f"{name}上门照护", since="2024-01-02",
            **PLACES[slot],
        )  # fmt: skip
    return found


def _inspect_canteens(world: World, facilities: dict[str, UUID]) -> None:
    rt, values = world.rt, world.values
    values["facility"], values["facility_photo"] = {}, {}
    for n, (slot, name, inspector) in enumerate(
        (("mine", "canteen", INSPECTOR), ("far", "canteen_d02", "inspector_d02"))
    ):
        facility_id, photo = facilities[name], _photo(world, 90 + n)
        rt.facilities.log_food_safety_inspection(
            world.actors[inspector], facility_id,
            rt.facilities.repository.get(facility_id).version, passed=True, photos=[photo],
        )  # fmt: skip
        values["facility"][slot] = {"case_id": facility_id, "facility_id": facility_id}
        values["facility_photo"][slot] = {"case_id": facility_id, "sha256": photo["sha256"]}
    mine, far = values["facility_photo"]["mine"], values["facility_photo"]["far"]
    values["facility_photo"]["swapped"] = {"case_id": mine["case_id"], "sha256": far["sha256"]}


def _meals(world: World, facilities: dict[str, UUID]) -> None:
    _inspect_canteens(world, facilities)
    rt, values = world.rt, world.values
    values["meal"] = {}
    canteens = {"mine": "canteen", "neighbour": "canteen", "far": "canteen_d02"}
    for n, slot in enumerate(("mine", "neighbour", "far")):
        team = _team(world, slot)
        case_id = rt.meals.submit_application(
            team["family"], idempotency_key=f"meal-{slot}",
            elder=elder(name=ELDERS["meal", slot], national_id=national_id(seq=f"{n + 1}22")),
            relation="child",
            canteen_id=facilities[canteens[slot]], mode="dine_in", subsidy_category="dibao",
            dietary_needs="少盐", **PLACES[slot],
        )  # fmt: skip
        rt.meals.approve(team["caseworker"], case_id, 1)
        values["meal"][slot] = {"case_id": case_id}


def _home_care(world: World, facilities: dict[str, UUID]) -> None:
    rt, values = world.rt, world.values
    values["care"], values["provider_case"], values["visit"] = {}, {}, {}
    providers = {"mine": "care_org", "neighbour": "care_org_b", "far": "care_org_b"}
    loggers = {"mine": PROVIDER_CARE, "neighbour": "provider_care_b", "far": "provider_care_b"}
    day = clock.today()
    for n, slot in enumerate(("mine", "neighbour", "far")):
        team = _team(world, slot)
        case_id = rt.home_care.submit_application(
            team["family"], idempotency_key=f"care-{slot}",
            elder=elder(
                name=ELDERS["care", slot], national_id=national_id(seq=f"{n + 1}33"),
                disability_level="full",
            ),
            relation="child", needs="需要擦身", **PLACES[slot],
        )  # fmt: skip
        walk_care(
            rt, CareStep.IN_SERVICE, case_id=case_id, provider_id=facilities[providers[slot]],
            family=team["family"], caseworker=team["caseworker"], assessor=team["assessor"],
        )  # fmt: skip
        receipt = rt.home_care.log_visit(
            world.actors[loggers[slot]], case_id,
            rt.home_care.repository.get(case_id).version, visit_date=day.isoformat(),
            start="06:00", end="07:00", items=["cleaning"], caregiver="护理员王芳",
            confirmed_by="elder",
        )  # fmt: skip
        values["care"][slot] = {"case_id": case_id}
        values["provider_case"][slot] = {"case_id": case_id}
        values["visit"][slot] = {"case_id": case_id, "visit_id": receipt.visit_id}
    values["visit"].pop("far")
    mine, neighbour = values["visit"]["mine"], values["visit"]["neighbour"]
    values["visit"]["swapped"] = {"case_id": mine["case_id"], "visit_id": neighbour["visit_id"]}


def _ledger(world: World, facilities: dict[str, UUID]) -> None:
    rt, finance = world.rt, world.actors[FINANCE]
    fund_id = rt.ledger.open_fund(
        finance, source="provincial", programme="retrofit", year=clock.today().year,
        title="省级适老化改造补助资金", matching_ratio="0",
    )  # fmt: skip
    rt.ledger.receive(finance, fund_id, amount="100000", document="财预〔2026〕12号")
    rt.ledger.allocate(finance, fund_id, amount="50000", district="D01", document="下达文件")
    case_id = world.values["retrofit"]["mine"]["case_id"]
    seq = rt.ledger.commit_retrofit_subsidy(
        finance, fund_id, case_id, amount="600", document="核定文件"
    )
    values = world.values
    values["fund"] = {"mine": {"fund_id": fund_id}}
    values["fund_action"] = {"mine": {"fund_id": fund_id, "action": "receive"}}
    values["movement"] = {"mine": {"fund_id": fund_id, "seq": 2}}
    values["commitment"] = {"mine": {"fund_id": fund_id, "seq": seq}}
    values["district"] = {"mine": {"code": "D01"}, "far": {"code": "D02"}}
    values["static"] = {"-": {"filename": "css/anlao.css"}}


def _target(world: World) -> None:
    deadline = clock.today().replace(month=12, day=31) + timedelta(days=365)
    target_id = world.rt.targets.set_target(
        world.actors[ADMIN], metric_code="care_hours", district="D01", value="100",
        deadline=deadline.isoformat(),
    )  # fmt: skip
    world.values["target"] = {"mine": {"target_id": target_id}}


def _drafts(world: World) -> None:
    """An empty draft per applicant and programme (retrofit and meal), and family B's."""
    drafts = world.rt.drafts
    for programme in ("retrofit", "meal"):
        world.drafts[programme] = {}
        for user in (FAMILY, COMMUNITY_WORKER, "family_b"):
            user_id = world.actors[user].user_id
            draft_id = drafts.start(user_id)
            if programme != "retrofit":
                drafts.save(user_id, draft_id, {"programme": programme})
            world.drafts[programme][user] = draft_id


# -- signing in ---------------------------------------------------------------------------------
TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def token_of(client: FlaskClient, path: str = "/login") -> str:
    """The session's CSRF token, read from a rendered page as a browser would."""
    html = client.get(path).get_data(as_text=True)
    found = TOKEN.search(html)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(world: World, client: FlaskClient, user: str) -> str:
    """Sign `user` in through the login form; returns the new session's CSRF token."""
    if user == ANONYMOUS:
        return token_of(client)
    response = client.post(
        "/login",
        data={"login": world.logins[user], "password": PASSWORD, "csrf_token": token_of(client)},
    )
    assert response.status_code == 303, f"{user} could not sign in: {response.status_code}"
    return token_of(client)


def goes_to_login(response: TestResponse) -> bool:
    """Sent to sign in: a redirect to the login page, or htmx's HX-Redirect to it."""
    target = response.headers.get("HX-Redirect") or response.headers.get("Location") or ""
    return response.status_code in (302, 303, 401) and target.startswith("/login")


# -- the database, fingerprinted ----------------------------------------------------------------
def fingerprint(engine: Engine, *, ignore: frozenset[str] = frozenset()) -> dict[str, str]:
    """Every table's rows as one digest each (the event store, read models, person store,
    accounts, drafts, sessions, logs...), to tell whether a request changed anything at all:
    an update in place shows as well as a new row."""
    found: dict[str, str] = {}
    with engine.connect() as conn:
        for name in sorted(set(inspect(conn).get_table_names()) - ignore):
            rows = sorted(
                repr(tuple(r)) for r in conn.execute(select(text("*")).select_from(table(name)))
            )
            found[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return found


def differences(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The tables whose contents differ (or appeared, or vanished)."""
    return sorted(n for n in before.keys() | after.keys() if before.get(n) != after.get(n))


def max_notification_id(rt: Runtime) -> int:
    """The last position of the one event log every programme writes to."""
    return rt.retrofit.recorder.max_notification_id() or 0
