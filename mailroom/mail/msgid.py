"""Our Message-IDs: ticket id, outbox row and an HMAC, so a reply can be traced back and trusted."""

from __future__ import annotations

import hashlib
import hmac
import re

_PATTERN = re.compile(r"^<?mr\.(\d{1,18})\.(\d{1,18})\.([0-9a-f]{10})@[^<>@\s]+>?$", re.IGNORECASE)


def _signature(ticket_id: int, row_id: int, secret: str) -> str:
    payload = f"mailroom-message-id:{ticket_id}.{row_id}".encode()
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()[:10]


def make(ticket_id: int | None, row_id: int, secret: str, domain: str) -> str:
    """`<mr.{ticket}.{row}.{hmac10}@{domain}>`; ticket 0 stands for mail that belongs to no ticket."""
    ticket = int(ticket_id or 0)
    # The same outbox row always gets the same id, so a resend after a crash shows once.
    return f"<mr.{ticket}.{int(row_id)}.{_signature(ticket, int(row_id), secret)}@{domain.lower()}>"


def verify(message_id: str, secret: str) -> tuple[int, int] | None:
    """(ticket_id, row_id) of one of our Message-IDs with a valid signature, else None."""
    match = _PATTERN.match((message_id or "").strip())
    if not match:
        return None
    ticket, row = int(match.group(1)), int(match.group(2))
    if not hmac.compare_digest(match.group(3).lower(), _signature(ticket, row, secret)):
        return None
    return ticket, row


def domain_of(address: str) -> str:
    """The domain our Message-IDs carry: the support address's."""
    _, at, domain = address.rpartition("@")
    return domain.strip().lower() if at and domain.strip() else "localhost"
