"""The values every template gets from a ticket, its messages and the rules in force."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mailroom.compose.wording import ISO
from mailroom.store.files import original_path

NOTIFY_TEXT = 100_000  # characters of a mail's text a team notification carries

if TYPE_CHECKING:
    from mailroom.app.context import Context
    from mailroom.mail.message import Inbound
    from mailroom.store.models import Message, Ticket


def values(ctx: Context, ticket: Ticket, **extra: Any) -> dict[str, Any]:
    """`support` and `ticket`, and the template's own values."""
    return {"support": support_values(ctx), "ticket": ticket_values(ctx, ticket), **extra}


def support_values(ctx: Context) -> dict[str, str]:
    """`support`: the name and address mail goes out under."""
    return {"name": ctx.settings.support.name, "address": ctx.settings.support.address}


def ticket_values(ctx: Context, ticket: Ticket) -> dict[str, Any]:
    """`ticket`: the ticket as a template shows it."""
    return {
        "id": ticket.id,
        "tag": ctx.settings.support.ticket_tag.format(id=ticket.id),
        "subject": ticket.subject or "",
        "status": ticket.status,
        "priority": ticket.priority,
        "team": ticket.team,
        "requester": ticket.requester,
        "requester_name": ticket.requester_name or "",
        "assignee": ticket.assignee,
        "created_at": ticket.created_at.strftime(ISO) if ticket.created_at else "",
    }


def message_values(ctx: Context, row: Message | None, message: Inbound | None) -> dict[str, Any] | None:
    """The mail a notification quotes (an excerpt of a long one): from the parsed message, else its row."""
    shown: dict[str, Any]
    if message is not None:
        shown = {"from_addr": message.from_addr, "from_name": message.from_name, "subject": message.subject,
                 "date": message.arrived_at.strftime(ISO), "text": message.text, "to": list(message.to),
                 "cc": list(message.cc)}
    elif row is not None:
        shown = {"from_addr": row.from_addr, "from_name": row.from_name, "subject": row.subject,
                 "date": row.received_at.strftime(ISO), "text": row.text, "to": list(row.recipients or []), "cc": []}
    else:
        return None
    # The team is told of a mail, not sent all of it: many relays refuse a mail of tens of MB.
    text = str(shown["text"])
    original = original_path(ctx.settings.support.data_dir, row.content_key) if row is not None else None
    kept = original is not None and original.is_file()
    shown["cut"] = len(text) > NOTIFY_TEXT or kept
    shown["text"] = text[:NOTIFY_TEXT].rsplit("\n", 1)[0] if len(text) > NOTIFY_TEXT else text
    shown["original"] = str(original) if kept else ""
    return shown


def ticket_calendar(ctx: Context, ticket: Ticket) -> Any:
    """The business calendar of the ticket's SLA policy, as the rules now define it."""
    try:
        return ctx.rules.calendar_for(ticket.decision.policy(ctx.rules, ticket.priority))
    except (AttributeError, KeyError, TypeError, ValueError):
        return None  # times are then shown in UTC
