"""Satisfaction surveys on a real database: scheduling, sending, answers, forgeries, and the report."""

from __future__ import annotations

import dataclasses
import email
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path
from typing import Any

import pytest

from mailroom.app import surveys
from mailroom.app.context import Context
from mailroom.app.ingest import Ingested, Placement, ingest
from mailroom.config.loader import load_settings
from mailroom.mail.message import Inbound, parse
from mailroom.report.figures import build_report
from mailroom.rules.ruleset import parse_rules
from mailroom.store import queries as store
from mailroom.store.contentkey import content_key
from mailroom.store.models import Event, Message, OutboxItem, Rating, Survey, Ticket

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
SECRET = "s" * 32
RULES = parse_rules("""
version: 1
calendars: {always: 24x7}
sla: {P3: {first_response: 1d, calendar: always}}
agents: ["*@example.com"]
teams: {general: {notify: ["support-team@example.com"]}}
defaults: {team: general, priority: P3}
""")
ANN = "ann@customer.example.net"
BOB = "bob@other.example.org"


def settings_for(tmp_path: Path, survey: str = "") -> Any:
    """Settings read from a mailroom.toml, as the daemon reads them."""
    config = tmp_path / "mailroom.toml"
    config.write_text(
        '[mailbox]\nhost = "127.0.0.1"\nusername = "support"\npassword_env = "IMAP_PW"\n'
        '[smtp]\nhost = "127.0.0.1"\n'
        f'[support]\naddress = "support@example.com"\ntemplates = "{ROOT / "templates"}"\ndata_dir = "{tmp_path}"\n'
        + (f"[survey]\n{survey}\n" if survey else "")
    )
    return load_settings(config, {"IMAP_PW": "pw", "MAILROOM_SECRET": SECRET})


@pytest.fixture
def db(database_url: str) -> Iterator[None]:
    """The store opened on an empty database."""
    handle = store.open_database(database_url)
    yield
    handle.close()


@pytest.fixture
def ctx(db: None, tmp_path: Path) -> Context:
    """A context at T0 with the default survey settings (1h delay, Good/Okay/Bad)."""
    return Context(settings_for(tmp_path), RULES, SECRET, T0)


def at(ctx: Context, when: datetime) -> Context:
    return dataclasses.replace(ctx, now=when)


def ticket_of(requester: str = ANN, status: str = "open", **fields: Any) -> Ticket:
    """A ticket as the lifecycle leaves it, with its requester as a participant."""
    values: dict[str, Any] = {"subject": "Export fails", "status": status, "requester": requester,
                              "decision": {"survey": True}, "created_at": T0 - timedelta(days=1),
                              "updated_at": T0, **fields}
    ticket = Ticket.create(**values)
    store.add_participants(ticket.id, [requester])
    return ticket


def solve(ctx: Context, ticket: Ticket) -> None:
    old, ticket.status = ticket.status, "solved"
    ticket.save()
    surveys.status_changed(ctx, ticket, old, "solved")


def reopen(ctx: Context, ticket: Ticket, status: str = "open") -> None:
    ticket.status = status
    ticket.save()
    surveys.status_changed(ctx, ticket, "solved", status)


def inbound(sender: str, to: tuple[str, ...] = ("support@example.com",), text: str = "",
            headers: tuple[tuple[str, str], ...] = (), in_reply_to: str | None = None,
            when: datetime = T0 + timedelta(hours=2)) -> Inbound:
    """A parsed inbound mail."""
    return Inbound(
        message_id=f"<{uuid.uuid4().hex}@mail.example.net>", in_reply_to=in_reply_to,
        references=(in_reply_to,) if in_reply_to else (), from_addr=sender, from_name="", reply_to=None,
        to=to, cc=(), subject="", date=when, arrived_at=when, text=text, new_text=text, headers=headers,
    )


def stored(message: Inbound) -> Message:
    """The message row as ingest stores it before deciding what it is."""
    return Message.create(
        ticket=None, message_id=message.message_id, content_key=uuid.uuid4().hex, direction="inbound",
        kind="customer", from_addr=message.from_addr, recipients=list(message.to), text=message.text,
        new_text=message.new_text, date=message.date, received_at=message.arrived_at,
    )


