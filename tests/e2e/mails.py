"""Realistic mails as customers' and engineers' clients write them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

_seq = itertools.count(1)


def mail(
    subject: str = "Cannot log in",
    body: str = "Hello,\n\nI cannot log in to my account since this morning. Please help.\n\nJane",
    sender: str = "Jane Customer <customer@example.org>",
    to: str = "support@example.com",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    headers: dict[str, str] | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    """One mail as raw CRLF bytes."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id or make_msgid(idstring=f"t{next(_seq)}", domain="client.example.org")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = " ".join(references)
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if attachment:
        name, data = attachment
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def message_id_of(raw: bytes) -> str:
    """The Message-ID header of a raw mail."""
    for line in raw.split(b"\r\n"):
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode()
    raise AssertionError("no Message-ID")


def reply(
    original: bytes,
    body: str,
    sender: str = "Eve Engineer <engineer@example.com>",
    to: str = "support@example.com",
    headers: dict[str, str] | None = None,
    cc: str | None = None,
) -> bytes:
    """Answer `original` as a mail client's Reply does: Re: subject, threading headers, quote below."""
    import email
    from email import policy

    parsed = email.message_from_bytes(original, policy=policy.default)
    subject = str(parsed["Subject"] or "")
    refs = str(parsed.get("References") or "").split() + [str(parsed["Message-ID"])]
    text_part = parsed.get_body(preferencelist=("plain",))
    quoted = "\n".join("> " + line for line in (text_part.get_content() if text_part else "").splitlines())
    extra = dict(headers or {})
    if cc:
        extra["Cc"] = cc
    return mail(
        subject=subject if subject.lower().startswith("re:") else f"Re: {subject}",
        body=f"{body}\n\nOn Mon, 30 Nov 2026 at 10:00, Example Support <support@example.com> wrote:\n{quoted}\n",
        sender=sender,
        to=to,
        in_reply_to=str(parsed["Message-ID"]),
        references=refs,
        headers=extra,
    )


def header(raw: bytes, name: str) -> str | None:
    """A header of a raw mail, decoded."""
    import email
    from email import policy

    value = email.message_from_bytes(raw, policy=policy.default)[name]
    return None if value is None else str(value)


def body_text(raw: bytes) -> str:
    """The plain text body of a raw mail."""
    import email
    from email import policy

    parsed = email.message_from_bytes(raw, policy=policy.default)
    part = parsed.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""
