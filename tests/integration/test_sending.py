"""Queueing mail and flushing the outbox against a real SMTP server (aiosmtpd), on SQLite and PostgreSQL."""

from __future__ import annotations

import email
import socket
import threading
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from mailroom.adapters.smtp import MailSender
from mailroom.app import outbound
from mailroom.app.context import Context
from mailroom.app.ingest import Placement, store_message
from mailroom.app.sending import flush_mail_once
from mailroom.demo.smtp import SmtpServer
from mailroom.mail import msgid
from mailroom.mail.message import Inbound
from mailroom.mail.mime import Attachment as InboundFile
from mailroom.ports import Item, Result
from mailroom.rules.ruleset import parse_rules
from mailroom.store import queries as store
from mailroom.store.models import Clock, Event, Message, OutboxItem, Ticket, database

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
T0 = datetime(2025, 12, 1, 17, 30, tzinfo=UTC)  # Monday 9:30 AM in Los Angeles
SECRET = "test-secret"
RULES = parse_rules(
    """\
version: 1
calendars:
  business: {timezone: "America/Los_Angeles", hours: {mon-fri: "09:00-17:00"}}
  always: 24x7
sla:
  P1: {first_response: 1h, calendar: always}
  P3: {first_response: 4h, calendar: business}
agents: ["*@example.com"]
teams:
  general: {notify: ["team@example.com"]}
defaults: {team: general, priority: P3}
rules: []
"""
)


# --- servers and database ---------------------------------------------------------------------


def arrived(server: SmtpServer) -> Counter[str]:
    """How many times each Message-ID reached the server."""
    return Counter(m.message["Message-ID"] for m in server.messages)


class _Controller(Controller):
    """aiosmtpd's controller, telling its handler when a session that carried mail is gone."""

    def factory(self) -> Any:
        smtp = super().factory()
        lost = smtp.connection_lost

        def connection_lost(exc: Exception | None) -> None:
            peer = smtp.session.peer if smtp.session else None
            lost(exc)
            if peer in self.handler.peers:  # not the controller's own check when it starts
                self.handler.closed.set()

        smtp.connection_lost = connection_lost  # type: ignore[method-assign]
        return smtp


class PerRecipient:
    """A local server for what the harness cannot inject: answers per recipient, a refused login, an idle timeout."""

    def __init__(self, timeout: float = 300) -> None:
        self.rcpt_replies: dict[str, str] = {}
        self.received: list[tuple[list[str], bytes]] = []
        self.peers: list[Any] = []  # the client's address for each mail: one per connection
        self.quits = 0
        self.closed = threading.Event()  # set when a session that carried mail has closed (its idle timeout)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        # `timeout`: seconds a session may sit unused before the server closes it, as real ones do.
        self.controller = _Controller(self, hostname="127.0.0.1", port=self.port, auth_require_tls=False,
                                     authenticator=self.authenticate, timeout=timeout)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
            self.controller.start()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        self.peers.append(session.peer)
        return "250 OK"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.quits += 1
        return "221 Bye"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.password == b"pa55word"
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


@pytest.fixture
def per_recipient():
    srv = PerRecipient()
    yield srv
    srv.controller.stop()


@pytest.fixture
def db(database_url: str):
    handle = store.open_database(database_url)
    yield handle
    handle.close()


def settings(tmp_path: Path, port: int, **limits: Any) -> SimpleNamespace:
    return SimpleNamespace(
        support=SimpleNamespace(
            address="support@example.com",
            name="Example Support",
            ticket_tag="[Support #{id}]",
            lists=[],
            templates=TEMPLATES,
            data_dir=tmp_path,
            trusted_authserv_id="", spam_score_header="", spam_score_above=5.0,
        ),
        smtp=SimpleNamespace(host="127.0.0.1", port=port, security="none", ca_file="", username="", password=None),
        limits=SimpleNamespace(auto_replies_per_sender_hour=limits.get("per_hour", 3)),
        escalation=SimpleNamespace(give_up_after=timedelta(days=5)),
    )


@pytest.fixture
def ctx(db, smtp_server: SmtpServer, tmp_path: Path) -> Context:
    return Context(settings(tmp_path, smtp_server.port), RULES, SECRET, T0)


