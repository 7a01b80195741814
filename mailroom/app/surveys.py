"""Satisfaction surveys: scheduling on solve, sending when due, and recognising the customer's answer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from mailroom.app import outbound
from mailroom.app.context import Context
from mailroom.config.units import iso
from mailroom.mail.addresses import is_support
from mailroom.mail.message import Inbound
from mailroom.mail.spam import SUSPECTED_SPAM
from mailroom.store import queries as store
from mailroom.store.models import Message, Participant, Rating, Survey, Ticket

# Rating values as they appear in the answer addresses, with the label the customer sees.
SCALES: dict[str, tuple[tuple[str, str], ...]] = {
    "good-okay-bad": (("good", "Good"), ("okay", "Okay"), ("bad", "Bad")),
    "1-5": tuple((str(n), str(n)) for n in range(1, 6)),
}
SATISFIED = frozenset({"good", "4", "5"})
UNHAPPY = frozenset({"bad", "1", "2"})

_MAC_LENGTH = 10
_TOKEN = re.compile(rf"^([0-9a-z]{{1,13}})x([a-z2-7]{{{_MAC_LENGTH}}})$")
# Case-insensitive: some mail systems lowercase (or uppercase) the local part on the way.
_ANSWER_ADDRESS = re.compile(
    # Any token shape: one that does not parse is a forged rating, never a new ticket.
    r"^(?P<base>[^@+\s]+)\+csat-(?P<token>[^@\s]{1,100}?)"
    r"-(?P<rating>good|okay|bad|[1-5])@(?P<domain>[^@\s]+)$",
    re.IGNORECASE,
)
# What a mailto click may carry by itself: nothing, or the rating / its label again.
_CLICK_WORDS = re.compile(r"^(?:(?:my\s+)?rating\s*[:=]?\s*)?(?:good|okay|ok|bad|[1-5])\s*[.!]?$", re.IGNORECASE)
_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class SurveyAnswer:
    """An inbound mail read as an answer to a survey; forged ones target `ticket_id` but change nothing."""

    ticket_id: int | None
    rating: str | None
    comment: str
    forged: bool
    reason: str


# --- tokens -----------------------------------------------------------------------------------


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


def _mac(secret: str, ticket_id: int, requester: str) -> str:
    payload = f"mailroom-survey:{int(ticket_id)}:{requester.strip().lower()}".encode()
    digest = hmac.new(secret.encode(), payload, hashlib.sha256).digest()
    # Base32 in lowercase: letters and 2-7 only, so a mail system that changes case breaks nothing.
    return base64.b32encode(digest).decode("ascii").lower()[:_MAC_LENGTH]


def make_token(secret: str, ticket_id: int, requester: str) -> str:
    """`<ticket id in base36>x<10 chars of HMAC>`: short, lowercase, bound to ticket and requester."""
    return f"{_base36(int(ticket_id))}x{_mac(secret, ticket_id, requester)}"


MAX_TICKET_ID = 2**63 - 1  # the largest integer key SQLite and PostgreSQL store


def token_ticket(token: str) -> int | None:
    """The ticket id a token names, verified or not (None when it is not a token at all)."""
    match = _TOKEN.match((token or "").strip().lower())
    ticket_id = int(match.group(1), 36) if match else None
    # An id no database column can hold names no ticket: the token is forged, not an error.
    return ticket_id if ticket_id is not None and ticket_id <= MAX_TICKET_ID else None


def read_token(secret: str, token: str) -> int | None:
    """The ticket id of a token that verifies against that ticket's requester, else None."""
    ticket_id = token_ticket(token)
    if ticket_id is None:
        return None
    requester = Ticket.select(Ticket.requester).where(Ticket.id == ticket_id).scalar()
    if requester is None:
        return None
    return ticket_id if hmac.compare_digest(token.strip().lower(), make_token(secret, ticket_id, requester)) else None


def answer_address(support_address: str, token: str, rating: str) -> str:
    """`support+csat-<token>-<rating>@domain`, from the support address's own local part and domain."""
    local, _, domain = support_address.strip().rpartition("@")
    return f"{local.split('+', 1)[0]}+csat-{token}-{rating}@{domain}"


def choices(ctx: Context, token: str, address: str | None = None) -> list[tuple[str, str]]:
    """(label, answer address) for every rating of the configured scale, at `address` (else support's)."""
    scale = SCALES.get(_scale(ctx), SCALES["good-okay-bad"])
    return [(label, answer_address(address or ctx.support_address, token, value)) for value, label in scale]


def _scale(ctx: Context) -> str:
    survey = getattr(ctx.settings, "survey", None)
    return getattr(survey, "scale", "good-okay-bad") or "good-okay-bad"


def is_satisfied(rating: str | None) -> bool | None:
    """Good, 4 and 5 are satisfied; None when there is no rating."""
    return None if rating is None else rating in SATISFIED


# --- the lifecycle ----------------------------------------------------------------------------