def answer(ctx: Context, message: Inbound) -> tuple[surveys.SurveyAnswer, Message]:
    """match + record, as the lifecycle does for a survey answer."""
    found = surveys.match(ctx, message)
    assert found is not None
    row = stored(message)
    surveys.record(ctx, row, message, found)
    return found, row


def address(ticket: Ticket, rating: str, requester: str | None = None) -> str:
    token = surveys.make_token(SECRET, ticket.id, requester or ticket.requester)
    return f"support+csat-{token}-{rating}@example.com"


def survey_mails(ticket: Ticket) -> list[OutboxItem]:
    return list(OutboxItem.select().join(Message).where(
        (OutboxItem.ticket == ticket.id) & (OutboxItem.kind == "mail") & (Message.kind == "survey")))


def events(ticket: Ticket, action: str) -> list[Event]:
    return list(Event.select().where((Event.ticket == ticket.id) & (Event.action == action)))


# --- tokens -------------------------------------------------------------------------------------


def test_tokens_are_short_lowercase_and_bound_to_ticket_and_requester(db: None) -> None:
    ticket = ticket_of()
    token = surveys.make_token(SECRET, ticket.id, ANN)
    assert token == token.lower() and token.isalnum() and len(token) <= 24
    assert surveys.read_token(SECRET, token) == ticket.id
    assert surveys.read_token(SECRET, token.upper()) == ticket.id  # a mail system that uppercases
    assert surveys.read_token("another secret", token) is None
    assert surveys.read_token(SECRET, surveys.make_token(SECRET, ticket.id, BOB)) is None
    assert surveys.read_token(SECRET, token[:-1] + ("a" if token[-1] != "a" else "b")) is None
    assert surveys.read_token(SECRET, "nonsense") is None
    assert surveys.read_token(SECRET, surveys.make_token(SECRET, ticket.id + 1000, ANN)) is None
    big = surveys.make_token(SECRET, 10**12, ANN)
    assert surveys.token_ticket(big) == 10**12
    local = surveys.answer_address("support@example.com", big, "okay").partition("@")[0]
    assert len(local) < 64


# --- scheduling and sending ---------------------------------------------------------------------


def test_solving_schedules_one_survey_sent_after_the_delay(ctx: Context) -> None:
    ticket = ticket_of()
    solve(ctx, ticket)
    (survey,) = Survey.select().where(Survey.ticket == ticket.id)
    assert (survey.state, survey.due_at) == ("scheduled", T0 + timedelta(hours=1))
    assert surveys.send_due(at(ctx, T0 + timedelta(minutes=59))) == 0
    assert surveys.send_due(at(ctx, T0 + timedelta(hours=1))) == 1
    assert surveys.send_due(at(ctx, T0 + timedelta(hours=2))) == 0
    (item,) = survey_mails(ticket)
    assert item.recipients == [ANN]
    mail = email.message_from_bytes(bytes(item.raw), policy=policy.default)
    assert mail["Auto-Submitted"] == "auto-replied"
    text = mail.get_body(("plain",)).get_content()
    for rating in ("good", "okay", "bad"):
        assert address(ticket, rating) in text
    survey = Survey.get_by_id(survey.id)
    assert (survey.state, survey.sent_at) == ("sent", T0 + timedelta(hours=1))
    # At most one per ticket: solved again after a reopening, no second survey.
    reopen(ctx, ticket)
    solve(at(ctx, T0 + timedelta(hours=3)), ticket)
    assert Survey.select().where(Survey.ticket == ticket.id).count() == 1
    assert surveys.send_due(at(ctx, T0 + timedelta(days=1))) == 0
    assert len(survey_mails(ticket)) == 1