def at(ctx: Context, when: datetime) -> Context:
    return Context(ctx.settings, ctx.rules, ctx.secret, when)


# --- tickets and mail -------------------------------------------------------------------------


def inbound(n: int = 1, sender: str = "olga@client.org", **changes: Any) -> Inbound:
    values: dict[str, Any] = dict(
        message_id=f"<c{n}.{sender}>",
        in_reply_to=None,
        references=(),
        from_addr=sender,
        from_name="Olga Ops",
        reply_to=None,
        to=("support@example.com",),
        cc=(),
        subject="Site is down",
        date=T0,
        arrived_at=T0,
        text="Our site is down since 9:00.\n",
        new_text="Our site is down since 9:00.\n",
        headers=(("From", sender), ("Subject", "Site is down")),
    )
    values.update(changes)
    return Inbound(**values)


def stored(ctx: Context, message: Inbound, ticket: Ticket | None = None, kind: str = "customer") -> Message:
    row = store_message(message, message.message_id, Placement("test"), None)
    row.ticket, row.kind = ticket, kind
    row.save()
    return row


def new_ticket(ctx: Context, message: Inbound, **changes: Any) -> tuple[Ticket, Message]:
    values: dict[str, Any] = dict(
        subject=message.subject,
        requester=message.from_addr,
        requester_name=message.from_name,
        reply_to=message.reply_to,
        team="general",
        priority="P3",
        decision={"ack": "ack", "links": [], "notify": [], "policy_name": None, "sla_override": None},
        created_at=message.arrived_at,
        updated_at=ctx.now,
    )
    values.update(changes)
    ticket = Ticket.create(**values)
    return ticket, stored(ctx, message, ticket)


def outbound_rows(kind: str | None = None) -> list[Message]:
    query = Message.select().where(Message.direction == "outbound")
    if kind:
        query = query.where(Message.kind == kind)
    return list(query.order_by(Message.id))


def events(ticket: Ticket, action: str) -> list[str]:
    return [e.detail for e in Event.select().where((Event.ticket == ticket.id) & (Event.action == action))]


# --- queueing ---------------------------------------------------------------------------------


def test_acknowledgement_is_queued_with_its_message_row(ctx: Context) -> None:
    message = inbound(reply_to="olga.replies@client.org")
    with database.atomic():
        ticket, row = new_ticket(ctx, message)
        Clock.create(ticket=ticket, metric="first_response", started_at=T0, due_at=T0 + timedelta(hours=4))
        outbound.acknowledge(ctx, ticket, row, message, None)
    (ack,) = outbound_rows("ack")
    (item,) = OutboxItem.select()
    assert item.message_id == ack.id and item.recipients == ["olga.replies@client.org"]
    mail = email.message_from_bytes(bytes(item.raw), policy=policy.default)
    assert mail["Message-ID"] == ack.message_id and msgid.verify(ack.message_id, ctx.secret) is not None
    assert ack.message_id.startswith(f"<mr.{ticket.id}.")
    assert mail["To"] == "olga.replies@client.org"
    assert mail["Subject"] == f"Re: [Support #{ticket.id}] Site is down"
    assert mail["In-Reply-To"] == message.message_id and mail["References"] == message.message_id
    assert mail["Auto-Submitted"] == "auto-replied" and mail["X-Loop"] == "support@example.com"
    body = mail.get_body(("plain",)).get_content()
    assert "by 1:30 PM PST on Monday, 1 December" in body
    assert store.tickets_of_message_ids([ack.message_id]) == {ack.message_id: ticket.id}


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("machine", "Auto-Submitted: auto-replied"),
        ("ack false", "the rules say no acknowledgement"),
        ("agent", "is an agent"),
        ("support", "is the support address"),
        ("no-reply", ""),  # the wording is the loop guard's
        ("requester", "opened by an engineer"),
        ("import", "imported"),
        ("rating", "a rating"),
    ],
)
def test_acknowledgement_suppressed(ctx: Context, case: str, reason: str) -> None:
    sender = {"agent": "alice@example.com", "support": "support@example.com", "no-reply": "noreply@client.org"}
    message = inbound(sender=sender.get(case, "olga@client.org"))
    with database.atomic():
        ticket, row = new_ticket(
            ctx,
            message,
            decision={"ack": False} if case == "ack false" else {"ack": "ack"},
            source={"requester": "agent", "import": "import"}.get(case, "mail"),
        )
        if case == "rating":
            row.kind = "rating"
            row.save()
        outbound.acknowledge(ctx, ticket, row, message, "Auto-Submitted: auto-replied" if case == "machine" else None)
    assert outbound_rows() == [] and OutboxItem.select().count() == 0
    (detail,) = events(ticket, "no acknowledgement")
    assert reason in detail
    assert reason in Message.get_by_id(row.id).machine_reason


