"""The composition root: builds the services and projections one process uses."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Protocol, TypeVar

from argon2 import PasswordHasher
from flask import current_app
from sqlalchemy import Engine

from projections import facilities as facility_models
from projections import home_care as home_care_models
from projections import ledger as ledger_models
from projections import meals as meal_models
from projections import supervision as supervision_models
from projections.retrofit_cases import RetrofitCaseList
from projections.retrofit_timeline import RetrofitTimeline
from projections.runner import Projector
from services.accounts import AccountService
from services.database import (
    STORAGE_FAILURES,
    describe_failure,
    ensure_schema,
    event_store_env,
    make_engine,
    schema_changes,
)
from services.drafts import DraftStore
from services.facilities import FacilityService
from services.home_care import HomeCareService
from services.ledger import LedgerService
from services.meals import MealService
from services.persons import PersonStore
from services.photos import PhotoStore
from services.retrofit import RetrofitService
from services.settings import Settings
from services.tables import metadata as service_tables
from services.targets import TargetService

log = logging.getLogger(__name__)


class _Closable(Protocol):
    def close(self) -> None: ...


S = TypeVar("S", bound=_Closable)


@dataclass
class Runtime:
    """Long-lived objects of one process: one application per programme, one engine."""

    settings: Settings
    engine: Engine
    persons: PersonStore
    accounts: AccountService
    drafts: DraftStore
    photos: PhotoStore
    retrofit: RetrofitService
    facilities: FacilityService
    meals: MealService
    home_care: HomeCareService
    ledger: LedgerService
    targets: TargetService
    projector: Projector

    def catch_up(self) -> None:
        """Bring read models up to date so a page shows the user's own last write. A storage
        failure here is logged, not raised: the write itself is stored, and answering 503 would
        invite the user to send it again; the projection worker applies it later."""
        try:
            self.projector.catch_up()
        except STORAGE_FAILURES as e:
            log.warning("read models not brought up to date: %s", describe_failure(e))

    def dispose(self) -> None:
        """Release connections (tests and the CLI call this when done)."""
        services = (self.retrofit, self.facilities, self.meals, self.home_care, self.ledger)
        for service in (*services, self.targets):
            service.close()
        self.engine.dispose()


def build_runtime(settings: Settings, hasher: PasswordHasher | None = None) -> Runtime:
    """Connect to storage, create missing tables, and wire services and projections. If a step
    fails (the database away or too slow), what the earlier steps opened is closed again."""
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    with ExitStack() as opened:
        engine = make_engine(settings)
        opened.callback(engine.dispose)
        with schema_changes(engine):
            ensure_schema(engine, settings)
            service_tables.create_all(engine)
        persons = PersonStore(engine, settings.secret_key)
        env = event_store_env(settings)

        def started(service: S) -> S:
            opened.callback(service.close)
            return service

        retrofit = started(RetrofitService(env, persons, settings.subsidy_cap))
        read_models = [
            RetrofitCaseList(),
            RetrofitTimeline(),
            *facility_models.PROJECTIONS,
            *meal_models.PROJECTIONS,
            *home_care_models.PROJECTIONS,
            *ledger_models.PROJECTIONS,
            *supervision_models.PROJECTIONS,
        ]
        projector = Projector(engine, retrofit, read_models)
        with schema_changes(engine):
            projector.create_tables()
        built = Runtime(
            settings=settings,
            engine=engine,
            persons=persons,
            accounts=AccountService(engine, hasher),
            drafts=DraftStore(engine),
            photos=PhotoStore(settings.upload_path, settings.max_photo_bytes),
            retrofit=retrofit,
            facilities=started(FacilityService(env)),
            meals=started(MealService(env, persons)),
            home_care=started(HomeCareService(env, persons)),
            ledger=started(LedgerService(env)),
            targets=started(TargetService(env)),
            projector=projector,
        )
        opened.pop_all()  # built whole: `Runtime.dispose` closes it all from now on
    return built


def runtime() -> Runtime:
    """The current app's runtime (inside a request or app context)."""
    return current_app.extensions["anlao"]
