"""Storage on SQLite and PostgreSQL: exactly-once messages, claims, schema, shared secret."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import peewee as pw
import pytest

from mailroom.app.context import Context
from mailroom.app.ingest import Placement, ingest
from mailroom.errors import ConfigError
from mailroom.mail.message import parse
from mailroom.rules.ruleset import parse_rules
from mailroom.store import queries as store
from mailroom.store.contentkey import content_key
from mailroom.store.models import Message, OutboxItem, Setting, Ticket
from tests.harness.context import mail_context

NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
RULES = parse_rules(
    "version: 1\nagents: ['*@example.com']\nteams: {general: {notify: [team@example.com]}}\n"
    "defaults: {team: general, priority: P3}\nrules: []\n"
)


def _raw(subject: str = "Printer on fire", message_id: str = "<m1@client.example.org>", body: str = "It is on fire.") -> bytes:
    return (
        f"From: Jane <jane@example.org>\r\nTo: support@example.com\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\nDate: Mon, 30 Nov 2026 09:00:00 -0800\r\n\r\n{body}\r\n"
    ).encode()


def _ctx(tmp_path: Path) -> Context:
    return mail_context(tmp_path, RULES, NOW)


@pytest.fixture
def db(database_url: str) -> pw.Database:
    return store.open_database(database_url)


def test_same_message_twice_is_one_row(db: pw.Database, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    raw = _raw()
    first = ingest(ctx, parse(raw, NOW), content_key(raw), Placement("box", 1, 10))
    again = ingest(ctx, parse(raw, NOW), content_key(raw), Placement("box", 1, 11))
    assert first.outcome == "stored" and again.outcome == "duplicate"
    assert Message.select().where(Message.message_id == "<m1@client.example.org>").count() == 1
    # The same UID again is recognised before anything is parsed.
    assert ingest(ctx, parse(raw, NOW), content_key(raw), Placement("box", 1, 10)).outcome == "duplicate"


def test_two_messages_sharing_a_message_id_are_both_kept(db: pw.Database, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    for body in ("First mail.", "A different mail, same id."):
        raw = _raw(body=body)
        assert ingest(ctx, parse(raw, NOW), content_key(raw), Placement("box", 1, None)).outcome == "stored"
    assert Message.select().where(Message.message_id == "<m1@client.example.org>").count() == 2


def test_a_mail_the_database_refuses_for_another_reason_is_no_duplicate(db: pw.Database, tmp_path: Path) -> None:
    # Only a row stored already makes a refusal a duplicate: taken for one, the mail would be
    # moved out of the inbox and lost. Here the database refuses every mail about a printer.
    if store.is_postgres(db):
        db.execute_sql("ALTER TABLE message ADD CONSTRAINT no_printers CHECK (position('Printer' in subject) = 0)")
    else:
        db.execute_sql("CREATE TRIGGER no_printers BEFORE INSERT ON message WHEN new.subject LIKE '%Printer%' "
                       "BEGIN SELECT RAISE(ABORT, 'no printers'); END")
    ctx = _ctx(tmp_path)
    raw = _raw()
    with pytest.raises(pw.IntegrityError):
        ingest(ctx, parse(raw, NOW), content_key(raw), Placement("box", 1, 10))
    assert Message.select().count() == 0 and Ticket.select().count() == 0
    other = _raw(subject="Scanner jams", message_id="<m2@client.example.org>")
    assert ingest(ctx, parse(other, NOW), content_key(other), Placement("box", 1, 11)).outcome == "stored"


def test_unique_index_refuses_a_second_row(db: pw.Database) -> None:
    ticket = Ticket.create(requester="a@example.org", created_at=NOW, updated_at=NOW)
    fields = dict(ticket=ticket, message_id="<x@y>", content_key="k", direction="inbound", kind="customer", date=NOW, received_at=NOW)
    Message.create(**fields)
    with pytest.raises(pw.IntegrityError), db.atomic():
        Message.create(**fields)


def test_outbox_rows_are_claimed_once(db: pw.Database) -> None:
    for n in range(5):
        store.queue(kind="mail", now=NOW, recipients=[f"c{n}@example.org"], raw=b"x")
    first = store.claim_due("mail", NOW, limit=3)
    second = store.claim_due("mail", NOW, limit=10)
    assert len(first) == 3 and len(second) == 2
    assert not {r.id for r in first} & {r.id for r in second}
    assert store.claim_due("mail", NOW) == []
    # A lease that ran out (the worker died) makes the row claimable again.
    assert len(store.claim_due("mail", NOW + timedelta(minutes=6))) == 5
    assert OutboxItem.select().count() == 5


def test_schema_is_versioned_and_reopening_keeps_data(db: pw.Database, database_url: str) -> None:
    Ticket.create(requester="a@example.org", created_at=NOW, updated_at=NOW)
    assert Setting.get(Setting.key == "schema_version").value == str(store.SCHEMA_VERSION)
    store.open_database(database_url)
    assert Ticket.select().count() == 1


def test_generated_secret_is_shared(db: pw.Database) -> None:
    secret = store.shared_secret(None)
    assert len(secret) >= 32 and store.shared_secret(None) == secret
    assert store.shared_secret("configured") == "configured"


def test_timestamps_come_back_in_utc(db: pw.Database) -> None:
    ticket = Ticket.create(requester="a@example.org", created_at=NOW, updated_at=NOW)
    again = Ticket.get_by_id(ticket.id)
    assert again.created_at == NOW and again.created_at.tzinfo is not None


def test_a_transaction_that_reads_then_writes_waits_for_another_writer(tmp_path: Path) -> None:
    # On SQLite a transaction that read before another connection committed could not write
    # afterwards ("database is locked", no busy wait); each transaction takes the lock at BEGIN.
    db = store.open_database(f"sqlite:///{tmp_path / 'mailroom.db'}")
    read, errors = threading.Event(), []

    def ingest_like() -> None:
        try:
            with db.atomic():
                Setting.select().count()
                read.set()
                time.sleep(0.3)  # the other connection tries to commit meanwhile
                Setting.create(key="ingest", value="1")
        except pw.OperationalError as exc:
            errors.append(str(exc))
        finally:
            db.close()

    thread = threading.Thread(target=ingest_like)
    thread.start()
    assert read.wait(60)
    with db.atomic():
        Setting.create(key="sender", value="1")
    thread.join(60)
    assert not thread.is_alive() and errors == []
    assert {s.key for s in Setting.select()} >= {"ingest", "sender"}


def test_a_writer_that_failed_lets_the_next_writer_in(tmp_path: Path) -> None:
    # Writers of one process take turns before BEGIN; a transaction rolled back, or a commit
    # refused, must give the turn back or every later write of the daemon would wait.
    db = store.open_database(f"sqlite:///{tmp_path / 'mailroom.db'}")
    with pytest.raises(pw.IntegrityError), db.atomic():
        Setting.create(key="twice", value="1")
        Setting.create(key="twice", value="2")
    assert isinstance(db, store.WriterSqlite) and not db.turn_taken()
    done = threading.Event()

    def other_writer() -> None:
        try:
            with db.atomic():
                Setting.create(key="sender", value="1")
            done.set()
        finally:
            db.close()

    thread = threading.Thread(target=other_writer, daemon=True)
    thread.start()
    assert done.wait(60), "the next writer never got its turn"
    keys = {s.key for s in Setting.select()}
    assert "sender" in keys and "twice" not in keys


def test_the_sslmode_reaches_postgresql(pg_url: str) -> None:
    # The test server speaks no TLS: a required one is refused, not quietly done without.
    with pytest.raises(ConfigError, match=r"^database\.url: cannot connect: .*SSL"):
        store.open_database(pg_url, sslmode="require")
    store.open_database(pg_url, sslmode="prefer").close()


def test_a_ticket_remembers_the_mailbox_it_came_in_on(db: pw.Database, tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    read = _raw(message_id="<read@client.example.org>")
    imported = _raw(message_id="<imported@client.example.org>")
    first = ingest(ctx, parse(read, NOW), content_key(read), Placement("billing@host/INBOX", 1, 5, "billing"))
    second = ingest(ctx, parse(imported, NOW), content_key(imported), Placement("import:/tmp/old.mbox"))
    assert Ticket.get_by_id(first.ticket_id).mailbox == "billing"
    assert Ticket.get_by_id(second.ticket_id).mailbox is None
