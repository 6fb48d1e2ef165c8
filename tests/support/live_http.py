"""A portal served by real processes (`anlao serve`, `anlao projections run`) and a plain HTTP
client for it: cookies kept, CSRF token read from the page, redirects not followed."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from services.settings import Settings

ANLAO = str(Path(sys.executable).parent / "anlao")
READY_TIMEOUT_S = 90
CSRF = re.compile(r'"X-CSRFToken": "([^"]+)"')  # in every page's <body hx-headers>


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_env(settings: Settings) -> dict[str, str]:
    """The environment a deployment would give every process (plain http on loopback)."""
    return os.environ | {
        "ANLAO_DATABASE_URL": settings.database_url,
        "ANLAO_INSTANCE_PATH": str(settings.instance_path),
        "ANLAO_SECRET_KEY": settings.secret_key,
        "ANLAO_INSECURE_COOKIES": "1",
        "ANLAO_POSTGRES_POOL_SIZE": "1",
    }


def start(args: list[str], settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """Start an `anlao` command with its output in `log`."""
    with log.open("ab") as out:  # the child keeps its own copy of the file descriptor
        return subprocess.Popen(
            [ANLAO, *args], env=process_env(settings), stdout=out, stderr=subprocess.STDOUT
        )


@dataclass
class Response:
    """What came back: status, headers and body text."""

    status: int
    location: str
    text: str


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


class Client:
    """One browser session against a live portal."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )
        self.token = ""

    def get(self, path: str) -> Response:
        """GET a page and remember its CSRF token."""
        response = self._send(urllib.request.Request(self.base + path))
        found = CSRF.search(response.text)
        if found:
            self.token = found.group(1)
        return response

    def post(self, path: str, data: dict[str, str]) -> Response:
        """POST a form with the session's CSRF token."""
        body = urllib.parse.urlencode({"csrf_token": self.token, **data}).encode()
        return self._send(urllib.request.Request(self.base + path, data=body, method="POST"))

    def _send(self, request: urllib.request.Request) -> Response:
        try:
            with self._opener.open(request, timeout=60) as r:
                return Response(r.status, r.headers.get("Location", ""), r.read().decode())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers.get("Location", ""), e.read().decode())


def wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll /readyz until the portal answers 200 (fail with its log if it dies or never does)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {log.read_text()[-3000:]}")
        try:
            if Client(base).get("/readyz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server never became ready: {log.read_text()[-3000:]}")