def test_reopening_before_it_is_sent_cancels_and_a_later_solve_schedules_again(ctx: Context) -> None:
    ticket = ticket_of()
    solve(ctx, ticket)
    reopen(at(ctx, T0 + timedelta(minutes=30)), ticket, "pending")
    assert Survey.get(Survey.ticket == ticket.id).state == "cancelled"
    assert surveys.send_due(at(ctx, T0 + timedelta(hours=5))) == 0
    later = T0 + timedelta(hours=6)
    solve(at(ctx, later), ticket)
    survey = Survey.get(Survey.ticket == ticket.id)
    assert (survey.state, survey.due_at) == ("scheduled", later + timedelta(hours=1))
    assert surveys.send_due(at(ctx, later + timedelta(hours=1))) == 1
    assert len(survey_mails(ticket)) == 1


def test_zero_delay_sends_in_the_same_cycle_and_the_1_to_5_scale(db: None, tmp_path: Path) -> None:
    ctx = Context(settings_for(tmp_path, 'delay = "0s"\nscale = "1-5"'), RULES, SECRET, T0)
    ticket = ticket_of()
    solve(ctx, ticket)
    assert surveys.send_due(ctx) == 1
    text = Message.get((Message.ticket == ticket.id) & (Message.kind == "survey")).text
    assert [a for a in (address(ticket, str(n)) for n in range(1, 6)) if a in text] == [
        address(ticket, str(n)) for n in range(1, 6)]
    assert address(ticket, "good") not in text
    survey_id = Message.get((Message.ticket == ticket.id) & (Message.kind == "survey")).message_id
    assert surveys.match(ctx, inbound(ANN, text="4/5", in_reply_to=survey_id)).rating == "4"
    assert surveys.match(ctx, inbound(ANN, text="Good", in_reply_to=survey_id)) is None  # not on this scale


@pytest.mark.parametrize("fields", [
    {"decision": {"survey": False}},   # a rule said survey: false
    {"requester": "alice@example.com"},  # an engineer
    {"source": "import"},
    {"source": "agent"},               # opened with #requester
])
def test_no_survey_when_something_says_no(ctx: Context, fields: dict[str, Any]) -> None:
    ticket = ticket_of(**{"requester": ANN, **fields})
    solve(ctx, ticket)
    assert Survey.select().where(Survey.ticket == ticket.id).count() == 0
    assert len(events(ticket, "no survey")) == 1


# --- answers ------------------------------------------------------------------------------------


def sent_ticket(ctx: Context, requester: str = ANN) -> Ticket:
    ticket = ticket_of(requester)
    solve(ctx, ticket)
    surveys.send_due(at(ctx, T0 + timedelta(hours=1)))
    return Ticket.get_by_id(ticket.id)


def test_a_good_answer_counts_in_the_report(ctx: Context) -> None:
    ticket = sent_ticket(ctx)
    later = at(ctx, T0 + timedelta(hours=2))
    found, row = answer(later, inbound(ANN, to=(address(ticket, "good"),)))
    assert found == surveys.SurveyAnswer(ticket.id, "good", "", False, found.reason)
    row = Message.get_by_id(row.id)
    assert (row.ticket_id, row.kind) == (ticket.id, "rating")
    (rating,) = Rating.select().where(Rating.ticket == ticket.id)
    assert (rating.rating, rating.satisfied, rating.comment) == ("good", True, None)
    assert Ticket.get_by_id(ticket.id).status == "solved"  # never reopened
    assert len(events(ticket, "rating")) == 1
    # Nothing went back: no acknowledgement, no notification.
    assert OutboxItem.select().where(OutboxItem.created_at > T0 + timedelta(hours=1)).count() == 0
    csat = build_report(None, None, None, later.now, RULES)["csat"]
    assert (csat["responses"], csat["satisfied"], csat["score"]) == (1, 1, 1.0)
    assert (csat["surveys_sent"], csat["response_rate"]) == (1, 1.0)


