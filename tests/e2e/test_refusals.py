"""Mail the database refuses, and a database that keeps failing: no mail stops the others."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import psycopg2
import pytest

from mailroom.store import queries as store
from mailroom.store.models import Message, Quarantined, Ticket

from .conftest import Mailroom, wait_until, write_config
from .mails import mail
from .test_daemon import Daemon

# 950 CJK characters: under the 998-character cap, over PostgreSQL's 2,704-byte index entry.
HOSTILE_ID = "<" + "".join(chr(0x4E00 + secrets.randbelow(0x5000)) for _ in range(950)) + "@x.example>"


def _with_raw_ids(raw: bytes, message_id: str) -> bytes:
    """The mail with a Message-ID, In-Reply-To and References in raw UTF-8, as a hostile client writes them."""
    hostile = message_id.encode()
    head, _, body = raw.partition(b"\r\n\r\n")
    kept = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"message-id:")]
    ids = [b"Message-ID: " + hostile, b"In-Reply-To: " + hostile, b"References: <a@x.example> " + hostile]
    return b"\r\n".join(kept + ids) + b"\r\n\r\n" + body


@pytest.fixture(params=["sqlite", "postgresql"])
def room(request: pytest.FixtureRequest, mailroom: Mailroom) -> Iterator[Mailroom]:
    """The e2e mailroom on SQLite or PostgreSQL, with the schema made and the store open here."""
    if request.param == "postgresql":
        write_config(mailroom.folder, mailroom.dovecot, mailroom.smtp, database_url=request.getfixturevalue("pg_url"))
    handle = store.open_database(str(mailroom.settings().database.url))
    yield mailroom
    handle.close()


@pytest.fixture
def pg_room(mailroom: Mailroom, pg_url: str) -> Iterator[Mailroom]:
    """The e2e mailroom on PostgreSQL only: its triggers play the refusing server."""
    write_config(mailroom.folder, mailroom.dovecot, mailroom.smtp, database_url=pg_url)
    handle = store.open_database(pg_url)
    yield mailroom
    handle.close()


def _sql(room: Mailroom, statement: str) -> None:
    """Run one statement on the test PostgreSQL database, as its admin would."""
    conn = psycopg2.connect(str(room.settings().database.url))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def _refuse_subjects(room: Mailroom, marker: str, sqlstate: str, at_commit: bool = False) -> None:
    """A trigger that makes PostgreSQL fail every insert of a message whose subject has `marker`.

    With `at_commit`, a deferred constraint trigger: every statement succeeds, the COMMIT fails.
    """
    trigger = ("CREATE CONSTRAINT TRIGGER refuse AFTER INSERT ON message DEFERRABLE INITIALLY DEFERRED"
               if at_commit else "CREATE TRIGGER refuse BEFORE INSERT ON message")
    _sql(room, f"""
        CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN
          IF NEW.subject LIKE '%{marker}%' THEN
            RAISE EXCEPTION 'refused by the test server' USING ERRCODE = '{sqlstate}';
          END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql;
        {trigger} FOR EACH ROW EXECUTE FUNCTION refuse();
    """)


def test_an_id_too_long_for_an_index_is_stored_and_the_next_customer_answered(room: Mailroom) -> None:
    room.dovecot.append("support", _with_raw_ids(mail(subject="Export fails"), HOSTILE_ID))
    room.dovecot.append("support", mail(subject="Invoice question", sender="next@example.org"))
    assert room.run_once() == 0
    assert Ticket.select().count() == 2
    assert room.dovecot.count("support", "Quarantine") == 0 and room.dovecot.count("support", "INBOX") == 0
    hostile = Message.get((Message.direction == "inbound") & (Message.subject == "Export fails"))
    assert hostile.message_id.endswith("@mailroom.invalid>")  # derived from the content, as for a missing id
    assert hostile.in_reply_to is None and hostile.references == ["<a@x.example>"]
    assert room.smtp.by_recipient("next@example.org") and room.smtp.by_recipient("customer@example.org")


def test_a_mail_postgresql_refuses_is_quarantined_with_its_reason(pg_room: Mailroom) -> None:
    room = pg_room
    _refuse_subjects(room, "refuse me", "54000")
    # One batch, stored in one transaction: the refused mail is undone alone.
    room.dovecot.append("support", mail(subject="Password reset", sender="first@example.org"))
    room.dovecot.append("support", mail(subject="please refuse me"))
    room.dovecot.append("support", mail(subject="Invoice question", sender="next@example.org"))
    assert room.run_once() == 0
    (quarantined,) = Quarantined.select()
    assert quarantined.reason == "database refused the mail (54000): refused by the test server"
    assert room.dovecot.count("support", "Quarantine") == 1
    assert sorted(t.requester for t in Ticket.select()) == ["first@example.org", "next@example.org"]
    assert room.smtp.by_recipient("first@example.org") and room.smtp.by_recipient("next@example.org")


def test_a_database_that_keeps_failing_is_retried_ever_later(pg_room: Mailroom) -> None:
    room = pg_room
    _refuse_subjects(room, "Export", "53300")  # too_many_connections: the server's state, not the mail's
    # Stored in the same transaction as the failing one (undone with it, fetched again) or in one
    # before it: either way stored and answered once.
    room.dovecot.append("support", mail(subject="Password reset", sender="first@example.org"))
    room.dovecot.append("support", mail(subject="Export fails"))
    run = Daemon(room)
    try:
        found = run.wait_log(r"action=reconnect in=4s failures=3")
        before = run.text()[: found.end()]
        # One failed pass per wait, each wait twice the one before: no reconnect storm.
        assert [int(n) for n in re.findall(r"action=reconnect in=(\d+)s", before)] == [1, 2, 4]
        assert before.count("action=disconnected") == 3
        assert Quarantined.select().count() == 0 and room.dovecot.count("support", "INBOX") == 2
        _sql(room, "DROP TRIGGER refuse ON message")
        wait_until(lambda: room.smtp.by_recipient("customer@example.org"), 120,
                   "the acknowledgement once the database works again")
    finally:
        assert run.stop()[0] == 0
    assert sorted(t.requester for t in Ticket.select()) == ["customer@example.org", "first@example.org"]
    assert len(room.smtp.by_recipient("first@example.org")) == 1


def test_a_group_whose_commit_fails_is_left_in_the_mailbox_whole(pg_room: Mailroom) -> None:
    room = pg_room
    _refuse_subjects(room, "refuse late", "23514", at_commit=True)  # a check made only at COMMIT
    room.dovecot.append("support", mail(subject="Password reset", sender="first@example.org"))
    room.dovecot.append("support", mail(subject="please refuse late", sender="second@example.org"))
    assert room.run_once() != 0
    # The refused mail is not stored, so it may not leave the inbox (nor the first, committed with
    # it or before it): a commit that fails is the database's fault, not the mail's.
    assert room.dovecot.count("support", "INBOX") == 2 and room.dovecot.count("support", "Processed") == 0
    assert not Ticket.select().where(Ticket.requester == "second@example.org").exists()
    assert Quarantined.select().count() == 0
    _sql(room, "DROP TRIGGER refuse ON message")
    assert room.run_once() == 0
    assert sorted(t.requester for t in Ticket.select()) == ["first@example.org", "second@example.org"]
    assert room.dovecot.count("support", "INBOX") == 0 and room.dovecot.count("support", "Processed") == 2
    assert len(room.smtp.by_recipient("first@example.org")) == 1