def test_hourly_limit_of_automatic_replies(ctx: Context) -> None:
    acked = []
    for n in range(5):
        message = inbound(n, subject=f"Problem {n}")
        now = at(ctx, T0 + timedelta(minutes=10 * n))
        with database.atomic():
            ticket, row = new_ticket(now, message)
            outbound.acknowledge(now, ticket, row, message, None)
        acked.append(not events(ticket, "no acknowledgement"))
    assert acked == [True, True, True, False, False]
    # An hour after the first, one more is allowed.
    message = inbound(9, subject="Later")
    later = at(ctx, T0 + timedelta(minutes=61))
    with database.atomic():
        ticket, row = new_ticket(later, message)
        outbound.acknowledge(later, ticket, row, message, None)
    assert not events(ticket, "no acknowledgement")
    assert len(outbound_rows("ack")) == 4


def test_team_hears_of_a_new_ticket_with_files(ctx: Context, smtp_server: SmtpServer, new_sender: Callable[..., MailSender]) -> None:
    files = (InboundFile("log.txt", "text/plain", 6, b"error\n"), InboundFile("huge.iso", "application/x-iso9660-image", 10**9, None))
    message = inbound(attachments=files, cc=("boss@client.org",))
    with database.atomic():
        ticket, row = new_ticket(ctx, message, decision={"ack": "ack", "notify": ["am@example.com"]})
        outbound.notify_team(ctx, ticket, row, message, "new ticket")
    (note,) = outbound_rows("notification")
    assert note.recipients == ["team@example.com", "am@example.com"]
    assert flush_mail_once(ctx, new_sender(ctx.settings.smtp)) == 1
    (mail,) = [m.message for m in smtp_server.messages]
    assert mail["Reply-To"] == "support@example.com"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert mail["Subject"] == f"[Support #{ticket.id}] Site is down"
    assert mail["In-Reply-To"] == message.message_id
    assert mail["From"].addresses[0].display_name == "Olga Ops via Example Support"
    body = mail.get_body(("plain",)).get_content()
    assert "Our site is down since 9:00." in body and "huge.iso" in body and "not attached" in body
    (part,) = list(mail.iter_attachments())
    assert part.get_filename() == "log.txt" and part.get_content() == "error\n"


def test_forward_goes_to_the_assignee_else_the_team(ctx: Context) -> None:
    message = inbound()
    with database.atomic():
        ticket, row = new_ticket(ctx, message)
        outbound.forward(ctx, ticket, None, None, "assigned to bob@example.com")
        ticket.assignee = "bob@example.com"
        ticket.save()
        follow = inbound(2, in_reply_to=message.message_id, references=(message.message_id,))
        outbound.forward(ctx, ticket, stored(ctx, follow, ticket), follow, "customer replied")
    first, second = outbound_rows("notification")
    assert first.recipients == ["team@example.com"] and "Assigned to bob@example.com" in first.text
    assert second.recipients == ["bob@example.com"] and second.in_reply_to == follow.message_id


