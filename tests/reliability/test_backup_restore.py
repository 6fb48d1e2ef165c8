"""`anlao backup` and `anlao restore`: a round trip while the portal keeps writing, and every
refusal that keeps a restore from destroying data or restoring something unusable."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shlex
import sqlite3
import subprocess
import sys
import tarfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from click.testing import CliRunner, Result
from eventsourcing.persistence import StoredEvent
from PIL import Image
from sqlalchemy import select

from events.retrofit import RetrofitCase
from portal.cli import main
from portal.runtime import Runtime, build_runtime
from projections.tables import metadata as read_model_tables
from services import ledger_history
from services.demo import Programmes, seed_demo
from services.settings import Settings
from services.tables import accounts, persons
from tests.conftest import CHEAP_HASHER, POSTGRES_URL
from tests.support.actors import FAMILY, table_rows
from tests.support.ledger_scenarios import accepted_case
from tests.support.scenario import apply, elder, national_id

ANLAO = str(Path(sys.executable).with_name("anlao"))


def photo(fmt: str, colour: tuple[int, int, int]) -> bytes:
    """A real (tiny) image: the photo store re-encodes what it keeps."""
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, fmt)
    return out.getvalue()


JPEG, PNG = photo("JPEG", (200, 30, 30)), photo("PNG", (30, 30, 200))
SECRET = "backup-test-secret"


def installation(folder: Path, secret: str = SECRET) -> Settings:
    """An SQLite installation in its own instance folder."""
    return Settings(
        instance_path=folder,
        database_url=f"sqlite:///{folder / 'anlao.sqlite3'}",
        secret_key=secret,
    )


def env_for(settings: Settings) -> dict[str, str]:
    """The environment the `anlao` command reads for this installation."""
    return {
        "ANLAO_INSTANCE_PATH": str(settings.instance_path),
        "ANLAO_DATABASE_URL": settings.database_url,
        "ANLAO_SECRET_KEY": settings.secret_key,
    }


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Runtime]:
    """A small installation: one accepted case with two photos kept in the photo store."""
    runtime = build_runtime(installation(tmp_path / "source"), CHEAP_HASHER)
    accepted_case(runtime, photos=[JPEG, PNG])
    runtime.catch_up()
    yield runtime
    runtime.dispose()


def cli(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env_for(settings))


def events_of(database: Path, upto: int | None = None) -> list[tuple[Any, ...]]:
    """Every stored event row with its notification id, in log order."""
    with sqlite3.connect(database) as conn:
        rows = conn.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events"
            " WHERE rowid <= ? ORDER BY rowid",
            (upto if upto is not None else 2**62,),
        ).fetchall()
    conn.close()
    return rows


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def manifest_of(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive) as tar:
        return json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]


# -- the round trip --------------------------------------------------------------------------------
class Writer(threading.Thread):
    """Families keep applying (and pages keep catching up) while the backup runs."""

    def __init__(self, rt: Runtime) -> None:
        super().__init__(daemon=True)
        self.rt, self.written, self.error = rt, 0, None
        self.stop_after: int | None = None
        self.progress = threading.Condition()

    def run(self) -> None:
        try:
            while self.stop_after is None or self.written < self.stop_after:
                who = elder(national_id=national_id(seq=f"{self.written % 900 + 100}"))
                apply(self.rt, FAMILY, key=f"during-backup-{self.written}", elder=who)
                if self.written % 3 == 0:
                    self.rt.catch_up()
                with self.progress:
                    self.written += 1
                    self.progress.notify_all()
        except Exception as e:  # reported by the test
            self.error = e

    def wait_for(self, count: int) -> None:
        with self.progress:
            self.progress.wait_for(
                lambda: self.written >= count or self.error is not None, timeout=60
            )


@pytest.mark.slow
def test_a_backup_taken_while_the_portal_writes_restores_exactly(tmp_path: Path) -> None:
    origin = installation(tmp_path / "origin")
    rt = build_runtime(origin, CHEAP_HASHER)
    programmes = Programmes(rt.facilities, rt.meals, rt.home_care, rt.ledger, rt.targets)
    seed_demo(rt.accounts, rt.retrofit, rt.photos, cases=20, programmes=programmes)
    accepted_case(rt, photos=[JPEG, PNG], elder_seq="777")
    rt.catch_up()
    writer = Writer(rt)
    writer.start()
    writer.wait_for(3)
    archive = tmp_path / "offsite" / "anlao.tar.gz"

    backed_up = subprocess.run([ANLAO, "backup", "--out", str(archive)], env=os.environ | env_for(origin),
                               capture_output=True, text=True, timeout=120)  # fmt: skip
    writer.stop_after = writer.written + 3
    writer.join(timeout=60)
    assert not writer.is_alive()
    assert backed_up.returncode == 0, backed_up.stderr
    assert writer.error is None, writer.error
    copy = installation(tmp_path / "restored")
    restored = subprocess.run([ANLAO, "restore", "--from", str(archive)], env=os.environ | env_for(copy),
                              capture_output=True, text=True, timeout=120)  # fmt: skip
    assert restored.returncode == 0, restored.stderr
    cut = manifest_of(archive)["last_notification_id"]

    # Events: exactly the source's log up to the backup's last notification, nothing after it.
    source_events = events_of(origin.instance_path / "anlao.sqlite3")
    assert len(source_events) > cut, "the writer kept writing after the backup"
    assert events_of(copy.instance_path / "anlao.sqlite3") == source_events[:cut]
    during = {rt.retrofit.application_id(FAMILY, f"during-backup-{n}") for n in range(3)}
    assert during <= {UUID(row[1]) for row in source_events[:cut]}, "writes before the copy"
    # Read models: equal to a rebuild of the source's log cut at the same point.
    reference = build_runtime(installation(tmp_path / "reference"), CHEAP_HASHER)
    reference.retrofit.recorder.insert_events([
        StoredEvent(originator_id=UUID(r[1]), originator_version=r[2], topic=r[3], state=r[4])
        for r in source_events[:cut]
    ])  # fmt: skip
    reference.projector.rebuild()
    back = build_runtime(copy, CHEAP_HASHER)
    for table in read_model_tables.sorted_tables:
        assert table_rows(back.engine, table) == table_rows(reference.engine, table), table.name
    # Accounts and personal data: every applicant's person is there; photos byte for byte.
    assert table_rows(back.engine, accounts) == table_rows(rt.engine, accounts)
    restored_persons = set(table_rows(back.engine, persons))
    assert restored_persons <= set(table_rows(rt.engine, persons))
    applied = [e.person_id for e in _applied(back)]
    assert set(applied) <= {row[0] for row in restored_persons}
    assert files_under(copy.upload_path) == files_under(origin.upload_path)
    assert all(
        ledger_history.verify(back.ledger, f).intact for f in ledger_history.fund_ids(back.ledger)
    )
    # The restored installation carries on writing after the restored log.
    apply(back, FAMILY, key="after-restore")
    assert back.retrofit.recorder.max_notification_id() == cut + 1
    for runtime in (rt, reference, back):
        runtime.dispose()


def _applied(rt: Runtime) -> list[Any]:
    notifications = rt.retrofit.recorder.select_notifications(
        start=1, limit=10**6, topics=("events.retrofit:RetrofitCase.Applied",)
    )
    events = [rt.retrofit.mapper.to_domain_event(n) for n in notifications]
    assert events and all(isinstance(e, RetrofitCase.Applied) for e in events)
    return events


# -- refusals --------------------------------------------------------------------------------------
def test_restore_refuses_a_database_that_holds_data_unless_forced(
    source: Runtime, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.tar"
    assert cli(source.settings, "backup", "--out", str(archive)).exit_code == 0
    target = installation(tmp_path / "target")
    other = build_runtime(target, CHEAP_HASHER)
    apply(other, FAMILY, key="the target's own case")
    other.dispose()
    database = target.instance_path / "anlao.sqlite3"
    before = events_of(database)

    refused = cli(target, "restore", "--from", str(archive))

    assert refused.exit_code == 1 and "already holds data" in refused.output
    assert events_of(database) == before
    forced = cli(target, "restore", "--from", str(archive), "--force")
    assert forced.exit_code == 0, forced.output
    assert events_of(database) == events_of(source.settings.instance_path / "anlao.sqlite3")
    (kept,) = target.instance_path.glob("anlao.sqlite3.before-restore-*")
    assert events_of(kept) == before


def test_restore_refuses_while_the_portal_has_the_database_open(
    source: Runtime, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.tar"
    assert cli(source.settings, "backup", "--out", str(archive)).exit_code == 0
    # The source installation is running (its runtime holds connections): restore onto it.
    before = events_of(source.settings.instance_path / "anlao.sqlite3")

    refused = cli(source.settings, "restore", "--from", str(archive), "--force")

    assert refused.exit_code == 1 and "in use" in refused.output
    assert events_of(source.settings.instance_path / "anlao.sqlite3") == before
    assert not list(source.settings.instance_path.glob("*.before-restore-*"))


def test_restore_refuses_another_secret_key(source: Runtime, tmp_path: Path) -> None:
    archive = tmp_path / "backup.tar"
    assert cli(source.settings, "backup", "--out", str(archive)).exit_code == 0
    target = installation(tmp_path / "target", secret="a-different-secret")

    refused = cli(target, "restore", "--from", str(archive))

    assert refused.exit_code == 1 and "ANLAO_SECRET_KEY" in refused.output
    assert not (target.instance_path / "anlao.sqlite3").exists()


def rewritten(
    archive: Path, out: Path, change: dict[str, bytes | None], manifest: dict | None = None
) -> Path:  # type: ignore[type-arg]
    """A copy of `archive` with entries replaced (bytes), dropped (None) or added."""
    with tarfile.open(archive) as tar:
        entries = {m.name: tar.extractfile(m).read() for m in tar}  # type: ignore[union-attr]
    if manifest is not None:
        entries["manifest.json"] = json.dumps(manifest).encode()
    entries |= change
    with tarfile.open(out, "w") as tar:
        for name, content in entries.items():
            if content is not None:
                info = tarfile.TarInfo(name)
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return out


def foreign_sqlite(path: Path) -> bytes:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    conn.close()
    return path.read_bytes()


def test_restore_refuses_what_is_not_an_intact_anlao_backup(
    source: Runtime, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.tar"
    assert cli(source.settings, "backup", "--out", str(archive)).exit_code == 0
    manifest = manifest_of(archive)
    photo = next(f["name"] for f in manifest["files"] if f["name"].startswith("uploads/"))
    other_db = foreign_sqlite(tmp_path / "notes.sqlite3")
    as_foreign = json.loads(json.dumps(manifest))
    db_entry = next(f for f in as_foreign["files"] if f["name"] == "anlao.sqlite3")
    db_entry |= {"sha256": hashlib.sha256(other_db).hexdigest(), "size": len(other_db)}
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a backup")
    cases = {
        "not a tar": (text_file, "Not a readable Anlao backup"),
        "photo altered": (rewritten(archive, tmp_path / "a.tar", {photo: b"\xff\xd8\xffchanged"}), "does not match its SHA-256"),
        "photo missing": (rewritten(archive, tmp_path / "b.tar", {photo: None}), "Missing from the archive"),
        "entry outside": (rewritten(archive, tmp_path / "c.tar", {"../escape.txt": b"x"}), "Unexpected entry"),
        "no manifest": (rewritten(archive, tmp_path / "d.tar", {"manifest.json": None}), "no manifest"),
        "another database": (rewritten(archive, tmp_path / "e.tar", {"anlao.sqlite3": other_db}, as_foreign), "Not an Anlao database"),
    }  # fmt: skip
    target = installation(tmp_path / "target")
    for case, (bad, message) in cases.items():
        refused = cli(target, "restore", "--from", str(bad))
        assert refused.exit_code == 1 and message in refused.output, (case, refused.output)
        assert not (target.instance_path / "anlao.sqlite3").exists(), case
        assert not (target.instance_path / "uploads").exists(), case
    assert not (tmp_path / "escape.txt").exists()
    assert not list(tmp_path.rglob(".anlao-backup-*")), "scratch folders are cleaned up"


def test_a_backup_is_private_and_appears_only_when_complete(
    source: Runtime, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.tgz"
    refused = cli(source.settings, "backup", "--out", str(tmp_path / "backup.zip"))
    assert refused.exit_code == 1 and ".tar" in refused.output
    assert not list(tmp_path.glob("backup.zip*"))

    done = cli(source.settings, "backup", "--out", str(archive))

    assert done.exit_code == 0, done.output
    assert archive.stat().st_mode & 0o077 == 0
    assert not list(tmp_path.glob(".anlao-backup-*"))
    names = {f["name"] for f in manifest_of(archive)["files"]}
    assert names == {
        "anlao.sqlite3",
        *(f"uploads/{n}" for n in files_under(source.settings.upload_path)),
    }
    with tarfile.open(archive) as tar:
        contents = b"".join(tar.extractfile(m).read() for m in tar)  # type: ignore[union-attr]
    assert SECRET.encode() not in contents  # nor is the secret_key file among the names above


# -- PostgreSQL: the steps printed are the ones that work -------------------------------------------
def test_on_postgres_backup_and_restore_print_the_steps_without_the_password(
    tmp_path: Path,
) -> None:
    settings = Settings(
        instance_path=tmp_path / "i", secret_key="k",
        database_url="postgresql://anlao:pa55word@db.example:6543/city?schema=anlao",
    )  # fmt: skip
    for command in (["backup", "--out", str(tmp_path / "x.dump")], ["restore", "--from", __file__]):
        result = cli(settings, *command)
        assert result.exit_code == 0, result.output
        assert "--host=db.example --port=6543 --username=anlao --dbname=city" in result.output
        assert "pa55word" not in result.output
    assert "--schema=anlao" in cli(settings, "backup", "--out", "x.dump").output
    assert not (tmp_path / "x.dump").exists()


@pytest.mark.slow
@pytest.mark.postgres
def test_the_printed_pg_dump_and_pg_restore_steps_restore_the_events(tmp_path: Path) -> None:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need ANLAO_TEST_POSTGRES_URL (set by .ci/run)")
    schema, database = f"t_{uuid.uuid4().hex[:12]}", f"anlao_restore_{uuid.uuid4().hex[:8]}"
    origin = Settings(
        instance_path=tmp_path / "a",
        secret_key=SECRET,
        database_url=f"{POSTGRES_URL}?schema={schema}",
    )
    restored_url = f"{POSTGRES_URL.rsplit('/', 1)[0]}/{database}?schema={schema}"
    copy = Settings(instance_path=tmp_path / "b", secret_key=SECRET, database_url=restored_url)
    dump = tmp_path / "anlao.dump"
    rt = build_runtime(origin, CHEAP_HASHER)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        apply(rt, FAMILY, key="on postgres")
        rt.catch_up()
        _run_printed(cli(origin, "backup", "--out", str(dump)).output, "pg_dump")
        _run_printed(cli(copy, "restore", "--from", str(dump)).output, "pg_restore")
        back = build_runtime(copy, CHEAP_HASHER)
        back.projector.rebuild()
        source_events = rt.retrofit.recorder.select_notifications(start=1, limit=1000)
        assert back.retrofit.recorder.select_notifications(start=1, limit=1000) == source_events
        assert table_rows(back.engine, accounts) == table_rows(rt.engine, accounts)
        with back.engine.connect() as conn:
            assert conn.execute(select(persons.c.name)).scalars().all() == ["张秀英"]
        back.dispose()
    finally:
        rt.dispose()
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _run_printed(output: str, tool: str) -> None:
    (line,) = [line for line in output.splitlines() if line.strip().startswith(tool)]
    done = subprocess.run(shlex.split(line), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
