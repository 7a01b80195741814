"""Reading the mailboxes: one reader thread per mailbox, and the share of them this worker holds."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from mailroom.adapters.signin.tokens import Credentials
from mailroom.backoff import doubling
from mailroom.daemon.metrics import Metrics
from mailroom.daemon.service import Service
from mailroom.daemon.wiring import connect_mailbox
from mailroom.errors import TransientError
from mailroom.store.locks import MailboxLock, Presence
from mailroom.store.models import Mailbox, database

log = logging.getLogger("mailroom")

RECONNECT_FIRST, RECONNECT_CEILING = 1.0, 60.0  # seconds between tries at a failing mailbox: doubling


def record_poll_error(ledger: str, error: str) -> None:
    """Keep why a mailbox could not be read, for status and the health check."""
    try:
        with database.atomic():
            row, _ = Mailbox.get_or_create(name=ledger)
            row.last_error = error[:2000]
            row.save()
    except Exception:  # noqa: BLE001 - the database may be what is away
        log.debug("could not record the poll error", exc_info=True)


class Fleet:
    """The mailboxes this worker holds: on PostgreSQL at most its share, ceil(mailboxes / live workers)."""

    # Each mailbox is one advisory lock, so no two workers read one; the share spreads them, so
    # three workers over three mailboxes read one each, and a dead worker's goes to the others.

    def __init__(self, mailboxes: int) -> None:
        self.mailboxes = mailboxes
        self.presence = Presence()
        self.held: set[str] = set()
        self.mutex = threading.Lock()

    def share(self) -> int:
        """How many mailboxes this worker may hold now."""
        return -(-self.mailboxes // self.presence.workers())

    def hold(self, name: str, lock: MailboxLock) -> bool:
        """True when this worker reads mailbox `name` now: it holds its lock within its share."""
        with self.mutex:
            share = self.share()
            if name in self.held:
                if len(self.held) > share:
                    # More workers came: this one lets a mailbox go, and one of them takes it.
                    log.info("action=mailbox-handed-on mailbox=%s share=%d", name, share)
                    self._drop(name, lock)
                    return False
                if lock.acquire():
                    return True
                self.held.discard(name)
                return False
            if len(self.held) >= share or not lock.acquire():
                return False
            self.held.add(name)
            return True

    def release(self, name: str, lock: MailboxLock) -> None:
        """Let the mailbox go."""
        with self.mutex:
            self._drop(name, lock)

    def _drop(self, name: str, lock: MailboxLock) -> None:
        self.held.discard(name)
        lock.release()

    def leave(self) -> None:
        """Drop out of the count of live workers."""
        self.presence.leave()


class MailboxReader:
    """One mailbox's reading: IDLE (or poll) while holding it, reconnecting with backoff."""

    def __init__(self, settings: Any, service: Service, box: Any, credentials: Credentials,
                 fleet: Fleet, stop: threading.Event, metrics: Metrics | None) -> None:
        self.settings = settings
        self.service = service
        self.box = box
        self.credentials = credentials
        self.fleet = fleet
        self.stop = stop
        self.metrics = metrics
        self.lock = MailboxLock(box.ledger)
        self.failures = 0  # in a row: each one doubles the wait, and only a whole pass resets it

    def loop(self) -> None:
        """Read the mailbox until told to stop; the others try for it every poll interval."""
        poll = self.box.poll_interval.total_seconds()
        try:
            while not self.stop.is_set():
                if not self.fleet.hold(self.box.name, self.lock):
                    self.stop.wait(poll)
                    continue
                if self.failures:
                    # Also after a pass that failed on a good connection: a mail or a server
                    # that fails at once must not turn the loop into a reconnect storm.
                    delay = doubling(self.failures, RECONNECT_FIRST, RECONNECT_CEILING)
                    log.warning("action=reconnect in=%.0fs failures=%d mailbox=%s", delay, self.failures, self.box.name)
                    if self.stop.wait(delay):
                        break
                self._follow(poll)
        finally:
            self.fleet.release(self.box.name, self.lock)

    def _follow(self, poll: float) -> None:
        """One connection: a pass, then IDLE or the timer, and again until it fails or must sign in anew."""
        try:
            conn = connect_mailbox(self.settings, self.stop, tries=1, credentials=self.credentials, box=self.box)
        except TransientError as exc:
            self._failed("connect-failed", str(exc))
            return
        try:
            idle = self.box.idle and conn.can_idle()
            mode = "poll"  # the first pass reads what waited; later ones follow IDLE or the timer
            while not self.stop.is_set() and self.fleet.hold(self.box.name, self.lock):
                began = time.monotonic()
                report = self.service.ingest_once(conn, self.stop, self.box)
                if self.metrics is not None:
                    self.metrics.ingest_pass(self.box.ledger, report, time.monotonic() - began, mode)
                self.failures = 0
                mode = "idle" if idle else "poll"
                if idle:
                    conn.idle_wait(poll, self.stop)
                else:
                    self.stop.wait(poll)
                if conn.signin_due():
                    break  # its token is about to expire: sign in anew with the next one
        except TransientError as exc:
            self._failed("disconnected", str(exc))
        except Exception:  # noqa: BLE001 - one failing pass must not end reading
            log.exception("action=ingest-failed mailbox=%s", self.box.name)
            self.failures += 1
        finally:
            conn.close()

    def _failed(self, action: str, error: str) -> None:
        self.failures += 1
        record_poll_error(self.box.ledger, error)
        log.warning("action=%s mailbox=%s error=%s", action, self.box.name, error)
        if self.metrics is not None:
            self.metrics.imap_error(self.box.ledger)