def test_relay_threads_into_the_customers_conversation(ctx: Context, smtp_server: SmtpServer, new_sender: Callable[..., MailSender]) -> None:
    message = inbound()
    with database.atomic():
        ticket, row = new_ticket(ctx, message)
        outbound.acknowledge(ctx, ticket, row, message, None)
        (ack,) = outbound_rows("ack")
        follow = inbound(2, in_reply_to=ack.message_id, references=(message.message_id, ack.message_id))
        stored(ctx, follow, ticket)
        reply = inbound(3, sender="alice@example.com", from_name="Alice Engineer", subject="Re: x",
                        attachments=(InboundFile("fix.patch", "text/x-diff", 4, b"diff"),))
        agent_row = stored(ctx, reply, ticket, kind="agent")
        outbound.relay(ctx, ticket, agent_row, reply, "It is fixed now.", ["olga@client.org"])
    assert flush_mail_once(ctx, new_sender(ctx.settings.smtp)) == 2
    mail = smtp_server.messages[1].message
    assert mail["From"].addresses[0].display_name == "Alice Engineer via Example Support"
    assert mail["From"].addresses[0].addr_spec == "support@example.com"
    assert mail["To"] == "olga@client.org"
    assert mail["Subject"] == f"Re: [Support #{ticket.id}] Site is down"
    assert mail["In-Reply-To"] == follow.message_id
    assert mail["References"].split() == [message.message_id, ack.message_id, follow.message_id]
    assert mail["Auto-Submitted"] is None
    assert mail.get_body(("plain",)).get_content().startswith("It is fixed now.")
    assert [p.get_filename() for p in mail.iter_attachments()] == ["fix.patch"]
    (relayed,) = outbound_rows("relay")
    assert relayed.message_id == mail["Message-ID"] and [a.filename for a in relayed.attachments] == ["fix.patch"]


def test_agent_error_without_a_ticket(ctx: Context) -> None:
    message = inbound(sender="alice@example.com", subject="new one")
    with database.atomic():
        row = stored(ctx, message)
        outbound.agent_error(ctx, None, row, message, 'line 1 "#priority P9": expected P1 to P5')
    (err,) = outbound_rows("system")
    assert err.ticket_id is None and err.recipients == ["alice@example.com"]
    assert '"#priority P9"' in err.text and err.subject == "Re: new one"


def test_sla_mails_and_survey(ctx: Context) -> None:
    message = inbound()
    with database.atomic():
        ticket, _ = new_ticket(ctx, message, assignee="bob@example.com")
        clock = Clock.create(ticket=ticket, metric="first_response", started_at=T0, due_at=T0 + timedelta(hours=4))
        outbound.sla_warning(at(ctx, T0 + timedelta(hours=3, minutes=45)), ticket, clock)
        outbound.breach_notice(at(ctx, T0 + timedelta(hours=5)), ticket, clock)
        outbound.survey_mail(ctx, ticket, "tok", [("Good", "support+rate-tok-good@example.com"), ("Bad", "support+rate-tok-bad@example.com")])
    warning, breach = outbound_rows("system")
    assert warning.recipients == ["team@example.com", "bob@example.com"]
    assert "in 15 minutes" in warning.text and "1:30 PM PST" in warning.text
    assert "SLA breached" in breach.subject and "1 hour ago" in breach.text
    (survey,) = outbound_rows("survey")
    assert survey.recipients == ["olga@client.org"]
    assert "support+rate-tok-bad@example.com" in survey.text
    raw = bytes(OutboxItem.get(OutboxItem.message == survey.id).raw)
    assert email.message_from_bytes(raw)["Auto-Submitted"] == "auto-replied"


# --- sending ----------------------------------------------------------------------------------


def queue_three(ctx: Context) -> list[str]:
    """An acknowledgement, a notification and an engineer's error mail."""
    message = inbound()
    with database.atomic():
        ticket, row = new_ticket(ctx, message)
        outbound.acknowledge(ctx, ticket, row, message, None)
        outbound.notify_team(ctx, ticket, row, message, "new ticket")
        outbound.agent_error(ctx, ticket, row, inbound(5, sender="alice@example.com"), "line 1: bad")
    return [m.message_id for m in outbound_rows()]


def test_several_mails_over_one_connection(ctx: Context, smtp_server: SmtpServer, new_sender: Callable[..., MailSender]) -> None:
    ids = queue_three(ctx)
    sender = new_sender(ctx.settings.smtp)
    assert flush_mail_once(ctx, sender) == 3
    assert len({m.peer for m in smtp_server.messages}) == 1  # one client port: one connection
    assert arrived(smtp_server) == Counter(ids)
    assert all(i.state == "sent" and i.sent_at == T0 and i.attempts == 1 for i in OutboxItem.select())
    assert {m.mail_from for m in smtp_server.messages} == {"support@example.com"}
    assert flush_mail_once(at(ctx, T0 + timedelta(hours=1)), sender) == 0
    assert len(smtp_server.messages) == 3


