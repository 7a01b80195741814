"""Outbound mail queued inside the caller's transaction: acks, notifications, relays, surveys."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

import peewee as pw
from markupsafe import Markup

from mailroom.app import values as template_values
from mailroom.app.mailing import Thread, queue_mail, recipients_of
from mailroom.compose import mails as compose
from mailroom.compose import wording
from mailroom.mail import loops
from mailroom.mail.addresses import is_support, valid_address
from mailroom.store import queries as store
from mailroom.store import search
from mailroom.store.files import attachment_path
from mailroom.store.models import Attachment, Clock, Message, Ticket
from mailroom.store.prepared import Bind, Prepared

if TYPE_CHECKING:
    from mailroom.app.context import Context
    from mailroom.mail.message import Inbound

# What the customer's mail client has seen of a ticket; internal mail stays out of References.
CUSTOMER_KINDS = ("customer", "ack", "relay", "survey", "rating", "merged")
AUTO_REPLY_KINDS = ("ack", "survey")
SIMILAR_CANDIDATES = 200  # "similar solved tickets" are sought in the mail of the newest 200 solved ones

# The queries every new ticket asks, prepared once (see prepared.py).
_AUTO_REPLIES = Prepared(
    Message.select(pw.fn.COUNT(Message.id))
    .where((Message.rcpt == Bind("address")) & Message.kind.in_(AUTO_REPLY_KINDS) & (Message.received_at > Bind("since")))
    .tuples()
)
_REFUSALS = Prepared(
    Message.select(pw.fn.COUNT(Message.id))
    .where((Message.rcpt == Bind("address")) & (Message.kind == "refusal") & (Message.received_at > Bind("since")))
    .tuples()
)
_FIRST_RESPONSE = Prepared(
    Clock.select()
    .where((Clock.ticket == Bind("ticket")) & (Clock.metric == "first_response"))
    .order_by(Clock.id.desc())
    .limit(1)
)
_NEXT_DUE = Prepared(
    Clock.select()
    .where((Clock.ticket == Bind("ticket")) & (Clock.state == "running") & Clock.due_at.is_null(False))
    .order_by(Clock.due_at)
    .limit(1)
)
_CHAIN_QUERY = (
    Message.select(Message.message_id).where(Message.ticket == Bind("ticket")).order_by(Message.received_at, Message.id).tuples()
)
_CHAIN = Prepared(_CHAIN_QUERY)
_CUSTOMER_CHAIN = Prepared(_CHAIN_QUERY.where(Message.kind.in_(CUSTOMER_KINDS)))


# --- to the customer --------------------------------------------------------------------------


def acknowledge(ctx: Context, ticket: Ticket, row: Message, message: Inbound, machine: str | None) -> None:
    """One acknowledgement for a new customer ticket, unless something says no (recorded why)."""
    to = (message.reply_to or message.from_addr or "").lower()
    reason = _ack_refusal(ctx, ticket, row, machine) or _auto_reply_refusal(ctx, message.from_addr, to)
    if reason:
        store.record_event(ticket.id, ctx.now, "mail", "no acknowledgement", reason)
        if not row.machine_reason:
            row.machine_reason = f"no acknowledgement: {reason}"
            row.save()
        return
    clock = _FIRST_RESPONSE.first(ticket=ticket.id)
    values = template_values.values(
        ctx,
        ticket,
        customer_name=ticket.requester_name or message.from_name or "",
        due=wording.due_view(clock.due_at if clock else None, template_values.ticket_calendar(ctx, ticket), ctx.now),
        links=wording.link_values(ticket.decision.links),
    )
    subject = compose.reply_subject(_tagged(ctx, ticket, ticket.subject))
    topic = message.header("Thread-Topic") or ticket.subject
    queue_mail(ctx, ticket, "ack", _ack_template(ctx, ticket), values, [to], subject, _answering(message),
           auto_submitted="auto-replied", thread_topic=topic)


def relay(ctx: Context, ticket: Ticket, row: Message, message: Inbound, text: str, recipients: list[str]) -> None:
    """An engineer's reply, threaded into the customer's conversation, From the support address."""
    engineer = message.from_name or row.from_name or message.from_addr.partition("@")[0]
    files, listed = _files(ctx, row, message)
    # The engineer's own HTML (already cleaned of history, scripts and remote content) goes as
    # the HTML alternative, with the inline images it shows; a plain-text reply stays plain.
    html = Markup(message.new_html) if message.new_html else None
    images = tuple(compose.File(i.filename, i.content_type, i.content, i.content_id)
                   for i in message.images if i.content is not None) if html else ()
    values = template_values.values(
        ctx,
        ticket,
        customer_name=ticket.requester_name or "",
        text=text,
        html=html,
        engineer={"name": engineer, "address": message.from_addr},
        attachments=listed,
    )
    subject = compose.reply_subject(_tagged(ctx, ticket, ticket.subject))
    queue_mail(ctx, ticket, "relay", "relay", values, recipients, subject, _customer_thread(ticket), files,
               sender_name=f"{engineer} via {ctx.settings.support.name}", images=images)


def survey_mail(ctx: Context, ticket: Ticket, token: str, choices: list[tuple[str, str]]) -> None:
    """The satisfaction survey: one mailto address per answer."""
    to = (ticket.reply_to or ticket.requester or "").lower()
    reason = _auto_reply_refusal(ctx, ticket.requester or "", to)
    if reason:
        store.record_event(ticket.id, ctx.now, "mail", "no survey", reason)
        return
    values = template_values.values(
        ctx,
        ticket,
        customer_name=ticket.requester_name or "",
        choices=[{"label": label, "address": a, "mailto": f"mailto:{a}"} for label, a in choices],
        token=token,
    )
    subject = _tagged(ctx, ticket, f"How did we do? {compose.thread_topic(ticket.subject)}")
    queue_mail(ctx, ticket, "survey", "survey", values, [to], subject, _customer_thread(ticket),
           auto_submitted="auto-replied")


def merge_notice(ctx: Context, target: Ticket, source: Ticket, customers: list[str]) -> None:
    """Tell each customer of a merged ticket, once, in the survivor's thread, where their request went."""
    merged = {"id": source.id, "tag": ctx.settings.support.ticket_tag.format(id=source.id), "subject": source.subject}
    subject = compose.reply_subject(_tagged(ctx, target, target.subject))
    for to in dict.fromkeys(a.lower() for a in customers if a):
        reason = _auto_reply_refusal(ctx, to, to)
        if reason:
            store.record_event(target.id, ctx.now, "mail", "no merge notice", reason)
            continue
        name = source.requester_name if to in (source.requester, source.reply_to) else ""
        values = template_values.values(ctx, target, customer_name=name or "", merged=merged)
        # One mail per customer: two tickets' customers may not know each other's addresses.
        queue_mail(ctx, target, "merged", "merged", values, [to], subject, _customer_thread(target),
                   auto_submitted="auto-generated")


