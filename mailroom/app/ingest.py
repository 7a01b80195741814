"""Storing one inbound message exactly once: threading, the ticket change, and all that must follow."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace

import peewee as pw

from mailroom.app import agents, forwards, surveys, tickets
from mailroom.app.context import Context
from mailroom.mail.loops import automatic_mail_reason, is_out_of_office
from mailroom.mail.message import Inbound
from mailroom.mail.spam import SpamPolicy, spam_reason
from mailroom.mail.threader import thread
from mailroom.store import files
from mailroom.store import queries as store
from mailroom.store.contentkey import legacy_content_key
from mailroom.store.files import attachment_path
from mailroom.store.models import Attachment, Event, Message, Ticket, database
from mailroom.store.prepared import Bind, Prepared

log = logging.getLogger("mailroom.ingest")


def at_uid(model: type[pw.Model]) -> Prepared:
    """A prepared lookup of the row of `model` recorded at a mailbox UID (bind mailbox, uidvalidity, uid)."""
    return Prepared(
        model.select(pw.SQL("1"))
        .where((model.mailbox == Bind("mailbox")) & (model.uidvalidity == Bind("uidvalidity")) & (model.uid == Bind("uid")))
        .limit(1)
        .tuples()
    )


# Asked of every message: prepared once (see prepared.py).
_AT_UID = at_uid(Message)
# Messages stored before schema version 5 carry the legacy key: a re-fetch is compared with both.
_SAME_MAIL = Prepared(
    Message.select(Message.ticket, Message.mailbox)
    .where((Message.message_id == Bind("message_id"))
           & ((Message.content_key == Bind("key")) | (Message.content_key == Bind("legacy"))))
    .limit(1)
    .tuples()
)


@dataclass(frozen=True)
class Placement:
    """Where a message was read: folder, UIDVALIDITY and UID (None for imports)."""

    mailbox: str  # the ledger's name, user@host/folder
    uidvalidity: int | None = None
    uid: int | None = None
    name: str = ""  # the mailbox's name in mailroom.toml; "" for imports


@dataclass(frozen=True)
class Ingested:
    """What became of a message."""

    outcome: str  # stored | duplicate | ignored
    ticket_id: int | None
    detail: str = ""


def seen_at(place: Placement) -> bool:
    """True when the message at this mailbox UID was already stored (a re-fetch after a crash)."""
    if place.uid is None:
        return False
    return _AT_UID.first(mailbox=place.mailbox, uidvalidity=place.uidvalidity, uid=place.uid) is not None


def _stored_as(message: Inbound, key: str, legacy: str) -> tuple[int | None, str | None] | None:
    """(ticket, mailbox) of the same mail stored already: its Message-ID with its content key (or the legacy one)."""
    return _SAME_MAIL.first(message_id=message.message_id, key=key, legacy=legacy)


def ingest(
    ctx: Context,
    message: Inbound,
    key: str,
    place: Placement,
    *,
    imported: bool = False,
    raw: bytes | None = None,
    legacy: str | None = None,
) -> Ingested:
    """Store `message` and apply it to its ticket in one transaction; a repeat is recognised."""
    if seen_at(place):
        return Ingested("duplicate", None, "mailbox UID already stored")
    if place.name and not message.mailbox:
        # Rules may route by the mailbox, and the ticket remembers it.
        message = replace(message, mailbox=place.name)
    digests = _keep_attachments(ctx, message)
    if raw is not None and not message.complete:
        # Before the commit, like attachments: the stored text is cut, the original has the rest.
        files.keep_original(ctx.settings.support.data_dir, key, raw)
    if legacy is None:  # the raw mail's key before schema version 5, unless the caller has it
        legacy = legacy_content_key(raw) if raw is not None else key
    try:
        with database.atomic():
            duplicate = _stored_as(message, key, legacy)
            if duplicate is not None:
                ticket_id, stored_in = duplicate
                if ticket_id is not None and place.name and stored_in != place.mailbox:
                    _also_delivered(ctx, ticket_id, place.name)
                return Ingested("duplicate", ticket_id, "same Message-ID and content")
            return _apply(ctx, message, key, place, imported, digests)
    except pw.IntegrityError:
        # Another worker stored the same message between our check and our insert; any other
        # refusal (a reply's ticket deleted meanwhile, say) is a failure, or the mail would be lost.
        if seen_at(place) or _stored_as(message, key, legacy) is not None:
            return Ingested("duplicate", None, "stored concurrently")
        raise


def _apply(
    ctx: Context, message: Inbound, key: str, place: Placement, imported: bool, digests: list[str | None]
) -> Ingested:
    support = ctx.settings.support
    spam = None if imported else spam_reason(
        message, SpamPolicy(support.trusted_authserv_id, support.spam_score_header, support.spam_score_above)
    )
    machine = automatic_mail_reason(message, ctx.our_addresses, support.lists) or spam
    answer = None if imported else surveys.match(ctx, message)
    if answer is not None and (machine or is_out_of_office(message)):
        # Automatic mail (an out-of-office answer to the survey) is never a rating: a note.
        row = store_message(message, key, place, machine or "automatic reply", digests)
        surveys.automatic_answer(ctx, row, message, answer)
        return Ingested("stored", row.ticket_id, "automatic reply to a survey: stored as a note")
    if answer is not None:
        # A survey answer is a rating: it never opens or reopens a ticket.
        row = store_message(message, key, place, machine, digests)
        surveys.record(ctx, row, message, answer)
        return Ingested("stored", answer.ticket_id, "survey answer: " + answer.reason)
    sender = agents.identify(ctx, message)
    threading = thread(
        message,
        ticket_tag=ctx.settings.support.ticket_tag,
        support_address=ctx.our_addresses,
        known=store.tickets_of_message_ids([message.in_reply_to or "", *message.references]),
        exists=lambda tid: Ticket.select().where(Ticket.id == tid).exists(),
        may_use_link=lambda tid: _may_use_link(sender, store.survivor(tid), message.from_addr),
    )
    row = store_message(message, key, place, machine, digests)
    # Mail to a merged ticket belongs to the ticket it was merged into.
    ticket = Ticket.get_by_id(store.survivor(threading.ticket_id)) if threading.ticket_id else None
    is_agent = sender.is_agent(ticket.id if ticket is not None else None)
    refused = None if imported or machine else sender.why_not(ticket.id if ticket is not None else None)
    if ticket is not None and imported:
        # History: joined to its ticket as it was, with no mail, clock or status change.
        is_agent = sender.agent_address
        row.ticket, row.kind = ticket, "agent" if is_agent else "customer"
        row.save()
        store.add_participants(ticket.id, [message.from_addr], role="agent" if is_agent else "customer")
        return Ingested("stored", ticket.id, threading.reason)
    if ticket is not None and ticket.status == "closed" and not is_agent:
        ticket = tickets.open_linked(ctx, row, message, ticket, machine)
        if refused:
            agents.refused_agent_mail(ctx, ticket, row, message, refused)
        return Ingested("stored", ticket.id, "reply to a closed ticket opened a new one")
    if ticket is not None:
        if is_agent:
            agents.agent_mail(ctx, ticket, row, message)
        else:
            if refused:
                agents.refused_agent_mail(ctx, ticket, row, message, refused)
            tickets.customer_followup(ctx, ticket, row, message, machine)
        return Ingested("stored", ticket.id, threading.reason)
    if not imported and not machine and sender.agent_address:
        handled, opened = forwards.forwarded(
            ctx, row, message, proven=is_agent, refused=refused, keep=lambda original: _kept(ctx, original, key, place)
        )
        if handled:
            return Ingested("stored", opened.id if opened else None, "engineer's forward of a customer's mail")
    if not imported and (is_agent or refused):
        handled, opened = agents.agent_opens(ctx, row, message, proven=is_agent, refused=refused)
        if handled:
            return Ingested("stored", opened.id if opened else None, "engineer's mail to support")
    created = tickets.open_ticket(ctx, row, message, machine, threading, imported=imported)
    if created is None:
        return Ingested("ignored", None, "a rule said ignore")
    if refused:
        agents.refused_agent_mail(ctx, created, row, message, refused)
    if spam:
        tickets.suspect_spam(ctx, created, spam)
    return Ingested("stored", created.id, threading.reason)


def _also_delivered(ctx: Context, ticket_id: int, mailbox: str) -> None:
    """Note once on the ticket that the same mail came in on another mailbox (To one of ours, Cc another)."""
    detail = f"the same mail came in on mailbox {mailbox} too; stored once"
    if not Event.select().where((Event.ticket == ticket_id) & (Event.action == "same mail") & (Event.detail == detail)).exists():
        store.record_event(ticket_id, ctx.now, "mail", "same mail", detail)


def _may_use_link(sender: agents.Sender, ticket_id: int, address: str) -> bool:
    """A ticket tag or link counts only from an engineer of that ticket or one of its participants."""
    return sender.is_agent(ticket_id) or store.is_participant(ticket_id, address)


def store_message(
    message: Inbound, key: str, place: Placement, machine: str | None, digests: list[str | None] | None = None
) -> Message:
    """The inbound row with its attachments' records (not yet on a ticket)."""
    digests = digests if digests is not None else [_digest(part.content) for part in message.attachments]
    row = Message.create(
        ticket=None,
        message_id=message.message_id,
        content_key=key,
        direction="inbound",
        kind="customer",
        from_addr=message.from_addr,
        from_name=message.from_name,
        recipients=list(message.to + message.cc),
        subject=message.subject,
        text=message.text,
        new_text=message.new_text,
        in_reply_to=message.in_reply_to,
        references=list(message.references),
        thread_index=message.thread_index,
        date=message.date,
        received_at=message.arrived_at,
        machine_reason=machine,
        mailbox=place.mailbox,
        uidvalidity=place.uidvalidity,
        uid=place.uid,
    )
    for part, digest in zip(message.attachments, digests, strict=True):
        Attachment.create(
            message=row, filename=part.filename, content_type=part.content_type, size=part.size, sha256=digest
        )
    return row


