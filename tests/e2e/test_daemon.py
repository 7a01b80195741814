"""`mailroom run` as a service: hot rules reload, prompt SIGTERM, IMAP outages, JSON logs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest

from mailroom.store import queries as store
from mailroom.store.models import Mailbox, Message, OutboxItem, Ticket

from .conftest import Mailroom
from .conftest import wait_until as _wait
from .mails import mail, message_id_of

RULES = """\
version: 1
calendars:
  always: 24x7
sla:
  P3: {first_response: 1d, calendar: always}
agents: ["*@example.com"]
teams:
  general: {notify: ["support-team@example.com"]}
  billing: {notify: ["billing@example.com"]}
defaults: {team: general, priority: P3}
rules: []
"""

# The admin adds a rule and mistypes the team first (line 14, column 18).
INVOICES = """\
rules:
  - name: invoices go to billing
    if: {subject: "(?i)invoice"}
    then: {team: %s}
"""


class Daemon:
    """One `mailroom run` process with its log in a file."""

    def __init__(self, room: Mailroom, *args: str) -> None:
        self.log = room.folder / "daemon.log"
        self._out: IO[str] = self.log.open("w")
        self.proc = room.popen("run", *args, stdout=subprocess.DEVNULL, stderr=self._out)

    def text(self) -> str:
        """What it has logged so far."""
        return self.log.read_text(errors="replace")

    def wait_log(self, pattern: str, timeout: float = 120) -> re.Match[str]:
        """The first log match of pattern, waiting for it."""
        return _wait(lambda: re.search(pattern, self.text()), timeout, f"{pattern!r} in the log")

    def stop(self, timeout: float = 60) -> tuple[int | None, float]:
        """SIGTERM; the exit code (None: killed after timeout) and how long the exit took."""
        began = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code: int | None = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = None
        self._out.close()
        return code, time.monotonic() - began




def _write(path: Path, text: str) -> None:
    """Save as an editor does: the daemon sees the old file or the new one, never half of it."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@pytest.fixture
def daemon(mailroom: Mailroom) -> Iterator[Callable[..., Daemon]]:
    """Start `mailroom run` (stopped at the end whatever happens) with the database open here too."""
    started: list[Daemon] = []

    def start(*args: str) -> Daemon:
        proc = Daemon(mailroom, *args)
        started.append(proc)
        return proc

    store.open_database(str(mailroom.settings().database.url))
    yield start
    for proc in started:
        proc.stop()


def _ticket(subject: str, timeout: float = 120) -> Ticket:
    return _wait(lambda: Ticket.get_or_none(Ticket.subject == subject), timeout, f"a ticket {subject!r}")


def test_rules_reload_keeps_the_last_good_rules_on_a_bad_edit(mailroom: Mailroom, daemon: Callable[..., Daemon]) -> None:
    rules = mailroom.folder / "rules.yaml"
    _write(rules, RULES)
    run = daemon()
    mailroom.dovecot.append("support", mail(subject="Invoice for March"))
    assert _ticket("Invoice for March").team == "general"

    _write(rules, RULES.replace("rules: []\n", INVOICES % "biling"))
    error = run.wait_log(r"rules not reloaded.*")
    assert "rules.yaml:14:18:" in error.group(0) and "biling" in error.group(0)
    mailroom.dovecot.append("support", mail(subject="Invoice for April"))
    assert _ticket("Invoice for April").team == "general"

    _write(rules, RULES.replace("rules: []\n", INVOICES % "billing"))
    run.wait_log("rules reloaded")
    mailroom.dovecot.append("support", mail(subject="Invoice for May"))
    assert _ticket("Invoice for May").team == "billing"
    assert run.stop()[0] == 0


def test_sigterm_exits_promptly_and_sends_what_it_committed(mailroom: Mailroom, daemon: Callable[..., Daemon]) -> None:
    for i in range(200):
        mailroom.dovecot.append("support", mail(subject=f"Question {i} about exports", sender=f"c{i}@example.org"))
    run = daemon()
    _wait(lambda: Ticket.select().count() >= 10, 120, "the first tickets")
    code, took = run.stop()
    # It stops after the current message (the rest of the backlog waits, checked below) and
    # flushes for at most 10 s: well within this, however loaded the machine.
    assert code == 0 and took < 45, (code, took, run.text()[-2000:])
    assert "action=stopped" in run.text()
    # The ingest and the main thread's flushes after each message both write, on SQLite too.
    assert "database is locked" not in run.text()

    # Nothing left that it could send: every ticket's acknowledgement and notification went out.
    queued = OutboxItem.select().where((OutboxItem.kind == "mail") & (OutboxItem.state == "queued"))
    assert queued.count() == 0
    tickets = Ticket.select().count()
    assert len({m.message["Message-ID"] for m in mailroom.smtp.messages}) == 2 * tickets
    # A flush after each committed message, and still one SMTP connection for all of them.
    assert len({m.peer for m in mailroom.smtp.messages}) == 1
    # What it stored left the inbox; what it did not is still there for the next start.
    stored = Message.select().where(Message.direction == "inbound").count()
    assert stored == tickets
    assert mailroom.dovecot.count("support", "Processed") == stored
    assert mailroom.dovecot.count("support", "INBOX") == 200 - stored > 0