def test_a_bad_answer_with_a_comment_forwards_and_the_latest_answer_counts(ctx: Context) -> None:
    ticket = sent_ticket(ctx)
    answer(at(ctx, T0 + timedelta(hours=2)), inbound(ANN, to=(address(ticket, "good"),)))
    later = at(ctx, T0 + timedelta(hours=3))
    text = "The export broke again this morning.\n\nAnn"
    found, row = answer(later, inbound(ANN, to=(address(ticket, "bad"),), text=text, when=later.now))
    assert (found.rating, found.comment, found.forged) == ("bad", text, False)
    ratings = list(Rating.select().where(Rating.ticket == ticket.id).order_by(Rating.id))
    assert [(r.rating, r.satisfied, r.comment) for r in ratings] == [("good", True, None), ("bad", False, text)]
    forwards = list(OutboxItem.select().join(Message).where(
        (OutboxItem.ticket == ticket.id) & (Message.kind == "notification")))
    assert len(forwards) == 1 and forwards[0].recipients == ["support-team@example.com"]
    assert b"Bad rating" in bytes(forwards[0].raw)
    assert Ticket.get_by_id(ticket.id).status == "solved"
    report = build_report(None, None, None, later.now, RULES)["csat"]
    assert (report["responses"], report["satisfied"], report["score"]) == (1, 0, 0.0)
    assert [c["comment"] for c in report["comments"]] == [text]


def test_a_rating_from_another_ticket_s_requester_is_rejected_and_recorded(ctx: Context) -> None:
    ann_ticket = sent_ticket(ctx, ANN)
    bob_ticket = sent_ticket(ctx, BOB)
    later = at(ctx, T0 + timedelta(hours=2))
    found, row = answer(later, inbound(BOB, to=(address(ann_ticket, "bad"),)))
    assert found.forged and found.ticket_id == ann_ticket.id
    row = Message.get_by_id(row.id)
    assert row.ticket_id is None and row.kind == "rating"
    assert row.machine_reason.startswith("forged rating: ")
    (event,) = events(ann_ticket, "forged rating")
    assert event.detail == f"rejected forged rating from {BOB}"
    assert Rating.select().count() == 0
    assert events(bob_ticket, "forged rating") == []
    # Nobody is told about a forged Bad rating.
    assert Message.select().where(Message.kind == "notification").count() == 0
    # A made-up token for an existing ticket does not verify either.
    token = surveys.make_token("guessed secret", ann_ticket.id, ANN)
    found, _ = answer(later, inbound(ANN, to=(f"support+csat-{token}-good@example.com",)))
    assert found.forged and "does not verify" in found.reason
    assert len(events(ann_ticket, "forged rating")) == 2
    assert build_report(None, None, None, later.now, RULES)["csat"]["responses"] == 0


def test_answer_addresses_are_found_in_delivery_headers_and_in_any_case(ctx: Context) -> None:
    ticket = sent_ticket(ctx)
    via_header = inbound(ANN, headers=(("Delivered-To", address(ticket, "okay")),))
    assert surveys.match(ctx, via_header).rating == "okay"
    original = inbound(ANN, headers=(("X-Original-To", f"<{address(ticket, 'good').upper()}>"),))
    found = surveys.match(ctx, original)
    assert (found.rating, found.forged) == ("good", False)
    assert surveys.match(ctx, inbound(ANN, text="Good")) is None  # to the plain support address
    elsewhere = address(ticket, "good").replace("@example.com", "@elsewhere.example.org")
    assert surveys.match(ctx, inbound(ANN, to=(elsewhere,))) is None


def test_a_reply_to_the_survey_mail(ctx: Context) -> None:
    ticket = sent_ticket(ctx)
    survey_id = Message.get((Message.ticket == ticket.id) & (Message.kind == "survey")).message_id
    rated = inbound(ANN, text="Good, thanks for the quick fix!", in_reply_to=survey_id)
    found, _ = answer(ctx, rated)
    assert (found.ticket_id, found.rating, found.comment, found.forged) == (
        ticket.id, "good", "thanks for the quick fix!", False)
    # Without a rating it is a follow-up: the survey mail promises that a reply reopens the ticket.
    for text in ("It is still broken.", "Good morning, the export fails again.", "Bad news: still broken",
                 "3 more exports failed", "Okay so it broke again"):
        assert surveys.match(ctx, inbound(ANN, text=text, in_reply_to=survey_id)) is None, text
    for text, rating in (("Bad", "bad"), ("ok.", "okay"), ("Bad - it took a week", "bad")):
        assert surveys.match(ctx, inbound(ANN, text=text, in_reply_to=survey_id)).rating == rating
    # A stranger's rated reply is not the requester's answer.
    assert surveys.match(ctx, inbound(BOB, text="Bad", in_reply_to=survey_id)).forged