def _ack_refusal(ctx: Context, ticket: Ticket, row: Message, machine: str | None) -> str | None:
    if machine:
        return machine
    if not ticket.decision.acknowledges:
        return "the rules say no acknowledgement"
    if ticket.source == "agent":
        return "ticket opened by an engineer (#requester)"
    if ticket.source == "import":
        return "imported ticket"
    return "a rating" if row.kind == "rating" else None


def _auto_reply_refusal(ctx: Context, sender: str, to: str) -> str | None:
    """Why no automatic mail may go to `to` (answering `sender`), else None."""
    ours = ctx.our_addresses
    for address in dict.fromkeys(a for a in ((sender or "").lower(), to) if a):
        if is_support(address, ours):
            return f"{address} is the support address"
        if ctx.rules.is_agent(address, ours):
            return f"{address} is an agent"
    if not valid_address(to):
        return f"no usable address to answer ({to or 'none'})"
    no_reply = loops.no_reply_reason(to, ours)
    if no_reply:
        return no_reply
    limit = int(ctx.settings.limits.auto_replies_per_sender_hour)
    if _auto_replies_last_hour(ctx, to) >= limit:
        return f"{to} is past its limit of {limit} automatic replies an hour"
    return None


def _auto_replies_last_hour(ctx: Context, address: str) -> int:
    """Acks and surveys queued to `address` in the last hour."""
    # Acknowledgements and surveys go to one address: the (rcpt, kind, received_at) index
    # answers this without scanning the hour's mail, which a burst of new tickets would make slow.
    return _AUTO_REPLIES.scalar(address=address, since=ctx.now - timedelta(hours=1))


def _ack_template(ctx: Context, ticket: Ticket) -> str:
    name = ticket.decision.ack_template
    if name != "ack" and not compose.has_template(ctx.settings.support.templates, name):
        # `rules check` refuses a missing template; one deleted since falls back to the default.
        store.record_event(ticket.id, ctx.now, "mail", "template missing", f"{name}: the default ack was used")
        return "ack"
    return name


# --- to the engineers -------------------------------------------------------------------------


