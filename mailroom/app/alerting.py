"""Alert outbox rows: what a breach or a page says, and sending them through an Escalator."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from mailroom import backoff as retry
from mailroom.app.context import Context
from mailroom.config.units import iso
from mailroom.ports import MESSAGE_MAX, TAGS_MAX, Alert, Escalator, Outcome, shorten
from mailroom.sla import deadlines as sla
from mailroom.store import queries as store
from mailroom.store.models import Clock, OutboxItem, Page, Ticket, database

log = logging.getLogger("mailroom.alerting")

BATCH = 5  # rows per claim: even a slow backend answers these well within the claim's 90 s lease
GIVE_UP_AFTER = timedelta(days=5)
DETAIL_MAX = 1000  # of the subject in an alert: details must stay within 8,000 characters
ALERT_FIELDS = ("alias", "message", "description", "priority", "tags", "details", "responders")



# --- what alerts say --------------------------------------------------------------------------


def responders(ctx: Context, team: str) -> list[dict[str, str]]:
    """Whom OpsGenie pages for a team: its `opsgenie_responders`, else the team by name."""
    known = ctx.rules.teams.get(team)
    if known is not None and known.opsgenie_responders:
        return [dict(r) for r in known.opsgenie_responders]
    return [{"type": "team", "name": team}]


def payload(alert: Alert) -> dict[str, Any]:
    """An alert as an outbox payload: JSON-ready, and `Alert(**payload)` gives it back."""
    return {
        "alias": alert.alias,
        "message": alert.message,
        "description": alert.description,
        "priority": alert.priority,
        "tags": list(alert.tags),
        "details": dict(alert.details),
        "responders": [dict(r) for r in alert.responders],
    }


def breach_payload(ctx: Context, ticket: Ticket, clock: Clock) -> dict[str, Any]:
    """The alert a breached clock raises (alias `mailroom-ticket-<id>-<metric>`), as an outbox payload.

    Built as plain data: a cycle may raise hundreds, and `Alert(**payload)` normalises it when sent.
    """
    label = clock.metric.replace("_", " ")
    due = iso(clock.due_at) or ""
    subject = (ticket.subject or "")[:DETAIL_MAX]
    return {
        "alias": sla.alert_alias(ticket.id, clock.metric),
        "message": shorten(f"Ticket #{ticket.id} {label} overdue ({ticket.priority}): {subject or '(no subject)'}",
                           MESSAGE_MAX),
        "description": (f"The {label} of ticket #{ticket.id} was due {due} and has not been met.\n"
                        f"Subject: {subject}\nRequester: {ticket.requester}\nTeam: {ticket.team}\n"
                        f"Priority: {ticket.priority}"),
        "priority": ticket.priority,
        "tags": ["mailroom", "sla", clock.metric, *(ticket.tags or ())][:TAGS_MAX],
        "details": {"ticket": str(ticket.id), "requester": ticket.requester, "team": ticket.team, "due": due,
                    "metric": clock.metric, "subject": subject},
        "responders": responders(ctx, ticket.team),
    }


def page_alert(ctx: Context, ticket: Ticket, team: str, alias: str, description: str, due: datetime | None) -> Alert:
    """The alert of a page: a rule's `page: true` or an engineer's `#page TEAM`."""
    return Alert(
        alias=alias,
        message=f"Ticket #{ticket.id} pages {team} ({ticket.priority}): {ticket.subject or '(no subject)'}",
        description=f"{description}\nSubject: {ticket.subject}\nRequester: {ticket.requester}\nTeam: {ticket.team}",
        priority=ticket.priority,
        tags=("mailroom", "page", *(ticket.tags or ())),
        details={"ticket": str(ticket.id), "requester": ticket.requester, "team": team, "due": iso(due) or "",
                 "subject": ticket.subject or ""},
        responders=tuple(responders(ctx, team)),
    )


def queue_close(ctx: Context, ticket_id: int | None, alias: str, note: str = "") -> bool:
    """Queue the close of an alert unless nothing is left to close; True when queued."""
    last = (
        OutboxItem.select(OutboxItem.action, OutboxItem.state)
        .where((OutboxItem.alias == alias) & (OutboxItem.kind == "alert"))
        .order_by(OutboxItem.id.desc())
        .first()
    )
    if last is None or last.action == "close" or (last.action == "open" and last.state == "failed"):
        return False
    store.queue(kind="alert", now=ctx.now, ticket_id=ticket_id, action="close", alias=alias,
                payload={"alias": alias, "note": note})
    return True


# --- sending ----------------------------------------------------------------------------------


def _give_up_after(ctx: Context) -> timedelta:
    return getattr(getattr(ctx.settings, "escalation", None), "give_up_after", GIVE_UP_AFTER)


def flush_alerts_once(ctx: Context, escalator: Escalator) -> int:
    """Send the alert rows that are due, in order per alias; the number acknowledged."""
    sent = 0
    tried: set[int] = set()
    waits: Counter[int] = Counter()
    while True:
        rows = store.claim_due("alert", ctx.now, limit=BATCH)
        # A row that waited twice behind an earlier row of its alias (held by another worker) is left
        # for the next cycle, so this loop always ends.
        fresh = [row for row in rows if row.id not in tried and waits[row.id] < 2]
        _release([row for row in rows if row not in fresh])
        if not fresh:
            return sent
        for row in fresh:
            result = _send(ctx, escalator, row)
            if result == "waiting":
                waits[row.id] += 1
            else:
                tried.add(row.id)
                sent += result == "sent"


def _release(rows: list[OutboxItem]) -> None:
    if rows:
        OutboxItem.update(claimed_until=None).where(OutboxItem.id.in_([r.id for r in rows])).execute()


def _send(ctx: Context, escalator: Escalator, row: OutboxItem) -> str:
    """One row: sent, retried later, refused for good, or waiting behind an earlier row of its alias."""
    if OutboxItem.select(OutboxItem.state).where(OutboxItem.id == row.id).scalar() != "queued":
        return "gone"  # another worker sent it after this claim's lease ran out
    before = (
        OutboxItem.select(OutboxItem.next_attempt_at)
        .where((OutboxItem.alias == row.alias) & (OutboxItem.kind == "alert")
               & (OutboxItem.state == "queued") & (OutboxItem.id < row.id))
        .order_by(OutboxItem.id)
        .first()
    )
    if before is not None:
        # A close must not overtake the open it closes: wait until the earlier row is done.
        OutboxItem.update(claimed_until=None, next_attempt_at=max(before.next_attempt_at, ctx.now)).where(
            OutboxItem.id == row.id).execute()
        return "waiting"
    try:
        outcome = _call(escalator, row)
    except Exception as exc:  # a backend bug must not stop the other rows; retried like a server away
        log.exception("action=alert-error alias=%s", row.alias)
        outcome = Outcome("retry", None, f"{type(exc).__name__}: {exc}")
    with database.atomic():
        _record(ctx, row, outcome)
    return outcome.state


def _call(escalator: Escalator, row: OutboxItem) -> Outcome:
    data = row.payload or {}
    if row.action == "open":
        return escalator.open(Alert(**{k: data[k] for k in ALERT_FIELDS if k in data}))
    if row.action == "close":
        return escalator.close(row.alias or data.get("alias", ""), data.get("note") or "")
    if row.action == "ping":
        return escalator.ping(data.get("name") or row.alias or "")
    return Outcome("failed", None, f"unknown alert action {row.action!r}")


def _record(ctx: Context, row: OutboxItem, outcome: Outcome) -> None:
    row.attempts += 1
    row.claimed_until = None
    if outcome.state == "sent":
        row.state, row.sent_at, row.last_error = "sent", ctx.now, None
        row.save()
        log.info("action=alert-%s alias=%s status=%s", row.action, row.alias, outcome.status)
        _alert_state(row, "open" if row.action == "open" else "closed", None)
        return
    row.last_error = outcome.error or f"HTTP {outcome.status}"
    if outcome.state == "retry" and ctx.now - row.created_at < _give_up_after(ctx):
        wait = retry.backoff(row.attempts)
        if outcome.retry_after:  # the server said when; never beyond the usual ceiling
            wait = max(wait, min(timedelta(seconds=outcome.retry_after), timedelta(seconds=retry.CEILING)))
        row.next_attempt_at = ctx.now + wait
        row.save()
        log.warning("action=alert-retry alias=%s attempts=%s error=%s", row.alias, row.attempts, row.last_error)
        return
    row.state = "failed"
    row.save()
    why = "given up" if outcome.state == "retry" else "refused"
    log.error("action=alert-failed alias=%s why=%s error=%s", row.alias, why, row.last_error)
    _alert_state(row, "failed", row.last_error)
    if row.ticket_id is not None:
        store.record_event(row.ticket_id, ctx.now, "escalation", f"alert {why}",
                           f"{row.action} {row.alias}: {row.last_error}")


def _alert_state(row: OutboxItem, state: str, error: str | None) -> None:
    """Mirror an alert's fate on its page or clock, for `tickets show`."""
    if row.ticket_id is None or not row.alias:
        return  # mailroom's own health alerts keep their state elsewhere
    page = (Page.alias == row.alias) & (Page.ticket == row.ticket_id)
    mine = (Clock.ticket == row.ticket_id) & (Clock.alert_alias == row.alias)
    if row.action == "open":
        Page.update(state=state, last_error=error).where(page).execute()
        # Successive clocks of one metric share the alias: the open belongs to the oldest not yet raised.
        clock = Clock.select(Clock.id).where(mine & (Clock.alert_state == "none")).order_by(Clock.id).first()
        if clock is not None:
            Clock.update(alert_state=state, alert_error=error).where(Clock.id == clock.id).execute()
    elif state == "closed":
        Page.update(state="closed", last_error=None).where(page & (Page.state == "open")).execute()
        Clock.update(alert_state="closed", alert_error=None).where(mine & (Clock.alert_state == "open")).execute()
    else:  # a refused close leaves the alert open at the backend: say so, keep its state
        error = f"close failed: {error}"
        Page.update(last_error=error).where(page & (Page.state == "open")).execute()
        Clock.update(alert_error=error).where(mine & (Clock.alert_state == "open")).execute()


def heartbeat(ctx: Context, escalator: Escalator) -> Outcome | None:
    """Ping the named heartbeat (`[opsgenie] heartbeat`); None when none is named."""
    name = getattr(getattr(ctx.settings, "opsgenie", None), "heartbeat", "") or ""
    if not name:
        return None
    try:
        outcome = escalator.ping(name)
    except Exception as exc:  # the next cycle pings again
        outcome = Outcome("retry", None, f"{type(exc).__name__}: {exc}")
    if outcome.state != "sent":
        log.warning("action=heartbeat-failed name=%s error=%s", name, outcome.error)
    return outcome
