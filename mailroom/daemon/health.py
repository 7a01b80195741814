"""mailroom's own health: `mailroom status`, and an alert of its own when polling or sending is stuck."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import peewee as pw

from mailroom import clock
from mailroom.config.units import iso
from mailroom.store import breaches, signins
from mailroom.store import queries as store
from mailroom.store.models import Mailbox, OutboxItem, Quarantined, Setting, database

log = logging.getLogger("mailroom.health")

WATCHED = ("poll", "outbox", "auth")


def poll_part(settings: Any, box: Any) -> str:
    """The watched part of a mailbox's polling: "poll" alone, "poll-NAME" beside other mailboxes."""
    return "poll" if settings is None or len(settings.all_mailboxes) == 1 else f"poll-{box.name}"


def watched(settings: Any) -> tuple[str, ...]:
    """Every part with an alert of its own: each mailbox's polling, the outbox, sign-in."""
    boxes = settings.all_mailboxes if settings is not None else ()
    return (*dict.fromkeys(poll_part(settings, box) for box in boxes), *WATCHED[1:]) if boxes else WATCHED


def snapshot(now: datetime, rules_state: dict[str, Any] | None = None, settings: Any = None) -> dict[str, Any]:
    """The figures `status` shows, from the database alone; with `settings`, each mailbox by its name."""
    queued = OutboxItem.select().where(OutboxItem.state == "queued")
    oldest = queued.order_by(OutboxItem.created_at).first()
    return {
        "now": iso(now),
        "mailboxes": _mailboxes(settings),
        "outbox": {
            "queued": queued.where(OutboxItem.kind == "mail").count(),
            "alerts_queued": queued.where(OutboxItem.kind == "alert").count(),
            "oldest_queued_at": iso(oldest.created_at) if oldest else None,
            "failed": OutboxItem.select().where((OutboxItem.state == "failed") & (OutboxItem.kind == "mail")).count(),
            "alerts_failed": OutboxItem.select().where((OutboxItem.state == "failed") & (OutboxItem.kind == "alert")).count(),
        },
        "breaches_open": breaches.tickets_breaching(now),
        "quarantine": Quarantined.select().where(Quarantined.replayed_at.is_null()).count(),
        "rules": rules_state or {},
        "health_alerts": {what: _state(what) for what in watched(settings)},
        "signin": [asdict(state) for state in signins.load()],
    }


def _mailboxes(settings: Any) -> list[dict[str, Any]]:
    """Each mailbox's ledger: the configured ones by name and folder, in the config's order."""
    rows = {m.name: m for m in Mailbox.select().order_by(Mailbox.name)}
    if settings is None:
        return [_ledger(m.name, m) for m in rows.values()]
    return [
        {"name": box.name, "folder": box.folder, **_ledger(box.ledger, rows.get(box.ledger))}
        for box in settings.all_mailboxes
    ]


def _ledger(name: str, row: Mailbox | None) -> dict[str, Any]:
    return {
        "ledger": name,
        "last_poll_at": iso(row.last_poll_at) if row else None,
        "last_error": row.last_error if row else None,
        "uidvalidity": row.uidvalidity if row else None,
    }


def _state(what: str) -> str:
    row = Setting.get_or_none(Setting.key == f"health:{what}")
    return row.value if row else "closed"


def stuck(now: datetime, stale_after: Any, started_at: datetime, settings: Any = None) -> dict[str, str | None]:
    """For each watched part, why it is stuck (None when healthy)."""
    limit = now - stale_after
    # One cause, one page: a mailbox not polled, or mail not sent, because sign-in fails, even
    # when sign-in has not failed for long yet (its last good poll may be older than its failure).
    states = signins.load()
    failing_at_all = signins.failing(now + timedelta(seconds=1), states)
    # Nor is it paged as polling the moment sign-in works again: its first poll since then may
    # still be under way, as a worker's first poll after it starts.
    recovered = signins.recovered(states)

    def polling(connection: str, ledgers: list[str] | None) -> str | None:
        if connection in failing_at_all:
            return None
        return _poll_stuck(ledgers, limit, max(started_at, recovered.get(connection, started_at)))

    problems: dict[str, str | None] = {}
    boxes = settings.all_mailboxes if settings is not None else ()
    for box in boxes:
        problems[poll_part(settings, box)] = polling(settings.connection_of(box), [box.ledger])
    if not boxes:
        problems["poll"] = polling("imap", None)
    oldest = (
        OutboxItem.select()
        .where((OutboxItem.state == "queued") & (OutboxItem.kind == "mail"))
        .order_by(OutboxItem.created_at)
        .first()
    )
    outbox = None
    if oldest is not None and oldest.created_at < limit and "smtp" not in failing_at_all:
        outbox = f"oldest queued mail waiting since {iso(oldest.created_at)}: {oldest.last_error or 'not sent'}"
    failing = signins.failing(limit, states)
    return {**problems, "outbox": outbox, "auth": "; ".join(failing.values()) or None}


def _poll_stuck(ledgers: list[str] | None, limit: datetime, since: datetime) -> str | None:
    """Why these ledgers (all when None), able to poll `since`, have had no good poll since `limit`; None when they have."""
    # `since` is the worker's start, or its sign-in working again.
    rows = Mailbox.select()
    if ledgers is not None:
        rows = rows.where(Mailbox.name.in_(ledgers))
    last_poll = rows.select(pw.fn.MAX(Mailbox.last_poll_at)).scalar()
    if isinstance(last_poll, str):  # SQLite aggregates lose the column's type
        last_poll = datetime.fromisoformat(last_poll)
    if last_poll is not None:
        last_poll = clock.as_utc(last_poll)
    # A worker that just started (or just signed in again) has had no time to poll: a poll from
    # before does not count against it.
    if max(last_poll or since, since) >= limit:
        return None
    errors = [m.last_error for m in rows if m.last_error]
    return f"no successful poll since {iso(last_poll) or 'start'}" + (f": {errors[0]}" if errors else "")


def check(settings: Any, started_at: datetime) -> None:
    """Raise one alert per stuck part (alias mailroom-health-<what>) and close it on recovery."""
    now = clock.now()
    problems = stuck(now, settings.health.stale_after, started_at, settings)
    with database.atomic():
        for what, problem in problems.items():
            wanted = "open" if problem else "closed"
            key = f"health:{what}"
            Setting.insert(key=key, value="closed").on_conflict_ignore().execute()
            # A conditional update is the lock: of several workers, one flips the state.
            flipped = Setting.update(value=wanted).where((Setting.key == key) & (Setting.value != wanted)).execute()
            if not flipped:
                continue
            alias = f"mailroom-health-{what}"
            if problem:
                log.error("action=health-alert what=%s problem=%s", what, problem)
                payload = {
                    "alias": alias,
                    "message": _headline(what)[:130],
                    "description": problem,
                    "priority": "P1",
                    "tags": ["mailroom", "health"],
                    "details": {"what": what, "since": iso(now) or ""},
                    "responders": [],
                }
                store.queue(kind="alert", now=now, action="open", alias=alias, payload=payload)
            else:
                log.info("action=health-recovered what=%s", what)
                store.queue(kind="alert", now=now, action="close", alias=alias, payload={"alias": alias})


def _headline(what: str) -> str:
    """The alert's message: what is stuck, a mailbox by its name."""
    if what == "auth":
        return "mailroom: sign-in is failing"
    if what.startswith("poll-"):
        return f"mailroom: polling mailbox {what[5:]} is stuck"
    return f"mailroom: {what} is stuck"