def _kept(ctx: Context, original: Inbound, key: str, place: Placement) -> Message:
    """A forwarded customer's mail stored as a message of its own, its attachments' bytes kept."""
    derived = hashlib.sha256(f"forwarded in {key}".encode()).hexdigest()
    return store_message(original, derived, Placement(place.mailbox), None, _keep_attachments(ctx, original))


def _digest(content: bytes | None) -> str | None:
    """SHA-256 of stored bytes; None for an attachment recorded but not stored (over the limit)."""
    return hashlib.sha256(content).hexdigest() if content is not None else None


def writes_files(message: Inbound, raw: bytes | None) -> bool:
    """True when storing the message writes files: its attachments' bytes, or its cut original."""
    return (raw is not None and not message.complete) or any(part.content is not None for part in message.attachments)


def _keep_attachments(ctx: Context, message: Inbound) -> list[str | None]:
    """Write each stored attachment's bytes; return the digests, one per attachment."""
    # Written before the commit: a crash leaves at most an unreferenced file, never a
    # committed row without its bytes.
    digests = [_digest(part.content) for part in message.attachments]
    for part, digest in zip(message.attachments, digests, strict=True):
        if part.content is None or digest is None:
            continue
        files.keep(attachment_path(ctx.settings.support.data_dir, digest), part.content, once=True)
    return digests
