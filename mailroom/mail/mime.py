"""Pure: the MIME layer of a raw mail: header fields capped and parsed, header text decoded, parts walked."""

# One parse with the standard library's compat32 feed parser, fed in chunks, then
# our own walk. Measured on CPython's email corpus (48 messages): compat32 12 ms per
# corpus and no exceptions; the default policy 141 ms and 7 exceptions (KeyError from
# get_content on broken multiparts); a full mail-parser parse 28 ms, and it cannot
# be given a message already parsed without parsing every part again. Feeding the
# bytes in chunks avoids the parser's whole-message str copies: a 27 MB mail with a
# 20 MB attachment peaks at 120 MB RSS for the whole process (mail-parser: 248 MB).

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from email.feedparser import BytesFeedParser
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from typing import TypeVar

from mailroom.mail.htmltext import (
    MAX_HTML,
    as_text,
    decode,
    decode_words,
    html_to_text,
    payload_bytes,
    storable,
)

MAX_HEADER = 16_384  # bytes of one header field: longer ones are cut (and the cut recorded) before any parsing
MAX_ADDRESS_HEADER = 131_072  # an address field: room for the 500 recipients kept, each a long "Name" <address>
MAX_HEADERS = 1_000  # header fields kept
MAX_SUBJECT = 1_000
_CHUNK = 1 << 20
T = TypeVar("T")
D = TypeVar("D")

_FIELD_START = re.compile(rb"[\x21-\x39\x3b-\x7e]+:")
_ADDRESS_FIELDS = frozenset(
    {b"from", b"to", b"cc", b"bcc", b"reply-to", b"sender", b"resent-from", b"resent-to", b"resent-cc"}
)
CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")  # never kept in a one-line value
_FOLD = re.compile(r"(?:\r\n|\n|\r)[ \t]*")
_LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]")
_FILENAME_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")
_EXTENSIONS = {  # for made-up names: never the system's mimetypes tables, which differ per host
    "application/pdf": ".pdf", "application/zip": ".zip", "image/png": ".png", "image/jpeg": ".jpg",
    "image/gif": ".gif", "text/plain": ".txt", "text/html": ".html", "text/calendar": ".ics",
    "message/rfc822": ".eml", "message/delivery-status": ".txt", "text/rfc822-headers": ".txt",
}


@dataclass(frozen=True)
class Attachment:
    """One attachment; `content` is None when it was over the size limit (kept by name and size)."""

    filename: str
    content_type: str
    size: int
    content: bytes | None
    content_id: str | None = None  # an inline image's Content-ID (without <>), as HTML's cid: names it


def parse_bytes(raw: bytes, defects: list[str]) -> Message:
    """One compat32 parse, header fields capped first, the body fed in chunks."""
    head, body_start = _capped_head(raw, defects)
    parser = BytesFeedParser(policy=compat32)
    try:
        parser.feed(head)
        view = memoryview(raw)
        for start in range(body_start, len(raw), _CHUNK):
            parser.feed(bytes(view[start : start + _CHUNK]))
        msg = parser.close()
    except RecursionError:
        # Each multipart level is one level of recursion in the parser: keep the headers.
        defects.append("MIME nesting too deep; body not read")
        return BytesParser(policy=compat32).parsebytes(head, headersonly=True)
    defects.extend(type(defect).__name__ for defect in msg.defects)
    return msg


