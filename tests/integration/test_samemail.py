"""Exactly once on SQLite and PostgreSQL: one mail read twice or from two mailboxes is one message and one ticket."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import peewee as pw
import pytest

from mailroom.app.ingest import Placement, ingest
from mailroom.mail.message import parse
from mailroom.rules.ruleset import parse_rules
from mailroom.store import queries as store
from mailroom.store.contentkey import content_key, legacy_content_key
from mailroom.store.models import Event, Message, OutboxItem, Ticket
from tests.harness.context import mail_context

NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
SAME_ID = Path(__file__).resolve().parents[1] / "data" / "same-message-id"
RULES = parse_rules("version: 1\nteams: {general: {}}\ndefaults: {team: general, priority: P3}\nrules: []\n")
TO_BOTH = (
    b"From: Jane <jane@example.org>\r\nTo: support@example.com\r\nCc: billing@example.com\r\n"
    b"Subject: Charged twice\r\nDate: Mon, 30 Nov 2026 09:00:00 -0800\r\nMessage-ID: <both@client.example.org>\r\n"
    b"\r\nOur card was charged twice for November.\r\n"
)


def _copy(mailbox: str, hop: str, verdict: str) -> bytes:
    """TO_BOTH as the receiving server delivers it into `mailbox`."""
    return (
        f"Return-Path: <jane@example.org>\r\nDelivered-To: {mailbox}\r\n"
        f"Received: from {hop} by mx.example.com with ESMTPS id {hop}; Mon, 30 Nov 2026 17:00:00 +0000\r\n"
        f"Authentication-Results: mx.example.com; dkim={verdict}\r\nX-Spam-Score: {len(hop)}\r\n"
    ).encode() + TO_BOTH


@pytest.fixture
def db(database_url: str) -> pw.Database:
    return store.open_database(database_url)


def _ingest(tmp_path: Path, raw: bytes, place: Placement) -> tuple[str, int | None]:
    ctx = mail_context(tmp_path, RULES, NOW, addresses=("billing@example.com",))
    done = ingest(ctx, parse(raw, NOW), content_key(raw), place, raw=raw)
    return done.outcome, done.ticket_id


def _acks() -> int:
    return OutboxItem.select().join(Message).where(Message.kind == "ack").count()


def test_four_mails_of_the_corpus_sharing_a_message_id_are_four_messages(db: pw.Database, tmp_path: Path) -> None:
    for uid, name in enumerate(("msg_01.txt", "msg_03.txt", "msg_20.txt", "msg_29.txt"), 1):
        raw = (SAME_ID / name).read_bytes()
        assert _ingest(tmp_path, raw, Placement("support@host/INBOX", 1, uid, "support"))[0] == "stored", name
    assert Message.select().where(Message.message_id == "<15090.61304.110929.45684@aaa.zzz.org>").count() == 4


def test_one_mail_delivered_twice_with_other_stamps_is_one_message(db: pw.Database, tmp_path: Path) -> None:
    first = _ingest(tmp_path, _copy("support@example.com", "a.example.org", "pass"), Placement("box", 1, 1, "support"))
    again = _ingest(tmp_path, _copy("support@example.com", "bb.example.net", "none"), Placement("box", 2, 1, "support"))
    assert first[0] == "stored" and again == ("duplicate", first[1])
    assert Message.select().where(Message.message_id == "<both@client.example.org>").count() == 1
    assert _acks() == 1


def test_one_mail_to_two_of_our_mailboxes_is_one_ticket_and_one_acknowledgement(db: pw.Database, tmp_path: Path) -> None:
    support = _copy("support@example.com", "a.example.org", "pass")
    billing = _copy("billing@example.com", "a.example.org", "pass")
    first = _ingest(tmp_path, billing, Placement("billing@host/INBOX", 3, 8, "billing"))
    second = _ingest(tmp_path, support, Placement("support@host/INBOX", 4, 9, "support"))
    assert first[0] == "stored" and second == ("duplicate", first[1])
    assert Ticket.select().count() == 1 and Ticket.get_by_id(first[1]).mailbox == "billing"
    assert Message.select().where(Message.message_id == "<both@client.example.org>").count() == 1
    assert _acks() == 1
    # The team can see it reached both; a second fetch of that copy notes nothing new.
    _ingest(tmp_path, support, Placement("support@host/INBOX", 4, 10, "support"))
    noted = [e.detail for e in Event.select().where(Event.action == "same mail")]
    assert noted == ["the same mail came in on mailbox support too; stored once"]


def test_a_mail_stored_under_the_legacy_key_is_recognised_when_fetched_again(db: pw.Database, tmp_path: Path) -> None:
    raw = _copy("support@example.com", "a.example.org", "pass")
    ctx = mail_context(tmp_path, RULES, NOW)
    # As version 4 stored it: under the key of its day.
    stored = ingest(ctx, parse(raw, NOW), legacy_content_key(raw), Placement("box", 1, 1, "support"))
    again = _ingest(tmp_path, raw, Placement("box", 2, 1, "support"))
    assert again == ("duplicate", stored.ticket_id)
    assert Message.select().count() == 2  # the customer's mail and its acknowledgement, once