def notify_team(ctx: Context, ticket: Ticket, row: Message, message: Inbound, why: str) -> None:
    """The new ticket forwarded to its team's notify addresses, with the customer's files."""
    _team_mail(ctx, ticket, row, message, why, _team_addresses(ctx, ticket), new_ticket=True)


def forward(ctx: Context, ticket: Ticket, row: Message | None, message: Inbound | None, why: str) -> None:
    """A later event of the ticket told to its assignee, or to the team when it has none."""
    to = [ticket.assignee] if ticket.assignee else _team_addresses(ctx, ticket)
    _team_mail(ctx, ticket, row, message, why, to, new_ticket=False)


def agent_error(ctx: Context, ticket: Ticket | None, row: Message, message: Inbound, error: str) -> None:
    """Tell the engineer which command line was refused and why; nothing else happens."""
    _agent_error(ctx, ticket, row, message, error, "system")


def refused_agent_notice(ctx: Context, ticket: Ticket | None, row: Message, message: Inbound, why: str) -> None:
    """Tell the real engineer that a mail in their name was not taken as theirs (a few an hour at most)."""
    to = message.from_addr.strip().lower()
    limit = int(ctx.settings.limits.auto_replies_per_sender_hour)
    if _REFUSALS.scalar(address=to, since=ctx.now - timedelta(hours=1)) >= limit:
        if ticket is not None:
            store.record_event(ticket.id, ctx.now, "mail", "no refusal notice", f"{to} is past its limit of {limit} an hour")
        return
    _agent_error(ctx, ticket, row, message, why, "refusal")


def _agent_error(ctx: Context, ticket: Ticket | None, row: Message, message: Inbound, error: str, kind: str) -> None:
    values = {
        "support": template_values.support_values(ctx),
        "ticket": template_values.ticket_values(ctx, ticket) if ticket is not None else None,
        "error": error,
        "message": template_values.message_values(ctx, row, message),
    }
    subject = compose.reply_subject(message.subject if ticket is None else _tagged(ctx, ticket, message.subject))
    queue_mail(ctx, ticket, kind, "agent_error", values, [message.from_addr], subject, _answering(message),
           auto_submitted="auto-replied", suppress_auto_responses=True, thread_topic=message.subject)


def sla_warning(ctx: Context, ticket: Ticket, clock: Clock) -> None:
    """The team (and assignee) told that an SLA metric is about to be missed."""
    _sla_mail(ctx, ticket, clock, "sla_warning", "SLA warning")


def breach_notice(ctx: Context, ticket: Ticket, clock: Clock) -> None:
    """The team (and assignee) told that an SLA metric was missed (no escalation backend)."""
    _sla_mail(ctx, ticket, clock, "breach", "SLA breached")


def _team_addresses(ctx: Context, ticket: Ticket) -> list[str]:
    team = (getattr(ctx.rules, "teams", None) or {}).get(ticket.team)
    return [*(getattr(team, "notify", None) or ()), *ticket.decision.notify]


def _team_mail(
    ctx: Context, ticket: Ticket, row: Message | None, message: Inbound | None, why: str, to: list[str], *, new_ticket: bool
) -> None:
    if not recipients_of(ctx, to):
        store.record_event(ticket.id, ctx.now, "mail", "no notification", f"{why}: no address to tell (team {ticket.team})")
        return
    files, listed = _files(ctx, row, message)
    shown = template_values.message_values(ctx, row, message)
    values = template_values.values(
        ctx,
        ticket,
        customer_name=ticket.requester_name or "",
        why=why,
        new_ticket=new_ticket,
        message=shown,
        attachments=listed,
        due=_next_due(ctx, ticket),
        similar=_similar(ctx, ticket, row) if new_ticket else [],
    )
    # Engineers see who wrote; our own mail (a failed relay) keeps the plain support name.
    author = shown and row is not None and row.direction == "inbound" and (shown["from_name"] or shown["from_addr"])
    sender_name = f"{author} via {ctx.settings.support.name}" if author else ctx.settings.support.name
    queue_mail(ctx, ticket, "notification", "notification", values, to, _tagged(ctx, ticket, ticket.subject),
           _team_thread(ticket, row), files, sender_name=sender_name, reply_to=ticket.address or ctx.support_address,
           auto_submitted="auto-generated", suppress_auto_responses=True)


