"""The only place core meets adapters: the jobs of one cycle (ingest, SLA check, outbox)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import peewee as pw

from mailroom import clock
from mailroom.adapters.imap import Fetched, MailboxConnection
from mailroom.adapters.language import language_of
from mailroom.app.context import Context
from mailroom.app.ingest import Placement, at_uid, ingest, writes_files
from mailroom.daemon.parsers import Parsed, Parsers
from mailroom.errors import TransientError, UnparseableMessage, first_line
from mailroom.ports import Meter
from mailroom.rules.source import RulesSource
from mailroom.store.failures import refusal
from mailroom.store.models import Mailbox, Quarantined, database

log = logging.getLogger("mailroom")

DB_ERRORS = (pw.OperationalError, pw.InterfaceError)
GROUP_SECONDS = 0.05  # how long a group of mails stays uncommitted (delays their acknowledgements)
GROUP_BYTES = 1 << 20  # a mail this big is not parsed while others wait for their commit

# Asked of every fetched mail: a UID quarantined before stays in quarantine, not tried again.
_QUARANTINED = at_uid(Quarantined)


@dataclass
class IngestReport:
    """What one pass over the mailbox did."""

    stored: int = 0
    duplicates: int = 0
    ignored: int = 0
    quarantined: int = 0
    tickets: set[int] = field(default_factory=set)


class Service:
    """Settings, rules and secret in one place; the jobs take their time from `clock.now()`."""

    def __init__(self, settings: Any, rules: RulesSource, secret: str) -> None:
        self.settings = settings
        self.rules = rules
        self.secret = secret
        self.after_commit: Callable[[], None] | None = None  # wakes the sender after new mail
        self.meter: Meter | None = None  # the metrics endpoint's counters, when it is on
        self.parsers = Parsers.of(settings)  # a worker's reads ahead in a process of its own

    def context(self) -> Context:
        """A context for one step, with the rules in force and the current time."""
        rules = self.rules.rules or self.rules.load()
        return Context(self.settings, rules, self.secret, clock.now(), language_of, self.meter)

    def ingest_once(self, conn: MailboxConnection, stop: threading.Event | None = None, box: Any = None) -> IngestReport:
        """Fetch every message waiting in `box` (the first mailbox by default), store each exactly once, then move it out."""
        # With `stop` set (shutdown) the pass ends after the current message: what it stored is
        # still moved, the rest waits in the folder for the next start.
        cfg = box or self.settings.mailbox
        report = IngestReport()
        uidvalidity = conn.select(cfg.folder)
        ledger = self._ledger(cfg.ledger, uidvalidity)
        uids = conn.uids()
        for batch in conn.batches(uids):
            done: list[int] = []
            bad: list[int] = []
            with _Group(self.after_commit) as group:
                for item, parsed in zip(batch, self.parsers.read_all(batch), strict=True):
                    if stop is not None and stop.is_set():
                        break
                    place = Placement(cfg.ledger, uidvalidity, item.uid, cfg.name)
                    committed = report.stored + report.quarantined
                    if self._take(item, place, report, group, parsed):
                        done.append(item.uid)
                    else:
                        bad.append(item.uid)
                    # A duplicate committed nothing and wakes no one.
                    group.took(report.stored + report.quarantined > committed)
            # Moves only after the commits: a crash before them means a re-fetch that is
            # recognised by its UID and only moved.
            conn.move(done, cfg.processed_folder)
            conn.move(bad, cfg.quarantine_folder)
            if stop is not None and stop.is_set():
                return report  # not a whole pass: the ledger keeps the last complete poll
        with database.atomic():
            ledger.last_uid = max([ledger.last_uid, *uids])
            ledger.last_poll_at = clock.now()
            ledger.last_error = None
            ledger.waiting = 0
            ledger.save()
        return report

    def _ledger(self, name: str, uidvalidity: int) -> Mailbox:
        ledger, _ = Mailbox.get_or_create(name=name)
        if ledger.uidvalidity != uidvalidity:
            if ledger.uidvalidity is not None:
                # UIDs were renumbered: start over; stored messages are still recognised by
                # Message-ID and content, so nothing is stored twice.
                log.warning("UIDVALIDITY of %s changed from %s to %s", name, ledger.uidvalidity, uidvalidity)
            ledger.uidvalidity, ledger.last_uid = uidvalidity, 0
            ledger.save()
        return ledger

    def _take(self, item: Fetched, place: Placement, report: IngestReport, group: _Group, parsed: Parsed | None) -> bool:
        """Process one fetched message (`parsed` ahead, or None: read here); False when it belongs in quarantine."""
        if parsed is None and len(item.raw) > GROUP_BYTES:
            group.commit()  # its parsing takes long: what is stored before it need not wait
        if _QUARANTINED.first(mailbox=place.mailbox, uidvalidity=place.uidvalidity, uid=place.uid):
            return False
        ctx = self.context()
        parsed = parsed or self.parsers.read_here(item)
        message = parsed.message
        if message is None:
            if parsed.trace:
                log.error("uid=%s message_id=-: cannot be processed\n%s", place.uid, parsed.trace.rstrip())
            self.quarantine(item, place, parsed.key, "", parsed.failure)
            report.quarantined += 1
            return False
        try:
            # Joins the group only once parsed, and not when it writes files: the group holds the
            # write lock, which the sender needs too, and a slow disk would hold it as long. Such
            # a mail commits what is stored before it and is stored in a transaction of its own,
            # begun by ingest after its files are written.
            if writes_files(message, item.raw):
                group.commit()
            else:
                group.begin()
            result = ingest(ctx, message, parsed.key, place, raw=item.raw, legacy=parsed.legacy)
        except TransientError:
            raise  # the group's commit failed: none of it is stored, none of it moved
        except Exception as exc:  # noqa: BLE001 - any failure quarantines the message, never the loop
            refused = refusal(exc) if isinstance(exc, pw.DatabaseError) else None
            if isinstance(exc, DB_ERRORS) and refused is None:
                # The server is away (or busy): nothing is moved, the mail is fetched again.
                raise TransientError(f"database: {first_line(exc)}") from exc
            reason = refused or first_line(exc)
            if refused:
                log.error("uid=%s message_id=%s: %s", place.uid, message.message_id, refused)
            elif not isinstance(exc, UnparseableMessage):
                reason = f"{type(exc).__name__}: {reason}"
                log.exception("uid=%s message_id=%s: cannot be processed", place.uid, message.message_id)
            self.quarantine(item, place, parsed.key, message.message_id, reason)
            report.quarantined += 1
            return False
        if result.outcome == "duplicate":
            report.duplicates += 1
        elif result.outcome == "ignored":
            report.ignored += 1
        else:
            report.stored += 1
        if result.ticket_id:
            report.tickets.add(result.ticket_id)
        log.info(
            "uid=%s message_id=%s ticket=%s action=%s detail=%s",
            place.uid, message.message_id, result.ticket_id, result.outcome, result.detail,
        )
        return True

    def quarantine(self, item: Fetched, place: Placement, key: str, message_id: str, reason: str) -> None:
        """Record why a message goes to quarantine; the IMAP move follows."""
        log.error("uid=%s message_id=%s action=quarantined reason=%s", place.uid, message_id or "-", reason)
        head = item.raw[:8192].decode("latin-1", "replace")
        subject = _header(head, "subject")[:500]
        sender = _header(head, "from")[:320]
        Quarantined.insert(
            mailbox=place.mailbox,
            uidvalidity=place.uidvalidity,
            uid=place.uid,
            message_id=message_id[:998],
            content_key=key,
            subject=subject,
            from_addr=sender,
            reason=reason[:2000],
            at=clock.now(),
        ).on_conflict_ignore().execute()


class _Group:
    """Consecutive mails of a batch stored in one transaction, committed every GROUP_SECONDS and at its end."""

    # A commit a mail cost about a tenth of `run --once` over 2,000 mails on SQLite (the commit
    # itself, the full-text index's new segment, the write lock handed to the sender and back:
    # 43.6 s against 39.3 s grouped, bench/ingest.py). Each mail is still its own savepoint
    # (ingest's atomic), so one that fails is rolled back alone and quarantined; a lost database
    # or a failed commit rolls back the group, none of which was moved, so all of it is fetched
    # again. Its acknowledgements are committed, and may leave, before the move (a crash first
    # means a re-fetch that is only moved).
    def __init__(self, after_commit: Callable[[], None] | None) -> None:
        self._after_commit = after_commit
        self._open: Any = None
        self._began = 0.0
        self._stored = False

    def __enter__(self) -> _Group:
        return self

    def begin(self) -> None:
        """Before a mail: a transaction for the group, unless one is open."""
        if self._open is None:
            self._open = database.atomic()
            self._open.__enter__()
            self._began = time.monotonic()

    def took(self, stored: bool) -> None:
        """After a mail: commit once the group is old enough that its first acknowledgement should leave."""
        self._stored = self._stored or stored
        if time.monotonic() - self._began >= GROUP_SECONDS:
            self.commit()

    def commit(self) -> None:
        """Commit what the group holds (and wake the sender for it)."""
        if self._open is not None:
            try:
                self._close(None, None, None)
            except Exception as exc:
                # Rolled back: had it been taken for the mail at hand, the mails before it
                # would be moved out unstored.
                raise TransientError(f"database: commit failed: {first_line(exc)}") from exc
        if self._stored and self._after_commit:
            self._after_commit()
        self._stored = False

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if error is None:
            self.commit()
        elif self._open is not None:
            self._close(kind, error, trace)  # rolled back: nothing of the group is moved

    def _close(self, kind: Any, error: Any, trace: Any) -> None:
        """End the open transaction: committed when no error is given, else rolled back."""
        self._open, group = None, self._open
        group.__exit__(kind, error, trace)


def _header(head: str, name: str) -> str:
    """A raw header value from the head of a message that could not be parsed."""
    for line in head.splitlines():
        if not line.strip():
            break
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return ""
