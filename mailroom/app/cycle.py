"""The periodic SLA check: breaches, warnings and solved tickets to close, in batches."""

from __future__ import annotations

from functools import partial
from typing import Any

import peewee as pw

from mailroom.app import alerting, outbound
from mailroom.app import tickets as lifecycle
from mailroom.app.clocks import BATCH, CLOSE_SOLVED_AFTER, escalation_configured
from mailroom.app.context import Context
from mailroom.config.units import iso
from mailroom.sla import deadlines as sla
from mailroom.store import prepared
from mailroom.store import queries as store
from mailroom.store.models import Clock, Event, OutboxItem, Ticket
from mailroom.store.prepared import Bind, Prepared


def check_sla_once(ctx: Context) -> dict[str, int]:
    """Breaches, warnings and solved tickets to close; cheap whatever the number of tickets."""
    report = {"breached": 0, "alerts": 0, "notices": 0, "warned": 0, "closed": 0}
    _breaches(ctx, report)
    _warnings(ctx, report)
    _auto_close(ctx, report)
    return report


def _locking(query: pw.ModelSelect) -> dict[bool, Prepared]:
    """The query prepared for SQLite (False) and for PostgreSQL (True), where it locks the rows it takes."""
    # Several PostgreSQL workers each take the rows no other holds; SQLite has one writer anyway.
    return {False: Prepared(query), True: Prepared(query.for_update("FOR UPDATE SKIP LOCKED"))}


def _taken(queries: dict[bool, Prepared], **values: Any) -> list[Any]:
    """The rows of a `_locking` query on the bound database."""
    return list(queries[store.is_postgres()].rows(**values))


def _tickets(ids: set[int]) -> dict[int, Ticket]:
    return {t.id: t for t in Ticket.select().where(Ticket.id.in_(prepared.id_list(ids)))} if ids else {}


# What a breach needs of a clock and its ticket, read as plain rows: a cycle of a hundred
# breaches spent most of its time making models and building its statements.
_DUE = _locking(
    Clock.select(Clock.id, Clock.ticket.alias("ticket_id"), Clock.metric, Clock.due_at, Clock.escalate)
    .where((Clock.state == "running") & (Clock.due_at <= Bind("now")))
    .order_by(Clock.due_at)
    .limit(BATCH)
    .namedtuples()
)
_WARN = _locking(
    Clock.select()
    .where((Clock.state == "running") & (Clock.warn_at <= Bind("now")) & Clock.warned_at.is_null())
    .order_by(Clock.warn_at)
    .limit(BATCH)
)
_STALE = _locking(
    Ticket.select().where((Ticket.status == "solved") & (Ticket.solved_at <= Bind("before"))).order_by(Ticket.solved_at).limit(BATCH)
)
_TICKET_FIELDS = (Ticket.id, Ticket.subject, Ticket.priority, Ticket.team, Ticket.tags, Ticket.requester)


def _breach_update(escalating: bool, ids: pw.SQL) -> pw.Query:
    """The UPDATE that marks the clocks `ids` breached (and names the alerts of those that escalate)."""
    # Built once per dialect and `escalating` (store/prepared.with_ids keeps its SQL), not every check.
    changes: dict[Any, Any] = {Clock.state: "breached", Clock.breached_at: Clock.due_at}
    if escalating:
        # The alias is the alert's: set here, in the same statement, for the clocks that escalate.
        alias = pw.Value(sla.ALIAS_PREFIX).concat(Clock.ticket).concat("-").concat(Clock.metric)
        changes[Clock.alert_alias] = pw.Case(None, [(Clock.escalate == True, alias)], None)  # noqa: E712
    return Clock.update(changes).where(Clock.id.in_(ids))


def _breaches(ctx: Context, report: dict[str, int]) -> None:
    now = ctx.now
    due = _taken(_DUE, now=now)
    if not due:
        return
    escalating = escalation_configured(ctx.settings)
    prepared.with_ids(Clock, ("breach", escalating), partial(_breach_update, escalating), [c.id for c in due])
    ids = list({c.ticket_id for c in due})
    tickets = {t.id: t for t in Ticket.select(*_TICKET_FIELDS).where(Ticket.id.in_(prepared.id_list(ids))).namedtuples()}
    events: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    for clock in due:
        ticket = tickets[clock.ticket_id]
        events.append({"ticket": ticket.id, "at": now, "actor": "sla", "action": "breached",
                       "detail": f"{clock.metric.replace('_', ' ')} was due {iso(clock.due_at)}; not met",
                       "data": {"metric": clock.metric, "due": iso(clock.due_at), "detected_at": iso(now)}})
        if not clock.escalate:
            continue
        if not escalating:
            outbound.breach_notice(ctx, Ticket.get_by_id(ticket.id), Clock.get_by_id(clock.id))
            report["notices"] += 1
            continue
        body = alerting.breach_payload(ctx, ticket, clock)
        alerts.append({"kind": "alert", "ticket": ticket.id, "recipients": [], "action": "open",
                       "alias": body["alias"], "payload": body, "state": "queued", "attempts": 0,
                       "next_attempt_at": now, "created_at": now})
    prepared.insert_rows(Event, events)
    prepared.insert_rows(OutboxItem, alerts)
    report["breached"] += len(due)
    report["alerts"] += len(alerts)


def _warnings(ctx: Context, report: dict[str, int]) -> None:
    now = ctx.now
    soon = _taken(_WARN, now=now)
    if not soon:
        return
    Clock.update(warned_at=now).where(Clock.id.in_(prepared.id_list(c.id for c in soon))).execute()
    tickets = _tickets({c.ticket_id for c in soon})
    for clock in soon:
        clock.warned_at = now
        ticket = tickets[clock.ticket_id]
        store.record_event(ticket.id, now, "sla", "warning",
                           f"{clock.metric.replace('_', ' ')} due {iso(clock.due_at)}")
        outbound.sla_warning(ctx, ticket, clock)
    report["warned"] += len(soon)


def _auto_close(ctx: Context, report: dict[str, int]) -> None:
    after = getattr(getattr(ctx.settings, "limits", None), "close_solved_after", CLOSE_SOLVED_AFTER)
    for ticket in _taken(_STALE, before=ctx.now - after):
        lifecycle.set_status(ctx, ticket, "closed", "mailroom")
        report["closed"] += 1