def status_changed(ctx: Context, ticket: Ticket, old: str, new: str) -> None:
    """Schedule the survey when a ticket is solved; cancel an unsent one when it leaves solved."""
    if old == new:
        return
    survey = Survey.get_or_none(Survey.ticket == ticket.id)
    if new == "solved":
        if survey is not None and survey.state != "cancelled":
            return  # at most one survey per ticket, and never a second after one was sent
        why_not = _no_survey_reason(ctx, ticket)
        if why_not:
            store.record_event(ticket.id, ctx.now, "mailroom", "no survey", why_not)
            return
        due = ctx.now + ctx.settings.survey.delay
        if survey is None:
            token = make_token(ctx.secret, ticket.id, ticket.requester)
            Survey.create(ticket=ticket.id, due_at=due, state="scheduled", token=token)
        else:
            survey.state, survey.due_at = "scheduled", due
            survey.save()
        store.record_event(ticket.id, ctx.now, "mailroom", "survey scheduled", f"due {iso(due)}")
    elif old == "solved" and new in ("new", "open", "pending") and survey and survey.state == "scheduled":
        survey.state = "cancelled"
        survey.save()
        store.record_event(ticket.id, ctx.now, "mailroom", "survey cancelled", f"ticket is {new} again")


def _no_survey_reason(ctx: Context, ticket: Ticket) -> str | None:
    if ticket.decision.survey is False:
        return "a rule says no survey"
    if ticket.source == "import":
        return "imported ticket"
    # Contract: no automatic mail for a ticket an engineer opened with #requester.
    if ticket.source == "agent":
        return "ticket opened by an engineer"
    if ctx.is_agent_address(ticket.requester):
        return "the requester is an engineer"
    if SUSPECTED_SPAM in ticket.tags:
        return "suspected spam: no automatic mail to its sender"
    return None


def send_due(ctx: Context, limit: int = 500) -> int:
    """Queue the survey mail of every scheduled survey now due; returns how many were queued."""
    query = (
        Survey.select()
        .where((Survey.state == "scheduled") & (Survey.due_at <= ctx.now))
        .order_by(Survey.due_at, Survey.id)
        .limit(limit)
    )
    if store.is_postgres():
        # Two workers never send the same survey: each claims rows the other skips.
        query = query.for_update("FOR UPDATE SKIP LOCKED")
    sent = 0
    for survey in list(query):
        ticket = Ticket.get_by_id(survey.ticket_id)
        if ticket.status not in ("solved", "closed"):
            # Reopened without passing through status_changed (e.g. an import fix-up): never ask.
            survey.state = "cancelled"
            survey.save()
            continue
        outbound.survey_mail(ctx, ticket, survey.token, choices(ctx, survey.token, ticket.address))
        queued = (
            Message.select()
            .where((Message.ticket == ticket.id) & (Message.kind == "survey") & (Message.direction == "outbound"))
            .exists()
        )
        if not queued:
            # Outbound refused it (hourly limit, no usable address) and recorded why; none was
            # sent, so a later solve may try again.
            survey.state = "cancelled"
            survey.save()
            continue
        survey.state, survey.sent_at = "sent", ctx.now
        survey.save()
        store.record_event(ticket.id, ctx.now, "mailroom", "survey sent", ticket.requester)
        sent += 1
    return sent


# --- answers ----------------------------------------------------------------------------------


def _answer_address(ctx: Context, message: Inbound) -> tuple[str, str] | None:
    """(token, rating) of the first recipient that is one of our answer addresses."""
    for address in message.delivered_to():
        match = _ANSWER_ADDRESS.match(address)
        if match and is_support(f"{match['base']}@{match['domain']}", ctx.our_addresses):
            return match["token"].lower(), match["rating"].lower()
    return None


def _survey_replied_to(message: Inbound) -> Message | None:
    ids = [i for i in (message.in_reply_to, *reversed(message.references)) if i]
    if not ids:
        return None
    rows = Message.select().where(
        Message.message_id.in_(ids) & (Message.kind == "survey") & Message.ticket.is_null(False)
    )
    return rows.first()


def comment_of(text: str) -> str:
    """The customer's own words: empty when the mail holds only what a mailto click sends."""
    lines = [line for line in (text or "").strip().splitlines() if not _CLICK_WORDS.match(line.strip())]
    comment = "\n".join(lines).strip()
    return comment if _WORD.search(comment) else ""


# A typed rating opens the reply: the word alone or followed by punctuation ("Good, thanks"), so
# "Good morning, the export fails again" stays a follow-up; a digit stands alone ("4", "4/5").
_TYPED_RATING = re.compile(
    r"^\s*(?:(good|okay|ok|bad)(?:\s*$|\s*[,.!:;–—-]+\s*(.*)$)"
    r"|([1-5])\s*(?:/\s*5|out of 5|stars?)?\s*[.!]?\s*$)",
    re.IGNORECASE,
)


