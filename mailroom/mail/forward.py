"""Pure: a customer's mail that an engineer forwarded — the original's sender, subject, date and text."""

# A forward carries the customer's mail in one of two ways: attached whole (message/rfc822), or
# quoted below the engineer's words as a header block (From/Date/Subject/To in the client's
# language) under a line such as "---------- Forwarded message ---------". The phrases and
# subject prefixes are data in replylang.py. Lines are read with string operations and bounded
# look-ahead only, so hostile text costs time linear in its length.

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import parsedate_to_datetime

from mailroom.clock import as_utc
from mailroom.errors import UnparseableMessage
from mailroom.mail import replylang
from mailroom.mail.addresses import valid_address
from mailroom.mail.message import MAX_ADDRESS, Inbound, parse
from mailroom.mail.mime import CONTROLS, MAX_SUBJECT
from mailroom.mail.quoting import new_text

_PREFIX = re.compile(rf"[ \t]*+({replylang.FORWARD_PREFIXES})[ \t]*+(?:\[\d{{1,5}}\])?[ \t]*+[:：]", re.IGNORECASE)
_ANGLE = re.compile(r"<([^<>\s]{1,330})>")
_MAILTO = re.compile(r"\[mailto:([^\[\]\s]{1,330})\]", re.IGNORECASE)
_ID = re.compile(r"<[^<>\s]{1,990}>")
MAX_LINE = 400  # longer lines are never a marker or a header field
MAX_FIELDS = 12  # header lines of one quoted block
RFC822 = "message/rfc822"


@dataclass(frozen=True)
class Forward:
    """A forwarded mail: the customer's as it was written, and the engineer's words above it."""

    original: Inbound | None  # the customer's mail (arriving when the forward did); None: no sender found
    note: str  # the engineer's own words (signature removed, `#` command lines kept)
    how: str  # "attached message", "quoted message" or "subject"
    problem: str = ""  # why no original sender was found


def original_subject(subject: str) -> str:
    """The subject without its leading forward prefixes ("Fwd: WG: Export" → "Export")."""
    position = 0
    while found := _PREFIX.match(subject, position):
        position = found.end()
    return subject[position:].strip()


def is_forward_subject(subject: str) -> bool:
    """True when the subject starts with a forward prefix in some language (Fwd:, WG:, TR:, RV:, …)."""
    return _PREFIX.match(subject) is not None


def find(message: Inbound) -> Forward | None:
    """The forward in `message`, or None when it is no forward; `original` None when its sender is unknown."""
    attached = next((a for a in message.attachments if a.content_type == RFC822), None)
    if attached is not None:
        return _attached(message, attached.content)
    prefixed = is_forward_subject(message.subject)
    lines = message.text.split("\n")
    block = _block(lines)
    if block is None or (not block.forward_only and not prefixed):
        if prefixed:
            return Forward(None, message.new_text, "subject", "no forwarded message with its sender's address was found")
        return None
    note = new_text("\n".join(lines[: block.start]))
    sender = _sender(block.fields.get("from", ""))
    if sender is None:
        problem = "the forwarded message's From line holds no single valid address"
        return Forward(None, note, "quoted message", problem)
    address, name = sender
    body = _body(lines[block.end :])
    subject = _one_line(block.fields.get("subject", ""))[:MAX_SUBJECT]
    written = block.fields.get("date") or block.fields.get("sent") or ""
    date = _date(written) or message.date
    original = Inbound(
        message_id=_message_id(block.fields.get("message-id", ""), address, subject, written, body),
        in_reply_to=None,
        references=(),
        from_addr=address,
        from_name=name,
        reply_to=None,
        to=(),
        cc=(),
        subject=original_subject(subject) or original_subject(message.subject),
        date=date,
        arrived_at=message.arrived_at,
        text=body,
        new_text=new_text(body) or body,
        headers=(),
        attachments=tuple(a for a in message.attachments if a.content_type != RFC822),
        content_hash=hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest(),
        mailbox=message.mailbox,  # it reached us inside the forward
    )
    return Forward(original, note, "quoted message")


def _attached(message: Inbound, content: bytes | None) -> Forward:
    """The forward whose customer's mail is attached whole."""
    how = "attached message"
    if content is None:
        return Forward(None, message.new_text, how, "the attached message is over the size limit")
    try:
        inner = parse(content, message.arrived_at)
    except UnparseableMessage as exc:
        return Forward(None, message.new_text, how, f"the attached message cannot be read ({exc})")
    if not valid_address(inner.from_addr):
        return Forward(None, message.new_text, how, "the attached message has no valid From address")
    subject = original_subject(inner.subject) or original_subject(message.subject)
    return Forward(replace(inner, subject=subject, mailbox=message.mailbox), message.new_text, how)


