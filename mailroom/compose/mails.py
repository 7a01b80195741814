"""Pure: templates and values → the bytes of a mail ready for the outbox."""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, select_autoescape

from mailroom.compose.wording import sample_variants
from mailroom.mail import mimewrite
from mailroom.mail.addresses import valid_address
from mailroom.mail.threader import tag_pattern

TEXT_SUFFIX, HTML_SUFFIX = ".txt.j2", ".html.j2"
REFERENCES_MAX = 20  # ids kept in References: the first and the latest (RFC 5322 3.6.4)
SUBJECT_MAX = 250

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]+")
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")
_MESSAGE_ID = re.compile(r"^<[!-;=?-~]+>$")  # printable ASCII, no spaces, no inner < >
_THREAD_INDEX = re.compile(r"^[A-Za-z0-9+/=]{1,900}$")
_CONTENT_ID = re.compile(r"^[\x21-\x3b\x3d\x3f-\x7e]{1,255}$")  # printable ASCII but "<" and ">"
_MIME_TOKEN = re.compile(r"^[!#$%&'*+.^_`{|}~0-9a-z-]{1,127}$")  # RFC 2045 token, RFC 6838 length
_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|fwd?|wg|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_FILETIME_EPOCH = 11644473600  # seconds from 1601-01-01 to 1970-01-01


# --- header values ----------------------------------------------------------------------------


def clean(value: str | None) -> str:
    """One safe header line: encoded-words decoded, CR/LF and control characters gone.

    Words are decoded until none is left and what still looks like one is broken up: written
    verbatim, a word would be decoded again by the reader's client, CR/LF and all.
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


def valid_message_id(message_id: str | None) -> bool:
    """True for a `<…>` Message-ID that can be written verbatim."""
    return message_id is not None and len(message_id) <= 900 and bool(_MESSAGE_ID.match(message_id))


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


# --- templates --------------------------------------------------------------------------------


SHIPPED_TEMPLATES = Path(__file__).resolve().parent / "templates"
LANGUAGE_FOLDER = re.compile(r"[a-z]{2,3}")  # templates/de/ack.txt.j2: ISO 639-1 codes


@lru_cache(maxsize=16)
def environment(templates_dir: str) -> Environment:
    """The Jinja2 environment of one templates folder (templates reload when edited)."""
    return Environment(
        # A template folder made before a kind of mail existed falls back to the shipped one.
        loader=FileSystemLoader([templates_dir, str(SHIPPED_TEMPLATES)]),
        undefined=StrictUndefined,
        autoescape=select_autoescape(["html", "html.j2"]),
        keep_trailing_newline=True,
    )


def has_template(templates_dir: str | Path, name: str) -> bool:
    """True when `name.txt.j2` exists in the folder, or is shipped."""
    return any((folder / f"{name}{TEXT_SUFFIX}").is_file() for folder in (Path(templates_dir), SHIPPED_TEMPLATES))


def languages(templates_dir: str | Path) -> list[str]:
    """The languages with templates of their own (`de/`, `fr/`…), the folder's and the shipped ones."""
    found = {
        entry.name for folder in (Path(templates_dir), SHIPPED_TEMPLATES) if folder.is_dir()
        for entry in folder.iterdir() if entry.is_dir() and LANGUAGE_FOLDER.fullmatch(entry.name)
    }
    return sorted(found)


def _folder(templates_dir: str | Path, name: str, language: str | None) -> tuple[Path, str]:
    """Where template `name` is read from, and its prefix: the language's own folder when it has one."""
    if language and LANGUAGE_FOLDER.fullmatch(language):
        # The admin's folder first, then the shipped translation; the default language last.
        for base in (Path(templates_dir), SHIPPED_TEMPLATES):
            if (base / language / f"{name}{TEXT_SUFFIX}").is_file():
                return base / language, f"{language}/"
    return Path(templates_dir), ""


def render(
    templates_dir: str | Path, name: str, values: dict[str, Any], language: str | None = None
) -> tuple[str, str | None]:
    """The text of template `name` (in `language` where translated) and its HTML alternative, or None."""
    env = environment(str(templates_dir))
    folder, prefix = _folder(templates_dir, name, language)
    text = env.get_template(f"{prefix}{name}{TEXT_SUFFIX}").render(values)
    html = None
    if (folder / f"{name}{HTML_SUFFIX}").is_file():
        # A template that renders nothing (the relay of a plain-text reply) gives no HTML part.
        html = env.get_template(f"{prefix}{name}{HTML_SUFFIX}").render(values) or None
        html = html if html and html.strip() else None
    return text, html


def render_check(templates_dir: str | Path, names: list[str] | tuple[str, ...]) -> list[str]:
    """Render each template with sample values of every variable; one line per failure."""
    problems = []
    for name in names:
        if not has_template(templates_dir, name):
            problems.append(f"{Path(templates_dir) / (name + TEXT_SUFFIX)}: no such template")
            continue
        for language in (None, *languages(templates_dir)):
            folder, _ = _folder(templates_dir, name, language)
            if language and folder.name != language:
                continue  # not translated: the default serves this language
            for label, values in sample_variants(name):
                try:
                    render(templates_dir, name, values, language)
                except TemplateError as exc:
                    line = getattr(exc, "lineno", None)
                    where = f":{line}" if line else ""
                    problems.append(f"{folder / name}{where}: {exc.message or exc} ({label} values)")
                    break
    return problems


