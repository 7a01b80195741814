"""Pure: which mail is machine mail, and which addresses must never get automatic mail."""

# Machine mail gets no acknowledgement or survey, and changes no status or clock.
# Both mistakes cost something: a missed marker can start a mail loop or reopen a
# ticket on an out-of-office; a false one leaves a customer without an
# acknowledgement. So only markers that a person's mail client never sets count
# on their own (RFC 3834's Auto-Submitted, Precedence, List-Id, bounces, X-Loop, a
# spam verdict, the de-facto X-Autoreply family, RFC 8058's one-click unsubscribe).
#
# Deliberately not markers on their own:
# - X-Auto-Response-Suppress: a request ("do not auto-answer me"), not a claim of
#   being automatic. Exchange sets it on its out-of-office replies, but also on
#   mail people send through some systems, and our own notifications carry it.
# - X-MS-Exchange-Generated-Message-Source: Exchange also sets it on mail that a
#   customer's inbox rule forwards or redirects, which is a person's mail.
# - List-Unsubscribe: some sales and CRM tools add it to one-to-one mail.
# - Subjects: "Auto: claim 1234" or "Out of office: calendar not syncing" are real
#   questions. Wordings no person types to a help desk ("Automatic reply:",
#   "Abwesenheitsnotiz:", …) count when the subject starts with them; the short
#   ones ("Auto:", "Out of Office:") only together with one of the two Exchange
#   headers above, which is how Exchange's own replies look.

from __future__ import annotations

import re
from collections.abc import Collection

from mailroom.mail.addresses import Ours, is_support, ours_of
from mailroom.mail.message import Inbound
from mailroom.mail.spam import spam_flag

_PRECEDENCE_MACHINE = frozenset({"bulk", "junk", "list", "auto_reply"})
_AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder")
_SYSTEM_LOCALS = frozenset({"mailer-daemon", "postmaster"})
_NO_REPLY_LOCAL = re.compile(r"(?:^|[._+-])(?:no[._-]?reply|do[._-]?not[._-]?reply)(?:[._+-]|$)")
# Auto-reply subjects as clients write them, anchored at the start so that
# "Re: Automatic reply: …" (a person answering one) does not match.
_OOF_SUBJECT_STRONG = re.compile(
    r"\s*(?:automatic\s+reply|auto[- ]?reply|autoreply|out\s+of\s+(?:the\s+)?office\s+auto\s*reply"
    r"|abwesenheitsnotiz|automatische\s+antwort|r[ée]ponse\s+automatique|respuesta\s+autom[áa]tica"
    r"|risposta\s+automatica|resposta\s+autom[áa]tica|automatisch\s+antwoord|autosvar"
    r"|automaattinen\s+vastaus|automatyczna\s+odpowied[źz])\s*:",
    re.IGNORECASE,
)
_OOF_SUBJECT_WEAK = re.compile(
    r"\s*(?:auto|out\s+of\s+(?:the\s+)?office|ooo|abwesend|absence|away|vacation)\s*:", re.IGNORECASE
)
_EXCHANGE_MARKERS = ("X-Auto-Response-Suppress", "X-MS-Exchange-Generated-Message-Source")


def automatic_mail_reason(message: Inbound, support_address: Ours, support_lists: Collection[str]) -> str | None:
    """Why the message is machine mail that must get no automatic reply, else None."""
    for support in (a.strip().lower() for a in ours_of(support_address) if a.strip()):
        pattern = _address_pattern(support)
        for value in message.header_all("X-Loop"):
            if pattern.search(value):
                return f"X-Loop names {support}"
    for value in message.header_all("Auto-Submitted"):
        token = _first_token(value)
        if token and token != "no":
            return f"Auto-Submitted: {token}"
    bounce = _bounce_reason(message)
    if bounce:
        return bounce
    ours = _is_our_list(message, support_lists)
    for name in ("Precedence", "X-Precedence"):
        for value in message.header_all(name):
            token = _first_token(value)
            # A group of our own (Google Groups) marks every mail it relays "list".
            if token in _PRECEDENCE_MACHINE and not (ours and token == "list"):
                return f"{name}: {token}"
    if not ours:
        for value in message.header_all("List-Id"):
            if value.strip():
                return f"List-Id {_list_id(value) or value.strip()} is not ours"
        # RFC 8058 one-click unsubscribe: only bulk senders set it, and a group of
        # our own adds it to the mail it relays (hence the List-Id check first).
        if message.header("List-Unsubscribe-Post") is not None:
            return "List-Unsubscribe-Post (bulk mail)"
    flagged = spam_flag(message)
    if flagged:
        return flagged
    for name in _AUTOREPLY_HEADERS:
        for value in message.header_all(name):
            if value.strip().lower() not in ("no", "false", "0"):
                return f"{name}: {value.strip()[:40] or '(empty)'}"
    if _OOF_SUBJECT_STRONG.match(message.subject):
        return f"automatic reply subject ({_subject_start(message.subject)})"
    if _OOF_SUBJECT_WEAK.match(message.subject) and any(
        message.header(name) is not None for name in _EXCHANGE_MARKERS
    ):
        return f"automatic reply subject ({_subject_start(message.subject)}) with Exchange markers"
    return None


