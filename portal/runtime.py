"""The composition root: builds the services and projections one process uses."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from flask import current_app
from sqlalchemy import Engine

from projections.retrofit_cases import RetrofitCaseList
from projections.retrofit_timeline import RetrofitTimeline
from projections.runner import Projector
from services.accounts import AccountService
from services.database import ensure_schema, event_store_env, make_engine
from services.drafts import DraftStore
from services.persons import PersonStore
from services.photos import PhotoStore
from services.retrofit import RetrofitService
from services.settings import Settings
from services.tables import metadata as service_tables


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
    projector: Projector

    def catch_up(self) -> None:
        """Bring read models up to date so a page shows the user's own last write."""
        self.projector.catch_up()

    def dispose(self) -> None:
        """Release connections (tests and the CLI call this when done)."""
        self.retrofit.close()
        self.engine.dispose()


def build_runtime(settings: Settings, hasher: PasswordHasher | None = None) -> Runtime:
    """Connect to storage, create missing tables, and wire services and projections."""
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings)
    ensure_schema(engine, settings)
    service_tables.create_all(engine)
    persons = PersonStore(engine, settings.secret_key)
    retrofit = RetrofitService(event_store_env(settings), persons, settings.subsidy_cap)
    projector = Projector(engine, retrofit, [RetrofitCaseList(), RetrofitTimeline()])
    projector.create_tables()
    return Runtime(
        settings=settings,
        engine=engine,
        persons=persons,
        accounts=AccountService(engine, hasher),
        drafts=DraftStore(engine),
        photos=PhotoStore(settings.upload_path, settings.max_photo_bytes),
        retrofit=retrofit,
        projector=projector,
    )


def runtime() -> Runtime:
    """The current app's runtime (inside a request or app context)."""
    return current_app.extensions["anlao"]
