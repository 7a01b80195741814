"""Fetched mail parsed in a process of its own while the ingesting thread stores the mail before it."""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import traceback
from collections import deque
from collections.abc import Iterator
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailroom.adapters.imap import Fetched
from mailroom.errors import UnparseableMessage, first_line
from mailroom.mail.message import Inbound, parse
from mailroom.store.contentkey import content_keys

log = logging.getLogger("mailroom")

# Parsing is about a third of the ingesting thread's work (bench/ingest.py), and the thread
# shares the interpreter lock with the sender: in a process of its own it runs on another core.
# A batch smaller than this is parsed in place: a few mails are not worth the hand-over, and a
# quiet mailbox starts no process at all.
POOL_MIN = 8
# A mail bigger than this is parsed in place: handing it over would hold it twice in memory.
POOL_BYTES = 1 << 20
AHEAD = 4  # mails read ahead of the one being stored (more holds more memory, for no gain)
# Processes lost in a row, none having read a mail, before the worker reads every mail itself: one
# that cannot start (its interpreter gone in an upgrade, say) must not be started again and again.
GIVE_UP = 3
NICE = 10  # the parsing process's scheduling priority, below the worker's and the database's


@dataclass(frozen=True)
class Parsed:
    """A fetched mail read: its message (None when it could not be parsed) and its content keys."""

    message: Inbound | None
    key: str
    legacy: str
    failure: str = ""  # why it could not be parsed (one line)
    trace: str = ""  # set for an unexpected error (not an unparseable mail): where it happened


def read(raw: bytes, arrived_at: datetime, max_attachment_size: int, max_text: int, spam_header: str) -> Parsed:
    """Parse one mail and compute its keys; a failure is returned, never raised (it crosses a process)."""
    key, legacy = content_keys(raw, spam_header)
    try:
        return Parsed(parse(raw, arrived_at, max_attachment_size, max_text), key, legacy)
    except UnparseableMessage as exc:
        return Parsed(None, key, legacy, first_line(exc))
    except Exception as exc:  # noqa: BLE001 - any failure quarantines the mail, never the pass
        return Parsed(None, key, legacy, f"{type(exc).__name__}: {first_line(exc)}", traceback.format_exc())


_Ahead = tuple[ProcessPoolExecutor, Future[Parsed]]  # a mail handed to a process, and its reading


def _follow_parent() -> None:
    """In the parsing process: stop with the worker, not before, even when the worker was killed."""
    # Ctrl-C in a terminal, or a service manager stopping the worker's whole group, reaches this
    # process too: the worker stops in its own time (finishing its mail), and this one with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Only spare time: where the database server shares the worker's cores, reading ahead must not
    # slow it (the worker reads what is not ready itself). On two cores beside PostgreSQL, parsing
    # at the same priority made ingest into a year's database 1.28x that into an empty one.
    os.nice(NICE)
    # The process holds both ends of its work queue, so a killed worker's end never closes:
    # without this it would wait for work forever.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), name="parent-watch", daemon=True).start()


def _exit_with(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(0)


class Parsers:
    """Reading fetched mail: here, or (reading ahead) in one process started at the first batch big enough and kept."""

    # The process holds no state: a mail it was reading when it died is read in the ingesting
    # thread instead, so a lost process costs time, never mail.

    def __init__(self, max_attachment_size: int, max_text: int, spam_header: str, *, ahead: bool = False) -> None:
        self._limits = (max_attachment_size, max_text, spam_header)
        self._ahead = ahead  # a worker's: reads ahead in a process; else every mail is read here
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()  # the readers of several mailboxes share the process
        self._lost_in_a_row = 0

    @classmethod
    def of(cls, settings: Any, *, ahead: bool = False) -> Parsers:
        """Reading as the settings say: the attachment and text limits, the spam score header."""
        limits, support = settings.limits, settings.support
        return cls(limits.max_attachment_size, limits.max_text, support.spam_score_header, ahead=ahead)

    def read_here(self, item: Fetched) -> Parsed:
        """One mail read in this thread, with its content keys."""
        return read(item.raw, item.arrived_at, *self._limits)

    def read_all(self, batch: list[Fetched]) -> Iterator[Parsed | None]:
        """Each mail of the batch read ahead, in order; None for one the caller reads itself."""
        if not self._ahead or len(batch) < POOL_MIN:
            yield from (None for _ in batch)
            return
        pool = self._started()
        # A few mails ahead, not the whole batch: what is read and not yet stored is held here.
        pending: deque[_Ahead | None] = deque()
        for item in batch:
            pending.append(self._submit(pool, item) if pool is not None and len(item.raw) <= POOL_BYTES else None)
            if len(pending) > AHEAD:
                yield self._result(pending.popleft())
        while pending:
            yield self._result(pending.popleft())

    def process_ids(self) -> list[int]:
        """The parsing process's id, while one runs."""
        try:
            return [self._pool.submit(os.getpid).result()] if self._pool is not None else []
        except (BrokenProcessPool, RuntimeError):
            return []  # it died: the next batch starts another

    def close(self) -> None:
        """Stop the process; what it read ahead and nobody took is dropped (it is read again if needed)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _started(self) -> ProcessPoolExecutor | None:
        """The process, started if need be (once a batch at most); None once given up."""
        with self._lock:
            if self._pool is None and self._lost_in_a_row < GIVE_UP:
                # spawn, not fork: the worker has threads (readers, sender) whose locks a fork copies.
                self._pool = ProcessPoolExecutor(
                    1, mp_context=multiprocessing.get_context("spawn"), initializer=_follow_parent
                )
            return self._pool

    def _submit(self, pool: ProcessPoolExecutor, item: Fetched) -> _Ahead | None:
        try:
            return pool, pool.submit(read, item.raw, item.arrived_at, *self._limits)
        except (BrokenProcessPool, RuntimeError, OSError) as exc:
            self._lost(pool, exc)
            return None

    def _result(self, ahead: _Ahead | None) -> Parsed | None:
        if ahead is None:
            return None
        pool, future = ahead
        if not future.done():
            # Not read yet (the process is starting, or behind): read here rather than wait.
            future.cancel()
            return None
        try:
            found = future.result()
        except CancelledError:
            return None  # closed at shutdown while a reader still ran
        except (BrokenProcessPool, OSError) as exc:
            # The process died (killed, out of memory): this mail and the rest are read here.
            self._lost(pool, exc)
            return None
        with self._lock:
            self._lost_in_a_row = 0
        return found

    def _lost(self, pool: ProcessPoolExecutor, exc: BaseException) -> None:
        with self._lock:
            if self._pool is not pool:
                return  # told already
            self._pool = None
            self._lost_in_a_row += 1
            given_up = self._lost_in_a_row >= GIVE_UP
        if given_up:
            log.error("action=parser-off error=%s: %s parsing processes lost in a row; the worker reads all mail itself",
                      type(exc).__name__, GIVE_UP)
        else:
            log.warning("action=parser-lost error=%s: the next batch starts another", type(exc).__name__)
        pool.shutdown(wait=False, cancel_futures=True)