def is_out_of_office(message: Inbound) -> bool:
    """True for an automatic reply (out-of-office): stored as a note when an agent sends it."""
    for value in message.header_all("Auto-Submitted"):
        if _first_token(value) == "auto-replied":
            return True
    for name in ("Precedence", "X-Precedence"):
        if any(_first_token(v) == "auto_reply" for v in message.header_all(name)):
            return True
    for name in _AUTOREPLY_HEADERS:
        if any(v.strip().lower() not in ("no", "false", "0") for v in message.header_all(name)):
            return True
    # An engineer's real reply starts "Re:"; only an auto-reply puts these words
    # first, so for agent mail the short forms count without further markers.
    return bool(_OOF_SUBJECT_STRONG.match(message.subject) or _OOF_SUBJECT_WEAK.match(message.subject))


def no_reply_reason(address: str, support_address: Ours) -> str | None:
    """Why `address` must never get automatic mail, else None."""
    address = address.strip().lower()
    if not address or "@" not in address:
        return "no address to answer"
    local, _, domain = address.rpartition("@")
    if is_support(address, support_address):
        return f"{address} is the support address"
    bare = local.split("+", 1)[0]
    if bare in _SYSTEM_LOCALS:
        return f"{address} is a mail system address"
    if _NO_REPLY_LOCAL.search(bare):
        return f"{address} is a no-reply address"
    return None


def _bounce_reason(message: Inbound) -> str | None:
    """Why the message is a bounce or delivery report, else None."""
    if message.return_path == "":
        return "bounce (empty return path)"
    if message.content_type == "multipart/report":
        return "bounce (multipart/report)"
    local = message.from_addr.rpartition("@")[0]
    if local in _SYSTEM_LOCALS:
        return f"bounce (from {message.from_addr})"
    return None


def _is_our_list(message: Inbound, support_lists: Collection[str]) -> bool:
    """True when a List-Id of the message is one of the support address's own lists."""
    wanted: set[str] = set()
    for entry in support_lists:
        entry = entry.strip().lower()
        if not entry:
            continue
        wanted.add(entry)
        wanted.add(_list_id(entry) or entry.strip("<>"))
        if "@" in entry and "<" not in entry:
            # Google Groups derive the id from the group address: support@x.com → support.x.com.
            wanted.add(entry.replace("@", "."))
    if not wanted:
        return False
    for value in message.header_all("List-Id"):
        value = value.strip().lower()
        if value in wanted or (_list_id(value) or "") in wanted:
            return True
    return False


def _list_id(value: str) -> str | None:
    """The id inside `<…>` of a List-Id value, lowercased, or None."""
    found = re.search(r"<([^<>]*)>", value)
    return found.group(1).strip().lower() if found and found.group(1).strip() else None


def _first_token(value: str) -> str:
    """A header value's first word, lowercased, without parameters or comments."""
    value = re.sub(r"\([^()]*\)", " ", value)
    return value.split(";", 1)[0].strip().lower()


def _address_pattern(address: str) -> re.Pattern[str]:
    """A search for `address` as a whole address, not inside a longer one."""
    return re.compile(rf"(?<![\w.+-]){re.escape(address)}(?![\w.-])", re.IGNORECASE)


def _subject_start(subject: str) -> str:
    """The auto-reply words a subject starts with."""
    return subject.strip().split(":", 1)[0].strip()[:40] + ":"
