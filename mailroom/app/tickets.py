"""The ticket lifecycle: opening, follow-ups, status changes (inside the caller's transaction)."""

from __future__ import annotations

from dataclasses import replace

from mailroom.app import clocks, outbound, surveys
from mailroom.app.context import Context
from mailroom.mail.addresses import our_address
from mailroom.mail.message import Inbound
from mailroom.mail.spam import SUSPECTED_SPAM
from mailroom.mail.threader import Threading
from mailroom.rules.engine import Decision, decide
from mailroom.rules.routing import Routing
from mailroom.store import queries as store
from mailroom.store.models import Message, Ticket

STATUSES = ("new", "open", "pending", "solved", "closed")


def open_ticket(
    ctx: Context,
    row: Message,
    message: Inbound,
    machine: str | None,
    threading: Threading,
    *,
    imported: bool = False,
    requester: str | None = None,
    opened_by: str | None = None,
) -> Ticket | None:
    """Open a ticket for a message that joins none; None when a rule says to ignore it."""
    if ctx.language_of is not None and message.language is None and not opened_by:
        # The customer's first mail tells their language: rules may match it, templates follow it.
        message = replace(message, language=ctx.language_of(f"{message.subject}\n{message.new_text}"))
    decision = decide(ctx.rules, message)
    if decision.ignore and not opened_by:
        row.ignored = True
        row.machine_reason = row.machine_reason or "ignored by rule: " + ", ".join(h.name for h in decision.matched)
        row.save()
        return None
    who = requester or message.from_addr
    ticket = Ticket.create(
        subject=message.subject,
        status="closed" if imported else "new",
        priority=decision.priority,
        team=decision.team,
        tags=list(decision.tags),
        requester=who,
        requester_name="" if requester else message.from_name,
        reply_to=None if requester else message.reply_to,
        assignee=decision.assign,
        source="import" if imported else ("agent" if opened_by else "mail"),
        decision=Routing.of(decision),
        created_at=message.arrived_at,
        updated_at=ctx.now,
        closed_at=ctx.now if imported else None,
        language=decision.language or message.language,
        address=written_to(ctx, message),
        mailbox=message.mailbox or None,
    )
    row.ticket = ticket
    row.kind = "agent" if opened_by else "customer"
    row.save()
    store.add_participants(ticket.id, [who, *(message.cc if not opened_by else ())])
    if opened_by:
        store.add_participants(ticket.id, [opened_by], role="agent")
    detail = _record_opening(ctx, ticket, message, threading, decision)
    if imported:
        return ticket
    clocks.ticket_opened(ctx, ticket, message.arrived_at)
    if not opened_by:
        outbound.acknowledge(ctx, ticket, row, message, machine)
        outbound.notify_team(ctx, ticket, row, message, "new ticket")
    if decision.page:
        clocks.page(ctx, ticket, ticket.team, "page", "paged by rule: " + detail)
    return ticket


def written_to(ctx: Context, message: Inbound) -> str:
    """The address of ours the customer wrote to (its mail goes out From there); else its mailbox's first address."""
    ours = ctx.our_addresses
    found = next((a for a in (our_address(r, ours) for r in message.delivered_to()) if a), None)
    return found or ctx.settings.first_address_of(message.mailbox)


def suspect_spam(ctx: Context, ticket: Ticket, reason: str) -> None:
    """Tag a ticket opened by suspected spam or a forged sender: it gets no automatic mail, ever."""
    # The tag is what the team sees in its lists and what keeps the survey away later.
    if SUSPECTED_SPAM not in ticket.tags:
        ticket.tags = [*ticket.tags, SUSPECTED_SPAM]
        ticket.save()
    store.record_event(ticket.id, ctx.now, "mailroom", "suspected spam", f"no automatic mail: {reason}")


def _record_opening(ctx: Context, ticket: Ticket, message: Inbound, threading: Threading, decision: Decision) -> str:
    """The new ticket's first events: why it opened, what it mentions, how the rules routed it."""
    store.record_event(ticket.id, ctx.now, "mail", "opened", threading.reason)
    if threading.mentions:
        store.record_event(
            ticket.id, ctx.now, message.from_addr, "mentions", f"mentions ticket {threading.mentions}"
        )
    detail = "; ".join(hit.name for hit in decision.matched) or "defaults"
    store.record_event(
        ticket.id, ctx.now, "rules", "routed", detail,
        {"matched": [{"name": h.name, "why": list(h.reasons)} for h in decision.matched]},
    )
    return detail


def open_linked(ctx: Context, row: Message, message: Inbound, closed: Ticket, machine: str | None) -> Ticket:
    """A reply to a closed ticket opens a new ticket linked to it."""
    link = Threading(None, f"reply to closed ticket {closed.id}")
    ticket = open_ticket(ctx, row, message, machine, link)
    if ticket is None:  # a rule ignores it; keep it with the old ticket's history instead
        row.ticket = closed
        row.save()
        return closed
    ticket.linked_ticket = closed.id
    ticket.save()
    store.record_event(closed.id, ctx.now, message.from_addr, "follow-up", f"reply opened ticket {ticket.id}")
    return ticket


def customer_followup(ctx: Context, ticket: Ticket, row: Message, message: Inbound, machine: str | None) -> None:
    """A customer's later message: stored, reopens a waiting ticket, starts next_response, tells the team."""
    row.ticket = ticket
    row.kind = "customer"
    row.save()
    store.add_participants(ticket.id, [message.from_addr])
    ticket.updated_at = ctx.now
    if machine:
        # Machine mail (out-of-office, bounces) never changes a status or a clock.
        ticket.save()
        store.record_event(ticket.id, ctx.now, message.from_addr, "machine mail", machine)
        return
    reopened = ticket.status in ("pending", "solved")
    if reopened:
        set_status(ctx, ticket, "open", message.from_addr)
    ticket.save()
    clocks.customer_message(ctx, ticket, message.arrived_at)
    why = "reopened by the customer" if reopened else "customer replied"
    outbound.forward(ctx, ticket, row, message, why)


def set_status(ctx: Context, ticket: Ticket, status: str, actor: str) -> None:
    """Change the status, with its timestamps, clocks and audit entry."""
    old = ticket.status
    if old == status:
        return
    ticket.status = status
    ticket.updated_at = ctx.now
    if status == "solved":
        ticket.solved_at = ctx.now
    if status == "closed":
        ticket.closed_at = ctx.now
    if status in ("open", "pending", "new"):
        ticket.solved_at = None
        ticket.closed_at = None
    ticket.save()
    store.record_event(ticket.id, ctx.now, actor, "status", f"{old} → {status}")
    clocks.status_changed(ctx, ticket, old, status, ctx.now)
    surveys.status_changed(ctx, ticket, old, status)
