"""Anlao's configuration: environment variables with defaults, read once at start-up."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from events.step_limits import step_limits


@dataclass(frozen=True)
class Settings:
    """Everything configurable, in one place; see README "Configuration"."""

    instance_path: Path
    database_url: str
    secret_key: str
    subsidy_cap: Decimal = Decimal("3000")
    event_cipher_key: str = ""
    max_photo_bytes: int = 5 * 1024 * 1024
    default_locale: str = "zh_Hans_CN"
    # Cookies are sent over HTTPS only unless a plain-http deployment says otherwise
    # (browsers treat http://127.0.0.1 and localhost as secure, so the local demo needs nothing).
    insecure_cookies: bool = False
    # How many reverse proxies (TLS terminator, load balancer) stand in front of the portal:
    # the client address and scheme are taken from that many X-Forwarded-* hops. 0 (the
    # default) trusts no such header, since anyone could send one to dodge the login throttle.
    trusted_proxies: int = 0
    # Days a case may wait at each step before supervision lists it as stuck (see README).
    step_limits: dict[str, dict[str, int]] = field(default_factory=step_limits)

    @property
    def upload_path(self) -> Path:
        """Acceptance photos live here, outside the static folder."""
        return self.instance_path / "uploads"

    @property
    def is_sqlite(self) -> bool:
        """The embedded default; PostgreSQL otherwise."""
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Read ANLAO_* variables; unset ones take the embedded SQLite defaults."""
        env = os.environ if environ is None else environ
        instance = Path(env.get("ANLAO_INSTANCE_PATH", "instance")).resolve()
        values: dict[str, object] = {
            "instance_path": instance,
            "database_url": env.get("ANLAO_DATABASE_URL")
            or f"sqlite:///{instance / 'anlao.sqlite3'}",
            "secret_key": env.get("ANLAO_SECRET_KEY") or _instance_secret(instance),
            "subsidy_cap": Decimal(env.get("ANLAO_SUBSIDY_CAP", "3000")),
            "event_cipher_key": env.get("ANLAO_EVENT_CIPHER_KEY", ""),
            "max_photo_bytes": int(env.get("ANLAO_MAX_PHOTO_BYTES", str(5 * 1024 * 1024))),
            "step_limits": step_limits(env.get("ANLAO_STEP_LIMITS", "")),
            "insecure_cookies": env.get("ANLAO_INSECURE_COOKIES", "") in ("1", "true", "yes"),
            "trusted_proxies": int(env.get("ANLAO_TRUSTED_PROXIES", "0")),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]


def _instance_secret(instance: Path) -> str:
    """A per-installation secret kept in the instance folder, so sessions survive restarts."""
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
