"""The ceiling for bench.portal_load: a bare Flask page served by the portal's gunicorn settings.

    python -m bench.hello_app --port P [--workers 2] [--threads 4]

The settings come from `portal.server.ServeOptions`, so the ceiling follows any change made to
how the portal is served (worker class, keep-alive, ...); only the portal's own worker hooks
(following the event log) are left out.
"""

from __future__ import annotations

import argparse
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from portal.server import ServeOptions

app = Flask(__name__)
PORTAL_HOOKS = ("post_worker_init", "worker_exit")


@app.get("/")
def hello() -> str:
    """Nothing but Flask's routing and response: what no portal page can beat."""
    return "hello"


class HelloServer(BaseApplication):  # type: ignore[misc]
    """gunicorn serving `app` with the portal's settings."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """The portal's gunicorn settings, without its hooks."""
        settings: dict[str, Any] = self.options.gunicorn_settings()
        for key, value in settings.items():
            if key not in PORTAL_HOOKS:
                self.cfg.set(key, value)

    def load(self) -> Flask:
        """The bare app."""
        return app


def main() -> None:
    """Serve until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    HelloServer(ServeOptions("127.0.0.1", args.port, args.workers, args.threads)).run()


if __name__ == "__main__":
    main()
