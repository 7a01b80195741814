"""Scale-out on PostgreSQL: three workers share one mailbox, or three; one dies mid-batch and nothing is lost or doubled."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pytest

from mailroom.demo.dovecot import Dovecot
from mailroom.store import queries as store
from mailroom.store.locks import lock_key
from mailroom.store.models import Message, OutboxItem, Ticket, database

from .conftest import ROOT, TEAM, Mailroom, as_mailboxes, write_config
from .conftest import wait_until as _wait
from .mails import mail, message_id_of

MAILS = 500
WORKERS = 3
LEASE = 330  # seconds: past the 5-minute claim a killed worker leaves on the mail it was sending
TAG = re.compile(r"\[Support #(\d+)\]")
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")


class Workers:
    """`mailroom run` processes, each writing its log to a file of its own."""

    def __init__(self, room: Mailroom) -> None:
        self.room = room
        self.procs: list[subprocess.Popen[str]] = []
        self.logs: list[Path] = []
        self._files: list[IO[str]] = []

    def start(self) -> int:
        """Start one more worker; its index."""
        log = self.room.folder / f"worker-{len(self.procs)}.log"
        out = log.open("w")
        self._files.append(out)
        self.procs.append(self.room.popen("run", stdout=subprocess.DEVNULL, stderr=out))
        self.logs.append(log)
        return len(self.procs) - 1

    def text(self, index: int) -> str:
        """What worker `index` has logged so far."""
        return self.logs[index].read_text(errors="replace")

    def holders(self) -> list[int]:
        """The workers that logged taking the mailbox."""
        return [i for i in range(len(self.procs)) if "action=mailbox-held" in self.text(i)]

    def stop(self, timeout: float = 60) -> list[int | None]:
        """SIGTERM every live worker; their exit codes (None: had to be killed)."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes: list[int | None] = []
        for proc in self.procs:
            try:
                codes.append(proc.wait(timeout=timeout))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                codes.append(None)
        for out in self._files:
            out.close()
        return codes



def _ingest_span(text: str) -> tuple[datetime, datetime] | None:
    """First and last time a worker stored or recognised an inbound message."""
    times = [
        datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
        for line in text.splitlines()
        if " uid=" in line and " action=" in line and (m := LOG_TIME.match(line))
    ]
    return (times[0], times[-1]) if times else None


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """Dovecot with billing and sales mailboxes beside support's."""
    with Dovecot(users=(*Dovecot.USERS, "billing", "sales")) as server:
        yield server


@pytest.fixture
def room(tmp_path: Path, dovecot: Any, smtp_server: Any, pg_url: str) -> Iterator[Mailroom]:
    """mailroom on the test PostgreSQL database; sent mail is only recorded, so the mailbox sees only customers."""
    shutil.copy(ROOT / "rules.yaml", tmp_path / "rules.yaml")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    config = write_config(tmp_path, dovecot, smtp_server, database_url=pg_url)
    clock_file = tmp_path / "clock"
    clock_file.write_text("")  # empty: real time, until the test moves it
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROOM_")}
    env.update(MAILROOM_IMAP_PASSWORD=dovecot.PASSWORD, MAILROOM_SECRET="test-secret",
               MAILROOM_CLOCK_FILE=str(clock_file))
    yield Mailroom(tmp_path, config, dovecot, smtp_server, env)


def test_three_workers_one_killed_store_and_send_everything_once(room: Mailroom) -> None:
    workers = Workers(room)
    sent = [mail(subject=f"Question {i} about exports", sender=f"c{i}@example.org") for i in range(MAILS)]
    try:
        # All at once on an empty database: they must agree on the schema and on who polls.
        for _ in range(WORKERS):
            workers.start()
        [holder] = _wait(workers.holders, 120, "a worker to take the mailbox")
        store.open_database(str(room.settings().database.url))

        for raw in sent[:200]:
            room.dovecot.append("support", raw)
        # Killed mid-batch: some mail committed but not yet moved out of the inbox, some not yet fetched.
        inbound = Message.select().where(Message.direction == "inbound")
        _wait(lambda: inbound.count() >= 30, 120, "the holder to start on the batch")
        workers.procs[holder].send_signal(signal.SIGKILL)
        workers.procs[holder].wait()
        killed_at = time.monotonic()
        workers.start()
        # Whoever tries first takes over: one of the others, or the restarted worker itself.
        [taker] = _wait(lambda: [i for i in workers.holders() if i != holder], 60,
                        "another worker to take the mailbox over")
        # One poll interval (1 s) to notice, plus ample room for a loaded machine; a lock left to
        # the keepalives of a dead session would take a minute and more.
        assert time.monotonic() - killed_at < 30

        for raw in sent[200:]:
            room.dovecot.append("support", raw)
        _wait(lambda: inbound.count() == MAILS and room.dovecot.count("support", "INBOX") == 0, 300,
              f"{MAILS} mails stored and moved")
        # The killed worker may have claimed mail it never sent: its claim runs out after 5 minutes.
        # Move the workers' clock past that instead of waiting.
        (room.folder / "clock").write_text(f"+{LEASE}")
        queued = OutboxItem.select().where((OutboxItem.kind == "mail") & (OutboxItem.state == "queued"))
        _wait(lambda: queued.count() == 0, 120, "the outbox to empty")
        codes = workers.stop()
    finally:
        workers.stop()
    expected = [-signal.SIGKILL if i == holder else 0 for i in range(WORKERS + 1)]
    assert codes == expected, "\n".join(
        f"worker {i} exited {code}: {workers.text(i)[-1500:]}" for i, code in enumerate(codes) if code != expected[i])

    # Every mail stored once, each a ticket of its own.
    ids = [m.message_id for m in Message.select().where(Message.direction == "inbound")]
    assert sorted(ids) == sorted(message_id_of(raw) for raw in sent)
    assert Ticket.select().count() == MAILS
    assert not inbound.where(Message.ticket.is_null()).exists()
    assert room.dovecot.count("support", "Quarantine") == 0

    # One acknowledgement per customer and one notification per ticket. A crash between the
    # server's acceptance and the commit may send a mail again, but then with the same Message-ID.
    acks: dict[int, set[tuple[str, str]]] = defaultdict(set)
    notices: dict[int, set[str]] = defaultdict(set)
    for got in room.smtp.messages:
        ticket = int(TAG.search(got.subject).group(1))
        if got.rcpt_tos == [TEAM]:
            notices[ticket].add(str(got.message["Message-ID"]))
        else:
            acks[ticket].add((str(got.message["Message-ID"]), ",".join(got.rcpt_tos)))
    requesters = {t.id: t.requester for t in Ticket.select()}
    assert set(acks) == set(requesters) and set(notices) == set(requesters)
    assert all(len(v) == 1 for v in notices.values())
    for ticket, requester in requesters.items():
        [(_, to)] = acks[ticket]
        assert to == requester
    assert len(room.smtp.messages) - 2 * MAILS <= 100  # resends: at most one claimed batch

    # Exactly one worker polled at a time: the killed holder until it died, then the one that took over.
    spans = {i: span for i in range(len(workers.procs)) if (span := _ingest_span(workers.text(i)))}
    assert set(spans) == {holder, taker}
    assert spans[holder][1] < spans[taker][0]


