"""Database failures told apart on the real servers: a refused mail, or a server that is away."""

from __future__ import annotations

import secrets
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

import peewee as pw
import psycopg2
import pytest

from mailroom.store import queries as store
from mailroom.store.failures import refusal
from mailroom.store.models import Message

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _insert(message_id: str) -> None:
    Message.create(
        ticket=None, message_id=message_id, content_key=uuid.uuid4().hex, direction="inbound", kind="customer",
        text="", new_text="", date=NOW, received_at=NOW,
    )


def test_an_index_entry_over_postgresql_s_limit_is_a_refusal(pg_url: str) -> None:
    handle = store.open_database(pg_url)
    try:
        with pytest.raises(pw.DatabaseError) as raised, handle.atomic():
            # Random, so PostgreSQL cannot compress the entry under its 2,704-byte limit.
            _insert("<" + "".join(chr(0x4E00 + secrets.randbelow(0x5000)) for _ in range(950)) + "@x.example>")
        reason = refusal(raised.value)
        assert reason is not None and reason.startswith("database refused the mail (54000): index row")
        _insert("<fine@x.example>")  # the connection is still good
        assert Message.select().count() == 1
    finally:
        handle.close()


def test_a_lost_postgresql_connection_is_no_refusal(pg_url: str) -> None:
    handle = store.open_database(pg_url)
    try:
        pid = handle.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
        admin = psycopg2.connect(pg_url)
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
        admin.close()
        with pytest.raises(pw.DatabaseError) as raised:
            _insert("<after@x.example>")
        assert refusal(raised.value) is None
    finally:
        handle.close()


def test_a_locked_sqlite_database_is_no_refusal(tmp_path: Path) -> None:
    path = tmp_path / "mailroom.db"
    store.open_database(f"sqlite:///{path}").close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    waiter = sqlite3.connect(path, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError) as raised:
            waiter.execute("INSERT INTO setting (key, value) VALUES ('k', 'v')")
        assert "locked" in str(raised.value) and refusal(raised.value) is None
    finally:
        waiter.close()
        holder.execute("ROLLBACK")
        holder.close()
