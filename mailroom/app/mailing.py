"""One outbound mail queued inside the caller's transaction: rendered, its bytes, its Message row, its outbox row."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mailroom.compose import mails as compose
from mailroom.mail import msgid
from mailroom.mail.addresses import is_support, valid_address
from mailroom.store import queries as store
from mailroom.store.models import Attachment, Message, Ticket

if TYPE_CHECKING:
    from mailroom.app.context import Context


@dataclass(frozen=True)
class Thread:
    """Where a mail goes in a conversation: the mail it answers, the chain, Outlook's index."""

    parent: str | None = None
    references: tuple[str, ...] = ()
    index: str | None = None  # the parent's Thread-Index, continued


CUSTOMER_MAIL_KINDS = ("ack", "relay", "survey", "merged")


def sender_address(ctx: Context, ticket: Ticket | None, kind: str) -> str:
    """The customer's mail goes From the address of ours they wrote to; the team's From the support address."""
    if ticket is not None and ticket.address and kind in CUSTOMER_MAIL_KINDS:
        return str(ticket.address)
    return str(ctx.settings.support.address)


def queue_mail(
    ctx: Context,
    ticket: Ticket | None,
    kind: str,
    template: str,
    values: dict[str, Any],
    to: list[str],
    subject: str,
    thread: Thread,
    files: list[compose.File] | None = None,
    **headers: Any,
) -> Message | None:
    """Render, then the mail with a new Message-ID, then its Message row, then its outbox row."""
    recipients = recipients_of(ctx, to)
    if not recipients:
        return None
    support = ctx.settings.support
    # The customer's mail speaks the customer's language; the team's stays in the default one.
    language = ticket.language if ticket is not None and kind in CUSTOMER_MAIL_KINDS else None
    text, html = compose.render(support.templates, template, values, language)
    ticket_id = ticket.id if ticket is not None else None
    # The id is made before any row, so the outbox row is written once, whole.
    message_id = msgid.make(ticket_id, msgid.serial(), ctx.secret, msgid.domain_of(support.address))
    headers.setdefault("sender_name", support.name)
    headers.setdefault("thread_topic", ticket.subject if ticket is not None else subject)
    headers["thread_topic"] = compose.thread_topic(headers["thread_topic"] or "")
    references = [*(m for m in thread.references if m != thread.parent), *([thread.parent] if thread.parent else [])]
    draft = compose.Draft(
        sender_address=sender_address(ctx, ticket, kind),
        to=tuple(recipients),
        subject=subject,
        message_id=message_id,
        date=ctx.now,
        text=text,
        html=html,
        in_reply_to=thread.parent,
        references=tuple(references),
        loop=support.address,
        thread_index=compose.thread_index(thread.index, ctx.now, message_id),
        attachments=tuple(files or ()),
        **headers,
    )
    raw = compose.build(draft)
    row = _stored(ctx, ticket_id, kind, draft, raw, references, files)
    store.queue(kind="mail", now=ctx.now, ticket_id=ticket_id, recipients=recipients, raw=raw, message_id=row.id)
    return row


def _stored(
    ctx: Context, ticket_id: int | None, kind: str, draft: compose.Draft, raw: bytes, references: list[str],
    files: list[compose.File] | None,
) -> Message:
    """The Message row (and its attachments' rows) of a mail written, as the ticket's history shows it."""
    row = Message.create(
        ticket=ticket_id,
        message_id=draft.message_id,
        content_key=hashlib.sha256(raw).hexdigest(),
        direction="outbound",
        kind=kind,
        from_addr=draft.sender_address.lower(),
        from_name=compose.clean(draft.sender_name),
        recipients=list(draft.to),
        rcpt=draft.to[0],
        subject=compose.clean(draft.subject),
        text=draft.text,
        new_text=draft.text,
        in_reply_to=draft.in_reply_to if compose.valid_message_id(draft.in_reply_to) else None,
        references=compose.cap_references(references),
        thread_index=draft.thread_index,
        date=ctx.now,
        received_at=ctx.now,
    )
    for part in files or ():
        digest = hashlib.sha256(part.content).hexdigest()
        Attachment.create(message=row, filename=part.filename, content_type=part.content_type, size=len(part.content), sha256=digest)
    return row


def recipients_of(ctx: Context, addresses: list[str] | tuple[str, ...]) -> list[str]:
    """Valid addresses, lowercased, once each, never the support address (a loop)."""
    kept: dict[str, None] = {}
    for address in addresses:
        address = (address or "").strip().lower()
        if valid_address(address) and not is_support(address, ctx.our_addresses):
            kept.setdefault(address, None)
    return list(kept)
