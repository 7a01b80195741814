"""Statements whose SQL is generated once per shape: model inserts and updates, and hot queries.

Peewee builds the SQL of every query anew by walking its expression tree: about 200-450 µs a
statement here, against 5-20 µs to execute one in SQLite. Ingesting one mail takes some twenty
statements of the same few shapes, so the text of each shape is kept and only values are bound.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import peewee as pw


def dialect(db: pw.Database) -> tuple[type, str]:
    """What the SQL text depends on: the engine and its parameter style."""
    return type(db), db.param


# --- inserts and updates of one model row -----------------------------------------------------

_WRITES: dict[tuple, tuple[str, tuple[pw.Field, ...]]] = {}


def insert_row(model: type[pw.Model], data: dict[str, Any], *, unless_present: bool = False) -> Any:
    """INSERT one row of `model` from field values; answer its new primary key.

    With `unless_present`, a row that would break a unique index is skipped (answer: None).
    """
    db = _database(model)
    postgres = isinstance(db, pw.PostgresqlDatabase)
    key = ("insert", model, tuple(data), unless_present, dialect(db))
    cached = _WRITES.get(key)
    if cached is None:
        fields = tuple(model._meta.fields[name] for name in data)
        columns = ", ".join(_quote(f.column_name) for f in fields)
        marks = ", ".join([db.param] * len(fields))
        verb = "INSERT OR IGNORE" if unless_present and not postgres else "INSERT"
        sql = f"{verb} INTO {_quote(model._meta.table_name)} ({columns}) VALUES ({marks})"
        if unless_present and postgres:
            sql += " ON CONFLICT DO NOTHING"
        if postgres:
            sql += f" RETURNING {_quote(model._meta.primary_key.column_name)}"
        cached = _WRITES[key] = (sql, fields)
    sql, fields = cached
    cursor = db.execute_sql(sql, [f.db_value(data[f.name]) for f in fields])
    if postgres:
        row = cursor.fetchone()
        return row[0] if row else None
    return cursor.lastrowid if cursor.rowcount else None


def insert_rows(model: type[pw.Model], rows: list[dict[str, Any]]) -> None:
    """INSERT many rows of `model` in multi-row statements; the query builder's per-value cost would dominate."""
    if not rows:
        return
    db = _database(model)
    fields = [model._meta.fields[name] for name in rows[0]]
    columns = ", ".join(_quote(f.column_name) for f in fields)
    marks = "(" + ", ".join([db.param] * len(fields)) + ")"
    for start in range(0, len(rows), 500):  # well under SQLite's limit on parameters
        chunk = rows[start:start + 500]
        params = [f.db_value(row[f.name]) for row in chunk for f in fields]
        db.execute_sql(f"INSERT INTO {_quote(model._meta.table_name)} ({columns}) VALUES " + ", ".join([marks] * len(chunk)),
                      params)


_IDS = "__ids__"  # where a kept statement's id list goes: only `id_list`'s integers are put there
_ID_STATEMENTS: dict[tuple, tuple[str, list[Any]]] = {}


def with_ids(model: type[pw.Model], key: Any, build: Callable[[pw.SQL], pw.Query], ids: Iterable[Any]) -> Any:
    """Run the statement `build` makes of an id list, its SQL generated once per `key` and dialect."""
    db = _database(model)
    cache_key = (key, dialect(db))
    if cache_key not in _ID_STATEMENTS:
        _ID_STATEMENTS[cache_key] = db.get_sql_context().parse(build(pw.SQL(_IDS)))
    sql, params = _ID_STATEMENTS[cache_key]
    return db.execute_sql(sql.replace(_IDS, id_list(ids).sql), params)


def id_list(ids: Iterable[Any]) -> pw.SQL:
    """Row ids as a SQL list of integers, for `field.in_(...)`: the builder walks each bound value (a fifth of an SLA check of 100 clocks)."""
    return pw.SQL("(" + ", ".join(str(int(i)) for i in ids) + ")")  # int(): only numbers reach the text


def update_row(model: type[pw.Model], pk: Any, data: dict[str, Any], **unless_changed: Any) -> int:
    """UPDATE the fields in `data` of the row with primary key `pk`; answer the rows changed.

    `unless_changed` names fields the row must still hold, or it is left alone (another
    worker settled it first).
    """
    db = _database(model)
    key = ("update", model, tuple(data), tuple(unless_changed), dialect(db))
    cached = _WRITES.get(key)
    if cached is None:
        fields = tuple(model._meta.fields[name] for name in data)
        guards = (model._meta.primary_key, *(model._meta.fields[name] for name in unless_changed))
        sets = ", ".join(f"{_quote(f.column_name)} = {db.param}" for f in fields)
        where = " AND ".join(f"{_quote(f.column_name)} = {db.param}" for f in guards)
        sql = f"UPDATE {_quote(model._meta.table_name)} SET {sets} WHERE {where}"
        cached = _WRITES[key] = (sql, fields)
    sql, fields = cached
    params = [f.db_value(data[f.name]) for f in fields]
    params.append(model._meta.primary_key.db_value(pk))
    params += [model._meta.fields[name].db_value(value) for name, value in unless_changed.items()]
    return db.execute_sql(sql, params).rowcount


def _database(model: type[pw.Model]) -> pw.Database:
    """The database a model is bound to, through the proxy."""
    db = model._meta.database
    return db.obj if isinstance(db, pw.DatabaseProxy) else db


def _quote(name: str) -> str:
    # SQLite and PostgreSQL both quote identifiers with double quotes; ours never contain one.
    return f'"{name}"'


# --- prepared selects ----------------------------------------------------------------------------


class Bind(pw.Node):
    """A named value of a prepared query, converted as the field it is compared with."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def __sql__(self, ctx: pw.Context) -> pw.Context:
        # Recorded in the parameter list in its place; `Prepared` puts the value there.
        ctx._values.append(_Slot(self.name, ctx.state.converter))
        return ctx.literal(ctx.state.param or "?")


class _Slot:
    """Where a bound value goes in the parameters, and how it is converted."""

    __slots__ = ("name", "convert")

    def __init__(self, name: str, convert: Any) -> None:
        self.name, self.convert = name, convert


class Prepared:
    """A select built once with `Bind` placeholders; each call binds values and runs the kept SQL."""

    def __init__(self, query: pw.SelectBase) -> None:
        self.query = query
        self._sql: dict[tuple, tuple[str, list[Any]]] = {}

    def _statement(self, db: pw.Database) -> tuple[str, list[Any]]:
        key = dialect(db)
        if key not in self._sql:
            self._sql[key] = db.get_sql_context().parse(self.query)
        return self._sql[key]

    def rows(self, **values: Any) -> Iterator[Any]:
        """The query's rows (models, tuples or dicts, as the query was built) for these values."""
        db = _database(self.query.model)
        sql, template = self._statement(db)
        params = [_bound(p, values) for p in template]
        cursor = db.execute_sql(sql, params)
        yield from self.query._get_cursor_wrapper(cursor)

    def first(self, **values: Any) -> Any:
        """The first row, or None."""
        return next(self.rows(**values), None)

    def scalar(self, **values: Any) -> Any:
        """The first column of the first row (of a `.tuples()` query), or None."""
        row = self.first(**values)
        return None if row is None else row[0]


def _bound(param: Any, values: dict[str, Any]) -> Any:
    if not isinstance(param, _Slot):
        return param
    value = values[param.name]
    return param.convert(value) if param.convert is not None else value