BOXES = ("support", "billing", "sales")


def _held(room: Mailroom) -> dict[str, int]:
    """Which worker process (by pid) holds each mailbox's advisory lock now, from pg_locks."""
    keys = {lock_key(box.ledger) & 0xFFFFFFFFFFFFFFFF: box.name for box in room.settings().all_mailboxes}
    rows = database.execute_sql(
        "SELECT l.classid::bigint, l.objid::bigint, a.application_name FROM pg_locks l"
        " JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.mode = 'ExclusiveLock' AND l.granted"
        " AND a.application_name LIKE 'mailroom worker %%'"
    ).fetchall()
    return {keys[(high << 32) | low]: int(name.rsplit(" ", 1)[1]) for high, low, name in rows if (high << 32) | low in keys}


def test_three_workers_share_three_mailboxes_and_take_over_a_dead_ones(room: Mailroom) -> None:
    as_mailboxes(room, "billing", "sales")
    workers = Workers(room)
    sent = {box: [mail(subject=f"{box} question {i}", sender=f"{box}{i}@example.org", to=f"{box}@example.com")
                  for i in range(40)] for box in BOXES}
    try:
        for _ in range(WORKERS):
            workers.start()
        store.open_database(str(room.settings().database.url))
        pids = [proc.pid for proc in workers.procs]
        # Each mailbox held by one worker, and each worker holding one: the share spreads them.
        spread = _wait(lambda: (held := _held(room)) and len(held) == 3 and sorted(held.values()) == sorted(pids) and held,
                       120, "the workers to hold a mailbox each")
        for box in BOXES:
            for raw in sent[box][:20]:
                room.dovecot.append(box, raw)
        inbound = Message.select().where(Message.direction == "inbound")
        _wait(lambda: inbound.count() >= 15, 120, "the workers to start on the mail")
        victim = workers.procs[pids.index(spread["billing"])]
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        survivors = {p for p in pids if p != victim.pid}
        # billing goes to one of the two left: each may now hold two.
        _wait(lambda: (held := _held(room)) and len(held) == 3 and set(held.values()) <= survivors, 120,
              "billing to be taken over")
        for box in BOXES:
            for raw in sent[box][20:]:
                room.dovecot.append(box, raw)
        total = sum(len(v) for v in sent.values())
        _wait(lambda: inbound.count() == total and all(room.dovecot.count(b) == 0 for b in BOXES), 300,
              f"{total} mails stored and moved")
        (room.folder / "clock").write_text(f"+{LEASE}")  # past the dead worker's claim on what it was sending
        queued = OutboxItem.select().where((OutboxItem.kind == "mail") & (OutboxItem.state == "queued"))
        _wait(lambda: queued.count() == 0, 120, "the outbox to empty")
    finally:
        codes = workers.stop()
    assert sorted(code for code in codes if code != -signal.SIGKILL) == [0, 0]

    ids = [m.message_id for m in inbound]
    assert sorted(ids) == sorted(message_id_of(raw) for box in BOXES for raw in sent[box])
    assert Ticket.select().count() == total
    by_box = {box: Ticket.select().where(Ticket.subject.startswith(box)).count() for box in BOXES}
    assert by_box == dict.fromkeys(BOXES, 40)
    assert all(room.dovecot.count(box, "Processed") == 40 for box in BOXES)
    # One acknowledgement per customer (a crash between acceptance and commit resends the same Message-ID).
    acks: dict[int, set[str]] = defaultdict(set)
    for got in room.smtp.messages:
        if got.rcpt_tos != [TEAM]:
            acks[int(TAG.search(got.subject).group(1))].add(str(got.message["Message-ID"]))
    assert len(acks) == total and all(len(v) == 1 for v in acks.values())
