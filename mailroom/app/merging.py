"""Merging a duplicate ticket into another: one conversation, the earliest clocks, each customer told once."""

from __future__ import annotations

from mailroom.app import clocks, outbound
from mailroom.app.context import Context
from mailroom.store import queries as store
from mailroom.store.models import Event, Message, Participant, Survey, Ticket


def refusal(source: Ticket, target: Ticket | None, target_id: int) -> str | None:
    """Why `source` cannot be merged into ticket `target_id`, else None."""
    if target is None:
        return f"no ticket #{target_id}"
    if source.id == target.id:
        return f"ticket #{source.id} cannot be merged into itself"
    if source.merged_into is not None:
        return f"ticket #{source.id} was already merged into #{source.merged_into}"
    if target.merged_into is not None:
        return f"ticket #{target.id} was merged into #{target.merged_into}: merge into that one"
    if target.status == "closed":
        return f"ticket #{target.id} is closed: merge into an open ticket"
    return None


def merge(ctx: Context, source: Ticket, target: Ticket, actor: str) -> None:
    """Move everything of `source` into `target`, close `source` with a pointer, tell its customers."""
    customers = [
        p.address for p in Participant.select().where((Participant.ticket == source.id) & (Participant.role == "customer"))
    ]
    customers = [a for a in (source.reply_to or source.requester, *customers) if a]
    Message.update(ticket=target.id).where(Message.ticket == source.id).execute()
    Event.update(ticket=target.id).where(Event.ticket == source.id).execute()
    for participant in Participant.select().where(Participant.ticket == source.id):
        store.add_participants(target.id, [participant.address], role=participant.role)
    Participant.delete().where(Participant.ticket == source.id).execute()
    clocks.merged(ctx, source, target)
    Survey.update(state="cancelled").where((Survey.ticket == source.id) & (Survey.state == "scheduled")).execute()
    target.tags = list(dict.fromkeys([*target.tags, *source.tags]))
    target.updated_at = ctx.now
    target.save()
    source.status, source.merged_into = "closed", target.id
    source.closed_at = source.updated_at = ctx.now
    source.save()
    store.record_event(source.id, ctx.now, actor, "merged", f"merged into #{target.id}")
    store.record_event(target.id, ctx.now, actor, "merged", f"#{source.id} ({source.subject}) merged into this ticket")
    outbound.merge_notice(ctx, target, source, customers)
