"""Which SLA promises are broken right now: the one definition `status` and the report share."""

from __future__ import annotations

from datetime import datetime

import peewee as pw

from mailroom.store.models import Clock, Ticket

UNSOLVED = ("new", "open", "pending")


def breaching(now: datetime) -> pw.Expression:
    """SQL condition on a clock joined to its ticket: an unsolved ticket's promise past due and still unkept.

    A breach stays open until the answer (or solve) it waits for comes: a late answer closes it,
    though the clock keeps its state `breached` for the report. A running clock past its due
    time is breached already, before the SLA job comes round to mark it.
    """
    return Ticket.status.in_(UNSOLVED) & (
        ((Clock.state == "breached") & Clock.met_at.is_null())
        | ((Clock.state == "running") & Clock.due_at.is_null(False) & (Clock.due_at <= now))
    )


def open_breaches(now: datetime, team: str | None = None, mailbox: str | None = None) -> pw.Expression:
    """`breaching(now)`, narrowed to one team's tickets, or one mailbox's, when given."""
    where = breaching(now)
    if team:
        where &= Ticket.team == team
    if mailbox:
        where &= Ticket.mailbox == mailbox
    return where


def tickets_breaching(now: datetime, team: str | None = None) -> int:
    """How many unsolved tickets have at least one breach open now."""
    query = Clock.select(Clock.ticket).join(Ticket).where(open_breaches(now, team)).distinct()
    return query.count()
