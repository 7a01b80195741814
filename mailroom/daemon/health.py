"""mailroom's own health: `mailroom status`, and an alert of its own when polling or sending is stuck."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

import peewee as pw

from mailroom import clock
from mailroom.config.units import iso
from mailroom.store import breaches
from mailroom.store import queries as store
from mailroom.store.models import Mailbox, OutboxItem, Quarantined, Setting, database

log = logging.getLogger("mailroom.health")

WATCHED = ("poll", "outbox")


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
    }


def _state(what: str) -> str:
    row = Setting.get_or_none(Setting.key == f"health:{what}")
    return row.value if row else "closed"


def stuck(now: datetime, stale_after: Any, started_at: datetime) -> dict[str, str | None]:
    """For each watched part, why it is stuck (None when healthy)."""
    limit = now - stale_after
    last_poll = Mailbox.select(pw.fn.MAX(Mailbox.last_poll_at)).scalar()
    if isinstance(last_poll, str):  # SQLite aggregates lose the column's type
        last_poll = datetime.fromisoformat(last_poll).replace(tzinfo=now.tzinfo)
    elif last_poll is not None and last_poll.tzinfo is None:
        last_poll = last_poll.replace(tzinfo=now.tzinfo)
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
    return {"poll": poll, "outbox": outbox}


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
                    "message": f"mailroom: {what} is stuck"[:130],
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


def status_command(settings: Any, *, as_json: bool) -> int:
    """`mailroom status`: last poll, backlog, outbox, breaches, quarantine, rules state."""
    from mailroom.daemon.worker import connect_mailbox
    from mailroom.errors import MailroomError, RulesError, TransientError
    from mailroom.rules.ruleset import load_rules

    rules_state: dict[str, Any] = {"path": str(settings.support.rules), "state": "good", "error": None}
    try:
        load_rules(settings.support.rules, settings.support.templates)
    except RulesError as exc:
        rules_state.update(state="error", error=exc.errors[0] if exc.errors else str(exc))
    except (OSError, MailroomError) as exc:
        rules_state.update(state="error", error=str(exc))
    data = snapshot(clock.now(), rules_state)
    try:
        conn = connect_mailbox(settings, tries=1)
        try:
            conn.select(settings.mailbox.folder)
            data["waiting"] = len(conn.uids())
        finally:
            conn.close()
    except TransientError as exc:
        data["waiting"] = None
        data["mailbox_error"] = str(exc)
    if as_json:
        print(json.dumps(data, indent=2))
        return 0
    for box in data["mailboxes"]:
        print(f"mailbox {box['name']}: last poll {box['last_poll_at'] or 'never'}" + (f" (error: {box['last_error']})" if box["last_error"] else ""))
    print(f"waiting in the mailbox: {data['waiting'] if data['waiting'] is not None else 'unknown (' + data.get('mailbox_error', '') + ')'}")
    out = data["outbox"]
    print(f"outbox: {out['queued']} mail(s) queued, oldest {out['oldest_queued_at'] or '-'}; {out['failed']} failed; {out['alerts_queued']} alert(s) queued, {out['alerts_failed']} failed")
    print(f"open breaches: {data['breaches_open']}; quarantine: {data['quarantine']}")
    print(f"rules {rules_state['path']}: {rules_state['state']}" + (f" ({rules_state['error']})" if rules_state["error"] else ""))
    return 0
