"""Real headless Chromium (Debian's, never a downloaded one) against a live portal on SQLite."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from portal import create_app
from portal.runtime import Runtime
from services.settings import Settings
from tests.conftest import CHEAP_HASHER

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip browser tests, with the reason, where Debian's chromium is not installed."""
    if shutil.which("chromium") or Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
    )
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """Debian's Chromium, headless, with no background traffic to the outside world."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
        ],
    }


@dataclass(frozen=True)
class LiveServer:
    """The portal served on a free loopback port."""

    url: str
    app: Flask

    @property
    def runtime(self) -> Runtime:
        return self.app.extensions["anlao"]


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """Serve a fresh portal (SQLite in a temp folder) from a background thread."""
    settings = Settings(
        instance_path=tmp_path / "instance",
        database_url=f"sqlite:///{tmp_path / 'anlao.sqlite3'}",
        secret_key="browser",
    )
    app = create_app({"ANLAO_SETTINGS": settings, "PASSWORD_HASHER": CHEAP_HASHER})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    server.shutdown()
    thread.join(timeout=5)
    app.extensions["anlao"].dispose()


@pytest.fixture
def screenshot_dir() -> Path:
    """Screenshots are kept as test artefacts (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
