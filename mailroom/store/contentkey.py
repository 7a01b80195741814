"""The content key: what tells a second delivery of one mail from a second mail that shares its Message-ID."""

# Two deliveries of one mail (a re-delivery, or one mail To support@ and Cc billing@ read from
# two mailboxes) differ only in what servers add on the way; two mails that share a Message-ID
# differ in something their author wrote (a Cc, a Content-Type, the body). So the key covers the
# body and every header except those servers add, which are named here.

from __future__ import annotations

import hashlib
import re

# Trace and delivery stamps (RFC 5321 4.4, RFC 5322 3.6.7): every hop and mailbox writes its own.
_DELIVERY = (
    "received", "return-path", "delivered-to", "x-original-to", "envelope-to", "delivery-date",
    "x-delivered-to", "x-rcpt-to", "x-apparently-to", "x-received", "x-sieve",
)
# Verdicts of the receiving side, made anew on each delivery. DKIM-Signature is left out too:
# the sender's server signs once, but a forwarding hop (a group, a list, a relay) adds its own,
# which would split one mail into two; and it signs only what the key covers anyway.
_VERDICTS = (
    "authentication-results", "x-original-authentication-results", "received-spf", "dkim-signature",
    "domainkey-signature", "x-quarantine-id", "x-microsoft-antispam", "x-microsoft-antispam-mailbox-delivery",
    "x-forefront-antispam-report", "x-ms-office365-filtering-correlation-id",
)
# What mail stores write into the mail they keep (mbox and Maildir exports): flags and lengths
# of the body as stored, which the body itself already tells.
_STORES = ("status", "x-status", "x-keywords", "x-uid", "x-mozilla-status", "x-mozilla-status2", "content-length", "lines")
TRANSIT = frozenset((*_DELIVERY, *_VERDICTS, *_STORES))
# Families of stamps: ARC sets (RFC 8617), envelope copies, spam and virus filters (SpamAssassin,
# Rspamd, amavis), and the receiving side's trace stamps of Microsoft 365 and Google.
TRANSIT_PREFIXES = ("arc-", "x-envelope-", "x-spam-", "x-virus-", "x-rspamd-", "x-amavis-", "x-ms-exchange-", "x-google-")

_SPACE = re.compile(rb"[ \t]+")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")  # "\n\n" once CRLF line ends are made LF
_PIECE = 1 << 20
_VERSION = b"mailroom content key 2\n"  # never equal to a legacy key of another mail


def content_key(raw: bytes, spam_score_header: str = "") -> str:
    """SHA-256 hex of the body and the headers the author wrote; `spam_score_header` is the MX's own stamp."""
    # Unfolded, runs of spaces made one, line ends made LF and the fields sorted: servers refold,
    # reorder and re-end lines, which makes no other mail. The head is split off where the mail
    # with its line ends made LF has its first blank line.
    blank = _BLANK_LINE.search(raw)
    head = (raw[: blank.start()] if blank else raw).replace(b"\r\n", b"\n")
    skipped = spam_score_header.strip().lower()
    fields = [(name, value) for name, value in _fields(head) if not _in_transit(name, skipped)]
    digest = hashlib.sha256(_VERSION)
    for name, value in sorted(fields):
        digest.update(name + b":" + value + b"\n")
    digest.update(b"\n")
    if blank:
        _digest_body(digest, raw, blank.end())
    return digest.hexdigest()


def _digest_body(digest: hashlib._Hash, raw: bytes, start: int) -> None:
    """Hash `raw[start:]` with its line ends made LF and its trailing LFs dropped, a piece at a time."""
    # A piece at a time: whole, the copies (LF line ends, the stripped end) made a 50 MB mail
    # cost four times its size at once.
    view = memoryview(raw)
    held = 0  # LFs seen at the end so far: hashed only once something follows them
    carry = b""  # a CR at a piece's end, which may begin a CRLF split between two pieces
    for offset in range(start, len(raw), _PIECE):
        piece = carry + bytes(view[offset : offset + _PIECE])
        carry = b""
        if piece.endswith(b"\r") and offset + _PIECE < len(raw):
            piece, carry = piece[:-1], b"\r"
        text = piece.replace(b"\r\n", b"\n")
        kept = text.rstrip(b"\n")
        if kept:
            digest.update(b"\n" * held)
            digest.update(kept)
            held = len(text) - len(kept)
        else:
            held += len(text)


def legacy_content_key(raw: bytes) -> str:
    """The key of schema version 4 and before: the From, Subject, Date, Message-ID and To lines, and the body."""
    # Messages stored then carry it: a re-fetch of one of them must still be recognised. The body
    # is hashed where it lies in `raw`: a copy would cost a huge mail its size again.
    cut, width = raw.find(b"\r\n\r\n"), 4
    if (cut < 0 or cut + width == len(raw)) and b"\n\n" in raw:
        cut, width = raw.find(b"\n\n"), 2
    head = raw[:cut] if cut >= 0 else raw
    body = memoryview(raw)[cut + width :] if cut >= 0 else memoryview(b"")
    digest = hashlib.sha256()
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        name = line.split(b":", 1)[0].strip().lower()
        if name in (b"from", b"subject", b"date", b"message-id", b"to"):
            digest.update(line.strip() + b"\n")
    digest.update(body)
    return digest.hexdigest()


def content_keys(raw: bytes, spam_score_header: str = "") -> tuple[str, str]:
    """The key a mail is stored under now, and the one it was stored under before version 5."""
    return content_key(raw, spam_score_header), legacy_content_key(raw)


def _fields(head: bytes) -> list[tuple[bytes, bytes]]:
    """Each header as (lowercased name, unfolded value with runs of spaces made one)."""
    fields: list[list[bytes]] = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1][1] += b" " + line
            continue
        name, _, value = line.partition(b":")
        fields.append([name.strip().lower(), value])
    return [(name, _SPACE.sub(b" ", value).strip()) for name, value in fields if name or value.strip()]


def _in_transit(name: bytes, spam_score_header: str) -> bool:
    """True for a header a server adds on the way, never the author."""
    text = name.decode("latin-1")
    return text in TRANSIT or text.startswith(TRANSIT_PREFIXES) or (bool(spam_score_header) and text == spam_score_header)
