"""Backup and restore of an installation on SQLite: one tar archive holding a consistent copy of
the database, the uploaded photos and a manifest of SHA-256s, checked whole before a restore
touches anything. PostgreSQL installations use PostgreSQL's own tools (see `postgres_steps`).

Why one archive: events name photos only by hash, so a database without its photos would restore
cases whose acceptance evidence is gone. The database is copied first, in one read transaction
(the online backup API in a single step), while the portal keeps writing; the photos are listed
after it. A photo is stored before the event that records it is saved, so every photo an event
in the copy refers to is already on disk when the folder is read. Photos stored after the copy
come along too, unreferenced and harmless.

The secret key and the event cipher key are not in the archive: whoever holds a backup must not
be able to sign sessions, and keys belong with the operator's secrets. The manifest carries a
check value of each, so a restore refuses a database it could not use: the person store matches
elders by a digest keyed with the secret, and the double-subsidy guard by the person it finds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shlex
import shutil
import sqlite3
import tarfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from io import BytesIO
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from sqlalchemy.engine import make_url

from services.errors import ServiceError
from services.settings import Settings

FORMAT = "anlao-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "anlao.sqlite3"
UPLOADS = "uploads"
# Tables an Anlao database always has: the event store (eventsourcing's SQLite recorder), the
# service tables and the projections' positions.
REQUIRED_TABLES = ("stored_events", "accounts", "persons", "projection_positions")
CHUNK = 1024 * 1024
# A database "holds data" once it has an event or an account.
_HOLDS_DATA = {
    "stored_events": "SELECT 1 FROM stored_events LIMIT 1",
    "accounts": "SELECT 1 FROM accounts LIMIT 1",
}


class BackupRefused(ServiceError):
    """A backup or restore was refused before anything was changed (detail says why)."""

    code = "backup_refused"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class BackupSummary:
    """What an archive holds: events up to `last_notification_id`, and photo files."""

    path: Path
    last_notification_id: int
    events: int
    photos: int
    size: int


# -- backing up ---------------------------------------------------------------------------------
def backup_sqlite(settings: Settings, out: Path) -> BackupSummary:
    """Write a backup archive of a running installation; the archive appears under `out` only
    once complete (.tar, or .tar.gz / .tgz to compress)."""
    mode = _write_mode(out)
    database = sqlite_path(settings)
    if not database.is_file():
        raise BackupRefused("no_database", f"No database at {database}.")
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with _scratch(out.parent) as scratch:
        copy = scratch / DATABASE
        _snapshot(database, copy)
        last, count = _check_database(copy)
        partial = scratch / "archive.part"
        partial.touch(mode=0o600)  # personal data: readable by the installation's user only
        with tarfile.open(partial, mode) as archive:
            files = [_add_file(archive, DATABASE, copy)]
            files += _add_uploads(archive, settings.upload_path)
            manifest = _manifest(settings, files, last, count)
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=1).encode())
        _fsync(partial)
        partial.replace(out)
    return BackupSummary(out, last, count, len(files) - 1, out.stat().st_size)


def sqlite_path(settings: Settings) -> Path:
    """The SQLite file the installation uses."""
    return Path(make_url(settings.database_url).database or "").resolve()


def _snapshot(database: Path, copy: Path) -> None:
    """Copy the live database in one step of the online backup API: one read transaction, so
    the copy is the database as at one commit, and WAL lets writers carry on meanwhile."""
    with (
        closing(sqlite3.connect(database, timeout=15)) as source,
        closing(sqlite3.connect(copy)) as target,
    ):
        source.backup(target, pages=-1)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file


def _check_database(path: Path) -> tuple[int, int]:
    """(last notification id, number of events) of an intact Anlao database; refuses others."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            if conn.execute("PRAGMA integrity_check").fetchone() != ("ok",):
                raise BackupRefused("damaged", "The database fails SQLite's integrity check.")
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if missing := [t for t in REQUIRED_TABLES if t not in names]:
                raise BackupRefused("not_anlao", f"Not an Anlao database (no {missing[0]}).")
            last, count = conn.execute(
                "SELECT COALESCE(MAX(rowid), 0), COUNT(*) FROM stored_events"
            ).fetchone()
    except sqlite3.DatabaseError as e:
        raise BackupRefused("not_anlao", f"Not an SQLite database: {e}.") from None
    return int(last), int(count)


def _write_mode(out: Path) -> str:
    if out.name.endswith((".tar.gz", ".tgz")):
        return "w:gz"
    if out.name.endswith(".tar"):
        return "w"
    raise BackupRefused("name", "Name the backup .tar, .tar.gz or .tgz.")


