"""Bulk loading for the database benches: big chunks in one transaction each, COPY on PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from mailroom.store import queries as store

Insert = Callable[[str, tuple[str, ...], list[tuple[Any, ...]]], None]


def chunks(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """The rows in lists of `size` (the last one shorter)."""
    chunk: list[Any] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def inserter(db: Any) -> Insert:
    """A bulk INSERT for the engine: COPY FROM STDIN on PostgreSQL, executemany on SQLite."""
    if store.is_postgres(db):

        def copy_pg(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
            buffer = io.StringIO("".join("\t".join(map(_copy_text, row)) + "\n" for row in rows))
            db.cursor().copy_expert(f'COPY "{table}" ({_names(columns)}) FROM STDIN', buffer)
        return copy_pg

    def insert_sqlite(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * len(columns))
        text = [tuple(str(v) if isinstance(v, datetime) else v for v in row) for row in rows]
        db.cursor().executemany(f'INSERT INTO "{table}" ({_names(columns)}) VALUES ({marks})', text)
    return insert_sqlite


def _names(columns: tuple[str, ...]) -> str:
    """The column list, quoted ("references" is a reserved word)."""
    return ", ".join(f'"{name}"' for name in columns)


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """One field of COPY's text format: \\N for NULL, t/f, backslash escapes."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    return str(value)


def finish(db: Any, tables: Iterable[str], analyze_sqlite: bool = True) -> None:
    """After a bulk load: sequences past the loaded ids (PostgreSQL), fresh planner statistics.

    PostgreSQL's autovacuum keeps statistics in any real database, so they are made here; mailroom
    never runs ANALYZE on SQLite, whose planner then goes by the indexes alone, so a bench that
    stands for a real database leaves it out (`analyze_sqlite=False`).
    """
    postgres = store.is_postgres(db)
    if postgres:
        for table in tables:
            db.execute_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT COALESCE(MAX(id), 1) FROM \"{table}\"))")
    if postgres or analyze_sqlite:
        db.execute_sql("ANALYZE")
    else:
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
