"""A customer's mail that an engineer forwards to support: a ticket for the customer, the engineer's words a note."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from mailroom.app import agents, outbound, tickets
from mailroom.app.context import Context
from mailroom.mail.addresses import is_support
from mailroom.mail.commands import CommandBlock
from mailroom.mail.forward import Forward, find
from mailroom.mail.loops import automatic_mail_reason
from mailroom.mail.message import Inbound
from mailroom.mail.threader import Threading
from mailroom.store import queries as store
from mailroom.store.models import Message, Ticket

NEEDS_PROOF = (
    "a forwarded customer's mail opens a ticket only from a mail the trusted server authenticated "
    "(trusted_authserv_id), as #requester does; no ticket was opened for"
)


def forwarded(
    ctx: Context,
    row: Message,
    message: Inbound,
    *,
    proven: bool,
    refused: str | None,
    keep: Callable[[Inbound], Message],
) -> tuple[bool, Ticket | None]:
    """An agent address's new mail that forwards a customer's: (handled, ticket); not handled goes on as before.

    `keep` stores the customer's mail as a message row (with its attachments' bytes).
    """
    found = find(message)
    if found is None:
        return False, None
    block = agents.command_block(ctx, found.note)
    if any(c.name == "requester" for c in block.commands):
        return False, None  # the engineer named the customer: #requester decides
    if found.original is None:
        if proven:
            # Handled as any new mail from the engineer; they hear why no ticket is the customer's.
            outbound.agent_error(ctx, None, row, message, _unfound(found))
        return False, None
    original = found.original
    if not proven:
        why = f"{NEEDS_PROOF} {original.from_addr}"
        row.kind = "note"
        row.save()
        outbound.refused_agent_notice(ctx, None, row, message, f"{why}: {refused}" if refused else why)
        return True, None
    own = _own_address(ctx, original.from_addr)
    if own or block.error:
        row.kind = "note"
        row.save()
        outbound.agent_error(ctx, None, row, message, block.error or f"{own}: no ticket was opened")
        return True, None
    known = store.tickets_of_message_ids([original.message_id]).get(original.message_id)
    if known is not None:
        ticket = Ticket.get_by_id(known)
        _note(ctx, ticket, row, message, block, "forwarded again", "already a ticket: the words are a note")
        return True, ticket
    first = keep(original)
    # The customer's mail reads before the forward that carried it; its clocks start on arrival.
    first.received_at = message.arrived_at - timedelta(microseconds=1)
    first.save()
    machine = automatic_mail_reason(original, ctx.support_address, ctx.settings.support.lists)
    ticket = tickets.open_ticket(ctx, first, original, machine, Threading(None, f"forwarded by {message.from_addr}"))
    if ticket is None:
        row.kind = "note"
        row.save()
        outbound.agent_error(ctx, None, row, message, "a rule says to ignore the forwarded mail: no ticket was opened")
        return True, None
    _note(ctx, ticket, row, message, block, "forwarded", f"a mail from {original.from_addr} ({found.how})")
    return True, ticket


def _unfound(found: Forward) -> str:
    return (f"this looks like a forwarded mail ({found.how}), but {found.problem}, so no ticket was opened for "
            "the original sender; it was handled as your own new mail. Attach the customer's mail, or forward "
            "it with its From line")


def _own_address(ctx: Context, address: str) -> str | None:
    """Why the forwarded mail's sender may not be a ticket's customer, or None."""
    if is_support(address, ctx.support_address):
        return f"the forwarded mail is from {address}, the support address"
    if ctx.is_agent_address(address):
        return f"the forwarded mail is from {address}, an agent"
    return None


def _note(
    ctx: Context, ticket: Ticket, row: Message, message: Inbound, block: CommandBlock, action: str, detail: str
) -> None:
    """The forward on the ticket: the engineer's words an internal note (none when empty), commands applied."""
    row.ticket = ticket
    row.new_text = block.body.strip()
    row.kind = "note" if row.new_text else "forward"  # the mail is kept on the ticket either way
    row.save()
    store.add_participants(ticket.id, [message.from_addr], role="agent")
    store.record_event(ticket.id, ctx.now, message.from_addr, action, detail)
    if row.new_text:
        store.record_event(ticket.id, ctx.now, message.from_addr, "note", "internal note")
    agents.apply_commands(ctx, ticket, block, message.from_addr)
