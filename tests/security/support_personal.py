"""Looking for one person's data everywhere it could be: every row of every table (events and
snapshots included, read as stored bytes), the database files themselves, and exports."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import zipfile
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url

from tests.support.scenario import national_id

# One elder whose every detail is unusual enough to be found only where it was written.
NAME = "欧阳娜娜"
ID_NUMBER = national_id(birth="19470815", region="440106", seq="357")
PHONE = "13987654321"
ADDRESS = "秘密花园路88号7栋"
NEEDS = "独居,卫生间门槛高,夜里起身怕摔XQZ"
DIET = "低盐少油,对花生过敏QZX"
CARE_NEEDS = "需要每周两次助浴ZXQ"
PERSONAL = (NAME, ID_NUMBER, PHONE, ADDRESS, NEEDS, DIET, CARE_NEEDS)


def needles(values: Iterable[str] = PERSONAL) -> dict[bytes, str]:
    """Each value as bytes the way storage might hold it: UTF-8, and JSON's \\u escapes."""
    found: dict[bytes, str] = {}
    for value in values:
        escaped = json.dumps(value)[1:-1]
        upper = re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), escaped)
        for form in (value, escaped, upper):
            found[form.encode()] = value
    return found


def _as_bytes(cell: object) -> bytes:
    if isinstance(cell, bytes | bytearray | memoryview):
        return bytes(cell)
    return str(cell).encode()


def hits_in(content: bytes, values: Iterable[str] = PERSONAL) -> set[str]:
    """Which of the values appear in some bytes, in any of their stored forms."""
    return {value for needle, value in needles(values).items() if needle in content}


def hits_in_database(engine: Engine, values: Iterable[str] = PERSONAL) -> dict[str, set[str]]:
    """Table by table, which values appear in any row (every column, as stored)."""
    found: dict[str, set[str]] = {}
    values = list(values)
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()
            content = b"\x1f".join(_as_bytes(cell) for row in rows for cell in row)
            if hits := hits_in(content, values):
                found[table] = hits
    return found


def sqlite_files(database_url: str) -> list[Path]:
    """The SQLite database file and its write-ahead log and index, where they exist."""
    main = Path(make_url(database_url).database or "")
    return [p for p in (main, Path(f"{main}-wal"), Path(f"{main}-shm")) if p.exists()]


def hits_in_files(database_url: str, values: Iterable[str] = PERSONAL) -> dict[str, set[str]]:
    """What a forensic reader of the SQLite files (free pages and the log included) finds."""
    values = list(values)
    found = {p.name: hits_in(p.read_bytes(), values) for p in sqlite_files(database_url)}
    return {name: hits for name, hits in found.items() if hits}


def copy_without_person_store(database_url: str, target: Path) -> Path:
    """An SQLite copy of the database with the person store's rows deleted and the file
    rebuilt (VACUUM): what remains is everything outside the person store."""
    source = Path(make_url(database_url).database or "")
    with closing(sqlite3.connect(source)) as conn:
        conn.execute("VACUUM INTO ?", (str(target),))
    with closing(sqlite3.connect(target)) as conn:
        conn.execute("PRAGMA secure_delete=ON")
        conn.execute("DELETE FROM persons")
        conn.execute("DELETE FROM application_details")
        conn.commit()
        conn.execute("VACUUM")
    return target


def zip_contents(archive: bytes) -> bytes:
    """Every member of a ZIP (an evidence pack, an XLSX workbook), decompressed, joined."""
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        return b"\x1f".join(opened.read(name) for name in opened.namelist())
