"""Pure: templates and values → an `email.message.EmailMessage` ready for the outbox."""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy as email_policy
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, select_autoescape

from mailroom.threader import tag_pattern
from mailroom.wording import sample_variants

# 7-bit clean bodies (quoted-printable/base64) reach every server, with or without 8BITMIME.
POLICY = email_policy.SMTP.clone(cte_type="7bit")
TEXT_SUFFIX, HTML_SUFFIX = ".txt.j2", ".html.j2"
REFERENCES_MAX = 20  # ids kept in References: the first and the latest (RFC 5322 3.6.4)
SUBJECT_MAX = 250

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
_MESSAGE_ID = re.compile(r"^<[!-;=?-~]+>$")  # printable ASCII, no spaces, no inner < >
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|fwd?|wg|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_FILETIME_EPOCH = 11644473600  # seconds from 1601-01-01 to 1970-01-01


# --- header values ----------------------------------------------------------------------------


def clean(value: str | None) -> str:
    """One safe header line: encoded-words decoded, CR/LF and control characters gone.

    Python's email package decodes encoded-words again when a header is set and would then
    write a decoded CR/LF as a real line break, so words are decoded here until none is left.
    """
    text = str(value or "")
    for _ in range(4):
        text = _CONTROL.sub(" ", text)
        if not _ENCODED_WORD.search(text):
            break
        try:
            text = str(make_header(decode_header(text)))
        except (LookupError, UnicodeError, ValueError):
            break
    text = _ENCODED_WORD.sub(lambda m: m.group(0).replace("=?", "= ?"), _CONTROL.sub(" ", text))
    return " ".join(text.split())


def valid_address(address: str | None) -> bool:
    """True for a plain ASCII `local@domain` address that can go in a header and an envelope."""
    return bool(address) and len(address) <= 320 and bool(_ADDRESS.match(address))


def valid_message_id(message_id: str | None) -> bool:
    """True for a `<…>` Message-ID that can be written verbatim."""
    return bool(message_id) and len(message_id) <= 900 and bool(_MESSAGE_ID.match(message_id))


def tagged_subject(subject: str, ticket_tag: str, ticket_id: int | None) -> str:
    """The subject with the ticket tag in front, never twice (the threader's spacing-tolerant match)."""
    text = clean(subject)[:SUBJECT_MAX]
    if ticket_id is None or ticket_id in {int(found) for found in tag_pattern(ticket_tag).findall(text)}:
        return text
    return f"{ticket_tag.format(id=ticket_id)} {text}".strip()


def reply_subject(subject: str) -> str:
    """`Re: subject`, without stacking prefixes."""
    text = clean(subject)
    return text if re.match(r"^\s*re\s*:", text, re.IGNORECASE) else f"Re: {text}"


def thread_topic(subject: str) -> str:
    """Outlook's Thread-Topic: the subject without reply and forward prefixes."""
    return _REPLY_PREFIX.sub("", clean(subject))[:SUBJECT_MAX]


def cap_references(ids: list[str] | tuple[str, ...]) -> list[str]:
    """Valid ids in order, duplicates dropped, trimmed in the middle to REFERENCES_MAX."""
    seen: dict[str, None] = {}
    for mid in ids:
        if valid_message_id(mid):
            seen.setdefault(mid, None)
    kept = list(seen)
    if len(kept) > REFERENCES_MAX:
        kept = kept[:1] + kept[-(REFERENCES_MAX - 1) :]
    return kept


