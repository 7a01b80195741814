"""`mailroom run --once` on a backlog: acknowledgements leave while the mailbox is still being ingested."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from mailroom.store import queries as store
from mailroom.store.models import OutboxItem, Ticket

from .conftest import Mailroom, write_config
from .mails import mail

MAILS = 150


@pytest.fixture(params=["sqlite", "postgresql"])
def room(request: pytest.FixtureRequest, mailroom: Mailroom) -> Mailroom:
    """The e2e mailroom on SQLite (its default) or on the test PostgreSQL database."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        write_config(mailroom.folder, mailroom.dovecot, mailroom.smtp, database_url=url)
    return mailroom


def _run_once(room: Mailroom) -> tuple[int, list[dict[str, Any]]]:
    """`mailroom run --once` as a process; its exit code and its JSON log records."""
    log = room.folder / "once.log"
    with log.open("w") as out:
        proc = room.popen("run", "--once", "--log-format", "json", stdout=subprocess.DEVNULL, stderr=out)
        code = proc.wait(timeout=120)
    return code, [json.loads(line) for line in log.read_text().splitlines()]


def _at(record: dict[str, Any]) -> datetime:
    return datetime.strptime(record["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def test_acknowledgements_leave_while_the_backlog_is_ingested(room: Mailroom) -> None:
    customers = [f"c{i}@example.org" for i in range(MAILS)]
    for i, customer in enumerate(customers):
        room.dovecot.append("support", mail(subject=f"Question {i} about exports", sender=customer))

    code, records = _run_once(room)
    text = "\n".join(r["message"] + r.get("error", "") for r in records)
    assert code == 0, text[-3000:]
    # Two threads writing one database: the claim and the ingest wait for each other, never fail.
    assert "database is locked" not in text and "action=job-failed" not in text
    assert not [r for r in records if r["level"] in ("error", "critical")], text[-3000:]

    # When each message was committed: the ingest logs it right after the commit.
    stored = [_at(r) for r in records if " action=stored " in r["message"]]
    assert len(stored) == MAILS
    acks = [m for m in room.smtp.messages if m.rcpt_tos[0] in customers]
    # The old `run --once` sent nothing until the last message was stored; now the first
    # acknowledgement goes out while most of the backlog still waits.
    first = min(m.received_at for m in acks)
    assert first < stored[-1], (first, stored[0], stored[-1])
    assert sum(at <= first for at in stored) < MAILS // 2, (first, stored[0], stored[-1])

    # Every mail exactly once: an acknowledgement per customer, a notification per ticket.
    ids = Counter(m.message["Message-ID"] for m in room.smtp.messages)
    assert len(ids) == 2 * MAILS and set(ids.values()) == {1}
    assert sorted(r for m in acks for r in m.rcpt_tos) == sorted(customers)
    assert room.dovecot.count("support", "INBOX") == 0
    assert room.dovecot.count("support", "Processed") == MAILS
    store.open_database(str(room.settings().database.url))
    assert Ticket.select().count() == MAILS
    assert {i.state for i in OutboxItem.select()} == {"sent"}
    assert {i.attempts for i in OutboxItem.select()} == {1}


def test_smtp_away_exits_1_with_every_mail_stored_and_queued(mailroom: Mailroom) -> None:
    for i in range(5):
        mailroom.dovecot.append("support", mail(subject=f"Question {i}", sender=f"c{i}@example.org"))
    mailroom.smtp.refuse_connections(True)
    result = mailroom.cli("run", "--once", check=False, timeout=60)
    assert result.returncode == 1, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last == f"mailroom: smtp 127.0.0.1:{mailroom.smtp.port}: cannot connect: connection refused"
    assert "action=job-failed" not in result.stderr
    # Ingestion went on without the server: everything stored and moved, every mail queued.
    assert mailroom.dovecot.count("support", "Processed") == 5
    store.open_database(str(mailroom.settings().database.url))
    assert Ticket.select().count() == 5
    assert OutboxItem.select().where(OutboxItem.state == "queued").count() == 10
