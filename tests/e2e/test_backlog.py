"""`mailroom run --once` on a backlog: acknowledgements leave while the mailbox is still being ingested."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mailroom.store import queries as store
from mailroom.store.files import attachment_path
from mailroom.store.models import OutboxItem, Ticket

from .conftest import Mailroom, wait_until, write_config
from .mails import mail

MAILS = 150


@pytest.fixture(params=["sqlite", "postgresql"])
def room(request: pytest.FixtureRequest, mailroom: Mailroom) -> Mailroom:
    """The e2e mailroom on SQLite (its default) or on the test PostgreSQL database."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        write_config(mailroom.folder, mailroom.dovecot, mailroom.smtp, database_url=url)
    return mailroom


GATED = 10  # the backlog's mail whose attachment the disk holds back until an acknowledgement has left
ATTACHMENT = b"%PDF-1.4 invoice " * 64


class SlowDisk:
    """Holds back the writing of one attachment (a named pipe where its bytes go) until released."""

    def __init__(self, data_dir: Path, content: bytes) -> None:
        digest = hashlib.sha256(content).hexdigest()
        # Where the ingest writes the bytes before renaming them into place.
        self.pipe = attachment_path(data_dir, digest).with_suffix(".tmp")
        self.pipe.parent.mkdir(parents=True)
        os.mkfifo(self.pipe)
        self.written = b""
        self._reader = threading.Thread(target=self._read, daemon=True)

    def _read(self) -> None:
        with open(self.pipe, "rb") as pipe:  # waits for the writer, who waits for a reader
            self.written = pipe.read()

    def release(self) -> None:
        """Let the write through and wait for all of it."""
        self._reader.start()
        self._reader.join(timeout=120)
        if self._reader.is_alive():  # nobody ever wrote: end the reader's wait, then say so
            os.close(os.open(self.pipe, os.O_WRONLY | os.O_NONBLOCK))
            self._reader.join(timeout=10)


def _at(record: dict[str, Any]) -> datetime:
    return datetime.strptime(record["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def test_acknowledgements_leave_while_the_backlog_is_ingested(room: Mailroom) -> None:
    customers = [f"c{i}@example.org" for i in range(MAILS)]
    for i, customer in enumerate(customers):
        attachment = ("invoice.pdf", ATTACHMENT) if i == GATED else None
        room.dovecot.append("support", mail(subject=f"Question {i} about exports", sender=customer,
                                            attachment=attachment))
    # The ingest stops at mail GATED until the first acknowledgement has reached the SMTP server:
    # sent only after the backlog, none would ever leave and the wait below would fail.
    disk = SlowDisk(room.settings().support.data_dir, ATTACHMENT)

    log = room.folder / "once.log"
    with log.open("w") as out:
        proc = room.popen("run", "--once", "--log-format", "json", stdout=subprocess.DEVNULL, stderr=out)
    try:
        wait_until(lambda: [m for m in room.smtp.messages if m.rcpt_tos[0] in customers], timeout=120,
                   what="an acknowledgement while the backlog waits behind the slow disk")
    finally:
        disk.release()
        code = proc.wait(timeout=300)
    assert disk.written == ATTACHMENT, "the ingest never wrote the attachment through the slow disk"
    records = [json.loads(line) for line in log.read_text().splitlines()]
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
    assert sum(at <= first for at in stored) <= GATED < MAILS // 2, (first, stored[0], stored[-1])
    # The customers who wrote first had their answer before the ingest reached the slow disk.
    early = {r for m in acks if m.received_at <= stored[GATED] for r in m.rcpt_tos}
    assert early and early <= set(customers[:GATED])

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