def thread_index(parent: str | None, now: datetime, seed: str) -> str:
    """Outlook's Thread-Index: a child block appended to the customer's, or a new header block.

    Header: 6 bytes of FILETIME (its first byte is the reserved 0x01 for our era) + a 16-byte
    GUID. Child: 1 bit delta code, 31 bits of time since the header, a random nibble and a
    sequence nibble. The GUID and nibble come from `seed`, so one outbox row always gets the
    same value.
    """
    filetime = (int(now.timestamp()) + _FILETIME_EPOCH) * 10_000_000 + now.microsecond * 10
    digest = hashlib.sha256(seed.encode()).digest()
    block = _decode_thread_index(parent)
    if block is None or len(block) + 5 > 600:
        return base64.b64encode(struct.pack(">Q", filetime)[:6] + digest[:16]).decode()
    started = int.from_bytes(block[:6] + b"\0\0", "big")
    delta = max(0, filetime - started)
    if delta < 1 << 49:
        code, value = 0, (delta >> 18) & 0x7FFFFFFF
    else:
        code, value = 1, (delta >> 23) & 0x7FFFFFFF
    child = ((code << 31) | value).to_bytes(4, "big") + bytes([digest[16] & 0xF0 | (len(block) - 22) // 5 & 0x0F])
    return base64.b64encode(block + child).decode()


def _decode_thread_index(value: str | None) -> bytes | None:
    if not value:
        return None
    try:
        raw = base64.b64decode("".join(value.split()), validate=True)
    except ValueError:
        return None
    return raw if len(raw) >= 22 and (len(raw) - 22) % 5 == 0 else None


class _Verbatim(str):
    """A header of tokens written as given and folded between them, never as encoded-words.

    Python would turn a Message-ID or Thread-Index longer than a line into encoded-words,
    which no mail client matches when threading.
    """

    name: str
    tokens: tuple[str, ...]

    def __new__(cls, name: str, tokens: list[str]) -> _Verbatim:
        obj = super().__new__(cls, " ".join(tokens))
        obj.name, obj.tokens = name, tuple(tokens)
        return obj

    def fold(self, *, policy: Any) -> str:
        """The header as it goes on the wire."""
        lines, line = [], f"{self.name}:"
        for token in self.tokens:
            if len(line) + 1 + len(token) > policy.max_line_length and line.strip() != f"{self.name}:":
                lines.append(line)
                line = ""
            line += " " + token
        lines.append(line)
        return policy.linesep.join(lines) + policy.linesep


# --- templates --------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def environment(templates_dir: str) -> Environment:
    """The Jinja2 environment of one templates folder (templates reload when edited)."""
    return Environment(
        loader=FileSystemLoader(templates_dir),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html", "html.j2"]),
        keep_trailing_newline=True,
    )


def has_template(templates_dir: str | Path, name: str) -> bool:
    """True when `name.txt.j2` exists in the folder."""
    return (Path(templates_dir) / f"{name}{TEXT_SUFFIX}").is_file()


def render(templates_dir: str | Path, name: str, values: dict[str, Any]) -> tuple[str, str | None]:
    """The text of template `name` and its HTML alternative (None when there is none)."""
    env = environment(str(templates_dir))
    text = env.get_template(f"{name}{TEXT_SUFFIX}").render(values)
    html = None
    if (Path(templates_dir) / f"{name}{HTML_SUFFIX}").is_file():
        html = env.get_template(f"{name}{HTML_SUFFIX}").render(values)
    return text, html


def render_check(templates_dir: str | Path, names: list[str] | tuple[str, ...]) -> list[str]:
    """Render each template with sample values of every variable; one line per failure."""
    problems = []
    for name in names:
        if not has_template(templates_dir, name):
            problems.append(f"{Path(templates_dir) / (name + TEXT_SUFFIX)}: no such template")
            continue
        for label, values in sample_variants(name):
            try:
                render(templates_dir, name, values)
            except TemplateError as exc:
                where = f":{exc.lineno}" if getattr(exc, "lineno", None) else ""
                problems.append(f"{Path(templates_dir) / name}{where}: {exc.message or exc} ({label} values)")
                break
    return problems


# --- the message ------------------------------------------------------------------------------


@dataclass(frozen=True)
class File:
    """An attachment to send."""

    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Draft:
    """Everything one outbound mail needs; `build` turns it into an EmailMessage."""

    sender_name: str
    sender_address: str
    to: tuple[str, ...]
    subject: str
    message_id: str
    date: datetime
    text: str
    html: str | None = None
    reply_to: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    auto_submitted: str | None = None  # auto-replied (acks, surveys) | auto-generated
    suppress_auto_responses: bool = False
    loop: str = ""  # X-Loop: the support address
    thread_topic: str | None = None
    thread_index: str | None = None
    attachments: tuple[File, ...] = field(default=())


def build(draft: Draft) -> EmailMessage:
    """The mail: headers cleaned of anything that could add a header, body, alternative, files."""
    msg = EmailMessage(policy=POLICY)
    msg["From"] = Address(display_name=clean(draft.sender_name), addr_spec=draft.sender_address)
    recipients = [a for a in draft.to if valid_address(a)]
    if not recipients:
        raise ValueError("no valid recipient")
    msg["To"] = tuple(Address(addr_spec=a) for a in recipients)
    if draft.reply_to and valid_address(draft.reply_to):
        msg["Reply-To"] = Address(addr_spec=draft.reply_to)
    msg["Subject"] = clean(draft.subject)[: SUBJECT_MAX + 40]
    msg["Date"] = format_datetime(draft.date.astimezone(UTC))
    msg["Message-ID"] = _Verbatim("Message-ID", [draft.message_id])
    if draft.in_reply_to and valid_message_id(draft.in_reply_to):
        msg["In-Reply-To"] = _Verbatim("In-Reply-To", [draft.in_reply_to])
    references = cap_references(list(draft.references))
    if references:
        msg["References"] = _Verbatim("References", references)
    if draft.auto_submitted:
        msg["Auto-Submitted"] = draft.auto_submitted
    if draft.suppress_auto_responses:
        msg["X-Auto-Response-Suppress"] = "All"
    if draft.loop:
        msg["X-Loop"] = clean(draft.loop)
    if draft.thread_topic:
        msg["Thread-Topic"] = clean(draft.thread_topic)
    if draft.thread_index:
        msg["Thread-Index"] = _Verbatim("Thread-Index", [draft.thread_index])
    msg.set_content(_body(draft.text))
    if draft.html is not None:
        msg.add_alternative(_body(draft.html), subtype="html")
    for part in draft.attachments:
        maintype, _, subtype = (part.content_type or "").lower().partition("/")
        name = clean(part.filename) or ("attachment.eml" if maintype == "message" else "attachment")
        if not maintype or not subtype or maintype in ("multipart", "message"):
            # The email package wants message/* and multipart/* parts as objects, not bytes;
            # a bounce's report or a forwarded mail goes as an opaque file.
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(part.content, maintype=maintype, subtype=subtype, filename=name)
    # Boundaries derived from the Message-ID keep `build` a pure function; "=_" never occurs
    # in quoted-printable or base64, and 7-bit text cannot guess the hash.
    seed = hashlib.sha256(draft.message_id.encode()).hexdigest()[:24]
    for number, part in enumerate(p for p in msg.walk() if p.is_multipart()):
        part.set_boundary(f"=_mr_{seed}_{number}")
    return msg


def _body(text: str) -> str:
    # Lines are normalised so that the stored text and the sent text are the same.
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    return body if body.endswith("\n") else body + "\n"