# --- the message ------------------------------------------------------------------------------


@dataclass(frozen=True)
class File:
    """An attachment to send."""

    filename: str
    content_type: str
    content: bytes
    content_id: str | None = None  # set: an inline image of the HTML part, sent beside it (related)


@dataclass(frozen=True)
class Draft:
    """Everything one outbound mail needs; `build` turns it into the mail's bytes."""

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
    images: tuple[File, ...] = field(default=())  # inline images the HTML shows by cid:


def build(draft: Draft) -> bytes:
    """The mail: headers cleaned of anything that could add a header, body, alternative, files."""
    # Sender and Message-ID go on the wire verbatim, so anything but a plain value is a bug.
    if not valid_address(draft.sender_address):
        raise ValueError(f"invalid sender address {draft.sender_address!r}")
    if not valid_message_id(draft.message_id):
        raise ValueError(f"invalid Message-ID {draft.message_id!r}")
    recipients = [a for a in draft.to if valid_address(a)]
    if not recipients:
        raise ValueError("no valid recipient")
    headers = [
        mimewrite.mailbox("From", clean(draft.sender_name), draft.sender_address),
        mimewrite.address_list("To", recipients),
    ]
    if draft.reply_to and valid_address(draft.reply_to):
        headers.append(mimewrite.address_list("Reply-To", [draft.reply_to]))
    headers.append(mimewrite.unstructured("Subject", clean(draft.subject)[: SUBJECT_MAX + 40]))
    headers.append(f"Date: {format_datetime(draft.date.astimezone(UTC))}\r\n")
    # Ids are folded between tokens only: an encoded-word id is one no mail client threads by.
    headers.append(mimewrite.verbatim("Message-ID", [draft.message_id]))
    if draft.in_reply_to and valid_message_id(draft.in_reply_to):
        headers.append(mimewrite.verbatim("In-Reply-To", [draft.in_reply_to]))
    references = cap_references(list(draft.references))
    if references:
        headers.append(mimewrite.verbatim("References", references))
    if draft.auto_submitted:
        headers.append(mimewrite.unstructured("Auto-Submitted", clean(draft.auto_submitted)))
    if draft.suppress_auto_responses:
        headers.append("X-Auto-Response-Suppress: All\r\n")
    if draft.loop:
        headers.append(mimewrite.unstructured("X-Loop", clean(draft.loop)))
    if draft.thread_topic:
        headers.append(mimewrite.unstructured("Thread-Topic", clean(draft.thread_topic)))
    if draft.thread_index and _THREAD_INDEX.match(draft.thread_index):
        headers.append(mimewrite.verbatim("Thread-Index", [draft.thread_index]))
    # Boundaries derived from the Message-ID keep `build` a pure function; "=_" never occurs
    # in quoted-printable or base64, and 7-bit text cannot guess the hash. Outermost is _0.
    seed = hashlib.sha256(draft.message_id.encode()).hexdigest()[:24]
    body = mimewrite.text_part("plain", _body(draft.text))
    if draft.html is not None:
        html = mimewrite.text_part("html", _body(draft.html))
        images = [_image(image) for image in draft.images if image.content_id and _CONTENT_ID.match(image.content_id)]
        if images:
            html = mimewrite.multipart("related", f"=_mr_{seed}_r", [html, *images])
        alternative = [body, html]
        body = mimewrite.multipart("alternative", f"=_mr_{seed}_{int(bool(draft.attachments))}", alternative)
    if draft.attachments:
        body = mimewrite.multipart("mixed", f"=_mr_{seed}_0", [body, *map(_attachment, draft.attachments)])
    return mimewrite.mail(headers, body)


def _image(part: File) -> mimewrite.Part:
    """An inline image's part; a type that is no plain image/* goes as an opaque one."""
    maintype, _, subtype = (part.content_type or "").partition(";")[0].strip().lower().partition("/")
    if maintype != "image" or not _MIME_TOKEN.match(subtype):
        maintype, subtype = "application", "octet-stream"
    return mimewrite.inline_image(maintype, subtype, part.content_id or "", part.content)


def _attachment(part: File) -> mimewrite.Part:
    """The part of one file: its type when it is a plain one, its cleaned name or a default."""
    maintype, _, subtype = (part.content_type or "").partition(";")[0].strip().lower().partition("/")
    name = clean(part.filename) or ("attachment.eml" if maintype == "message" else "attachment")
    if not _MIME_TOKEN.match(maintype) or not _MIME_TOKEN.match(subtype) or maintype in ("multipart", "message"):
        # message/* and multipart/* may not be base64 (RFC 2046 5.2, 5.1): a bounce's report or
        # a forwarded mail goes as an opaque file, as does a type that is not one.
        maintype, subtype = "application", "octet-stream"
    return mimewrite.attachment(maintype, subtype, name, part.content)


def _body(text: str) -> str:
    # Lines are normalised so that the stored text and the sent text are the same.
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    return body if body.endswith("\n") else body + "\n"
