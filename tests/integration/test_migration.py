"""A database made by the release before (schema version 4) opens, migrates in one transaction, keeps every ticket."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import peewee as pw
import psycopg2
import pytest

from mailroom.app.ingest import Placement, ingest
from mailroom.mail.message import parse
from mailroom.rules.ruleset import parse_rules
from mailroom.store import queries as store
from mailroom.store.contentkey import content_key
from mailroom.store.models import Message, Setting, Ticket
from mailroom.store.search import search_tickets
from tests.harness.context import mail_context

DUMPS = Path(__file__).resolve().parents[1] / "data" / "schema4"
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
RULES = parse_rules("version: 1\nteams: {general: {}, billing: {}}\ndefaults: {team: general, priority: P3}\nrules: []\n")
# What the dumps hold (see tests/data/schema4/README.md).
TICKETS = {
    1: ("Printer on fire", "general", "P3", "jane@example.org"),
    2: ("Invoice 2026-11 is wrong", "billing", "P2", "bob@bigcorp.com"),
    3: ("Password reset does not arrive", "general", "P3", "carla@example.net"),
}


def _load_dump(url: str) -> None:
    """The dump of this engine executed into the empty database, as `sqlite3` or `psql` would."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(urlparse(url).path)
        conn.executescript((DUMPS / "sqlite.sql").read_text(encoding="utf-8"))
        conn.close()
        return
    # Lines starting with a backslash are psql's own commands (\restrict), not SQL.
    text = "".join(
        line for line in (DUMPS / "postgresql.sql").read_text(encoding="utf-8").splitlines(keepends=True)
        if not line.startswith("\\")
    )
    conn = psycopg2.connect(url)
    with conn, conn.cursor() as cur:
        cur.execute(text)
    conn.close()


def _rows(db: pw.Database, table: str) -> list[tuple[Any, ...]]:
    """Every row of a table as the database holds it, by id (the columns version 4 had)."""
    return list(db.execute_sql(f'SELECT * FROM "{table}" ORDER BY id').fetchall())


def _raw_database(url: str) -> pw.Database:
    """A connection that only reads: no models bound, no upgrade run."""
    db: pw.Database
    if url.startswith("sqlite"):
        db = pw.SqliteDatabase(urlparse(url).path)
    else:
        db = pw.PostgresqlDatabase(urlparse(url).path.lstrip("/"), host="127.0.0.1", user="postgres")
    db.connect()
    return db


@pytest.fixture
def schema4(database_url: str) -> str:
    """The database URL, holding the version-4 dump."""
    _load_dump(database_url)
    return database_url


def test_a_version_4_database_is_migrated_and_keeps_every_ticket(schema4: str, tmp_path: Path) -> None:
    before = _raw_database(schema4)
    assert before.execute_sql("SELECT value FROM setting WHERE key = 'schema_version'").fetchone() == ("4",)
    kept = {table: _rows(before, table) for table in ("ticket", "message", "event", "outbox_item", "clock")}
    before.close()

    db = store.open_database(schema4)
    assert Setting.get(Setting.key == "schema_version").value == str(store.SCHEMA_VERSION)
    assert {t.id: (t.subject, t.team, t.priority, t.requester) for t in Ticket.select()} == TICKETS
    assert all(t.mailbox is None and t.address == "support@example.com" for t in Ticket.select())
    # Every row, column by column: the old columns first, the new one after them, empty.
    for table, rows in kept.items():
        now = _rows(db, table)
        assert [row[: len(rows[0])] for row in now] == rows, table
    assert [row[-1] for row in _rows(db, "ticket")] == [None, None, None]
    assert "mailbox" in {c.name for c in db.get_columns("ticket")}
    assert ("mailbox", "created_at") in {tuple(i.columns) for i in db.get_indexes("ticket")}
    # The mail stored before is found by its words (on PostgreSQL through the stored text vectors).
    assert [f.ticket_id for f in search_tickets("printer")] == [1]

    # The migrated database takes new mail, which remembers its mailbox.
    raw = (b"From: Dana <dana@example.org>\r\nTo: billing@example.com\r\nSubject: Refund\r\n"
           b"Message-ID: <after-upgrade@client.example.org>\r\nDate: Mon, 07 Dec 2026 09:00:00 +0000\r\n\r\nPlease.\r\n")
    ctx = mail_context(tmp_path, RULES, NOW)
    done = ingest(ctx, parse(raw, NOW), content_key(raw), Placement("billing@host/INBOX", 9, 1, "billing"), raw=raw)
    assert done.outcome == "stored" and done.ticket_id == 4
    assert Ticket.get_by_id(4).mailbox == "billing"
    assert sorted(m.kind for m in Message.select().where(Message.ticket == 4)) == ["ack", "customer"]
    if store.is_postgres(db) and _has_lz4(db):
        # The mail written since is compressed with lz4; the mail from before keeps its pglz.
        assert _compressions(db) == {"text": {"lz4", "pglz"}, "raw": {"lz4", "pglz"}}
    db.close()


def _has_lz4(db: pw.Database) -> bool:
    row = db.execute_sql("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
    return bool(row.fetchone()[0])


def _compressions(db: pw.Database) -> dict[str, set[str]]:
    """How the stored mail's compressed values were compressed: the messages' text, the outbox's bytes."""
    text = db.execute_sql("SELECT DISTINCT pg_column_compression(text) FROM message").fetchall()
    raw = db.execute_sql("SELECT DISTINCT pg_column_compression(raw) FROM outbox_item").fetchall()
    return {"text": {c for (c,) in text if c}, "raw": {c for (c,) in raw if c}}


def test_mail_is_compressed_with_lz4_on_a_new_postgresql_database(database_url: str, tmp_path: Path) -> None:
    db = store.open_database(database_url)
    if not store.is_postgres(db) or not _has_lz4(db):
        db.close()
        pytest.skip("SQLite keeps mail as it is; lz4 needs a PostgreSQL server built with it")
    # A long question: values over about 2 kB are compressed, shorter ones stay as they are.
    body = b"".join(b"Line %d of the export log: row skipped, limit reached.\r\n" % i for i in range(80))
    raw = (b"From: Dana <dana@example.org>\r\nTo: support@example.com\r\nSubject: Export stops\r\n"
           b"Message-ID: <long@client.example.org>\r\nDate: Mon, 07 Dec 2026 09:00:00 +0000\r\n\r\n" + body)
    ctx = mail_context(tmp_path, RULES, NOW)
    done = ingest(ctx, parse(raw, NOW), content_key(raw), Placement("box", 1, 1), raw=raw)
    assert done.outcome == "stored"
    assert _compressions(db) == {"text": {"lz4"}, "raw": {"lz4"}}
    db.close()


def test_a_failing_migration_leaves_version_4_as_it_was(schema4: str, monkeypatch: pytest.MonkeyPatch) -> None:
    step = store.MIGRATIONS[5]

    def half_done(db: pw.Database) -> None:
        step(db)  # the column is added, then the step fails before the version is recorded
        raise pw.OperationalError("disk full")

    monkeypatch.setitem(store.MIGRATIONS, 5, half_done)
    with pytest.raises(pw.OperationalError, match="disk full"):
        store.open_database(schema4)
    store.database.obj.close()

    after = _raw_database(schema4)
    assert after.execute_sql("SELECT value FROM setting WHERE key = 'schema_version'").fetchone() == ("4",)
    assert "mailbox" not in {c.name for c in after.get_columns("ticket")}
    assert len(_rows(after, "ticket")) == 3
    after.close()
