"""Production serving: the portal under gunicorn, each worker building its own app after the fork.

No database connection is opened in the master process: SQLite handles and PostgreSQL sockets
must never be shared by forked children, so `load` (which builds the app and its runtime) runs
in each worker, never before the fork (`preload_app` stays off).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from portal import create_app
from portal.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeOptions:
    """How the portal is served; the defaults suit the 2-core machine the README measures on."""

    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 2
    threads: int = 4
    follow: bool = True  # each worker also applies new events to the read models
    timeout_s: int = 60
    access_log: bool = False

    def gunicorn_settings(self) -> dict[str, Any]:
        """gunicorn's own settings for these options."""
        return {
            "bind": f"{self.host}:{self.port}",
            "workers": self.workers,
            "threads": self.threads,
            "worker_class": "gthread" if self.threads > 1 else "sync",
            "preload_app": False,
            "timeout": self.timeout_s,
            "graceful_timeout": 20,
            "keepalive": 5,
            # Each worker listens on its own SO_REUSEPORT socket and the kernel spreads new
            # connections between them; on one shared socket a worker could take most of a
            # client's keep-alive connections and leave the other core idle (bench.portal_load:
            # 94 to 251 req/s from run to run at 16 connections before, 219 to 275 after).
            "reuse_port": True,
            "accesslog": "-" if self.access_log else None,
            # The worker's pid shows which process served a request (URLs carry no personal
            # data: tests/security/test_personal_data.py).
            "access_log_format": '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms pid=%(p)s',
            "errorlog": "-",
            "post_worker_init": _start_following if self.follow else _no_op,
            "worker_exit": _stop_following,
        }


class PortalServer(BaseApplication):  # type: ignore[misc]
    """gunicorn's application: configured from ServeOptions, the app built in each worker."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Hand the options to gunicorn (its command line and config files are not read)."""
        for key, value in self.options.gunicorn_settings().items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Build the portal in the worker process, after the fork."""
        return create_app()


def serve(options: ServeOptions) -> None:
    """Run gunicorn in the foreground until it is stopped (SIGTERM or Ctrl+C)."""
    PortalServer(options).run()


_following: dict[int, threading.Event] = {}


def _start_following(worker: Any) -> None:
    """In a worker that also projects: follow the event log on a background thread."""
    rt: Runtime = worker.wsgi.extensions["anlao"]
    stop = threading.Event()
    _following[worker.pid] = stop
    threading.Thread(
        target=rt.projector.follow, args=(stop,), name="projections", daemon=True
    ).start()


def _stop_following(_server: Any, worker: Any) -> None:
    """Stop the worker's projection thread and release its connections on a clean exit."""
    stop = _following.pop(worker.pid, None)
    if stop is not None:
        stop.set()
    app = getattr(worker, "wsgi", None)
    if isinstance(app, Flask):
        app.extensions["anlao"].dispose()


def _no_op(_worker: Any) -> None:
    """Workers that only serve (a separate `anlao projections run` follows the log)."""