def test_imap_outage_mid_batch_loses_and_doubles_nothing(mailroom: Mailroom, daemon: Callable[..., Daemon]) -> None:
    sent = [mail(subject=f"Question {i} about exports", sender=f"c{i}@example.org") for i in range(300)]
    for raw in sent:
        mailroom.dovecot.append("support", raw)
    run = daemon()
    inbound = Message.select().where(Message.direction == "inbound")
    _wait(lambda: inbound.count() >= 30, 120, "the batch to be under way")
    mailroom.dovecot.stop()
    # Back only once the daemon has met the outage, however long a loaded machine takes to.
    run.wait_log("action=disconnected|action=reconnect")
    mailroom.dovecot.start()
    _wait(lambda: inbound.count() >= 300 and mailroom.dovecot.count("support", "INBOX") == 0, 300,
          "every mail stored and moved")
    assert run.stop()[0] == 0
    assert "action=disconnected" in run.text() or "action=reconnect" in run.text()
    assert "database is locked" not in run.text()

    stored = Counter(m.message_id for m in Message.select().where(Message.direction == "inbound"))
    assert stored == Counter(message_id_of(raw) for raw in sent)
    assert Ticket.select().count() == 300
    assert mailroom.dovecot.count("support", "Quarantine") == 0
    # Moves interrupted by the outage are repeated: nothing is left behind, and at most repeated.
    assert mailroom.dovecot.count("support", "Processed") >= 300


FLOOD = 150


def test_a_flood_on_idle_is_acknowledged_once_each_and_loses_nothing(
    mailroom: Mailroom, daemon: Callable[..., Daemon]
) -> None:
    # Polling every 15 minutes: only IDLE can bring the mail in while the test waits.
    mailroom.config.write_text(mailroom.config.read_text().replace('poll_interval = "1s"', 'poll_interval = "900s"'))
    run = daemon()
    _wait(lambda: Mailbox.select().where(Mailbox.last_poll_at.is_null(False)).exists(), 120,
          "the first pass over the empty inbox")
    sent = [mail(subject=f"Outage question {i}", sender=f"f{i}@example.org") for i in range(FLOOD)]
    feeder = threading.Thread(target=lambda: [mailroom.dovecot.append("support", raw) for raw in sent], daemon=True)
    feeder.start()  # as fast as Dovecot takes them, while the daemon ingests what IDLE announces
    customers = {f"f{i}@example.org" for i in range(FLOOD)}
    acks = lambda: [m for m in mailroom.smtp.messages if m.rcpt_tos[0] in customers]  # noqa: E731
    _wait(lambda: len(acks()) >= FLOOD and mailroom.dovecot.count("support", "INBOX") == 0, 300,
          "an acknowledgement for every mail of the flood")
    feeder.join(60)
    assert run.stop()[0] == 0
    assert "database is locked" not in run.text() and "action=job-failed" not in run.text()

    # Every mail stored once, every customer answered once, nothing left behind.
    stored = Counter(m.message_id for m in Message.select().where(Message.direction == "inbound"))
    assert stored == Counter(message_id_of(raw) for raw in sent)
    assert sorted(r for m in acks() for r in m.rcpt_tos) == sorted(customers)
    mails = OutboxItem.select().where(OutboxItem.kind == "mail").count()
    assert len({m.message["Message-ID"] for m in mailroom.smtp.messages}) == len(mailroom.smtp.messages) == mails
    assert mailroom.dovecot.count("support", "Processed") == FLOOD
    assert {(i.state, i.attempts) for i in OutboxItem.select()} == {("sent", 1)}


def test_json_log_format_writes_only_json_lines(mailroom: Mailroom, daemon: Callable[..., Daemon]) -> None:
    run = daemon("--log-format", "json")
    mailroom.dovecot.append("support", mail(subject="Where is my invoice?"))
    mailroom.dovecot.append("support", b"\r\n")  # quarantined: an error line
    _ticket("Where is my invoice?")
    _write(mailroom.folder / "rules.yaml", "version: 1\nrules: [\n")  # a rules error: more error lines
    run.wait_log("rules not reloaded")
    _wait(lambda: mailroom.dovecot.count("support", "Quarantine") == 1, 120, "the quarantined mail")
    assert run.stop()[0] == 0

    lines = run.text().splitlines()
    assert len(lines) >= 5
    records = [json.loads(line) for line in lines]
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    levels = {r["level"] for r in records}
    assert {"info", "warning", "error"} <= levels
    assert records[-1]["message"] == "action=stopped"
