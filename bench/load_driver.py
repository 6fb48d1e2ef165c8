"""The machinery of bench.portal_load: server processes, signing in over HTTP, wrk, memory."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import psutil

WRK_SCRIPT = Path(__file__).with_name("portal_load.lua")
USER_AGENT = "anlao-bench"  # wrk sends the same: Flask-Login's session check sees one browser
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_wrk() -> str:
    """wrk's path, or exit saying how to get it."""
    found = shutil.which("wrk")
    if found is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    return found


@dataclass
class Process:
    """A server we started (its own process group), with its output kept in a log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """SIGTERM (gunicorn and the projection worker shut down cleanly), then SIGKILL."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()

    def tail(self, lines: int = 30) -> str:
        """The end of its log, to show when something went wrong."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def start(name: str, command: Sequence[str], env: dict[str, str], folder: Path) -> Process:
    """Start a server in its own session, output to `folder/name.log`."""
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            list(command), env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Process(name, popen, log)


def wait_until_up(process: Process, port: int, path: str, timeout_s: float = 120) -> None:
    """Poll `path` until it answers 200; fail with the server's log if it dies or never does."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
        try:
            if request(port, "GET", path).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{process.name} not answering {path} after {timeout_s}s:\n{process.tail()}")


@dataclass(frozen=True)
class Answer:
    """An HTTP response as the sign-in steps need it."""

    status: int
    body: str
    cookies: dict[str, str]
    location: str


def request(
    port: int,
    method: str,
    path: str,
    cookies: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request on a fresh connection; cookies set by the response are returned."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    sent = {"User-Agent": USER_AGENT, **(headers or {})}
    if cookies:
        sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
        return Answer(
            response.status,
            text,
            {k: m.value for k, m in jar.items()},
            response.headers.get("Location", ""),
        )
    finally:
        conn.close()


@dataclass(frozen=True)
class SignedIn:
    """What wrk needs to act as a signed-in browser: the Cookie header and the CSRF token."""

    cookie: str
    csrf: str


def sign_in(port: int, login: str, password: str, landing: str) -> SignedIn:
    """Sign in through the real login form, then open `landing` to get the session's CSRF token;
    checks that the cookie is then stable (a request that rewrote it would make wrk's stale)."""
    cookies: dict[str, str] = {}
    form_page = request(port, "GET", "/login")
    cookies |= form_page.cookies
    posted = request(port, "POST", "/login", cookies, _login_form(form_page, login, password))
    if posted.status != 303:
        raise RuntimeError(f"sign-in of {login} answered {posted.status}: {posted.body[:300]}")
    cookies |= posted.cookies
    landed = request(port, "GET", landing, cookies)
    cookies |= landed.cookies
    found = CSRF_INPUT.search(landed.body)
    if landed.status != 200 or found is None:
        raise RuntimeError(f"{landing} answered {landed.status} without a CSRF token")
    again = request(port, "GET", landing, cookies)
    if again.status != 200 or again.cookies:
        raise RuntimeError(f"{landing} rewrote the session cookie: wrk would send a stale one")
    return SignedIn("; ".join(f"{k}={v}" for k, v in cookies.items()), found.group(1))


def _login_form(form_page: Answer, login: str, password: str) -> dict[str, str]:
    found = CSRF_INPUT.search(form_page.body)
    if found is None:
        raise RuntimeError("the login page has no CSRF token")
    return {"login": login, "password": password, "csrf_token": found.group(1)}


@dataclass(frozen=True)
class Planned:
    """One request of a wrk plan."""

    method: str
    path: str
    who: SignedIn | None = None

    def line(self) -> str:
        """The plan file's line for it (see portal_load.lua)."""
        cookie, csrf = (self.who.cookie, self.who.csrf) if self.who else ("", "")
        return f"{self.method}\t{self.path}\t{cookie}\t{csrf}"


def run_wrk(
    port: int, plan: Sequence[Planned], connections: int, duration_s: float, folder: Path
) -> dict[str, Any]:
    """wrk -t2 against the plan for `duration_s`; its counts and latency percentiles (ms)."""
    plan_file = folder / "plan.tsv"
    plan_file.write_text("\n".join(p.line() for p in plan) + "\n")
    threads = min(2, connections)
    command = [
        require_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s:g}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPT),
        f"http://127.0.0.1:{port}",
        "--",
        str(plan_file),
        str(threads),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK-JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{done.stdout}\n{done.stderr}")
    raw = json.loads(line.removeprefix("WRK-JSON "))
    seconds = raw["duration_us"] / 1e6
    errors = sum(raw[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    return {
        "connections": connections,
        "requests": raw["requests"],
        "req_per_s": round(raw["requests"] / seconds, 1),
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "status_errors": raw["status_errors"],
        "socket_errors": errors,
        "plan_wrapped": raw["wraps"],
    }


@dataclass
class MemorySampler:
    """Peak RSS of each process of interest, sampled on a thread: gunicorn's workers (children
    of the master, found again each round since workers may be replaced) and named processes."""

    masters: dict[str, int] = field(default_factory=dict)  # role -> pid whose children count
    singles: dict[str, int] = field(default_factory=dict)  # role -> pid counted itself
    every_s: float = 0.2
    peaks: dict[str, dict[int, int]] = field(default_factory=dict)  # role -> pid -> bytes
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> MemorySampler:
        self._thread = threading.Thread(target=self._run, name="rss", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for role, pid in self.masters.items():
                for child in _children(pid):
                    self._note(role, child)
            for role, pid in self.singles.items():
                self._note(role, pid)
            self._stop.wait(self.every_s)

    def _note(self, role: str, pid: int) -> None:
        try:
            rss = psutil.Process(pid).memory_info().rss
        except psutil.Error:
            return  # it exited between listing and reading
        seen = self.peaks.setdefault(role, {})
        seen[pid] = max(seen.get(pid, 0), rss)

    def peak_mib(self) -> dict[str, list[float]]:
        """Each role's processes' peak RSS in MiB, largest first."""
        return {
            role: sorted((round(b / 2**20, 1) for b in by_pid.values()), reverse=True)
            for role, by_pid in self.peaks.items()
        }


def _children(pid: int) -> list[int]:
    try:
        return [c.pid for c in psutil.Process(pid).children()]
    except psutil.Error:
        return []
