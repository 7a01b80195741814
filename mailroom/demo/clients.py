"""Mail as the customer's and the engineer's clients write it, and what the demo reads of mail received."""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from mailroom.demo.cast import TAG, DemoError
from mailroom.demo.sandbox import SUPPORT, html_of, text_of

# --- mail as clients write it ------------------------------------------------------------------


def new_mail(sender: str, to: str, subject: str, body: str, when: datetime) -> EmailMessage:
    """A fresh mail as a mail client writes it, at `when`."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or "example.org")
    msg.set_content(body)
    return msg


def reply(original: EmailMessage, sender: str, top: str, when: datetime) -> EmailMessage:
    """What "Reply" in a mail client makes: to Reply-To, `Re:` subject, threaded, the original quoted below."""
    to = original.get("Reply-To") or original.get("From") or SUPPORT
    subject = str(original.get("Subject", ""))
    quoted = "\n".join(f"> {line}".rstrip() for line in text_of(original).rstrip().splitlines())
    sent = original.get("Date") or format_datetime(when)
    body = f"{top.rstrip()}\n\nOn {sent}, {original.get('From')} wrote:\n{quoted}\n"
    msg = new_mail(sender, str(to), subject if subject.lower().startswith("re:") else f"Re: {subject}", body, when)
    message_id = str(original.get("Message-ID", "")).strip()
    if message_id:
        msg["In-Reply-To"] = message_id
        msg["References"] = " ".join([*str(original.get("References", "")).split(), message_id])
    return msg


def addresses(msg: EmailMessage, *headers: str) -> list[str]:
    """The lowercase addresses in the named headers."""
    values = [str(v) for h in headers for v in msg.get_all(h, [])]
    return [addr.lower() for _name, addr in getaddresses(values) if addr]


def ticket_of(msg: EmailMessage) -> int | None:
    """The ticket id in a mail's subject tag."""
    found = TAG.search(str(msg.get("Subject", "")))
    return int(found.group(1)) if found else None


def due_lines(text: str) -> list[str]:
    """The lines of an acknowledgement that promise the first answer, in the customer's terms."""
    lines = [line.strip() for line in text.splitlines()]
    picked = [line for line in lines if "first answer" in line or "business hours" in line or "closed right now" in line]
    return picked or [line for line in lines if re.search(r"\b\d{1,2}:\d{2}\b", line)][:2]


def survey_choice(msg: EmailMessage, label: str) -> tuple[str, dict[str, str]]:
    """The answer address of one survey button, and the subject/body its mailto link fills in."""
    for href, text in re.findall(r'href="(mailto:[^"]+)"[^>]*>\s*([^<]*?)\s*<', html_of(msg)):
        if text.strip().lower() == label.lower():
            parts = urlsplit(href.replace("&amp;", "&"))
            fields = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            return unquote(parts.path), fields
    found = re.search(rf"^\s*{re.escape(label)}:\s*(\S+@\S+)", text_of(msg), re.MULTILINE | re.IGNORECASE)
    if found:
        return found.group(1), {}
    raise DemoError(f"the survey has no {label} choice:\n{text_of(msg)}")


def first_lines(text: str, count: int = 4) -> list[str]:
    """The first non-empty lines of a text, for a glance."""
    return [line for line in (raw.rstrip() for raw in text.splitlines()) if line][:count]
