"""`mailroom run`: IDLE-driven ingestion, scheduled SLA checks and senders, signals, one-shot cycles."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import schedule

from mailroom import clock
from mailroom.adapters.escalation import build_escalator
from mailroom.adapters.smtp import MailSender
from mailroom.app import alerting, cycle, surveys
from mailroom.app.sending import flush_mail_once
from mailroom.daemon import health, logs
from mailroom.daemon.metrics import Metrics
from mailroom.daemon.parsers import Parsers
from mailroom.daemon.readers import Fleet, MailboxReader, record_poll_error
from mailroom.daemon.service import DB_ERRORS, Service
from mailroom.daemon.wiring import build_service, build_signins, connect_mailbox, signin_state
from mailroom.errors import TransientError
from mailroom.store import signins
from mailroom.store.models import database

log = logging.getLogger("mailroom")

DRAIN_LIMIT = 600.0  # seconds `run --once` keeps sending a large backlog
SEND_WAIT = 0.5  # seconds `run --once`'s sender waits for a commit before looking anyway
SEND_GATHER = 0.05  # seconds the sender lets commits gather before a flush
SMTP_PAUSE = 5.0  # seconds it leaves a server that is away alone, rather than retrying per message
SHUTDOWN_FLUSH = 10.0  # seconds to flush what can be flushed on SIGTERM


class Worker:
    """One `mailroom run` process: a reader thread per mailbox, the scheduled jobs on the main thread."""

    def __init__(self, settings: Any, service: Service) -> None:
        self.settings = settings
        self.service = service
        self.stop = threading.Event()
        self.wake = threading.Event()
        # Built once: tokens are cached and renewed across reconnects, and failures remembered.
        self.signins = build_signins(settings)
        self.sender = MailSender(settings.smtp, self.signins.smtp)
        self.escalator = build_escalator(settings)
        self.service.after_commit = self.wake.set
        self.service.parsers = Parsers.of(settings, ahead=True)
        self.smtp_error: str | None = None
        self.started_at = clock.now()
        boxes = settings.all_mailboxes
        self.metrics = Metrics(tuple(box.ledger for box in boxes)) if settings.metrics.listen else None
        self.service.meter = self.metrics
        self.fleet = Fleet(len(boxes))
        self.readers = [
            MailboxReader(settings, service, box, self.signins.mailboxes[box.name], self.fleet, self.stop, self.metrics)
            for box in boxes
        ]

    # --- the jobs ---------------------------------------------------------------------------

    def check_sla(self) -> None:
        """Breaches, warnings and auto-close, in one transaction."""
        ctx = self.service.context()
        with database.atomic():
            cycle.check_sla_once(ctx)
            surveys.send_due(ctx)

    def flush_mail(self) -> int:
        """Send what the outbox holds for now; the number sent."""
        sent = flush_mail_once(self.service.context(), self.sender)
        self.smtp_error = getattr(self.sender, "last_connection_error", None)
        if self.smtp_error and self.metrics is not None:
            self.metrics.smtp_error()
        if sent:
            log.info("action=sent count=%s", sent)
        else:
            self.sender.close_idle()  # an idle worker holds no connection to the server
        return sent

    def drain_mail(self) -> None:
        """Send until nothing due is left (one flush is bounded), or the server stops taking it."""
        deadline = time.monotonic() + DRAIN_LIMIT
        while self.flush_mail() and not self.smtp_error and time.monotonic() < deadline:
            pass

    def flush_alerts(self) -> None:
        """Open and close alerts at the escalation backend."""
        if self.escalator is not None:
            alerting.flush_alerts_once(self.service.context(), self.escalator)

    def heartbeat(self) -> None:
        """Tell OpsGenie this worker is alive."""
        if self.escalator is not None:
            alerting.heartbeat(self.service.context(), self.escalator)

    def check_health(self) -> None:
        """Page when polling, sending or signing in has been stuck for `[health] stale_after`."""
        self.save_signins()
        health.check(self.settings, self.started_at)

    def save_signins(self) -> None:
        """Record how each connection signs in, for status and the health check."""
        states = [signin_state(self.settings.connection_of(box), self.signins.mailboxes[box.name])
                  for box in self.settings.all_mailboxes]
        if self.signins.smtp is not None:
            states.append(signin_state("smtp", self.signins.smtp))
        signins.save(states)

    def reload_rules(self) -> None:
        """Pick up a saved rules.yaml; a bad one keeps the last good rules."""
        self.service.rules.reload()

    # --- one cycle --------------------------------------------------------------------------

    def once(self) -> int:
        """Fetch everything waiting in every mailbox while sending what it queues, check SLA clocks, send the rest; exit 1 if a server is away."""
        # One mailbox that is away does not keep the others' mail unread: each is tried, and
        # the cycle's other work (clocks, outbox) goes on; the exit status tells of the failure.
        failed, database_away = 0, ""
        ingested = threading.Event()
        sender = threading.Thread(target=self._send_until, args=(ingested,), name="sender", daemon=True)
        sender.start()
        try:
            for box in self.settings.all_mailboxes:
                failed += not self._read_once(box)
        except TransientError as exc:  # the database is away: nothing else can work either
            database_away = str(exc)
            print(f"mailroom: {database_away}", file=sys.stderr, flush=True)
        finally:
            ingested.set()
            self.wake.set()
            sender.join()  # the sender is used by one thread at a time: drain_mail comes next
        if database_away or failed == len(self.settings.all_mailboxes):
            self._close()  # the SMTP connection the sender thread opened, among others
            return 1
        for job in (self.check_sla, self.drain_mail, self.flush_alerts, self.heartbeat, self.save_signins):
            job()
        self._close()
        if self.smtp_error:
            print(f"mailroom: {self.smtp_error}", file=sys.stderr, flush=True)
            return 1
        return 1 if failed else 0

    def _read_once(self, box: Any) -> bool:
        """One pass over one mailbox; False (and the error printed) when it could not be read."""
        try:
            conn = connect_mailbox(self.settings, credentials=self.signins.mailboxes[box.name], box=box)
        except TransientError as exc:
            self._guarded(self.save_signins)
            self._poll_failed(box, str(exc))
            return False
        try:
            self.service.ingest_once(conn, box=box)
        except TransientError as exc:
            if isinstance(exc.__cause__, DB_ERRORS):
                raise
            self._poll_failed(box, str(exc))
            return False
        finally:
            conn.close()
        return True

    def _send_until(self, ingested: threading.Event) -> None:
        """The sender thread of `run --once`: flush after each commit (or every SEND_WAIT) until ingestion ends."""
        try:
            while not ingested.is_set():
                self.wake.wait(timeout=SEND_WAIT)
                if ingested.is_set():
                    break  # drain_mail sends the rest
                # A moment for the next few commits: one batch of them costs one claim, one
                # SMTP round of the event loop and one commit, where each alone costs all three.
                ingested.wait(SEND_GATHER)
                self.wake.clear()
                self._guarded(self.flush_mail)
                if self.smtp_error:
                    ingested.wait(SMTP_PAUSE)
        finally:
            # Its own connection (peewee's are per thread): closed here, not left to the collector.
            if not database.is_closed():
                database.close()

    # --- the daemon -------------------------------------------------------------------------

    def forever(self) -> int:
        """Run until SIGTERM/SIGINT; then finish the current message and flush for up to 10 s."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop.set())
        if self.metrics is not None:
            self.metrics.serve(self.settings.metrics.address)
        readers = [threading.Thread(target=r.loop, name=f"ingest-{r.box.name}", daemon=True) for r in self.readers]
        for reader in readers:
            reader.start()
        jobs = schedule.Scheduler()
        jobs.every(5).seconds.do(self._guarded, self.check_sla)
        jobs.every(2).seconds.do(self._guarded, self.flush_mail)
        jobs.every(2).seconds.do(self._guarded, self.flush_alerts)
        jobs.every(2).seconds.do(self._guarded, self.reload_rules)
        jobs.every(60).seconds.do(self._guarded, self.heartbeat)
        health_every = max(1, min(30, int(self.settings.health.stale_after.total_seconds() / 4)))
        jobs.every(health_every).seconds.do(self._guarded, self.check_health)
        jobs.run_all()
        while not self.stop.is_set():
            # The ingest thread sets `wake` right after a commit, so an acknowledgement
            # leaves at once instead of at the next tick.
            if self.wake.wait(timeout=0.5):
                self.stop.wait(SEND_GATHER)  # the commits of the same moment go in one batch
                self.wake.clear()
                self._guarded(self.flush_mail)
            jobs.run_pending()
        # One deadline for the whole shutdown: each reader ends after its current message, and
        # the flush sends what they committed.
        deadline = time.monotonic() + SHUTDOWN_FLUSH
        for reader in readers:
            reader.join(timeout=max(0.0, deadline - time.monotonic()))
        self.fleet.leave()
        for job in (self.flush_mail, self.flush_alerts):
            if time.monotonic() < deadline:
                self._guarded(job)
        self._close()
        log.info("action=stopped")
        return 0

    def _guarded(self, job: Callable[[], object]) -> None:
        """Run one job; a failure is logged and never stops the others."""
        try:
            job()
        except Exception:  # noqa: BLE001
            log.exception("action=job-failed job=%s", getattr(job, "__name__", job))

    def _poll_failed(self, box: Any, error: str) -> int:
        """Record and print why a mailbox could not be read; `run --once` exits 1."""
        record_poll_error(box.ledger, error)
        named = f"mailbox {box.name}: " if len(self.settings.all_mailboxes) > 1 else ""
        print(f"mailroom: {named}{error}", file=sys.stderr, flush=True)
        return 1

    def _close(self) -> None:
        self.sender.close()
        self.service.parsers.close()
        if self.escalator is not None:
            self.escalator.close_client()


def main(settings: Any, *, once: bool, log_format: str = "text") -> int:
    """`mailroom run [--once]`."""
    logs.setup(log_format)
    settings.require_connection_secrets()
    service = build_service(settings)
    if not settings.support.trusted_authserv_id:
        log.warning("agent mail is not authenticated: set [support] trusted_authserv_id to require DMARC")
    worker = Worker(settings, service)
    return worker.once() if once else worker.forever()
