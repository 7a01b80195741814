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


def snapshot(now: datetime, rules_state: dict[str, Any] | None = None) -> dict[str, Any]:
    """The figures `status` shows, from the database alone."""
    queued = OutboxItem.select().where(OutboxItem.state == "queued")
    oldest = queued.order_by(OutboxItem.created_at).first()
    return {
        "now": iso(now),
        "mailboxes": [
            {"name": m.name, "last_poll_at": iso(m.last_poll_at), "last_error": m.last_error, "uidvalidity": m.uidvalidity}
            for m in Mailbox.select().order_by(Mailbox.name)
        ],
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
        "health_alerts": {what: _state(what) for what in WATCHED},
        "signin": [asdict(state) for state in signins.load()],
    }


def _state(what: str) -> str:
    row = Setting.get_or_none(Setting.key == f"health:{what}")
    return row.value if row else "closed"


def stuck(now: datetime, stale_after: Any, started_at: datetime) -> dict[str, str | None]:
    """For each watched part, why it is stuck (None when healthy)."""
    limit = now - stale_after
    last_poll = Mailbox.select(pw.fn.MAX(Mailbox.last_poll_at)).scalar()
    if isinstance(last_poll, str):  # SQLite aggregates lose the column's type
        last_poll = datetime.fromisoformat(last_poll)
    if last_poll is not None:
        last_poll = clock.as_utc(last_poll)
    poll = None
    if (last_poll or started_at) < limit:
        errors = [m.last_error for m in Mailbox.select() if m.last_error]
        poll = f"no successful poll since {iso(last_poll) or 'start'}" + (f": {errors[0]}" if errors else "")
    oldest = (
        OutboxItem.select()
        .where((OutboxItem.state == "queued") & (OutboxItem.kind == "mail"))
        .order_by(OutboxItem.created_at)
        .first()
    )
    outbox = None
    if oldest is not None and oldest.created_at < limit:
        outbox = f"oldest queued mail waiting since {iso(oldest.created_at)}: {oldest.last_error or 'not sent'}"
    failing = signins.failing(limit)
    # One cause, one page: a mailbox not polled, or mail not sent, because sign-in fails, even
    # when sign-in has not failed for long yet (its last good poll may be older than its failure).
    failing_at_all = signins.failing(now + timedelta(seconds=1))
    if "imap" in failing_at_all:
        poll = None
    if "smtp" in failing_at_all:
        outbox = None
    return {"poll": poll, "outbox": outbox, "auth": "; ".join(failing.values()) or None}


def check(settings: Any, started_at: datetime) -> None:
    """Raise one alert per stuck part (alias mailroom-health-<what>) and close it on recovery."""
    now = clock.now()
    problems = stuck(now, settings.health.stale_after, started_at)
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
                    "message": ("mailroom: sign-in is failing" if what == "auth" else f"mailroom: {what} is stuck")[:130],
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