@dataclass(frozen=True)
class _Block:
    start: int  # the first line of the forward (its marker, or the header block)
    end: int  # the first line after the header block
    fields: dict[str, str]  # field kind → value (from, date, sent, subject, …)
    forward_only: bool  # opened by a line only forwards write ("Forwarded message")


def _block(lines: list[str]) -> _Block | None:
    """The first forwarded header block with a From line, or None."""
    for index, line in enumerate(lines):
        if len(line) > MAX_LINE:
            continue
        bare = line.lstrip(" \t>").strip()
        marker = _marker(bare)
        if marker is not None:
            fields, end = _fields(lines, index + 1)
            if "from" in fields:
                return _Block(index, end, fields, marker)
        elif _field(line)[0] == "from":
            fields, end = _fields(lines, index)
            if len(fields) >= 3:  # Outlook's block: From with Sent, To, Subject
                return _Block(index, end, fields, False)
    return None


def _marker(bare: str) -> bool | None:
    """True for a forward's opening line, False for one replies write too, None for any other line."""
    if len(bare) >= 10 and not bare.strip("_"):
        return False  # Outlook's rule above its header block
    core = bare.strip("-–— \t*").rstrip(":：").strip().casefold()
    if core in replylang.FORWARD_MARKERS:
        return True
    if core in replylang.ORIGINAL_MARKERS and bare[:1] in "-–—":
        return False
    return None


def _field(line: str) -> tuple[str | None, str]:
    """(kind, value) of a quoted header line ("Von: Jane <j@x>" → ("from", "Jane <j@x>")), else (None, "")."""
    if len(line) > MAX_LINE:
        return None, ""
    bare = line.lstrip(" \t>")
    head = bare[:60]
    colons = [p for p in (head.find(":"), head.find("：")) if p >= 0]
    if not colons:
        return None, ""
    name = head[: min(colons)].strip().strip("*").strip().casefold()
    kind = replylang.HEADER_FIELDS.get(name)
    return (kind, bare[min(colons) + 1 :].lstrip("*").strip()) if kind else (None, "")


def _fields(lines: list[str], start: int) -> tuple[dict[str, str], int]:
    """The header fields from `start` (after at most two blank lines), and the line after them."""
    index = start
    while index < len(lines) and index < start + 2 and not lines[index].strip():
        index += 1
    fields: dict[str, str] = {}
    last = min(len(lines), index + MAX_FIELDS)  # bounded by lines, not fields: a run of From lines ends too
    while index < last:
        kind, value = _field(lines[index])
        if kind is None:
            break
        fields.setdefault(kind, value)
        index += 1
    return fields, index


def _body(lines: list[str]) -> str:
    """The forwarded text: blank lines around it dropped, one level of `>` quoting removed."""
    written = [line for line in lines if line.strip()]
    if written and all(line.lstrip().startswith(">") for line in written):
        lines = [_unquoted(line) for line in lines]
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return "\n".join(line.rstrip() for line in lines[start:end])


def _unquoted(line: str) -> str:
    rest = line.lstrip()[1:]
    return rest[1:] if rest.startswith(" ") else rest


def _sender(value: str) -> tuple[str, str] | None:
    """(address, display name) of a quoted From line, when it names exactly one valid address."""
    tokens = _ANGLE.findall(value) + _MAILTO.findall(value)
    bare = value.strip().strip("\"'")
    if not tokens and "@" in bare and " " not in bare:
        tokens = [bare]
    addresses = {t.strip().lower().removeprefix("mailto:") for t in tokens}
    if len(addresses) != 1:
        return None
    address = addresses.pop()
    if not valid_address(address):
        return None
    name = _one_line(_MAILTO.sub(" ", _ANGLE.sub(" ", value))).strip("\"' ")
    return address, "" if name.lower() == address else name[:MAX_ADDRESS]


def _one_line(value: str) -> str:
    """A value with no control characters or line breaks (nothing a header could be split on)."""
    return CONTROLS.sub(" ", value).strip()


def _date(value: str) -> datetime | None:
    """A quoted Date line in RFC 5322 form, in UTC; None for the clients' localised forms."""
    try:
        return as_utc(parsedate_to_datetime(value.strip()))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _message_id(quoted: str, address: str, subject: str, date: str, body: str) -> str:
    """The quoted Message-ID, else one derived from the mail: the same mail forwarded twice has the same."""
    found = _ID.search(quoted)
    if found:
        return found.group()
    digest = hashlib.sha256("\x00".join((address, subject, date, body)).encode("utf-8", "surrogatepass"))
    return f"<forwarded-{digest.hexdigest()[:32]}@mailroom.invalid>"