def _rating_in_reply(ctx: Context, text: str) -> tuple[str | None, str]:
    """The rating typed at the top of a reply to the survey, and the comment after it."""
    first, _, rest = (text or "").strip().partition("\n")
    match = _TYPED_RATING.match(first)
    if not match:
        return None, ""
    rating = (match.group(1) or match.group(3)).lower()
    rating = "okay" if rating == "ok" else rating
    allowed = {value for value, _ in SCALES.get(_scale(ctx), SCALES["good-okay-bad"])}
    if rating not in allowed:
        return None, ""
    return rating, comment_of(f"{match.group(2) or ''}\n{rest}")


def _may_answer(ticket_id: int, ticket: Ticket, sender: str) -> bool:
    sender = sender.strip().lower()
    if sender and sender in (ticket.requester.lower(), (ticket.reply_to or "").lower()):
        return True
    return (
        Participant.select()
        .where((Participant.ticket == ticket_id) & (Participant.address == sender) & (Participant.role == "customer"))
        .exists()
    )


def match(ctx: Context, message: Inbound) -> SurveyAnswer | None:
    """Read `message` as a survey answer (an answer address, or a rated reply to our survey mail)."""
    found = _answer_address(ctx, message)
    replied = _survey_replied_to(message)
    token: str | None
    rating: str | None
    if found is not None:
        token, rating = found
        comment = comment_of(message.new_text)
    elif replied is not None:
        # A reply without a rating is a customer's follow-up ("still broken"): the survey mail
        # promises that a reply reopens the ticket, so it is not taken as an answer.
        rating, comment = _rating_in_reply(ctx, message.new_text)
        if rating is None:
            return None
        token = None
    else:
        return None
    sender = message.from_addr
    if token is not None:
        target = token_ticket(token)
        if target is None:
            return SurveyAnswer(None, rating, comment, True, f"token {token[:40]} does not parse")
        if read_token(ctx.secret, token) is None:
            return SurveyAnswer(target, rating, comment, True, f"token {token} does not verify")
        if replied is not None and replied.ticket_id != target:
            why = f"token of ticket {target} in a reply to ticket {replied.ticket_id}'s survey"
            return SurveyAnswer(replied.ticket_id, rating, comment, True, why)
    else:
        assert replied is not None  # no token: a rated reply to our survey mail
        target = replied.ticket_id
    ticket = Ticket.get_or_none(Ticket.id == target)
    if ticket is None:
        return SurveyAnswer(None, rating, comment, True, f"ticket {target} does not exist")
    if not _may_answer(ticket.id, ticket, sender):
        why = f"ticket {ticket.id} belongs to another requester, not {sender or 'an unknown sender'}"
        return SurveyAnswer(ticket.id, rating, comment, True, why)
    how = "answer address" if token is not None else "reply to the survey"
    return SurveyAnswer(ticket.id, rating, comment, False, f"rating {rating} by {how}")


def automatic_answer(ctx: Context, row: Message, message: Inbound, answer: SurveyAnswer) -> None:
    """An auto-reply to a survey: a note on its ticket when the token is good, never a rating."""
    row.kind = "note"
    if not answer.forged and answer.ticket_id is not None:
        row.ticket = answer.ticket_id
        store.record_event(answer.ticket_id, ctx.now, message.from_addr, "automatic reply", "to the survey: a note")
    row.save()


def record(ctx: Context, row: Message, message: Inbound, answer: SurveyAnswer) -> None:
    """Store a survey answer: a rating on its ticket (never reopening it), or a rejected forgery."""
    row.kind = "rating"
    sender = message.from_addr or "unknown sender"
    if answer.forged:
        row.ticket = None
        row.machine_reason = f"forged rating: {answer.reason}"
        row.save()
        if answer.ticket_id is not None and Ticket.select().where(Ticket.id == answer.ticket_id).exists():
            store.record_event(
                answer.ticket_id, ctx.now, sender, "forged rating", f"rejected forged rating from {sender}",
                {"reason": answer.reason, "rating": answer.rating},
            )
        return
    ticket = Ticket.get_by_id(answer.ticket_id)
    row.ticket = ticket
    # A rating gets no automatic reply; saying so keeps the audit trail explicit.
    row.machine_reason = row.machine_reason or "a survey answer"
    row.save()
    previous = Rating.select().where(Rating.ticket == ticket.id).order_by(Rating.id.desc()).first()
    Rating.create(
        ticket=ticket.id,
        rating=answer.rating,
        satisfied=is_satisfied(answer.rating),
        comment=answer.comment or None,
        at=message.arrived_at,
    )
    detail = f"rated {answer.rating}" + (f": {answer.comment[:200]}" if answer.comment else "")
    store.record_event(ticket.id, ctx.now, sender, "rating", detail)
    # The team hears of a Bad rating once: clicking it again is no news until the rating changes.
    if answer.rating in UNHAPPY and (previous is None or previous.rating != answer.rating):
        outbound.forward(ctx, ticket, row, message, "Bad rating")


