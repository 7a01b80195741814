"""Many workers on PostgreSQL: 3 `mailroom run` processes over 3 mailboxes against one over the same three.

    .venv/bin/python bench/workers.py [-n 1500] [--workers 3]

Each side gets a fresh PostgreSQL database and the same mails, a third in each of the mailboxes
support, billing and sales. The workers are started on empty mailboxes and left to take their
mailboxes (pg_locks shows every mailbox held); then each mailbox's mail is moved into its inbox at
once, and the clock runs from that move until every mail is stored, every mailbox emptied and the outbox sent. The SMTP
server is a sink that counts and discards, so its cost stays out of the figure; that it took as
many mails as the outbox marked sent shows each was sent once.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg2
from _sandbox import ROOT, support_mails
from _sink import SmtpSink

from mailroom.demo.dovecot import Dovecot
from mailroom.store import queries as store
from mailroom.store.models import Message, OutboxItem, database
from tests.e2e.conftest import Mailroom, as_mailboxes, write_config
from tests.harness.database import ADMIN_URL, create_database, drop_database

BOXES = ("support", "billing", "sales")
STAGING = "Staging"  # where each mailbox's mail waits until the workers hold their mailboxes


def _held(expected: int) -> bool:
    """True when `expected` mailbox locks are held by workers (pg_locks)."""
    (held,) = database.execute_sql(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.mode = 'ExclusiveLock' AND l.granted"
        " AND a.application_name LIKE 'mailroom worker %%'"
    ).fetchone()
    return int(held) >= expected


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"workers.py: timed out waiting for {what}")
        time.sleep(0.25)  # asked often, the counting itself would load the servers under test


def run(workers: int, mails: list[bytes], wait_for_flush: bool = True) -> tuple[float, int, int]:
    """Seconds from the move into the inboxes until all is stored and sent; mails sent; outbox rows marked sent."""
    folder = Path(tempfile.mkdtemp(prefix="mailroom-bench-workers-"))
    url = create_database()
    if not wait_for_flush:
        # Commits that do not wait for the WAL to reach the disk: what the workers cost without it.
        with psycopg2.connect(ADMIN_URL) as admin:
            admin.autocommit = True
            admin.cursor().execute(f'ALTER DATABASE "{url.rsplit("/", 1)[1]}" SET synchronous_commit = off')
    sink = SmtpSink().start()
    procs: list[subprocess.Popen[bytes]] = []
    with Dovecot(users=BOXES) as dovecot:
        try:
            shutil.copy(ROOT / "rules.yaml", folder / "rules.yaml")
            shutil.copytree(ROOT / "templates", folder / "templates")
            config = write_config(folder, dovecot, sink, database_url=url)
            env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROOM_")}
            env.update(MAILROOM_IMAP_PASSWORD=Dovecot.PASSWORD, MAILROOM_SECRET="bench-secret")
            as_mailboxes(Mailroom(folder, config, dovecot, sink, env), *BOXES[1:], route=False)
            store.open_database(url)
            for _ in range(workers):
                procs.append(subprocess.Popen([sys.executable, "-m", "mailroom", "--config", str(config), "run"],
                                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            for index, raw in enumerate(mails):
                dovecot.append(BOXES[index % len(BOXES)], raw, folder=STAGING)
            _wait(lambda: _held(len(BOXES)), 120, "the workers to hold every mailbox")
            begin = time.perf_counter()
            for box in BOXES:  # one MOVE a mailbox: the mail arrives at once, not at the pace of APPENDs
                imap = dovecot.client(box)
                imap.select_folder(STAGING)
                imap.move(imap.search("ALL"), "INBOX")
                imap.logout()
            inbound = Message.select().where(Message.direction == "inbound")
            queued = OutboxItem.select().where((OutboxItem.kind == "mail") & (OutboxItem.state == "queued"))
            _wait(lambda: inbound.count() == len(mails) and not queued.exists()
                  and all(dovecot.count(box) == 0 for box in BOXES), 1800, "every mail stored and sent")
            seconds = time.perf_counter() - begin
            marked = OutboxItem.select().where((OutboxItem.kind == "mail") & (OutboxItem.state == "sent")).count()
            return seconds, sink.count, marked
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait(60)
            database.close()
            sink.close()
            drop_database(url)
            shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    """Print both rates and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1500, help="mails, a third in each mailbox")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--no-sync-commit", action="store_true",
                        help="both sides with synchronous_commit = off (commits not waiting for the disk)")
    args = parser.parse_args()
    mails = [m.raw for m in support_mails(args.n)]
    one = run(1, mails, not args.no_sync_commit)
    many = run(args.workers, mails, not args.no_sync_commit)
    print(f"{'':34}{args.workers} workers   1 worker (baseline)")
    print(f"{'messages/s':34}{args.n / many[0]:9.0f}   {args.n / one[0]:8.0f}")
    print(f"{'seconds':34}{many[0]:9.1f}   {one[0]:8.1f}")
    print(f"{'mails sent / outbox rows sent':34}{many[1]:>5,} / {many[2]:<5,} {one[1]:>5,} / {one[2]:<5,}")
    print(f"ratio {one[0] / many[0]:.2f} (target >= 2.5) on {os.cpu_count()} cores")
    return 0 if many[1] == many[2] and one[1] == one[2] else 1


if __name__ == "__main__":
    sys.exit(main())