def test_refused_connection_then_451_then_accepted(ctx: Context, smtp_server: SmtpServer, new_sender: Callable[..., MailSender]) -> None:
    ids = queue_three(ctx)
    smtp_server.refuse_connections(True)
    sender = new_sender(ctx.settings.smtp)
    assert flush_mail_once(ctx, sender) == 0
    assert "connection refused" in sender.last_connection_error
    for item in OutboxItem.select():
        assert item.state == "queued" and item.attempts == 1
        assert T0 < item.next_attempt_at <= T0 + timedelta(seconds=5)
        assert "connection refused" in item.last_error
    smtp_server.refuse_connections(False)
    smtp_server.fail_next(2, 451, "4.3.0 try again later")
    now = T0 + timedelta(seconds=5)
    assert flush_mail_once(at(ctx, now), sender) == 1
    assert sender.last_connection_error is None
    waiting = list(OutboxItem.select().where(OutboxItem.state == "queued"))
    assert len(waiting) == 2 and all(i.attempts == 2 and "451" in i.last_error for i in waiting)
    assert flush_mail_once(at(ctx, now), sender) == 0  # not due yet
    assert flush_mail_once(at(ctx, now + timedelta(seconds=15)), sender) == 2
    assert arrived(smtp_server) == Counter(ids)  # every mail arrived, each once
    assert OutboxItem.select().where(OutboxItem.state != "sent").count() == 0


def test_permanent_refusal_is_recorded_and_not_retried(ctx: Context, smtp_server: SmtpServer, new_sender: Callable[..., MailSender]) -> None:
    message = inbound(sender="gone@client.org")
    reply = inbound(2, sender="alice@example.com")
    with database.atomic():
        ticket, row = new_ticket(ctx, message)
        outbound.relay(ctx, ticket, stored(ctx, reply, ticket, kind="agent"), reply, "Fixed.", ["gone@client.org"])
    smtp_server.fail_next(1, 550, "5.1.1 <gone@client.org>: mailbox unavailable", at="RCPT")
    sender = new_sender(ctx.settings.smtp)
    assert flush_mail_once(ctx, sender) == 1  # the relay failed; the notice about it went out
    relay_item = OutboxItem.get(OutboxItem.message == outbound_rows("relay")[0].id)
    assert relay_item.state == "failed" and "550 5.1.1" in relay_item.last_error
    (detail,) = events(ticket, "delivery failed")
    assert "relay to gone@client.org" in detail and "550 5.1.1" in detail
    # The engineers hear of it, in the same flush.
    (notice,) = outbound_rows("notification")
    assert notice.recipients == ["team@example.com"] and "Delivery failed to gone@client.org" in notice.text
    assert list(arrived(smtp_server)) == [notice.message_id]
    assert flush_mail_once(at(ctx, T0 + timedelta(hours=2)), sender) == 0
    assert len(smtp_server.messages) == 1


def test_5xx_after_data_fails_and_the_batch_goes_on(ctx: Context, smtp_server: SmtpServer, new_sender: Callable[..., MailSender]) -> None:
    ids = queue_three(ctx)
    smtp_server.fail_next(1, 554, "5.7.1 rejected as spam")
    assert flush_mail_once(ctx, new_sender(ctx.settings.smtp)) == 2
    states = {i.message.message_id: i.state for i in OutboxItem.select()}
    assert states == {ids[0]: "failed", ids[1]: "sent", ids[2]: "sent"}
    assert len({m.peer for m in smtp_server.messages}) == 1


