"""Tickets as the CLI shows them: the JSON of CONTRACT section 4, and plain text."""

from __future__ import annotations

from typing import Any

from mailroom.app import clocks
from mailroom.config.units import iso
from mailroom.store.models import Attachment, Event, Message, OutboxItem, Ticket
from mailroom.store.search import Found, last_answer


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    """One ticket with its SLA clocks, messages and events."""
    messages = list(Message.select().where(Message.ticket == ticket.id).order_by(Message.received_at, Message.id))
    files: dict[int, list[dict[str, Any]]] = {}
    if messages:
        for part in Attachment.select().where(Attachment.message.in_([m.id for m in messages])):
            files.setdefault(part.message_id, []).append(
                {"filename": part.filename, "content_type": part.content_type, "size": part.size, "stored": part.sha256 is not None}
            )
    deliveries = {
        item.message_id: item
        for item in OutboxItem.select().where((OutboxItem.ticket == ticket.id) & (OutboxItem.kind == "mail"))
    }
    return {
        **_summary(ticket),
        "first_response_at": iso(ticket.first_response_at),
        "solved_at": iso(ticket.solved_at),
        "closed_at": iso(ticket.closed_at),
        "linked_ticket": ticket.linked_ticket,
        "merged_into": ticket.merged_into,
        "language": ticket.language,
        "sla": clocks.clock_view(ticket),
        "messages": [_message_json(m, files.get(m.id, []), deliveries.get(m.id)) for m in messages],
        "events": [
            {"at": iso(e.at), "actor": e.actor, "action": e.action, "detail": e.detail}
            for e in Event.select().where(Event.ticket == ticket.id).order_by(Event.at, Event.id)
        ],
        **_came_in(ticket),
    }


def _message_json(m: Message, files: list[dict[str, Any]], delivery: OutboxItem | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "message_id": m.message_id,
        "direction": m.direction,
        "kind": m.kind,
        "from": m.from_addr,
        "to": list(m.recipients or []),
        "date": iso(m.received_at),
        "subject": m.subject,
        "text": m.new_text if m.direction == "inbound" and m.kind in ("agent", "note") else m.text,
        "attachments": files,
    }
    if m.machine_reason:
        out["machine_reason"] = m.machine_reason
    if delivery is not None:
        out["delivery"] = {"state": delivery.state, "attempts": delivery.attempts, "last_error": delivery.last_error}
    return out


# The columns of a `tickets list` line, in ticket_line's order.
LINE_FIELDS = (Ticket.id, Ticket.status, Ticket.priority, Ticket.team, Ticket.created_at, Ticket.requester,
               Ticket.subject)


def ticket_line(
    ticket_id: int, status: str, priority: str, team: str, created_at: Any, requester: str, subject: str
) -> str:
    """One line of `tickets list`."""
    created = iso(created_at) or ""
    return f"#{ticket_id:<6} {status:<8} {priority}  {team:<12} {created}  {requester:<30} {subject[:60]}"


def _summary(ticket: Ticket) -> dict[str, Any]:
    """What every view of a ticket names first."""
    return {
        "id": ticket.id, "subject": ticket.subject, "status": ticket.status, "priority": ticket.priority,
        "team": ticket.team, "tags": list(ticket.tags or []), "requester": ticket.requester,
        "assignee": ticket.assignee, "created_at": iso(ticket.created_at),
    }


def _came_in(ticket: Ticket) -> dict[str, Any]:
    """Where the customer wrote: the mailbox (its name in mailroom.toml) and the address of ours; after the contract's keys."""
    return {"mailbox": ticket.mailbox, "address": ticket.address}


def found_json(ticket: Ticket, hit: Found) -> dict[str, Any]:
    """One ticket found by `tickets search`: what it is, how well it matched, how it was answered."""
    return {
        **_summary(ticket),
        "score": round(hit.score, 4),
        "matching_messages": hit.mails,
        "last_answer": last_answer(ticket.id)[:500],
        **_came_in(ticket),
    }


def found_line(ticket: Ticket, hit: Found) -> str:
    """One line of `tickets search`."""
    line = ticket_line(*(getattr(ticket, field.name) for field in LINE_FIELDS))
    return f"{line}  ({hit.mails} matching)"


def ticket_text(data: dict[str, Any]) -> str:
    """`tickets show` as plain text."""
    lines = [
        f"Ticket #{data['id']}: {data['subject']}",
        f"  status {data['status']}, priority {data['priority']}, team {data['team']}, tags {', '.join(data['tags']) or '-'}",
        f"  requester {data['requester']}, assignee {data['assignee'] or '-'}",
        f"  came in on mailbox {data['mailbox'] or '-'}, written to {data['address'] or '-'}",
        f"  created {data['created_at']}, first response {data['first_response_at'] or '-'}",
    ]
    for c in data["sla"]["clocks"]:
        alert = c["alert"]
        lines.append(
            f"  SLA {c['metric']}: {c['state']}, due {c['due'] or '-'}"
            + (f", alert {alert['alias']} {alert['state']}" if alert["state"] != "none" else "")
            + (f" ({alert['last_error']})" if alert.get("last_error") else "")
        )
    lines.append("Messages:")
    for m in data["messages"]:
        lines.append(f"  {m['date']} {m['direction']:<8} {m['kind']:<12} {m['from']}")
        if m.get("delivery") and m["delivery"]["state"] != "sent":
            lines.append(f"      delivery {m['delivery']['state']}: {m['delivery']['last_error'] or ''}")
        for text_line in (m["text"] or "").strip().splitlines()[:6]:
            lines.append(f"      {text_line}")
    lines.append("Events:")
    for e in data["events"]:
        lines.append(f"  {e['at']} {e['actor']}: {e['action']} {e['detail']}")
    return "\n".join(lines)
