"""`mailroom import`: past support mail from an mbox or a Maildir, exactly once, closed, silent."""

from __future__ import annotations

import mailbox
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from mailroom.store import queries as store
from mailroom.store.models import Clock, Message, OutboxItem, Ticket

from .conftest import ENGINEER, Mailroom


@dataclass
class History:
    """Generated past conversations: questions, and replies threaded by In-Reply-To."""

    messages: list[EmailMessage] = field(default_factory=list)
    questions: int = 0
    agent_replies: int = 0
    parents: dict[str, str] = field(default_factory=dict)  # reply's Message-ID → its question's

    def message_ids(self) -> list[str]:
        """Every Message-ID, in file order."""
        return [str(m["Message-ID"]) for m in self.messages]


def history(count: int, seed: int = 3) -> History:
    """`count` mails of 2025: about 60% new questions, the rest customers' follow-ups and engineers' answers."""
    rng = random.Random(seed)
    out = History()
    threads: list[dict[str, str]] = []
    start = datetime(2025, 3, 3, 9, tzinfo=UTC)
    for i in range(count):
        msg = EmailMessage()
        message_id = f"<past-{i}@client.example.org>"
        if threads and rng.random() < 0.4:
            thread = rng.choice(threads)
            agent = rng.random() < 0.5
            msg["From"] = f"Eve Engineer <{ENGINEER}>" if agent else thread["from"]
            msg["Subject"] = f"Re: {thread['subject']}"
            msg["In-Reply-To"] = thread["last"]
            msg["References"] = f"{thread['first']} {thread['last']}" if thread["first"] != thread["last"] else thread["last"]
            msg.set_content("The export works again after the fix.\n\nEve" if agent else "It still fails for me.\n\nJane")
            out.agent_replies += agent
            out.parents[message_id] = thread["first"]
        else:
            thread = {"from": f"c{i}@example.org", "subject": f"Question {i} about exports", "first": message_id}
            threads.append(thread)
            msg["From"] = thread["from"]
            msg["Subject"] = thread["subject"]
            msg.set_content("Hello,\n\nexporting my report to CSV fails with an error.\n\nJane")
            out.questions += 1
        thread["last"] = message_id
        msg["To"] = "support@example.com"
        msg["Date"] = format_datetime(start + timedelta(minutes=7 * i))
        msg["Message-ID"] = message_id
        out.messages.append(msg)
    return out


def _check_imported(room: Mailroom, past: History) -> None:
    """Every message stored once in its thread's ticket; tickets closed; no clock, no outbox, nothing sent."""
    store.open_database(str(room.settings().database.url))
    inbound = Message.select().where(Message.direction == "inbound")
    assert sorted(m.message_id for m in inbound) == sorted(past.message_ids())
    tickets = {m.message_id: m.ticket_id for m in inbound}
    assert None not in tickets.values()
    for reply, question in past.parents.items():
        assert tickets[reply] == tickets[question]
    assert Ticket.select().count() == past.questions
    assert Ticket.select().where((Ticket.status != "closed") | (Ticket.source != "import")).count() == 0
    assert inbound.where(Message.kind == "agent").count() == past.agent_replies
    assert Clock.select().count() == 0
    assert OutboxItem.select().count() == 0
    assert Message.select().where(Message.direction == "outbound").count() == 0
    assert room.smtp.messages == []


def test_mbox_import_is_exactly_once_closed_and_sends_nothing(mailroom: Mailroom, tmp_path: Path) -> None:
    past = history(2000)
    path = tmp_path / "support.mbox"
    box = mailbox.mbox(str(path))
    for msg in past.messages:
        box.add(msg)
    box.flush()

    first = mailroom.cli("import", str(path), timeout=300)
    assert "imported 2000 message(s), 0 already present, 0 ignored by rules, 0 failed" in first.stdout
    _check_imported(mailroom, past)
    # The daemon's next cycle finds nothing to answer, no clock to run, no survey to send.
    mailroom.cli("run", "--once")
    _check_imported(mailroom, past)

    again = mailroom.cli("import", str(path), timeout=300)
    assert "imported 0 message(s), 2000 already present" in again.stdout
    _check_imported(mailroom, past)


def test_maildir_import_is_exactly_once(mailroom: Mailroom, tmp_path: Path) -> None:
    past = history(40, seed=11)
    path = tmp_path / "Maildir"
    box = mailbox.Maildir(str(path), create=True)
    # Delivered in another order than written, as a sync tool copies them: file names are no time order.
    shuffled = list(enumerate(past.messages))
    random.Random(5).shuffle(shuffled)
    for i, msg in shuffled:
        # Read mail sits in cur/, unread in new/: both are imported.
        entry = mailbox.MaildirMessage(msg)
        if i % 2:
            entry.set_subdir("cur")
            entry.add_flag("S")
        box.add(entry)

    first = mailroom.cli("import", str(path))
    assert "imported 40 message(s), 0 already present" in first.stdout
    _check_imported(mailroom, past)
    again = mailroom.cli("import", str(path))
    assert "imported 0 message(s), 40 already present" in again.stdout
    _check_imported(mailroom, past)
