"""Flushing the mail outbox: claim what is due, send it over one connection, record each outcome."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from mailroom import backoff as retry
from mailroom.app import outbound
from mailroom.ports import Result
from mailroom.store import queries as store
from mailroom.store.models import Message, OutboxItem, Ticket, database
from mailroom.store.prepared import update_row

if TYPE_CHECKING:
    from mailroom.app.context import Context
    from mailroom.ports import MailSender, Meter

log = logging.getLogger("mailroom.sending")

BATCH = 100
ROUNDS = 20


def flush_mail_once(ctx: Context, sender: MailSender) -> int:
    """Send every mail that is due now; answer how many were sent."""
    sent = 0
    # Several rounds: a full batch may leave more behind, and a failed relay queues a notice.
    # Each row settles (sent, failed, or due only later), so the rounds run out.
    for _ in range(ROUNDS):
        items = store.claim_due("mail", ctx.now, limit=BATCH)
        if not items:
            break
        envelope = ctx.settings.support.address
        results = sender.send_batch([(envelope, list(i.recipients or []), bytes(i.raw or b"")) for i in items])
        with database.atomic():
            for item, result in zip(items, results, strict=True):
                sent += _record(ctx, item, result)
        if ctx.meter is not None:
            _count_sent(ctx.meter, [i for i, r in zip(items, results, strict=True) if r.state == "sent" and i.raw])
        if getattr(sender, "last_connection_error", None):
            break  # the server is away: the rest waits for its retry time
    return sent


def _record(ctx: Context, item: OutboxItem, result: Result) -> int:
    """Mark one row sent, rescheduled or failed (inside the caller's transaction)."""
    if not item.raw:
        result = Result("failed", "no mail content in the outbox row")
    if result.state == "sent":
        _update(item, state="sent", sent_at=ctx.now, last_error=result.error, attempts=item.attempts + 1)
        log.info("action=mail-sent outbox=%s ticket=%s", item.id, item.ticket_id)
        _refused_recipients(ctx, item, result)
        return 1
    attempts = item.attempts + 1
    give_up = ctx.settings.escalation.give_up_after
    if result.state == "retry" and ctx.now - item.created_at < give_up:
        temporary = [a for a in (item.recipients or []) if a in result.temporary] or list(item.recipients or [])
        _update(
            item,
            attempts=attempts,
            next_attempt_at=ctx.now + retry.backoff(attempts),
            last_error=result.error,
            recipients=temporary,
        )
        log.warning("action=mail-retry outbox=%s attempts=%s error=%s", item.id, attempts, result.error)
        if result.refused:
            _refused_recipients(ctx, item, result)
        return 0
    error = result.error or "refused"
    if result.state == "retry":
        error = f"gave up after {_days(give_up)}: {error}"
    _update(item, state="failed", attempts=attempts, last_error=error)
    log.error("action=mail-failed outbox=%s ticket=%s error=%s", item.id, item.ticket_id, error)
    _delivery_failed(ctx, item, list(item.recipients or []), error)
    return 0


def _count_sent(meter: Meter, items: list[OutboxItem]) -> None:
    """Count a batch's sent mail by kind, the kinds read in one query."""
    ids = [i.message_id for i in items if i.message_id]
    kinds = {m.id: m.kind for m in Message.select(Message.id, Message.kind).where(Message.id.in_(ids))} if ids else {}
    for item in items:
        meter.mail_sent(kinds.get(item.message_id, "mail"))


def _refused_recipients(ctx: Context, item: OutboxItem, result: Result) -> None:
    """Recipients refused while others took the mail: permanent ones recorded, temporary ones queued again."""
    permanent = [a for a in result.refused if a not in result.temporary]
    if permanent:
        detail = "; ".join(f"{a}: {result.refused[a]}" for a in permanent)
        _delivery_failed(ctx, item, permanent, detail)
    if result.state == "sent" and result.temporary:
        # Same bytes and Message-ID, only to those still waiting: nobody gets the mail twice.
        again = store.queue(
            kind="mail",
            now=ctx.now,
            ticket_id=item.ticket_id,
            recipients=list(result.temporary),
            raw=bytes(item.raw),
            message_id=item.message_id,
        )
        # The give-up clock keeps running from the first queueing.
        _update(
            again,
            attempts=1,
            next_attempt_at=ctx.now + retry.backoff(1),
            last_error=result.error,
            created_at=item.created_at,
        )


def _delivery_failed(ctx: Context, item: OutboxItem, recipients: list[str], error: str) -> None:
    """A permanent refusal on the ticket's log; a failed relay is told to the engineers."""
    if item.ticket_id is None:
        return
    row = Message.get_or_none(Message.id == item.message_id) if item.message_id else None
    what = row.kind if row is not None else "mail"
    store.record_event(item.ticket_id, ctx.now, "mail", "delivery failed", f"{what} to {', '.join(recipients)}: {error}")
    if row is not None and row.kind == "relay":
        ticket = Ticket.get_or_none(Ticket.id == item.ticket_id)
        if ticket is not None:
            outbound.forward(ctx, ticket, row, None, f"delivery failed to {', '.join(recipients)}: {error}")


def _update(item: OutboxItem, **fields: Any) -> None:
    # Only a row still queued changes: what another worker already settled stays settled.
    fields.setdefault("claimed_until", None)
    update_row(OutboxItem, item.id, fields, state="queued")
    for key, value in fields.items():
        setattr(item, key, value)


def _days(delta: Any) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    return f"{seconds // 3600}h" if seconds % 3600 == 0 else f"{seconds}s"
