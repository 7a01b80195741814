"""Pure: raw message bytes → a frozen `Inbound` (ids, addresses, subject, text, new text)."""

# Each header field read for its meaning, with mail-parser's address and date readers
# where they are the better tool; the MIME layer underneath is mime's.

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import getaddresses, parsedate_to_datetime
from typing import cast

from mailparser.dates import parse_mail_date
from mailparser.utils import get_addresses

from mailroom.clock import as_utc
from mailroom.errors import UnparseableMessage
from mailroom.mail.htmlclean import answer_html, content_ids
from mailroom.mail.htmlquote import mark_history
from mailroom.mail.htmltext import as_text, decode_words, html_to_text, storable
from mailroom.mail.mime import (
    CONTROLS,
    Attachment,
    decode_subject,
    header_value,
    parse_bytes,
    safe,
    unfold,
    walk,
)
from mailroom.mail.quoting import new_text as strip_history

MAX_ADDRESSES = 500  # per address field
MAX_REFERENCES = 100
# The longest line RFC 5322 allows, the width of the id columns, and a limit in bytes too:
# PostgreSQL refuses an index entry over 2,704 bytes, which 950 CJK characters exceed.
MAX_ID = 998
MAX_ADDRESS = 320
MAX_DEFECTS = 50
MAX_TEXT = 1_000_000  # characters of body text kept by default ([limits] max_text)

_LIST_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*+"|\([^()]*+\)|,')  # commas in quotes or comments do not count
_ID_TOKEN = re.compile(r"<([^<>\s]+)>")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+=*")


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
    complete: bool = True  # False: the text was cut to the limit; the original mail has the rest
    new_html: str = ""  # the sender's own HTML (no history, commands, scripts, remote content), or ""
    images: tuple[Attachment, ...] = ()  # the inline images new_html shows by cid:
    defects: tuple[str, ...] = field(default=())
    language: str | None = None  # ISO 639-1 code of the text's language, once detected ("de")
    mailbox: str = ""  # the name of the mailbox it was read from (mailroom.toml); "" for imports

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

    def delivered_to(self) -> list[str]:
        """Every address the mail was written or delivered to: To, Cc, Delivered-To, X-Original-To."""
        headers = [*self.header_all("Delivered-To"), *self.header_all("X-Original-To")]
        parsed = [address for _, address in getaddresses(headers) if address]
        return [a.strip().lower() for a in (*self.to, *self.cc, *parsed) if a]

    @property
    def has_attachment(self) -> bool:
        """True when the mail carries at least one attachment."""
        return bool(self.attachments)


def parse(raw: bytes, arrived_at: datetime, max_attachment_size: int = 25_000_000, max_text: int = MAX_TEXT) -> Inbound:
    """Parse raw RFC 5322 bytes; raises UnparseableMessage when nothing usable can be read."""
    raw = bytes(raw)
    if not raw or raw.isspace():
        raise UnparseableMessage("empty message")
    arrived_at = as_utc(arrived_at)
    defects: list[str] = []
    digest = hashlib.sha256(raw).hexdigest()
    try:
        msg = parse_bytes(raw, defects)
        hint = safe(msg.get_content_charset, None)
        raw_headers = [(name, as_text(value, hint)) for name, value in msg.raw_items()]
        first = dict(reversed([(name.lower(), value) for name, value in raw_headers]))
        content_type = msg.get_content_type()[:255]
        texts, attachments, markup, images = walk(msg, hint, max_attachment_size, defects, max_text)
        del msg  # the parsed tree holds a copy of every part: freed before the text is worked on
    except Exception as exc:  # noqa: BLE001 - a parser bug must quarantine the mail, not stop the loop
        raise UnparseableMessage(f"cannot parse: {type(exc).__name__}: {exc}"[:300]) from exc
    if b"\x00" in raw:
        defects.append("NUL bytes removed")
    text = storable(texts).replace("\r\n", "\n")
    complete = len(text) <= max_text
    if not complete:
        # What tickets, rules and notifications read is bounded; the original mail keeps the rest.
        text = text[:max_text].rsplit("\n", 1)[0] if "\n" in text[:max_text] else text[:max_text]
        defects.append(f"text cut to {max_text} characters; the whole mail is kept as the original")
    from_pairs = _addresses(first.get("from"), "from", defects, limit=1)
    reply_pairs = _addresses(first.get("reply-to"), "reply-to", defects, limit=1)
    message_id = _message_id(first.get("message-id"))
    if message_id is None:
        defects.append("message-id missing or malformed; derived from the content")
        message_id = f"<{digest[:32]}@mailroom.invalid>"
    # The HTML's history marked once, for the new text and for the answer relayed alike.
    marked = mark_history(markup) if markup.strip() else ""
    new_html = answer_html(markup, marked) if markup.strip() else ""
    return Inbound(
        message_id=message_id,
        in_reply_to=_message_id(first.get("in-reply-to")),
        references=_references(first.get("references")),
        from_addr=from_pairs[0][1] if from_pairs else "",
        from_name=from_pairs[0][0][:MAX_ADDRESS] if from_pairs else "",
        reply_to=reply_pairs[0][1] if reply_pairs else None,
        to=tuple(addr for _, addr in _addresses(first.get("to"), "to", defects)),
        cc=tuple(addr for _, addr in _addresses(first.get("cc"), "cc", defects)),
        subject=decode_subject(first.get("subject"), hint),
        date=_date(first.get("date"), arrived_at, defects),
        arrived_at=arrived_at,
        text=text,
        new_text=_new_text(text, marked),
        new_html=new_html,
        images=tuple(i for i in images if i.content_id in content_ids(new_html)),
        headers=tuple((name, header_value(value)) for name, value in raw_headers),
        attachments=tuple(attachments),
        content_hash=digest,
        return_path=_return_path(first.get("return-path")),
        content_type=content_type,
        thread_index=_thread_index(first.get("thread-index")),
        complete=complete,
        defects=tuple(dict.fromkeys(d[:200] for d in defects))[:MAX_DEFECTS],
    )


