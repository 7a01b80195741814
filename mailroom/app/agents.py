"""Engineers by mail: who is an agent, their replies relayed, their `#` commands applied."""

from __future__ import annotations

from mailroom.app import clocks, outbound, tickets
from mailroom.app.context import Context
from mailroom.mail.authresults import agent_mail_verdict
from mailroom.mail.commands import CommandBlock, parse_commands
from mailroom.mail.loops import automatic_mail_reason, is_out_of_office
from mailroom.mail.message import Inbound
from mailroom.mail.threader import Threading
from mailroom.store import queries as store
from mailroom.store.models import Message, Participant, Ticket


def sender_is_agent(ctx: Context, message: Inbound) -> tuple[bool, str | None]:
    """Whether the mail is an engineer's, and when an agent address is refused, why."""
    if not ctx.is_agent_address(message.from_addr):
        return False, None
    trusted = ctx.settings.support.trusted_authserv_id
    if not trusted:
        return True, None
    ok, reason = agent_mail_verdict(message, trusted)
    if ok:
        return True, None
    return False, f"from an agent address but not authenticated ({reason}): treated as a customer's"


def agent_mail(ctx: Context, ticket: Ticket, row: Message, message: Inbound) -> None:
    """An engineer's mail that joined a ticket: a note, commands, and/or a reply to relay."""
    row.ticket = ticket
    store.add_participants(ticket.id, [message.from_addr], role="agent")
    if is_out_of_office(message) or automatic_mail_reason(message, ctx.support_address, ctx.settings.support.lists):
        row.kind = "note"
        row.save()
        store.record_event(ticket.id, ctx.now, message.from_addr, "automatic reply", "stored as a note")
        return
    block = parse_commands(message.new_text, ctx.rules.teams.keys())
    if block.error:
        _refuse(ctx, ticket, row, message, block)
        return
    body = block.body.strip()
    row.kind = "note" if block.is_note or not body else "agent"
    row.new_text = block.body
    row.save()
    if row.kind == "agent":
        # The reply counts before the commands apply: "#status solved" above an answer
        # must meet the first response, not stop its clock unanswered.
        _respond(ctx, ticket, row, message, block)
    elif block.is_note:
        store.record_event(ticket.id, ctx.now, message.from_addr, "note", "internal note")
    apply_commands(ctx, ticket, block, message.from_addr)


def _respond(ctx: Context, ticket: Ticket, row: Message, message: Inbound, block: CommandBlock) -> None:
    """Relay a public reply to the customers not already copied, and count it as a response."""
    copied = set(message.to + message.cc)
    primary = ticket.reply_to or ticket.requester
    if {primary, ticket.requester} & copied:
        # The engineer answered the customer directly with support in copy.
        store.record_event(ticket.id, ctx.now, message.from_addr, "answered directly", "customer was copied; not relayed")
    else:
        others = Participant.select(Participant.address).where(
            (Participant.ticket == ticket.id) & (Participant.role == "customer")
        )
        recipients = list(dict.fromkeys([primary, *(p.address for p in others)]))
        recipients = [a for a in recipients if a not in copied and (a == primary or a != ticket.requester)]
        outbound.relay(ctx, ticket, row, message, block.body, recipients)
    counted = clocks.agent_response(ctx, ticket, message.arrived_at, block.body, holding=block.is_holding)
    if counted and ticket.first_response_at is None:
        ticket.first_response_at = message.arrived_at
    if ticket.status == "new":
        tickets.set_status(ctx, ticket, "open", message.from_addr)
    ticket.updated_at = ctx.now
    ticket.save()
    store.record_event(
        ticket.id,
        ctx.now,
        message.from_addr,
        "replied",
        "holding reply" if not counted else "response",
    )


def _refuse(ctx: Context, ticket: Ticket | None, row: Message, message: Inbound, block: CommandBlock) -> None:
    """An invalid command line: nothing applied, nothing relayed, the engineer told why."""
    row.kind = "note"
    row.save()
    if ticket is not None:
        store.record_event(ticket.id, ctx.now, message.from_addr, "commands refused", block.error or "")
    outbound.agent_error(ctx, ticket, row, message, block.error or "invalid command")


def apply_commands(ctx: Context, ticket: Ticket, block: CommandBlock, actor: str) -> None:
    """Apply a valid command block to the ticket, each recorded in its event log."""
    for command in block.commands:
        name, arg = command.name, command.argument or ""
        if name == "status":
            tickets.set_status(ctx, ticket, arg, actor)
        elif name == "priority" and ticket.priority != arg:
            old, ticket.priority = ticket.priority, arg
            ticket.save()
            store.record_event(ticket.id, ctx.now, actor, "priority", f"{old} → {arg}")
            clocks.priority_changed(ctx, ticket)
        elif name == "assign":
            ticket.assignee = arg
            ticket.save()
            store.record_event(ticket.id, ctx.now, actor, "assigned", arg)
            if ticket.status == "new":
                tickets.set_status(ctx, ticket, "open", actor)
            outbound.forward(ctx, ticket, None, None, f"assigned to {arg}")
        elif name == "team" and ticket.team != arg:
            old, ticket.team = ticket.team, arg
            ticket.save()
            store.record_event(ticket.id, ctx.now, actor, "team", f"{old} → {arg}")
        elif name == "tag" and arg not in ticket.tags:
            ticket.tags = [*ticket.tags, arg]
            ticket.save()
            store.record_event(ticket.id, ctx.now, actor, "tagged", arg)
        elif name == "page":
            team, _, text = (arg or "").partition(" ")
            clocks.page(ctx, ticket, team, f"page-{team}", command.text or text or f"paged by {actor}")
            store.record_event(ticket.id, ctx.now, actor, "paged", team)


def agent_opens(ctx: Context, row: Message, message: Inbound) -> tuple[bool, Ticket | None]:
    """An engineer's new mail with `#requester ADDRESS`: a ticket for that customer, text relayed.

    Returns (handled, ticket); not handled means the mail opens an ordinary ticket.
    """
    block = parse_commands(message.new_text, ctx.rules.teams.keys())
    if block.error:
        _refuse(ctx, None, row, message, block)
        return True, None
    requester = next((c.argument for c in block.commands if c.name == "requester"), None)
    if not requester:
        return False, None
    ticket = tickets.open_ticket(
        ctx, row, message, None, Threading(None, "opened by an engineer"), requester=requester, opened_by=message.from_addr
    )
    assert ticket is not None
    store.record_event(ticket.id, ctx.now, message.from_addr, "opened for", requester)
    row.new_text = block.body
    row.save()
    if block.body.strip() and not block.is_note:
        _respond(ctx, ticket, row, message, block)
    apply_commands(ctx, ticket, block, message.from_addr)
    return True, ticket
