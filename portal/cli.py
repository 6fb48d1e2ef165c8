"""The `anlao` command: serve the portal, seed the demo, run or rebuild projections, add users,
verify and export fund ledgers, back up and restore."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from uuid import UUID

import click
from sqlalchemy import func, select

from events.clock import CITY_TZ
from events.districts import DISTRICTS
from events.roles import Role
from portal.runtime import Runtime, build_runtime
from portal.server import ServeOptions
from portal.server import serve as serve_portal
from services import backup as backups
from services import ledger_export, ledger_history
from services.demo import DEMO_PASSWORD, Programmes, seed_demo
from services.errors import AccountExists, FundNotFound, InvalidAccount
from services.settings import Settings
from services.tables import accounts


@click.group()
def main() -> None:
    """安老 Anlao: eldercare case management. Configuration comes from ANLAO_* variables."""


def serving_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options `serve` and `demo` share: where to listen and how many workers."""
    options = (
        click.option("--host", default="127.0.0.1", show_default=True),
        click.option("--port", default=5000, show_default=True, type=int),
        click.option(
            "--workers", default=2, show_default=True, type=click.IntRange(1, 64),
            help="gunicorn worker processes (about one per core).",
        ),
        click.option(
            "--threads", default=4, show_default=True, type=click.IntRange(1, 64),
            help="Threads per worker (requests waiting on the database overlap).",
        ),
    )  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


@main.command()
@serving_options
@click.option(
    "--projections/--no-projections",
    default=True,
    show_default=True,
    help="Each worker also follows the event log (off when a separate worker runs).",
)
@click.option("--access-log", is_flag=True, help="Log every request to standard output.")
def serve(
    host: str, port: int, workers: int, threads: int, projections: bool, access_log: bool
) -> None:
    """Serve the portal under gunicorn (the app is built in each worker, after the fork)."""
    _serve(ServeOptions(host, port, workers, threads, follow=projections, access_log=access_log))


@main.command()
@click.option("--cases", default=300, show_default=True, type=int)
@serving_options
@click.option("--serve/--no-serve", "then_serve", default=True, show_default=True)
def demo(cases: int, host: str, port: int, workers: int, threads: int, then_serve: bool) -> None:
    """Seed a demo city (once) and serve it; prints the demo logins."""
    rt = build_runtime(Settings.from_env())
    try:
        with rt.engine.connect() as conn:
            seeded = conn.execute(select(func.count()).select_from(accounts)).scalar_one() > 0
        if seeded:
            click.echo("Demo data already present; logins as printed when it was seeded.")
        else:
            click.echo(f"Seeding the demo city with {cases} retrofit cases ...")
            programmes = Programmes(rt.facilities, rt.meals, rt.home_care, rt.ledger, rt.targets)
            logins = seed_demo(
                rt.accounts, rt.retrofit, rt.photos, cases=cases, programmes=programmes
            )
            rt.catch_up()
            _print_logins(logins)
    finally:
        rt.dispose()
    if then_serve:
        _serve(ServeOptions(host, port, workers, threads, follow=True))


def _print_logins(logins: list) -> None:  # type: ignore[type-arg]
    click.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
    click.echo(f"{'login':<24}{'role':<18}{'district':<10}name")
    for login in logins:
        if login.role == Role.FAMILY and not login.login.endswith("0001"):
            continue  # one family is shown; 13800000002 to 13800000060 exist too
        click.echo(f"{login.login:<24}{login.role:<18}{login.district:<10}{login.name}")


def _serve(options: ServeOptions) -> None:
    click.echo(
        f"Anlao portal on http://{options.host}:{options.port}/ with {options.workers} "
        f"worker(s) x {options.threads} thread(s)  (Ctrl+C to stop)"
    )
    serve_portal(options)


@main.group()
def projections() -> None:
    """Read models: follow the event log, or rebuild them from scratch."""


