"""Pure: which ticket an inbound message belongs to, and why."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from mailroom.mail.addresses import Ours, ours_of
from mailroom.mail.message import Inbound


@dataclass(frozen=True)
class Threading:
    """The threader's answer: a ticket to join (or None for a new one) and the reason."""

    ticket_id: int | None
    reason: str
    mentions: int | None = None  # a ticket a stranger's mail named, recorded on the new ticket


@lru_cache(maxsize=8)
def tag_pattern(ticket_tag: str) -> re.Pattern[str]:
    """The subject tag as a regex: `[Support #{id}]` → `\\[Support\\s*\\#(\\d+)\\]`, spacing-tolerant."""
    before, _, after = ticket_tag.partition("{id}")
    return re.compile(_loose(before) + r"\s*(\d{1,12})\s*" + _loose(after), re.IGNORECASE)


def _loose(text: str) -> str:
    """`text` as a regex in which any run of blanks matches any other."""
    return r"\s*".join(re.escape(part) for part in text.split())


def tagged_ticket(subject: str, ticket_tag: str) -> int | None:
    """The ticket id named by the subject's tag (the last one, as replies prepend)."""
    found = tag_pattern(ticket_tag).findall(subject)
    return int(found[-1]) if found else None


def plus_ticket(addresses: tuple[str, ...], support_address: Ours) -> int | None:
    """The ticket id of a `support+ID@domain` recipient, at any address of ours."""
    for ours in ours_of(support_address):
        local, _, domain = ours.partition("@")
        pattern = re.compile(rf"^{re.escape(local)}\+(\d{{1,12}})@{re.escape(domain)}$", re.IGNORECASE)
        for address in addresses:
            match = pattern.match(address)
            if match:
                return int(match.group(1))
    return None


def thread(
    message: Inbound,
    *,
    ticket_tag: str,
    support_address: Ours,
    known: Mapping[str, int],
    exists: Callable[[int], bool],
    may_use_link: Callable[[int], bool],
) -> Threading:
    """Decide the ticket: In-Reply-To, References (last to first), then tag or plus-address.

    `known` maps stored Message-IDs (inbound and outbound) to tickets; `may_use_link(id)` says
    whether the sender is a participant of that ticket or an agent — a stranger's tag or
    plus-address never joins someone else's ticket.
    """
    if message.in_reply_to and message.in_reply_to in known:
        return Threading(known[message.in_reply_to], f"In-Reply-To {message.in_reply_to}")
    for ref in reversed(message.references):
        if ref in known:
            return Threading(known[ref], f"References {ref}")
    candidates = (
        ("subject tag", tagged_ticket(message.subject, ticket_tag)),
        ("address", plus_ticket(message.to + message.cc, support_address)),
    )
    for how, ticket_id in candidates:
        if ticket_id is None or not exists(ticket_id):
            continue
        if may_use_link(ticket_id):
            return Threading(ticket_id, f"{how} names ticket {ticket_id}")
        return Threading(None, f"{how} names ticket {ticket_id}, sender is not a participant", ticket_id)
    return Threading(None, "new conversation")