def _capped_head(raw: bytes, defects: list[str]) -> tuple[bytes, int]:
    """The header block with each field cut to its cap, and where the body starts."""
    fields: list[list[int]] = []
    position = end = raw.find(b"\n") + 1 if raw.startswith(b"From ") else 0
    first_field = position
    while position < len(raw):
        newline = raw.find(b"\n", position)
        end = len(raw) if newline < 0 else newline + 1
        if raw[position : position + 1] in (b" ", b"\t") and fields:
            fields[-1][1] = end
        elif not raw[position:end].strip():
            position = end  # the blank line ending the header block belongs to it
            break
        elif _FIELD_START.match(raw, position):
            fields.append([position, end])
        else:
            break  # body text without a blank line; the parser records that defect
        position = end
    if len(fields) <= MAX_HEADERS and all(stop - start <= _cap(raw, start) for start, stop in fields):
        return raw[:position], position
    eol = b"\r\n" if raw[fields[0][1] - 2 : fields[0][1]] == b"\r\n" else b"\n"
    pieces = [raw[:first_field]]
    for start, stop in fields[:MAX_HEADERS]:
        piece = raw[start:stop]
        cap = _cap(raw, start)
        if stop - start > cap:
            name = piece.split(b":", 1)[0].strip().lower()
            piece = piece[:cap]
            if name in _ADDRESS_FIELDS and b"," in piece:
                piece = piece[: piece.rfind(b",")]  # never keep half an address
            piece = piece.rstrip(b"\r\n \t") + eol
            defects.append(f"header {name.decode('ascii', 'replace')} cut to {cap} bytes")
        pieces.append(piece)
    if len(fields) > MAX_HEADERS:
        defects.append(f"{len(fields) - MAX_HEADERS} header fields over {MAX_HEADERS} dropped")
    pieces.append(raw[fields[-1][1] : position])
    return b"".join(pieces), position


def _cap(raw: bytes, start: int) -> int:
    """How many bytes are kept of the header field that starts at `start`."""
    name = raw[start : raw.find(b":", start)].strip().lower()
    return MAX_ADDRESS_HEADER if name in _ADDRESS_FIELDS else MAX_HEADER


def walk(
    msg: Message, hint: str | None, limit: int, defects: list[str], max_text: int = 1_000_000
) -> tuple[str, list[Attachment], str, list[Attachment]]:
    """The body text (each part read to about `max_text` characters), attachments, HTML, inline images."""
    # A walk that never descends into attached mail.
    plain: list[str] = []
    html: list[str] = []
    named: list[str] = []
    attachments: list[Attachment] = []
    images: list[Attachment] = []
    stack = [msg]
    while stack:
        part = stack.pop()
        if part is not msg:
            defects.extend(type(defect).__name__ for defect in part.defects)
        ctype = safe(part.get_content_type, "application/octet-stream")
        if part.is_multipart() and not ctype.startswith("message/"):
            stack.extend(reversed([p for p in part.get_payload() if isinstance(p, Message)]))
            continue
        disposition = safe(part.get_content_disposition, None)
        name = safe(part.get_filename, None)
        inline = not name and disposition != "attachment"
        if inline and ctype.startswith("image/"):
            # Unnamed inline images are logos and pixels, no attachment (screenshots carry names);
            # kept aside only for the HTML that shows them by Content-ID.
            cid = _content_id(part)
            content = payload_bytes(part, defects) if cid else b""
            if cid and len(content) <= limit:
                images.append(Attachment(f"image-{len(images) + 1}", ctype[:255], len(content), content, cid))
            continue
        body = inline and (ctype in ("text/plain", "text/html") or ctype.startswith("multipart/"))
        if ctype.startswith("message/"):
            name, content = _attached_message(part, ctype, name, hint)
        else:
            # Body text is read to max_text characters (4 bytes each at most in UTF-8), HTML to MAX_HTML.
            keep = 4 * (MAX_HTML if ctype == "text/html" else max_text)
            content = payload_bytes(part, defects, keep if body else None)
        # A multipart without a boundary is a leaf holding its parts' text: read it as text.
        if body:
            text = decode(content, safe(part.get_content_charset, None), defects)
            (html if ctype == "text/html" else plain).append(text)
            continue
        filename = _filename(name, hint, ctype, len(attachments))
        size = len(content)
        attachments.append(
            Attachment(filename, ctype[:255], size, content if size <= limit else None, _content_id(part))
        )
        if ctype == "text/plain" and disposition != "attachment":
            named.append(decode(content, safe(part.get_content_charset, None), defects))
    markup = "\n".join(html)
    if any(text.strip() for text in plain):
        return "\n".join(plain), attachments, markup, images
    if html:
        return html_to_text(markup), attachments, markup, images
    return "\n".join(plain or named), attachments, markup, images  # named inline text when there is no other