@projections.command("run")
@click.option("--poll", default=0.5, show_default=True, type=float, help="Seconds between polls.")
def projections_run(poll: float) -> None:
    """Follow the event log continuously (the separate projection worker)."""
    rt = build_runtime(Settings.from_env())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo("Following the event log; Ctrl+C or SIGTERM to stop.")
    try:
        rt.projector.follow(stop, poll_seconds=poll)
    except KeyboardInterrupt:
        pass
    finally:
        rt.dispose()


@projections.command("status")
@click.option(
    "--max-seconds-behind", default=None, type=float,
    help="Exit 1 when the oldest unapplied event is older than this (a health check).",
)  # fmt: skip
def projections_status(max_seconds_behind: float | None) -> None:
    """Print how far the read models are behind the event log; exit 2 if the database is away."""
    rt = build_runtime(Settings.from_env())
    try:
        lag = rt.projector.lag()
    finally:
        rt.dispose()
    click.echo(
        f"head {lag.head}, applied up to {lag.position}: {lag.events_behind} events and "
        f"{lag.seconds_behind:.1f}s behind"
    )
    if max_seconds_behind is not None and lag.seconds_behind > max_seconds_behind:
        sys.exit(1)


@projections.command("rebuild")
def projections_rebuild() -> None:
    """Drop every read model and replay the whole event log into it."""
    rt = build_runtime(Settings.from_env())
    started = time.perf_counter()
    try:
        applied = rt.projector.rebuild()
        events = rt.retrofit.recorder.max_notification_id() or 0
    finally:
        rt.dispose()
    click.echo(
        f"Rebuilt {len(rt.projector.projections)} read models from the {events} events of the "
        f"log ({applied} applications) in {time.perf_counter() - started:.2f}s."
    )


@main.command()
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="The archive: .tar or .tar.gz."
)
def backup(out: str) -> None:
    """Back up the database and uploaded photos while the portal keeps running (SQLite); on
    PostgreSQL, print the pg_dump steps."""
    settings = Settings.from_env()
    if not settings.is_sqlite:
        click.echo(backups.postgres_steps(settings, out, restoring=False))
        return
    try:
        done = backups.backup_sqlite(settings, Path(out))
    except backups.BackupRefused as e:
        raise click.ClickException(f"No backup written: {e}") from None
    click.echo(
        f"Wrote {done.path} ({done.size} bytes): {done.events} events up to notification "
        f"{done.last_notification_id}, {done.photos} photo files."
    )


@main.command()
@click.option(
    "--from", "source", required=True, type=click.Path(exists=True, dir_okay=False),
    help="An archive written by `anlao backup`.",
)  # fmt: skip
@click.option(
    "--force", is_flag=True, help="Replace a database that holds data (it is kept beside)."
)
def restore(source: str, force: bool) -> None:
    """Restore a backup into this installation (portal and worker stopped), then rebuild every
    read model from the restored events; on PostgreSQL, print the pg_restore steps."""
    settings = Settings.from_env()
    if not settings.is_sqlite:
        click.echo(backups.postgres_steps(settings, source, restoring=True))
        return
    try:
        done = backups.restore_sqlite(settings, Path(source), force=force)
    except backups.BackupRefused as e:
        raise click.ClickException(f"Nothing restored: {e}") from None
    rt = build_runtime(settings)
    try:
        rt.projector.rebuild()
    finally:
        rt.dispose()
    click.echo(
        f"Restored {done.events} events (up to notification {done.last_notification_id}) and "
        f"{done.photos} photo files; rebuilt {len(rt.projector.projections)} read models."
    )


@main.group()
def persons() -> None:
    """Personal data (PIPL): kept apart from the event history so it can be erased."""


@persons.command("erase")
@click.argument("person_id", type=click.UUID)
@click.confirmation_option(prompt="Erase this person's personal data for good?")
def persons_erase(person_id: UUID) -> None:
    """Blank a person's personal data; their cases' history and totals stay intact."""
    rt = build_runtime(Settings.from_env())
    try:
        if rt.persons.get(person_id) is None:
            raise click.ClickException(f"No person {person_id}.")
        rt.persons.erase(person_id)
    finally:
        rt.dispose()
    click.echo(f"Erased the personal data of {person_id}.")


