"""Writing a batch's rows with little work per row, for the projections' `apply`.

SQLAlchemy's executemany prepares every row's parameters through its general machinery, and
psycopg's executemany sends one statement per row: each costs about as much as the database's
own work on a batch. Here a statement is built once per table, column set and dialect, the
values go through the same conversions SQLAlchemy would apply (its bind processors, so stored
values are identical), and then:

- SQLite: the driver's executemany (a loop in C over one prepared statement);
- PostgreSQL: one statement for all the rows, each column sent as an array and unnested
  (INSERT ... SELECT FROM unnest(...), UPDATE ... FROM unnest(...)).

Everything runs in the caller's transaction, so rows and the projection's position still
commit together."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, DateTime, Table, and_, bindparam, insert, update
from sqlalchemy.engine import Dialect

Row = Mapping[str, Any]
Convert = Callable[[Any], Any] | None

# json.dumps builds a new encoder on every call made with options; this one is built once.
json_text = json.JSONEncoder(ensure_ascii=False, default=str).encode


@dataclass(frozen=True)
class _Plan:
    """A statement for one dialect, and how to turn one row into its parameters."""

    sql: str
    values_of: Callable[[Row], tuple[Any, ...]]  # the row's converted values, in order


_PLANS: dict[tuple[Any, ...], _Plan] = {}


def insert_rows(conn: Connection, table: Table, rows: Sequence[Row]) -> None:
    """Insert every row; each has the same keys, the columns to fill."""
    if not rows:
        return
    columns = tuple(rows[0])
    if conn.dialect.name == "postgresql":
        _as_arrays(conn, _plan(conn.dialect, table, ("unnest", columns), _unnest_insert), rows)
    else:
        _executemany(conn, _plan(conn.dialect, table, ("insert", columns), _insert_plan), rows)


def update_rows(conn: Connection, table: Table, keys: Sequence[str], rows: Sequence[Row]) -> None:
    """Set the row named by its `keys` entries to each row's other entries; every row has the
    same keys, and names a different table row."""
    if not rows:
        return
    shape = (tuple(keys), tuple(rows[0]))
    if conn.dialect.name == "postgresql":
        _as_arrays(conn, _plan(conn.dialect, table, ("unnest", shape), _unnest_update), rows)
    else:
        _executemany(conn, _plan(conn.dialect, table, ("update", shape), _update_plan), rows)


def _plan(
    dialect: Dialect, table: Table, shape: tuple[Any, ...], build: Callable[..., _Plan]
) -> _Plan:
    key = (dialect.name, table, shape)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = build(dialect, table, *shape[1:])
    return plan


def _executemany(conn: Connection, plan: _Plan, rows: Sequence[Row]) -> None:
    values_of = plan.values_of
    conn.exec_driver_sql(plan.sql, [values_of(row) for row in rows])


def _as_arrays(conn: Connection, plan: _Plan, rows: Sequence[Row]) -> None:
    columns = zip(*map(plan.values_of, rows), strict=True)
    conn.exec_driver_sql(plan.sql, tuple(list(values) for values in columns))


# -- building the statements ------------------------------------------------------------------
def _insert_plan(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> _Plan:
    statement = insert(table).values({name: bindparam(name) for name in columns})
    return _compiled_plan(dialect, statement, {name: name for name in columns})


def _update_plan(dialect: Dialect, table: Table, shape: tuple[tuple[str, ...], ...]) -> _Plan:
    keys, names = shape
    changed = [n for n in names if n not in keys]
    statement = (
        update(table)
        .where(and_(*(table.c[k] == bindparam(f"_key_{k}") for k in keys)))
        .values({name: bindparam(name) for name in changed})
    )
    feeds = {f"_key_{k}": k for k in keys} | {n: n for n in changed}
    return _compiled_plan(dialect, statement, feeds)


def _compiled_plan(dialect: Dialect, statement: Any, feeds: dict[str, str]) -> _Plan:
    """The statement compiled for a positional-parameter driver (SQLite's qmark style)."""
    compiled: Any = statement.compile(dialect=dialect)
    order = list(compiled.positiontup)
    converts = [_convert(compiled.binds[name].type, dialect) for name in order]
    return _Plan(compiled.string, _values_reader([feeds[name] for name in order], converts))


def _unnest_insert(dialect: Dialect, table: Table, columns: tuple[str, ...]) -> _Plan:
    """INSERT ... SELECT FROM unnest(one array per column): one statement for all the rows."""
    quote = dialect.identifier_preparer
    names = ", ".join(quote.quote(name) for name in columns)
    sql = (
        f"INSERT INTO {quote.format_table(table)} ({names}) "  # nosec B608 # quoted schema names only; values are bound
        f"SELECT * FROM unnest({_arrays(dialect, table, columns)})"
    )
    return _Plan(sql, _values_reader(columns, _converts(dialect, table, columns)))


def _unnest_update(dialect: Dialect, table: Table, shape: tuple[tuple[str, ...], ...]) -> _Plan:
    """UPDATE ... FROM unnest(one array per column): one statement for all the rows."""
    keys, names = shape
    quote = dialect.identifier_preparer
    name = quote.format_table(table)
    aliases = ", ".join(quote.quote(n) for n in names)
    sets = ", ".join(f"{quote.quote(n)} = _rows.{quote.quote(n)}" for n in names if n not in keys)
    where = " AND ".join(f"{name}.{quote.quote(k)} = _rows.{quote.quote(k)}" for k in keys)
    sql = (
        f"UPDATE {name} SET {sets} "  # nosec B608 # quoted schema names only; values are bound
        f"FROM unnest({_arrays(dialect, table, names)}) AS _rows({aliases}) WHERE {where}"
    )
    return _Plan(sql, _values_reader(names, _converts(dialect, table, names)))


def _arrays(dialect: Dialect, table: Table, columns: Sequence[str]) -> str:
    # %b: binary arrays, no quoting or escaping of each element (a tenth of the text format's CPU)
    return ", ".join(f"%b::{table.c[n].type.compile(dialect=dialect)}[]" for n in columns)


def _converts(dialect: Dialect, table: Table, columns: Sequence[str]) -> list[Convert]:
    return [_convert(table.c[name].type, dialect) for name in columns]


def _convert(type_: Any, dialect: Dialect) -> Convert:
    convert = type_.dialect_impl(dialect).bind_processor(dialect)
    if convert is not None and dialect.name == "sqlite" and isinstance(type_, DateTime):
        return _fast_sqlite_datetime(convert)
    return convert


def _fast_sqlite_datetime(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """SQLite keeps datetimes as text; SQLAlchemy formats them field by field in Python (a
    twentieth of a catch-up's time). `isoformat` writes the same text in C, cut before the
    offset: used only if it gives SQLAlchemy's very text for an awkward sample."""

    def fast(value: Any) -> Any:
        if type(value) is datetime:
            return value.isoformat(" ", "microseconds")[:26]
        return convert(value)

    sample = datetime(987, 6, 5, 4, 3, 2, 10, tzinfo=timezone(timedelta(hours=8)))
    return fast if fast(sample) == convert(sample) else convert


def _values_reader(names: Sequence[str], converts: Sequence[Convert]) -> Callable[[Row], Any]:
    """One function that reads a row's values, converted, in order: itemgetter reads them all
    in C, and only the columns that need a conversion are touched again in Python."""
    get = itemgetter(*names)
    single = len(names) == 1
    converting = [(i, c) for i, c in enumerate(converts) if c is not None]

    def values_of(row: Row) -> Any:
        values = [get(row)] if single else list(get(row))
        if len(row) != len(names):  # a row with other keys would lose them silently
            raise ValueError(f"row has columns {sorted(row)}, expected {sorted(names)}")
        for i, convert in converting:
            values[i] = convert(values[i])
        return tuple(values)

    return values_of
