"""Mail parsed ahead in the worker's parsing process reads exactly as it reads in place, and a lost process loses no mail."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import test as cpython_test

from mailroom.adapters.imap import Fetched
from mailroom.daemon.parsers import GIVE_UP, POOL_MIN, Parsed, Parsers, read
from tests.e2e.conftest import wait_until
from tests.e2e.mails import mail

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.path.dirname(cpython_test.__file__)) / "test_email" / "data"
LIMITS = (25_000_000, 1_000_000, "X-Spam-Score")
ARRIVED = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _batch() -> list[Fetched]:
    """The standard library's strange mail, ours with attachments and replies, and mail nothing can read."""
    raws = [path.read_bytes() for path in sorted(CORPUS.glob("msg_*.txt"))]
    raws += [path.read_bytes() for path in sorted((ROOT / "tests" / "data" / "mail").glob("*.eml"))]
    raws += [b"", b"\r\n\r\nno headers at all\r\n", mail(subject="x" * 10_000)]
    return [Fetched(uid, raw, ARRIVED) for uid, raw in enumerate(raws, 1)]


@pytest.fixture
def parsers() -> Iterator[Parsers]:
    pool = Parsers(*LIMITS, ahead=True)
    yield pool
    pool.close()


def _stored(parsers: Parsers, batch: list[Fetched], kill_after: int | None = None) -> tuple[list[Parsed], int]:
    """The batch as the service gets it (a mail not read ahead is read here), and how many were read ahead."""
    got, ahead = [], 0
    for n, (item, found) in enumerate(zip(batch, parsers.read_all(batch), strict=True)):
        got.append(found or read(item.raw, item.arrived_at, *LIMITS))
        ahead += found is not None
        if n == kill_after:
            for pid in parsers.process_ids():
                os.kill(pid, signal.SIGKILL)
        else:
            # The ingesting thread is busy storing: a round trip through the process stands for
            # it, by when the process has read every mail handed to it before.
            parsers.process_ids()
    return got, ahead


def test_mail_read_ahead_is_the_same_mail_as_read_in_place(parsers: Parsers) -> None:
    batch = _batch()
    assert len(batch) >= POOL_MIN
    in_place = [read(item.raw, item.arrived_at, *LIMITS) for item in batch]
    got, ahead = _stored(parsers, batch)
    assert got == in_place
    assert ahead >= len(batch) - 1  # all but the first, read while the process started
    unreadable = [p for p in in_place if p.message is None]
    assert unreadable and all(p.failure and p.key for p in unreadable)


def test_a_parsing_process_that_dies_costs_no_mail(parsers: Parsers) -> None:
    batch = _batch()
    in_place = [read(item.raw, item.arrived_at, *LIMITS) for item in batch]
    got, _ = _stored(parsers, batch, kill_after=3)
    assert got == in_place
    # The next batch starts another process, which reads ahead again.
    got, ahead = _stored(parsers, batch)
    assert got == in_place and ahead >= len(batch) - 1


# A worker of its own, in a process: its parsing process started by one batch, its id printed.
_SETUP = """
import signal, sys
from datetime import UTC, datetime
from mailroom.adapters.imap import Fetched
from mailroom.daemon.parsers import Parsers
from tests.e2e.mails import mail
parsers = Parsers(25_000_000, 1_000_000, "", ahead=True)
batch = [Fetched(uid, mail(subject=f"question {uid}"), datetime.now(UTC)) for uid in range(1, 12)]
"""
_START = """
for _ in parsers.read_all(batch):
    parsers.process_ids()
print(*parsers.process_ids(), flush=True)
"""
_WORKER = _SETUP + _START + "sys.stdin.read()\n"


def test_a_killed_worker_leaves_no_parsing_process_behind() -> None:
    worker = subprocess.Popen([sys.executable, "-c", _WORKER], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None
        parser = int(worker.stdout.readline())
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=60)
        wait_until(lambda: not _alive(parser), timeout=60, what="the parsing process to exit with its worker")
    finally:
        worker.kill()
        worker.wait(timeout=60)


def _alive(pid: int) -> bool:
    """True while the process runs (a zombie, exited but not yet reaped by init, counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


# Read from standard input, this worker's main module has no file: a spawned process, which
# imports the main module first, dies at its start every time.
_UNSTARTABLE = """
import json, logging
from datetime import UTC, datetime
from mailroom.adapters.imap import Fetched
from mailroom.daemon.parsers import Parsers
from tests.e2e.mails import mail
told = []
class Told(logging.Handler):
    def emit(self, record):
        told.append(record.getMessage().split()[0])
logging.getLogger("mailroom").addHandler(Told())
parsers = Parsers(25_000_000, 1_000_000, "", ahead=True)
ahead = 0
for n in range(6):
    batch = [Fetched(uid, mail(subject=f"question {uid}"), datetime.now(UTC)) for uid in range(1, 12)]
    for found in parsers.read_all(batch):
        ahead += found is not None
        parsers.process_ids()
print(json.dumps({"ahead": ahead, "told": told}))
"""


def test_a_parsing_process_that_cannot_start_is_given_up_not_started_for_every_batch() -> None:
    done = subprocess.run([sys.executable, "-"], input=_UNSTARTABLE, cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=True)
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["ahead"] == 0
    assert found["told"] == ["action=parser-lost"] * (GIVE_UP - 1) + ["action=parser-off"]


# Stands for a daemon in a terminal: it stops on SIGINT or SIGTERM in its own time.
_FOREGROUND = _SETUP + """
stopping = []
for sig in (signal.SIGINT, signal.SIGTERM):  # as `mailroom run` does; a process started resets them
    signal.signal(sig, lambda *_: stopping.append(1))
""" + _START + """
sys.stdin.readline()
parsers.process_ids()  # the signals are handled by now: the process ran since they came
ahead = 0
for found in parsers.read_all(batch):
    ahead += found is not None
    parsers.process_ids()
print(ahead, *parsers.process_ids(), flush=True)
"""


def test_ctrl_c_or_a_stop_of_the_whole_group_leaves_the_parsing_process_to_the_worker() -> None:
    worker = subprocess.Popen([sys.executable, "-c", _FOREGROUND], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert worker.stdin is not None and worker.stdout is not None
        parser = int(worker.stdout.readline())
        for sig in (signal.SIGINT, signal.SIGTERM):
            os.killpg(worker.pid, sig)
        worker.stdin.write("go on\n")
        worker.stdin.flush()
        ahead, *after = (int(word) for word in worker.stdout.readline().split())
        assert after == [parser]
        assert ahead >= 10
    finally:
        worker.kill()
        _, errors = worker.communicate(timeout=60)
    assert "Traceback" not in errors