def _add_uploads(archive: tarfile.TarFile, folder: Path) -> list[dict[str, Any]]:
    """Every regular file under the uploads folder (not links, not half-written parts)."""
    if not folder.is_dir():
        return []
    added = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file() or path.suffix == ".part":
            continue
        name = f"{UPLOADS}/{path.relative_to(folder).as_posix()}"
        try:
            added.append(_add_file(archive, name, path))
        except FileNotFoundError:  # erased while we listed: it is gone from the installation too
            continue
    return added


def _add_file(archive: tarfile.TarFile, name: str, path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(CHUNK), b""):
            digest.update(chunk)
        size = source.tell()
        source.seek(0)
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o600, int(path.stat().st_mtime)
        archive.addfile(info, source)
    return {"name": name, "sha256": digest.hexdigest(), "size": size}


def _add_bytes(archive: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(content), 0o600, int(datetime.now(UTC).timestamp())
    archive.addfile(info, BytesIO(content))


def _manifest(
    settings: Settings, files: list[dict[str, Any]], last: int, count: int
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(),
        "anlao_version": version("anlao"),
        "last_notification_id": last,
        "events": count,
        "secret_key_check": key_check(settings.secret_key),
        "event_cipher_key_check": key_check(settings.event_cipher_key),
        "files": files,
    }


def key_check(key: str) -> str:
    """A check value that tells two keys apart without revealing either ("" when unset)."""
    if not key:
        return ""
    return hmac.new(key.encode(), b"anlao backup key check", hashlib.sha256).hexdigest()[:16]


# -- restoring ----------------------------------------------------------------------------------
def restore_sqlite(settings: Settings, source: Path, *, force: bool = False) -> BackupSummary:
    """Put an archive's database and photos in place of this installation's. Everything is
    checked first (format, hashes, integrity, keys); a database that holds data is replaced
    only with `force`, and then kept beside the new one. Read models need a rebuild after."""
    database = sqlite_path(settings)
    database.parent.mkdir(parents=True, exist_ok=True)
    with _scratch(database.parent) as scratch:
        manifest = _unpack(source, scratch)
        last, count = _check_database(scratch / DATABASE)
        if (last, count) != (manifest["last_notification_id"], manifest["events"]):
            raise BackupRefused("mismatch", "The database does not match its manifest.")
        _check_keys(settings, manifest)
        if database.exists():
            _check_replaceable(database, force)
        # Photos first: should the database move fail, extra photos are harmless orphans.
        photos = _put_uploads(scratch / UPLOADS, settings.upload_path)
        _put_database(scratch / DATABASE, database)
    return BackupSummary(source, last, count, photos, source.stat().st_size)


def _unpack(source: Path, scratch: Path) -> dict[str, Any]:
    """Extract the archive into `scratch`, refusing unknown entries and any hash that differs."""
    try:
        with tarfile.open(source, "r:*") as archive:
            manifest = _read_manifest(archive)
            expected = {f["name"]: f for f in manifest["files"]}
            if DATABASE not in expected:
                raise BackupRefused("not_backup", "The archive holds no database.")
            for member in archive:
                if member.name == MANIFEST:
                    continue
                entry = expected.pop(member.name, None)
                if entry is None or not member.isfile() or not _safe(member.name):
                    raise BackupRefused("not_backup", f"Unexpected entry {member.name!r}.")
                _extract(archive.extractfile(member), scratch / member.name, entry)
    except (tarfile.TarError, OSError, EOFError) as e:
        raise BackupRefused("not_backup", f"Not a readable Anlao backup: {e}.") from None
    if expected:
        raise BackupRefused("incomplete", f"Missing from the archive: {sorted(expected)[0]}.")
    return manifest


def _read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.getmember(MANIFEST)
        manifest = json.loads(archive.extractfile(member).read())  # type: ignore[union-attr]
    except (KeyError, AttributeError, ValueError):
        raise BackupRefused("not_backup", "Not an Anlao backup (no manifest).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused("not_backup", "Not an Anlao backup (unknown manifest).")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupRefused("version", f"Backup format {manifest.get('format_version')} unknown.")
    return manifest


def _safe(name: str) -> bool:
    """A relative path that stays inside the restore folder: the database or an upload."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name:
        return False
    return name == DATABASE or (len(path.parts) >= 2 and path.parts[0] == UPLOADS)


def _extract(stream: BinaryIO | None, target: Path, entry: dict[str, Any]) -> None:
    if stream is None:
        raise BackupRefused("not_backup", f"Unreadable entry {entry['name']!r}.")
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with stream, target.open("wb") as out:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != entry["sha256"]:
        raise BackupRefused("altered", f"{entry['name']} does not match its SHA-256.")


def _check_keys(settings: Settings, manifest: dict[str, Any]) -> None:
    if manifest.get("event_cipher_key_check") != key_check(settings.event_cipher_key):
        raise BackupRefused(
            "cipher_key",
            "The events were written with another ANLAO_EVENT_CIPHER_KEY (or none): set the "
            "key the backed-up installation used, or they cannot be read.",
        )
    if manifest.get("secret_key_check") != key_check(settings.secret_key):
        raise BackupRefused(
            "secret_key",
            "This installation's secret key differs from the backed-up one: set "
            "ANLAO_SECRET_KEY (or copy its instance's secret_key file) first. Elders are "
            "matched by a digest under that key; another key would give a returning elder a "
            "new person, outside the double-subsidy guard.",
        )


def _check_replaceable(database: Path, force: bool) -> None:
    """A live database may be replaced only when no process has it open, and (unless forced)
    only when it holds nothing."""
    try:
        with closing(sqlite3.connect(database, timeout=0.5, isolation_level=None)) as conn:
            conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            conn.execute("BEGIN EXCLUSIVE")  # fails while a portal or worker has it open
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            held = any(
                conn.execute(query).fetchone()
                for table, query in _HOLDS_DATA.items()
                if table in names
            )
            conn.execute("ROLLBACK")
    except sqlite3.OperationalError as e:
        raise BackupRefused(
            "in_use", f"The database is in use ({e}): stop the portal and the projection worker."
        ) from None
    except sqlite3.DatabaseError:
        held = True  # not a database we can read: it is something, so only --force replaces it
    if held and not force:
        raise BackupRefused(
            "not_empty", f"{database} already holds data; add --force to replace it (it is kept)."
        )


def _put_database(copy: Path, database: Path) -> None:
    """Move the live files aside (kept, with their WAL), then the restored copy into place."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept = database.with_name(f"{database.name}.before-restore-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        old = Path(f"{database}{suffix}")
        if old.exists():
            old.replace(f"{kept}{suffix}")
    _fsync(copy)
    copy.replace(database)
    _fsync_dir(database.parent)


def _put_uploads(staged: Path, uploads: Path) -> int:
    """Copy the archive's photos into the uploads folder; files already there stay."""
    if not staged.is_dir():
        return 0
    count = 0
    for path in sorted(p for p in staged.rglob("*") if p.is_file()):
        target = uploads / path.relative_to(staged)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)  # the uploads may be on another file system
        count += 1
    return count


@contextmanager
def _scratch(folder: Path) -> Iterator[Path]:
    """A private working folder beside the files, so final moves stay on one file system."""
    path = folder / f".anlao-backup-{secrets.token_hex(6)}"
    path.mkdir(mode=0o700)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _fsync(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- PostgreSQL -----------------------------------------------------------------------------------
def postgres_steps(settings: Settings, file: str, *, restoring: bool) -> str:
    """How to back up or restore a PostgreSQL installation with pg_dump / pg_restore (which
    anlao does not run itself: the client must match the server's major version, and the
    password belongs in PGPASSWORD or ~/.pgpass, not in anlao's output)."""
    url = make_url(settings.database_url)
    q = shlex.quote
    schema = url.query.get("schema")
    connect = (
        f"--host={q(url.host or '127.0.0.1')} --port={url.port or 5432} "
        f"--username={q(url.username or 'postgres')} --dbname={q(url.database or '')}"
    )
    only = f" --schema={q(str(schema))}" if schema else ""
    uploads, archive = settings.upload_path, f"{file}.uploads.tar"
    file, archive, folder = q(file), q(archive), q(str(uploads.parent))
    if restoring:
        return "\n".join([
            "PostgreSQL: restore with PostgreSQL's own tools (nothing was changed). Stop the "
            "portal and the projection worker, then:",
            f"  pg_restore --clean --if-exists --no-owner {connect} {file}",
            f"  tar -C {folder} -xf {archive}",
            "  anlao projections rebuild",
            "Set ANLAO_SECRET_KEY and ANLAO_EVENT_CIPHER_KEY to the backed-up installation's.",
        ])  # fmt: skip
    return "\n".join([
        "PostgreSQL: back up with PostgreSQL's own tools (anlao wrote nothing). pg_dump reads "
        "one consistent snapshot while the portal keeps writing:",
        f"  pg_dump --format=custom --no-owner{only} {connect} --file={file}",
        f"  tar -C {folder} -cf {archive} {q(uploads.name)}",
        "Give the password in PGPASSWORD or ~/.pgpass. Run the photo copy after the dump: "
        "every photo an event refers to is stored before that event.",
        "Keep ANLAO_SECRET_KEY and ANLAO_EVENT_CIPHER_KEY with your secrets, not with the "
        "backup; a restore needs the same ones.",
    ])  # fmt: skip