def _content_id(part: Message) -> str | None:
    """A part's Content-ID without its angle brackets, lowercased; None when it has none."""
    value = str(part.get("content-id", "") or "").strip().strip("<>").strip()
    return value.lower()[:255] if value and value.isprintable() and " " not in value else None


def _attached_message(part: Message, ctype: str, name: str | None, hint: str | None) -> tuple[str | None, bytes]:
    """A message/* part's file name and bytes, written back from its raw headers and bodies."""
    out: list[str] = []
    try:
        _write(part.get_payload() if ctype == "message/rfc822" else part, out, top=ctype != "message/rfc822")
        text = "".join(out)
        content = (text.replace("\r\n", "\n").replace("\n", "\r\n") if "\r\n" in text else text).encode(
            "utf-8", "surrogateescape"
        )
    except (RecursionError, UnicodeError):
        content = b""
    inner = part.get_payload()
    if not name and ctype == "message/rfc822" and isinstance(inner, list) and inner:
        first = inner[0]
        subject = decode_subject(None if isinstance(first, str) else first.get("subject"), hint)
        name = f"{subject[:100]}.eml" if subject else None
    return name, content


def _write(item: object, out: list[str], top: bool = False) -> None:
    """Append a parsed part as text; the stdlib generator would re-fold and re-encode headers."""
    if isinstance(item, list):
        for sub in item:
            _write(sub, out)
        return
    if not isinstance(item, Message):
        out.append(str(item))
        return
    if not top:  # a message/delivery-status part's own headers are not its content
        out.extend(f"{name}: {value}\n" for name, value in item.raw_items())
        out.append("\n")
    payload = item.get_payload()
    boundary = item.get_boundary() if isinstance(payload, list) and item.get_content_maintype() == "multipart" else None
    if boundary is None:
        _write(payload, out)
        return
    out.append(f"{item.preamble}\n" if item.preamble else "")
    for sub in payload:
        out.append(f"--{boundary}\n")
        _write(sub, out)
        out.append("\n")
    out.append(f"--{boundary}--\n{item.epilogue or ''}")


def _filename(name: str | None, hint: str | None, ctype: str, index: int) -> str:
    """A decoded file name without path or control characters, or a safe made-up one."""
    if name:
        decoded = decode_words(as_text(name, hint))
        # Format characters (bidi overrides and isolates among them) make `invoice\u202efdp.exe`
        # show as "invoiceexe.pdf": they go, as do path separators and control characters.
        decoded = "".join(c for c in storable(decoded) if unicodedata.category(c) != "Cf")
        decoded = _FILENAME_UNSAFE.sub("_", decoded).strip(" ._")
        if decoded:
            return decoded[-255:] if len(decoded) > 255 else decoded
    return f"attachment-{index + 1}{_EXTENSIONS.get(ctype, '.bin')}"


def header_value(value: str) -> str:
    """A header's value decoded and on one line."""
    return _LINE_BREAKS.sub(" ", storable(decode_words(unfold(value)))).strip()


def unfold(value: str) -> str:
    """A header value on one line, each fold (line break and its indent) one space."""
    return _FOLD.sub(" ", value) if "\n" in value or "\r" in value else value


def decode_subject(value: str | None, hint: str | None) -> str:
    """The subject decoded, on one line, with no control characters (no header injection)."""
    if value is None:
        return ""
    decoded = decode_words(unfold(as_text(value, hint)))
    return CONTROLS.sub(" ", storable(decoded)).strip()[:MAX_SUBJECT].strip()


def safe(call: Callable[[], T], default: D) -> T | D:
    """call(), or default when the stdlib trips over a malformed header."""
    try:
        return call()
    except Exception:  # noqa: BLE001 - compat32 accessors raise on some broken parameters
        return default
