"""Our Message-IDs: ticket id, a random serial and an HMAC, so a reply can be traced back and trusted."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

_PATTERN = re.compile(r"^<?mr\.(\d{1,18})\.(\d{1,18})\.([0-9a-f]{10})@[^<>@\s]+>?$", re.IGNORECASE)


SERIALS = 10**18  # the pattern's 18 digits; a collision within one ticket is out of reach


def _signature(ticket_id: int, serial: int, secret: str) -> str:
    payload = f"mailroom-message-id:{ticket_id}.{serial}".encode()
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()[:10]


def serial() -> int:
    """A new mail's serial: random, so the id is known before the mail is stored and tells no volume."""
    return secrets.randbelow(SERIALS)


def make(ticket_id: int | None, serial: int, secret: str, domain: str) -> str:
    """`<mr.{ticket}.{serial}.{hmac10}@{domain}>`; ticket 0 stands for mail that belongs to no ticket."""
    ticket = int(ticket_id or 0)
    # The id is written into the outbox row's bytes, so a resend after a crash carries it again.
    return f"<mr.{ticket}.{int(serial)}.{_signature(ticket, int(serial), secret)}@{domain.lower()}>"


def verify(message_id: str, secret: str) -> tuple[int, int] | None:
    """(ticket_id, serial) of one of our Message-IDs with a valid signature, else None."""
    match = _PATTERN.match((message_id or "").strip())
    if not match:
        return None
    ticket, number = int(match.group(1)), int(match.group(2))
    if not hmac.compare_digest(match.group(3).lower(), _signature(ticket, number, secret)):
        return None
    return ticket, number


def domain_of(address: str) -> str:
    """The domain our Message-IDs carry: the support address's."""
    _, at, domain = address.rpartition("@")
    return domain.strip().lower() if at and domain.strip() else "localhost"