def test_some_recipients_refused(ctx: Context, per_recipient: PerRecipient, new_sender: Callable[..., MailSender]) -> None:
    ctx = Context(settings(ctx.settings.support.data_dir, per_recipient.port), RULES, SECRET, T0)
    message = inbound()
    with database.atomic():
        ticket, row = new_ticket(ctx, message, decision={"ack": "ack", "notify": ["later@example.com", "gone@example.com"]})
        outbound.notify_team(ctx, ticket, row, message, "new ticket")
    per_recipient.rcpt_replies = {"later@example.com": "452 4.2.2 mailbox full", "gone@example.com": "550 no such user"}
    sender = new_sender(ctx.settings.smtp)
    assert flush_mail_once(ctx, sender) == 1
    assert [rcpts for rcpts, _ in per_recipient.received] == [["team@example.com"]]
    (detail,) = events(ticket, "delivery failed")
    assert "gone@example.com" in detail and "later@example.com" not in detail
    again = OutboxItem.get(OutboxItem.state == "queued")
    assert again.recipients == ["later@example.com"]
    per_recipient.rcpt_replies = {}
    assert flush_mail_once(at(ctx, T0 + timedelta(seconds=10)), sender) == 1
    assert [rcpts for rcpts, _ in per_recipient.received] == [["team@example.com"], ["later@example.com"]]
    ids = {email.message_from_bytes(raw)["Message-ID"] for _, raw in per_recipient.received}
    assert len(ids) == 1  # the same mail, to each recipient once


def test_give_up_after(ctx: Context, smtp_server: SmtpServer, new_sender: Callable[..., MailSender]) -> None:
    message = inbound()
    with database.atomic():
        ticket, row = new_ticket(ctx, message)
        outbound.acknowledge(ctx, ticket, row, message, None)
    smtp_server.refuse_connections(True)
    sender = new_sender(ctx.settings.smtp)
    assert flush_mail_once(at(ctx, T0 + timedelta(days=4)), sender) == 0
    assert OutboxItem.get().state == "queued"
    assert flush_mail_once(at(ctx, T0 + timedelta(days=5, seconds=1)), sender) == 0
    item = OutboxItem.get()
    assert item.state == "failed" and item.last_error.startswith("gave up after 5d: ")
    (detail,) = events(ticket, "delivery failed")
    assert "ack to olga@client.org" in detail
    smtp_server.refuse_connections(False)
    assert flush_mail_once(at(ctx, T0 + timedelta(days=6)), sender) == 0
    assert smtp_server.messages == []


def test_plain_smtp_refused_for_remote_hosts() -> None:
    from mailroom.errors import ConfigError

    with pytest.raises(ConfigError, match="loopback"):
        MailSender(SimpleNamespace(host="smtp.example.com", port=25, security="none", ca_file="", username=""))


# --- one connection for many batches -------------------------------------------------------------


def note(n: int, to: str = "olga@client.org") -> Item:
    """A small mail for send_batch."""
    raw = (f"From: support@example.com\r\nTo: {to}\r\nSubject: Note {n}\r\n"
           f"Message-ID: <note{n}@example.com>\r\n\r\nNote {n}.\r\n").encode()
    return ("support@example.com", [to], raw)


@pytest.fixture
def new_sender() -> Iterator[Callable[..., MailSender]]:
    """Makes senders, each closed (its connection and event loop) at the end of the test."""
    made: list[MailSender] = []

    def make(settings: Any, password: str | None = None) -> MailSender:
        made.append(MailSender(settings, password))
        return made[-1]

    yield make
    for mail_sender in made:
        mail_sender.close()


def plain(port: int) -> SimpleNamespace:
    return SimpleNamespace(host="127.0.0.1", port=port, security="none", ca_file="", username="")


@pytest.fixture
def sender(smtp_server: SmtpServer, new_sender: Callable[..., MailSender]) -> MailSender:
    """A sender for the harness server, closed at the end."""
    return new_sender(plain(smtp_server.port))


def test_batches_share_one_connection_until_closed(smtp_server: SmtpServer, sender: MailSender) -> None:
    for n in range(3):
        assert sender.send_batch([note(2 * n), note(2 * n + 1)]) == [Result("sent")] * 2
    assert len(smtp_server.messages) == 6
    assert len({m.peer for m in smtp_server.messages}) == 1  # three batches, one connection
    sender.close()
    assert sender.send_batch([note(6)]) == [Result("sent")]  # usable again, on a new connection
    assert len({m.peer for m in smtp_server.messages}) == 2


