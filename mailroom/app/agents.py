"""Engineers by mail: who is an agent, their replies relayed, their `#` commands applied."""

from __future__ import annotations

from dataclasses import dataclass, replace

from mailroom.app import clocks, merging, outbound, tickets
from mailroom.app.context import Context
from mailroom.mail import msgid
from mailroom.mail.authresults import agent_mail_verdict
from mailroom.mail.commands import CommandBlock, parse_commands
from mailroom.mail.loops import automatic_mail_reason, is_out_of_office
from mailroom.mail.message import Inbound
from mailroom.mail.threader import Threading
from mailroom.store import queries as store
from mailroom.store.models import Message, Participant, Ticket

# What mailroom writes to the engineers only: notifications, forwards, SLA mail and command errors.
# No mail to a customer carries their Message-IDs, so answering one proves the sender read it.
AGENT_SIDE_KINDS = ("notification", "system", "refusal")


@dataclass(frozen=True)
class Sender:
    """Who wrote a mail, as far as it can be proven: an agent's address, and whether it is theirs."""

    agent_address: bool  # From is an agent's address (which anyone can write)
    proven_for: frozenset[int] | None = None  # tickets it answers agent-side mail of; None: proven for all
    refused: str | None = None  # why an agent address was not taken as the engineer's

    def is_agent(self, ticket_id: int | None) -> bool:
        """True when the mail counts as the engineer's on `ticket_id` (None: a new mail to support)."""
        if not self.agent_address or self.refused:
            return False
        if self.proven_for is None:
            return True
        return ticket_id is not None and ticket_id in self.proven_for

    def why_not(self, ticket_id: int | None) -> str | None:
        """Why an agent address does not count as the engineer's here; None when it does or is no agent's."""
        if not self.agent_address or self.is_agent(ticket_id):
            return None
        if self.refused:
            return self.refused
        if ticket_id is None:
            return "a new mail from an agent address proves nothing without trusted_authserv_id: treated as a customer's"
        return ("from an agent address, but it does not answer mailroom's mail to the engineers about this "
                "ticket: treated as a customer's")


def identify(ctx: Context, message: Inbound) -> Sender:
    """Whether the mail is an engineer's: authenticated by the trusted server, or a reply to agent-side mail."""
    if not ctx.is_agent_address(message.from_addr):
        return Sender(False)
    trusted = ctx.settings.support.trusted_authserv_id
    if trusted:
        ok, reason = agent_mail_verdict(message, trusted)
        if ok:
            return Sender(True)
        return Sender(True, refused=f"from an agent address but not authenticated ({reason}): treated as a customer's")
    answered = [message.in_reply_to or "", *message.references]
    ours = [i for i in answered if msgid.verify(i, ctx.secret) is not None]
    return Sender(True, frozenset(store.tickets_answered_on_agent_side(ours, AGENT_SIDE_KINDS)))


NO_NEW_TEXT = (
    "your reply held no new text that mailroom could find (only quoted history), so nothing was sent to "
    "the customer; write your answer above the quoted text, or start the mail with #note for an internal note"
)


def refused_agent_mail(ctx: Context, ticket: Ticket | None, row: Message, message: Inbound, why: str) -> None:
    """Mail in an engineer's name that was not accepted as theirs: recorded, and the engineer told."""
    if ticket is not None:
        store.record_event(ticket.id, ctx.now, message.from_addr, "agent mail refused", why)
    outbound.refused_agent_notice(ctx, ticket, row, message, why)


def agent_mail(ctx: Context, ticket: Ticket, row: Message, message: Inbound) -> None:
    """An engineer's mail that joined a ticket: a note, commands, and/or a reply to relay."""
    row.ticket = ticket
    store.add_participants(ticket.id, [message.from_addr], role="agent")
    if is_out_of_office(message) or automatic_mail_reason(message, ctx.our_addresses, ctx.settings.support.lists):
        row.kind = "note"
        row.save()
        store.record_event(ticket.id, ctx.now, message.from_addr, "automatic reply", "stored as a note")
        return
    block = _checked(ctx, parse_commands(message.new_text, ctx.rules.teams.keys()), ticket)
    if block.error:
        _refuse(ctx, ticket, row, message, block)
        return
    body = block.body.strip()
    if not body and not block.has_commands:
        # Nothing new found: never a silent note. The engineer hears that nothing reached the customer.
        row.kind = "note"
        row.save()
        store.record_event(ticket.id, ctx.now, message.from_addr, "empty reply", "no new text: nothing relayed")
        outbound.agent_error(ctx, ticket, row, message, NO_NEW_TEXT)
        return
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


def command_block(ctx: Context, text: str) -> CommandBlock:
    """The `#` command lines at the top of an engineer's text, checked as for a reply."""
    return _checked(ctx, parse_commands(text, ctx.rules.teams.keys()), None)


def _checked(ctx: Context, block: CommandBlock, ticket: Ticket | None) -> CommandBlock:
    """The block, refused whole when `#assign` names anyone but an agent (their mail would follow)
    or `#merge` names a ticket this one cannot be merged into."""
    if block.error:
        return block
    for command in block.commands:
        if command.name == "assign" and not ctx.is_agent_address(command.argument or ""):
            error = f"#assign {command.argument}: not an agent's address (the rules' agents or a team's members)"
            return replace(block, error=error)
        if command.name == "merge":
            target_id = int(command.argument or 0)
            why = "#merge needs a ticket to merge" if ticket is None else merging.refusal(
                ticket, Ticket.get_or_none(Ticket.id == target_id), target_id)
            if why:
                return replace(block, error=f"#merge {target_id}: {why}")
    return block


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
        if ctx.meter is not None:
            ctx.meter.first_response((message.arrived_at - ticket.created_at).total_seconds())
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
    # Last, so that every other command of the block applied to this ticket before it closes.
    into = next((int(c.argument or 0) for c in block.commands if c.name == "merge"), None)
    if into is not None:
        merging.merge(ctx, ticket, Ticket.get_by_id(into), actor)


def agent_opens(
    ctx: Context, row: Message, message: Inbound, *, proven: bool, refused: str | None
) -> tuple[bool, Ticket | None]:
    """An engineer's new mail with `#requester ADDRESS`: a ticket for that customer, text relayed.

    Returns (handled, ticket); not handled means the mail opens an ordinary ticket. A mail that is
    not proven the engineer's may open no ticket for anyone else: its `#requester` is refused.
    """
    block = _checked(ctx, parse_commands(message.new_text, ctx.rules.teams.keys()), None)
    requester = next((c.argument for c in block.commands if c.name == "requester"), None)
    if not proven:
        if not requester:
            return False, None
        why = "#requester needs a mail the trusted server authenticated (trusted_authserv_id); no ticket was opened"
        row.kind = "note"
        row.save()
        outbound.refused_agent_notice(ctx, None, row, message, f"{why}: {refused}" if refused else why)
        return True, None
    if block.error:
        _refuse(ctx, None, row, message, block)
        return True, None
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
