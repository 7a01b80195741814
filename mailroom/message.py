"""Pure: raw message bytes → a frozen `Inbound` (ids, addresses, subject, text, new text)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Attachment:
    """One attachment; `content` is None when it was over the size limit (kept by name and size)."""

    filename: str
    content_type: str
    size: int
    content: bytes | None


@dataclass(frozen=True)
class Inbound:
    """One received message, parsed; every address lowercased, every text decoded."""

    message_id: str  # "<...>", derived from the content when the mail has none
    in_reply_to: str | None  # "<...>"
    references: tuple[str, ...]  # "<...>" each, oldest first
    from_addr: str  # "" when the mail has no usable From
    from_name: str
    reply_to: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str  # decoded, unfolded, capped
    date: datetime  # the Date header in UTC, else the arrival time
    arrived_at: datetime  # the IMAP arrival time (INTERNALDATE), UTC; all SLA times use it
    text: str  # the whole text body (HTML-only mail turned into text)
    new_text: str  # the text without quoted history and signature
    headers: tuple[tuple[str, str], ...]  # (name, decoded value), in order, names as written
    attachments: tuple[Attachment, ...] = ()
    content_hash: str = ""  # SHA-256 hex of the raw bytes
    return_path: str | None = None  # None: no Return-Path header; "": the empty path "<>"
    content_type: str = "text/plain"  # the top-level MIME type, lowercased
    thread_index: str | None = None  # Outlook's Thread-Index, to continue it
    defects: tuple[str, ...] = field(default=())

    def header(self, name: str) -> str | None:
        """The first value of a header, by case-insensitive name."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        """Every value of a header, by case-insensitive name."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    @property
    def has_attachment(self) -> bool:
        """True when the mail carries at least one attachment."""
        return bool(self.attachments)


def parse(raw: bytes, arrived_at: datetime, max_attachment_size: int = 25_000_000) -> Inbound:
    """Parse raw RFC 5322 bytes; raises UnparseableMessage when nothing usable can be read."""
    raise NotImplementedError