def _new_text(text: str, marked: str) -> str:
    """What the sender wrote anew: read from the HTML's structure (marked by mark_history) first, from the plain text else."""
    if marked.strip():
        # The clients mark their quotes in HTML; the plain part has only its patterns to go by.
        from_html = storable(strip_history(html_to_text(marked)))
        if from_html.strip():
            return from_html
    return strip_history(text)


def _addresses(value: str | None, name: str, defects: list[str], limit: int = MAX_ADDRESSES) -> list[tuple[str, str]]:
    """(display name, lowercased address) pairs of an address field, at most `limit`."""
    if not value or not value.strip():
        return []
    found: list[dict[str, object]] = []
    text, more = _first_items(unfold(value), limit)
    pairs = get_addresses(text, defects=found, decode_names=True)
    if found:
        defects.append(f"{name}: {found[0].get('reason', 'unreadable address')}")
    if more and limit == MAX_ADDRESSES:
        defects.append(f"{name}: more than {limit} addresses, kept {limit}")
    result: dict[str, str] = {}
    for display, address in pairs:
        address = address.strip().lower()
        if "@" in address and len(address) <= MAX_ADDRESS and not CONTROLS.search(address) and " " not in address:
            display = CONTROLS.sub(" ", storable(decode_words(display))).strip()
            result.setdefault(address, display)
    if name == "from" and not result:
        defects.append("from: no usable address")
    return [(display, address) for address, display in list(result.items())[:limit]]


def _first_items(value: str, count: int) -> tuple[str, bool]:
    """The first `count` items of an address list, and whether more follow."""
    # Address parsing costs ~0.2 ms an address: cut before parsing what is not kept.
    if value.count(",") >= count:
        items = 0
        for token in _LIST_TOKENS.finditer(value):
            items += token.group() == ","
            if items == count:
                return value[: token.start()], True
    return value, False


def _message_id(value: str | None) -> str | None:
    """The first "<...>" token of an id field (or a bare id with "@"), or None."""
    if value is None:
        return None
    found = _ID_TOKEN.search(value)
    if found:
        ident = found.group(1)
    elif "@" in value and len(value.split()) == 1 and "<" not in value and ">" not in value:
        ident = value.strip()
    else:
        return None
    token = f"<{ident}>"
    return token if _fits(token) else None


def _fits(token: str) -> bool:
    """True for an id the id columns and their indexes hold: MAX_ID bytes at most, printable."""
    return len(token) <= MAX_ID and len(token.encode("utf-8", "replace")) <= MAX_ID and token.isprintable()


def _references(value: str | None) -> tuple[str, ...]:
    """Every "<...>" token of References, oldest first, without repeats, the last 100."""
    if not value:
        return ()
    tokens = (f"<{ident}>" for ident in _ID_TOKEN.findall(value))
    unique = [t for t in dict.fromkeys(tokens) if _fits(t)]
    return tuple(unique[-MAX_REFERENCES:])


def _date(value: str | None, arrived_at: datetime, defects: list[str]) -> datetime:
    """The Date header in UTC; the arrival time when it is missing or unreadable."""
    if value is None:
        return arrived_at
    text = unfold(value).strip()
    selected = parse_mail_date(text).value
    if selected is not None:
        return cast(datetime, selected)
    # Then forms mail-parser refuses: no zone (read as UTC), or ISO 8601 from scripts.
    for reader in (parsedate_to_datetime, datetime.fromisoformat):
        try:
            return as_utc(reader(text))
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    defects.append("date unreadable; arrival time used")
    return arrived_at




def _return_path(value: str | None) -> str | None:
    """None without the header, "" for the null path "<>", else the lowercased address."""
    if value is None:
        return None
    text = unfold(value).strip()
    inner = re.search(r"<([^<>]*)>", text)
    return CONTROLS.sub("", inner.group(1) if inner else text).strip().lower()[:MAX_ID]


def _thread_index(value: str | None) -> str | None:
    """Outlook's Thread-Index when it looks like one (base64, at most 512 characters)."""
    text = "".join(unfold(value).split()) if value else ""
    return text if len(text) <= 512 and _BASE64.fullmatch(text) else None