def _similar(ctx: Context, ticket: Ticket, row: Message | None) -> list[dict[str, Any]]:
    """Up to three solved tickets like this new one, with their last answer: an earlier fix to reuse."""
    words = search.distinctive_words(ticket.subject, row.new_text if row is not None else "")
    # The latest solved tickets that share its words: a year of mail is never ranked whole.
    found = search.search_tickets(" ".join(words), limit=3, statuses=("solved", "closed"), exclude=ticket.id,
                                  any_word=True, recent=SIMILAR_CANDIDATES)
    earlier = search.earlier_tickets([hit.ticket_id for hit in found])
    return [
        {"id": t.id, "tag": ctx.settings.support.ticket_tag.format(id=t.id), "subject": t.subject,
         "status": t.status, "answer": " ".join(t.answer.split())[:200]}
        for t in (earlier[hit.ticket_id] for hit in found if hit.ticket_id in earlier)
    ]


def _sla_mail(ctx: Context, ticket: Ticket, clock: Clock, template: str, headline: str) -> None:
    zone = getattr(template_values.ticket_calendar(ctx, ticket), "zone", None) or ctx.now.tzinfo or UTC
    shown = wording.clock_values(clock.metric, clock.due_at or ctx.now, zone, ctx.now)
    values = template_values.values(ctx, ticket, customer_name=ticket.requester_name or "", clock=shown)
    to = [*_team_addresses(ctx, ticket), *([ticket.assignee] if ticket.assignee else [])]
    if not recipients_of(ctx, to):
        store.record_event(ticket.id, ctx.now, "mail", "no notification", f"{headline}: no address to tell")
        return
    subject = _tagged(ctx, ticket, f"{headline} ({shown['label']}): {ticket.subject}")
    queue_mail(ctx, ticket, "system", template, values, to, subject, _team_thread(ticket, None),
           reply_to=ticket.address or ctx.support_address, auto_submitted="auto-generated",
           suppress_auto_responses=True)


# --- threading --------------------------------------------------------------------------------


def _answering(message: Inbound) -> Thread:
    """A direct answer to an inbound mail."""
    return Thread(message.message_id, (*message.references, message.message_id), message.thread_index)


def _customer_thread(ticket: Ticket) -> Thread:
    """An answer to the customer's latest mail, within what the customer has seen."""
    latest = (
        Message.select()
        .where((Message.ticket == ticket.id) & (Message.direction == "inbound") & (Message.kind == "customer"))
        .order_by(Message.received_at.desc(), Message.id.desc())
        .first()
    )
    chain = tuple(_chain(ticket, customer_only=True))
    if latest is None:
        return Thread(chain[-1] if chain else None, chain)
    return Thread(latest.message_id, chain, latest.thread_index)


def _team_thread(ticket: Ticket, row: Message | None) -> Thread:
    """The engineers' conversation about a ticket: every message of it, `row` last."""
    chain = tuple(_chain(ticket))
    if row is not None:
        return Thread(row.message_id, chain, row.thread_index)
    return Thread(chain[-1] if chain else None, chain)


def _chain(ticket: Ticket, *, customer_only: bool = False) -> list[str]:
    """The ticket's Message-IDs in order (only what the customer has seen, when asked)."""
    query = _CUSTOMER_CHAIN if customer_only else _CHAIN
    return [message_id for (message_id,) in query.rows(ticket=ticket.id)]


# --- subjects, files and due times -----------------------------------------------------------


def _tagged(ctx: Context, ticket: Ticket, subject: str) -> str:
    return compose.tagged_subject(compose.thread_topic(subject), ctx.settings.support.ticket_tag, ticket.id)


def _files(ctx: Context, row: Message | None, message: Inbound | None) -> tuple[list[compose.File], list[dict[str, Any]]]:
    """The files to attach, and the list a template shows (over-size ones listed, not attached)."""
    found: list[tuple[str, str, int, bytes | None]] = []
    if message is not None:
        found = [(p.filename, p.content_type, p.size, p.content) for p in message.attachments]
    elif row is not None:
        for stored in Attachment.select().where(Attachment.message == row.id).order_by(Attachment.id):
            path = attachment_path(ctx.settings.support.data_dir, stored.sha256 or "-")
            content = path.read_bytes() if stored.sha256 and path.is_file() else None
            found.append((stored.filename, stored.content_type, stored.size, content))
    files = [compose.File(name, ctype, content) for name, ctype, _, content in found if content is not None]
    listed = [{"filename": n, "content_type": c, "size": s, "included": b is not None} for n, c, s, b in found]
    return files, listed


def _next_due(ctx: Context, ticket: Ticket) -> dict[str, Any] | None:
    """The earliest running SLA clock, for the team's eyes."""
    clock = _NEXT_DUE.first(ticket=ticket.id)
    return wording.due_view(clock.due_at, template_values.ticket_calendar(ctx, ticket), ctx.now, clock.metric) if clock else None