def _arrives(ctx: Context, *headers: str, text: str = "") -> Ingested:
    """A raw mail through ingest, as the daemon hands it over."""
    raw = ("\r\n".join((f"Message-ID: <{uuid.uuid4().hex}@mail.example.net>", *headers)) + "\r\n\r\n" + text).encode()
    return ingest(ctx, parse(raw, ctx.now), content_key(raw), Placement("INBOX", 1, None))


def test_an_out_of_office_answer_to_the_survey_is_a_note_and_no_rating(ctx: Context) -> None:
    ticket = sent_ticket(ctx)
    survey_id = Message.get((Message.ticket == ticket.id) & (Message.kind == "survey")).message_id
    later = at(ctx, T0 + timedelta(hours=2))
    replies = [
        (f"From: {ANN}", "To: support@example.com", f"In-Reply-To: {survey_id}", "Auto-Submitted: auto-replied",
         "Subject: Re: How did we do?"),
        (f"From: {ANN}", f"To: {address(ticket, 'good')}", "Precedence: auto_reply", "Subject: Out of office"),
        (f"From: {ANN}", f"To: {address(ticket, 'bad')}", "X-Autoreply: yes", "Subject: Re: How did we do?"),
    ]
    for headers in replies:
        outcome = _arrives(later, *headers, text="OK, I am out of the office until 3 June.")
        assert (outcome.outcome, outcome.ticket_id) == ("stored", ticket.id)
    assert Rating.select().count() == 0
    notes = Message.select().where((Message.ticket == ticket.id) & (Message.kind == "note"))
    assert notes.count() == 3 and all(note.machine_reason for note in notes)
    assert Ticket.get_by_id(ticket.id).status == "solved"
    assert Message.select().where(Message.kind == "notification").count() == 0
    assert build_report(None, None, None, later.now, RULES)["csat"]["responses"] == 0


@pytest.mark.parametrize("token", ["zzzzzzzzzzzzzx" + "a" * 10, "zzzzzzzzzzzzzzzzzzzzx" + "a" * 10, "ab!cx" + "a" * 10,
                                   "12x34", "x"])
def test_a_token_that_does_not_parse_is_a_forged_rating(ctx: Context, token: str) -> None:
    ticket = sent_ticket(ctx)
    later = at(ctx, T0 + timedelta(hours=2))
    outcome = _arrives(later, f"From: {ANN}", f"To: support+csat-{token}-good@example.com", "Subject: rating")
    assert (outcome.outcome, outcome.ticket_id) == ("stored", None)
    (row,) = Message.select().where(Message.kind == "rating")
    assert row.ticket_id is None and row.machine_reason.startswith("forged rating: ")
    assert Rating.select().count() == 0 and Ticket.select().count() == 1
    assert Ticket.get_by_id(ticket.id).status == "solved"


def test_the_team_hears_of_a_bad_rating_once_until_it_changes(ctx: Context) -> None:
    ticket = sent_ticket(ctx)
    ratings = ["bad", "bad", "bad", "good", "bad", "bad"]
    for hour, rating in enumerate(ratings, start=2):
        later = at(ctx, T0 + timedelta(hours=hour))
        answer(later, inbound(ANN, to=(address(ticket, rating),), when=later.now))
    forwards = Message.select().where((Message.ticket == ticket.id) & (Message.kind == "notification"))
    assert forwards.count() == 2  # the first Bad, and the Bad after the Good
    assert Rating.select().where(Rating.ticket == ticket.id).count() == len(ratings)


def test_what_a_mailto_click_sends_is_no_comment() -> None:
    assert surveys.comment_of("") == ""
    assert surveys.comment_of("Good\n") == ""
    assert surveys.comment_of("  \n-- \n") == ""
    assert surveys.comment_of("Rating: 5") == ""
    assert surveys.comment_of("Good\nFast and friendly.") == "Fast and friendly."