def test_flushes_share_one_connection(ctx: Context, smtp_server: SmtpServer, sender: MailSender) -> None:
    ids = queue_three(ctx)
    assert flush_mail_once(ctx, sender) == 3
    message = inbound(7, sender="ivan@client.org")
    with database.atomic():
        ticket, row = new_ticket(ctx, message)
        outbound.acknowledge(ctx, ticket, row, message, None)
    assert flush_mail_once(ctx, sender) == 1
    assert sum(arrived(smtp_server).values()) == 4 and set(ids) <= set(arrived(smtp_server))
    assert len({m.peer for m in smtp_server.messages}) == 1


def test_unused_connection_is_quit_after_keep_open(per_recipient: PerRecipient, monkeypatch: pytest.MonkeyPatch, new_sender: Callable[..., MailSender]) -> None:
    # How long a connection is kept is set, not waited for: a minute (however slow the machine,
    # the next call comes within it), then nothing (any connection is older than that).
    monkeypatch.setattr("mailroom.adapters.smtp.KEEP_OPEN", 60.0)
    sender = new_sender(plain(per_recipient.port))
    assert sender.send_batch([note(1)]) == [Result("sent")]
    sender.close_idle()
    assert per_recipient.quits == 0  # just used: kept for the next batch
    monkeypatch.setattr("mailroom.adapters.smtp.KEEP_OPEN", 0.0)
    sender.close_idle()
    assert per_recipient.quits == 1  # an idle worker holds no connection
    sender.close_idle()  # nothing left to close
    assert sender.send_batch([note(2)]) == [Result("sent")]
    assert sender.send_batch([note(3)]) == [Result("sent")]  # too old to trust: quit, then a new one
    assert per_recipient.quits == 2
    assert len(set(per_recipient.peers)) == 3
    sender.close()
    assert per_recipient.quits == 3


@pytest.fixture
def idle_timeout() -> Iterator[PerRecipient]:
    """A server that closes a session unused for 2 s."""
    srv = PerRecipient(timeout=2)
    yield srv
    srv.controller.stop()


def test_connection_dropped_while_idle_is_replaced_without_a_retry(db: Any, tmp_path: Path, idle_timeout: PerRecipient, caplog: pytest.LogCaptureFixture, new_sender: Callable[..., MailSender]) -> None:
    ctx = Context(settings(tmp_path, idle_timeout.port), RULES, SECRET, T0)
    sender = new_sender(ctx.settings.smtp)
    queue_three(ctx)
    assert flush_mail_once(ctx, sender) == 3
    # The server closes the unused session; the sender still holds it.
    assert idle_timeout.closed.wait(60), "the server never closed the idle session"
    message = inbound(7, sender="ivan@client.org")
    with database.atomic():
        ticket, row = new_ticket(ctx, message)
        outbound.acknowledge(ctx, ticket, row, message, None)
    with caplog.at_level("INFO", logger="mailroom.smtp"):
        assert flush_mail_once(ctx, sender) == 1
    assert "action=smtp-reconnect" in caplog.text  # the dead connection was tried, then replaced
    assert sender.last_connection_error is None
    assert all(i.state == "sent" and i.attempts == 1 and i.last_error is None for i in OutboxItem.select())
    assert len(idle_timeout.received) == 4
    assert len({email.message_from_bytes(raw)["Message-ID"] for _, raw in idle_timeout.received}) == 4
    assert len(set(idle_timeout.peers)) == 2


def test_server_gone_while_idle_leaves_the_batch_to_retry(smtp_server: SmtpServer, sender: MailSender) -> None:
    assert sender.send_batch([note(1)]) == [Result("sent")]
    smtp_server.refuse_connections(True)  # ends the session and stops listening
    error = f"smtp 127.0.0.1:{smtp_server.port}: cannot connect: connection refused"
    assert sender.send_batch([note(2), note(3)]) == [Result("retry", error)] * 2
    assert sender.last_connection_error == error
    smtp_server.refuse_connections(False)
    assert sender.send_batch([note(2), note(3)]) == [Result("sent")] * 2
    assert sender.last_connection_error is None
    assert [m.subject for m in smtp_server.messages] == ["Note 1", "Note 2", "Note 3"]