@main.group()
def users() -> None:
    """Accounts."""


@users.command("create")
@click.option("--login", required=True, help="Login name (staff) or mobile number (family).")
@click.option("--name", "display_name", required=True, help="Name shown in the portal.")
@click.option("--role", required=True, type=click.Choice(Role.ALL))
@click.option("--district", default="", type=click.Choice(["", *(d.code for d in DISTRICTS)]))
@click.option("--community", default="", help="Community, for community workers.")
@click.option("--facility", "facility_id", default="", help="Facility id, for providers.")
@click.password_option()
def users_create(
    login: str,
    display_name: str,
    role: str,
    district: str,
    community: str,
    facility_id: str,
    password: str,
) -> None:
    """Create an account (the first admin, or staff on a new installation)."""
    rt = build_runtime(Settings.from_env())
    try:
        if role == Role.FAMILY:
            user_id = rt.accounts.register_family(
                mobile=login, password=password, display_name=display_name
            )
        else:
            user_id = rt.accounts.create_staff(
                login=login,
                password=password,
                display_name=display_name,
                role=role,
                district=district,
                community=community,
                facility_id=facility_id,
            )
    except (AccountExists, InvalidAccount) as e:
        raise click.ClickException(f"Not created: {e.code} {e}") from None
    finally:
        rt.dispose()
    click.echo(f"Created {role} {login} ({user_id}).")


@main.group()
def ledger() -> None:
    """Fund ledgers: check their hash chains, export them as at a moment."""


@ledger.command("verify")
@click.option("--fund", "fund_id", type=click.UUID, help="Only this fund (default: every fund).")
def ledger_verify(fund_id: UUID | None) -> None:
    """Recompute each fund's hash chain; exits 1 naming the first broken link if any."""
    rt = build_runtime(Settings.from_env())
    try:
        funds = [fund_id] if fund_id else ledger_history.fund_ids(rt.ledger)
        checks = [_verify_one(rt, f) for f in funds]
        if not funds:
            click.echo("No funds to verify.")
    finally:
        rt.dispose()
    if not all(checks):
        raise SystemExit(1)


def _verify_one(rt: Runtime, fund_id: UUID) -> bool:
    """Print one line for the fund; True when its chain is intact."""
    try:
        check = ledger_history.verify(rt.ledger, fund_id)
    except FundNotFound:
        raise click.ClickException(f"No fund {fund_id}.") from None
    verdict = "intact" if check.intact else f"BROKEN at version {check.broken_at}: {check.problem}"
    click.echo(
        f"{_fund_title(rt, fund_id)}  events {check.checked}  snapshots {check.snapshots_checked}"
        f"  head {check.head or '-'}  {verdict}"
    )
    return check.intact


def _fund_title(rt: Runtime, fund_id: UUID) -> str:
    try:
        return rt.ledger.fund(fund_id, version=1).title
    except Exception:  # its opening event is missing or unreadable: verify has said so
        return str(fund_id)


@ledger.command("export")
@click.option("--at", "at", type=click.DateTime(["%Y-%m-%d %H:%M"]), help="City time; default now.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="xlsx")
@click.option("--fund", "fund_id", type=click.UUID, help="Only this fund (default: every fund).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True))
def ledger_export_command(at: datetime | None, fmt: str, fund_id: UUID | None, out: str) -> None:
    """Write the ledger as it stood at a moment (from the event history) to CSV or XLSX."""
    moment = at.replace(tzinfo=CITY_TZ) if at else None
    write = ledger_export.export_csv if fmt == "csv" else ledger_export.export_xlsx
    rt = build_runtime(Settings.from_env())
    try:
        content = write(rt.ledger, moment, fund_id)
    except FundNotFound:
        raise click.ClickException(f"No fund {fund_id}.") from None
    finally:
        rt.dispose()
    Path(out).write_bytes(content)
    click.echo(f"Wrote {out} ({len(content)} bytes).")
