"""A customer's mail through IMAP into threaded tickets, exactly once, whatever it looks like."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import test as cpython_test

from mailroom.store import queries as store
from mailroom.store.contentkey import content_key
from mailroom.store.models import Message, Quarantined, Ticket

from .conftest import Mailroom, wait_until
from .mails import mail, message_id_of

CORPUS = Path(os.path.dirname(cpython_test.__file__)) / "test_email" / "data"


def _open_db(room: Mailroom) -> None:
    store.open_database(room.settings().database.url)


def test_threading_by_headers_tag_and_references(mailroom: Mailroom) -> None:
    first = mail(subject="Export to CSV fails")
    mailroom.dovecot.append("support", first)
    assert mailroom.run_once() == 0
    [ticket] = mailroom.tickets()
    tag = f"[Support #{ticket['id']}]"

    # A reply with In-Reply-To joins.
    mailroom.dovecot.append("support", mail(subject="Re: Export to CSV fails", in_reply_to=message_id_of(first)))
    # Outlook: no In-Reply-To/References, but the tag in the subject.
    mailroom.dovecot.append("support", mail(subject=f"AW: {tag} Export to CSV fails", body="Here is the log."))
    # A client that dropped the tag but kept References.
    mailroom.dovecot.append(
        "support", mail(subject="Re: export", references=["<unknown@elsewhere>", message_id_of(first)])
    )
    # An unrelated mail with the same subject opens a new ticket.
    mailroom.dovecot.append("support", mail(subject="Export to CSV fails", sender="other@example.org"))
    assert mailroom.run_once() == 0

    tickets = mailroom.tickets()
    assert len(tickets) == 2
    joined = tickets[0]
    inbound = [m for m in joined["messages"] if m["direction"] == "inbound"]
    assert len(inbound) == 4
    assert tickets[1]["requester"] == "other@example.org"
    assert mailroom.dovecot.count("support", "INBOX") == 0
    assert mailroom.dovecot.count("support", "Processed") == 5


def test_stranger_cannot_hijack_a_ticket_by_its_tag(mailroom: Mailroom) -> None:
    mailroom.dovecot.append("support", mail(subject="Invoice question", sender="alice@example.org"))
    assert mailroom.run_once() == 0
    [ticket] = mailroom.tickets()
    tag = f"[Support #{ticket['id']}]"

    mailroom.dovecot.append("support", mail(subject=f"Re: {tag} Invoice question", sender="mallory@example.net"))
    assert mailroom.run_once() == 0
    tickets = mailroom.tickets()
    assert len(tickets) == 2
    original = tickets[0]
    assert [m["from"] for m in original["messages"] if m["direction"] == "inbound"] == ["alice@example.org"]
    stranger = tickets[1]
    assert stranger["requester"] == "mallory@example.net"
    assert any(f"mentions ticket {ticket['id']}" in e["detail"] for e in stranger["events"])

    # The same mail from the participant joins.
    mailroom.dovecot.append("support", mail(subject=f"Re: {tag} Invoice question", sender="alice@example.org"))
    assert mailroom.run_once() == 0
    tickets = mailroom.tickets()
    assert len(tickets) == 2
    assert len([m for m in tickets[0]["messages"] if m["direction"] == "inbound"]) == 2


def test_same_message_twice_is_stored_once_and_shared_message_ids_are_kept(mailroom: Mailroom) -> None:
    raw = mail(subject="Duplicate delivery", message_id="<dup-1@client.example.org>")
    mailroom.dovecot.append("support", raw)
    mailroom.dovecot.append("support", raw)
    mailroom.dovecot.append("support", mail(subject="Other mail, reused id", message_id="<dup-1@client.example.org>"))
    assert mailroom.run_once() == 0
    _open_db(mailroom)
    assert Message.select().where(Message.message_id == "<dup-1@client.example.org>").count() == 2
    assert mailroom.dovecot.count("support", "INBOX") == 0


def test_malformed_mail_is_stored_or_quarantined_never_lost(mailroom: Mailroom) -> None:
    corpus = sorted(CORPUS.glob("msg_*.txt"))
    assert len(corpus) >= 40
    for path in corpus:
        mailroom.dovecot.append("support", path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    extras = [
        b"\r\n\r\nno headers at all\r\n",
        mail(subject="x" * 10_000),
        b"From: a@example.org\r\nSubject: =?utf-8?q?caf=E9?=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ncaf\xe9 \xff\xfe\r\n",
        mail(subject="Big attachment", attachment=("dump.bin", os.urandom(20_000_000))),
    ]
    for raw in extras:
        mailroom.dovecot.append("support", raw)
    total = len(corpus) + len(extras)
    assert mailroom.run_once() == 0
    assert mailroom.dovecot.count("support", "INBOX") == 0
    processed = mailroom.dovecot.count("support", "Processed")
    quarantined = mailroom.dovecot.count("support", "Quarantine")
    assert processed + quarantined == total
    _open_db(mailroom)
    held = {q.content_key for q in Quarantined.select()}
    assert all(q.reason for q in Quarantined.select())
    for raw in mailroom.dovecot.messages("support", "Processed"):
        key = content_key(raw)
        assert Message.select().where(Message.content_key == key).exists() or key in held
    big = Ticket.get(Ticket.subject == "Big attachment")
    assert big.messages[0].attachments[0].size >= 20_000_000


def _stored_in(log: Path) -> int:
    """How many messages the run logging to `log` stored."""
    return log.read_text().count(" action=stored ")


def _run_killed_after(room: Mailroom, log: Path, stored: int, rng: random.Random) -> bool:
    """Start `run --once` and SIGKILL it once it has stored `stored` messages; False when it ended first."""
    with log.open("w") as err:
        proc = room.popen("run", "--once", stdout=subprocess.DEVNULL, stderr=err)
    wait_until(lambda: proc.poll() is not None or _stored_in(log) >= stored,
               timeout=300, what=f"a run to store {stored} messages")
    time.sleep(rng.uniform(0, 0.02))  # not a wait: it spreads the kills over the work between two logs
    killed = proc.poll() is None
    if killed:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    return killed


def test_crash_at_random_moments_loses_and_doubles_nothing(mailroom: Mailroom) -> None:
    rng = random.Random(7)
    sent: list[bytes] = []
    parents: dict[str, str] = {}

    def add(count: int) -> None:
        for _ in range(count):
            i = len(sent)
            if sent and rng.random() < 0.2:
                parent = rng.choice(sent)
                raw = mail(subject="Re: question", in_reply_to=message_id_of(parent), sender="customer@example.org")
                parents[message_id_of(raw)] = message_id_of(parent)
            else:
                raw = mail(subject=f"Question {i}", sender=f"c{i}@example.org")
            sent.append(raw)
            mailroom.dovecot.append("support", raw)

    add(200)
    kills = stored_by_runs = 0
    # Each run is killed once it has stored a random number of messages: the moment is chosen by
    # what the run has done, not by the clock, so a slow machine kills it just as mid-work.
    for attempt in range(100):  # a ceiling only: nearly every run is killed
        if kills == 20:
            break
        target = rng.randint(1, 40)
        if len(sent) - stored_by_runs < target + 20:
            add(40)  # enough new mail that the run is still at work when it is killed
        log = mailroom.folder / f"run-{attempt}.log"
        kills += _run_killed_after(mailroom, log, target, rng)
        stored_by_runs += _stored_in(log)
    final = mailroom.cli("run", "--once", timeout=300, check=False)
    assert final.returncode == 0, final.stderr
    assert mailroom.dovecot.count("support", "INBOX") == 0
    _open_db(mailroom)
    ids = [message_id_of(raw) for raw in sent]
    stored = {m.message_id: m for m in Message.select().where(Message.direction == "inbound")}
    assert sorted(stored) == sorted(ids)
    assert Message.select().where(Message.direction == "inbound").count() == len(sent)
    for raw in sent:
        assert stored[message_id_of(raw)].ticket_id is not None
    # Every reply sits in its parent's ticket; every new question has a ticket of its own.
    for child, parent in parents.items():
        assert stored[child].ticket_id == stored[parent].ticket_id
    assert Ticket.select().count() == len(sent) - len(parents)
    assert kills >= 20