def test_one_sender_used_from_two_threads_in_turn(smtp_server: SmtpServer, sender: MailSender) -> None:
    results: list[Result] = []

    def in_thread(work: Any) -> None:
        thread = threading.Thread(target=work)
        thread.start()
        thread.join(timeout=10)
        assert not thread.is_alive()

    assert sender.send_batch([note(1)]) == [Result("sent")]  # the main thread opens the connection
    in_thread(lambda: results.extend(sender.send_batch([note(2), note(3)])))
    assert results == [Result("sent")] * 2
    assert sender.send_batch([note(4)]) == [Result("sent")]
    assert len({m.peer for m in smtp_server.messages}) == 1  # the same connection throughout
    in_thread(sender.close)
    assert sender.send_batch([note(5)]) == [Result("sent")]
    assert [m.subject for m in smtp_server.messages] == [f"Note {n}" for n in range(1, 6)]


# --- TLS and login ----------------------------------------------------------------------------


@pytest.fixture(params=["implicit", "starttls"])
def tls_server(request: pytest.FixtureRequest):
    srv = SmtpServer(tls=request.param)
    srv.require_auth("support", "pa55word")
    srv.start()
    yield srv
    srv.close()


def tls_settings(server: SmtpServer, ca_file: Path | str = "", username: str = "") -> SimpleNamespace:
    security = "tls" if server.tls == "implicit" else "starttls"
    return SimpleNamespace(host=server.host, port=server.port, security=security, ca_file=ca_file, username=username)


def test_tls_verified_with_a_private_ca_and_login(ctx: Context, tls_server: SmtpServer, new_sender: Callable[..., MailSender]) -> None:
    ids = queue_three(ctx)
    sender = new_sender(tls_settings(tls_server, tls_server.cert_path, "support"), "pa55word")
    assert "pa55word" not in repr(sender)
    assert flush_mail_once(ctx, sender) == 3
    assert sender.send_batch([note(9)]) == [Result("sent")]  # the verified, logged-in connection again
    sender.close()
    assert arrived(tls_server) == Counter([*ids, "<note9@example.com>"])
    assert len({m.peer for m in tls_server.messages}) == 1
    assert all(m.auth_user == "support" for m in tls_server.messages)
    # aiosmtpd marks only STARTTLS sessions as TLS; implicit TLS is TLS from the first byte.
    assert all(m.tls for m in tls_server.messages) or tls_server.tls == "implicit"


def test_untrusted_certificate_is_refused(ctx: Context, tls_server: SmtpServer, new_sender: Callable[..., MailSender]) -> None:
    queue_three(ctx)
    sender = new_sender(tls_settings(tls_server, "", "support"), "pa55word")  # system CAs only
    assert flush_mail_once(ctx, sender) == 0
    assert "certificate" in sender.last_connection_error
    assert tls_server.messages == []
    assert all(i.state == "queued" and i.attempts == 1 for i in OutboxItem.select())


def test_starttls_required_but_not_offered(ctx: Context, smtp_server: SmtpServer, new_sender: Callable[..., MailSender]) -> None:
    queue_three(ctx)
    sender = new_sender(SimpleNamespace(host=smtp_server.host, port=smtp_server.port, security="starttls", ca_file="", username=""))
    assert flush_mail_once(ctx, sender) == 0  # never falls back to plain text
    assert "starttls" in sender.last_connection_error.lower()
    assert smtp_server.messages == []


def test_wrong_password_is_retried_and_never_logged(ctx: Context, per_recipient: PerRecipient, caplog: pytest.LogCaptureFixture, new_sender: Callable[..., MailSender]) -> None:
    ctx = Context(settings(ctx.settings.support.data_dir, per_recipient.port), RULES, SECRET, T0)
    queue_three(ctx)
    smtp = SimpleNamespace(**{**vars(ctx.settings.smtp), "username": "support"})
    sender = new_sender(smtp, "wrong-secret")
    assert flush_mail_once(ctx, sender) == 0
    assert "refused the password" in sender.last_connection_error
    assert all(i.state == "queued" for i in OutboxItem.select())
    assert per_recipient.received == []
    assert "wrong-secret" not in caplog.text and "wrong-secret" not in sender.last_connection_error
