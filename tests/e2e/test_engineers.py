"""Engineers answer from their mail client: relayed once, commands applied, spoofing refused."""

from __future__ import annotations

from .conftest import CUSTOMER, TEAM, Mailroom
from .mails import body_text, header, mail, message_id_of, reply

ANSWER = (
    "Hi Jane,\n\nthe export failed because the report had more than 10,000 rows. I raised the limit "
    "for your account, so exporting works again now. If it fails once more, please send us the "
    "report's name and we will look at it straight away.\n\nEve"
)


def _ticket_and_notice(room: Mailroom, subject: str = "Export to PDF fails") -> tuple[dict, bytes, bytes]:
    question = mail(subject=subject, sender=f"Jane Customer <{CUSTOMER}>")
    room.dovecot.append("support", question)
    assert room.run_once() == 0
    [ticket] = room.tickets()
    [notice] = [m for m in room.dovecot.messages("engineer") if TEAM in (header(m, "To") or "")]
    return ticket, question, notice


def _relays(room: Mailroom) -> list[bytes]:
    return [m for m in room.dovecot.messages("customer") if header(m, "Auto-Submitted") != "auto-replied"]


def test_reply_is_relayed_once_with_new_text_only_and_commands_applied(mailroom: Mailroom) -> None:
    ticket, question, notice = _ticket_and_notice(mailroom)
    mailroom.dovecot.append("support", reply(notice, "#priority P2\n" + ANSWER))
    assert mailroom.run_once() == 0

    [relay] = _relays(mailroom)
    text = body_text(relay)
    assert "raised the limit" in text
    assert "#priority" not in text
    assert "New ticket" not in text and "wrote:" not in text  # no quoted notification
    assert header(relay, "In-Reply-To") == message_id_of(question)
    assert f"[Support #{ticket['id']}]" in header(relay, "Subject")
    assert "via Example Support" in header(relay, "From")

    [ticket] = mailroom.tickets()
    assert ticket["priority"] == "P2"
    assert ticket["first_response_at"] is not None
    assert ticket["status"] == "open"
    kinds = [m["kind"] for m in ticket["messages"] if m["direction"] == "inbound"]
    assert kinds == ["customer", "agent"]


def test_note_reaches_nobody_outside(mailroom: Mailroom) -> None:
    _, _, notice = _ticket_and_notice(mailroom)
    sent_before = len(mailroom.smtp.messages)
    mailroom.dovecot.append("support", reply(notice, "#note\nCustomer called, it is the 10k row limit again."))
    assert mailroom.run_once() == 0
    assert _relays(mailroom) == []
    assert all(CUSTOMER not in m.rcpt_tos for m in mailroom.smtp.messages[sent_before:])
    [ticket] = mailroom.tickets()
    assert [m["kind"] for m in ticket["messages"] if m["direction"] == "inbound"] == ["customer", "note"]
    assert ticket["first_response_at"] is None


def test_invalid_command_applies_nothing_and_tells_the_engineer(mailroom: Mailroom) -> None:
    _, _, notice = _ticket_and_notice(mailroom)
    mailroom.dovecot.append("support", reply(notice, "#priority P1\n#stauts solved\n" + ANSWER))
    assert mailroom.run_once() == 0
    assert _relays(mailroom) == []
    [ticket] = mailroom.tickets()
    assert ticket["priority"] == "P3" and ticket["status"] == "new"
    errors = [m for m in mailroom.dovecot.messages("engineer") if "#stauts" in body_text(m)]
    assert len(errors) == 1


def test_spoofed_agent_mail_is_a_customers_when_authentication_is_required(mailroom: Mailroom) -> None:
    _require_authentication(mailroom)
    ticket, _, notice = _ticket_and_notice(mailroom)
    forged = [
        {"Authentication-Results": "mx.example.com; dmarc=fail header.from=example.com"},
        {},
        {"Authentication-Results": "mx.evil.example.net; dmarc=pass header.from=example.com"},
    ]
    for headers in forged:
        mailroom.dovecot.append("support", reply(notice, "#status solved\n" + ANSWER, headers=headers))
    assert mailroom.run_once() == 0
    assert _relays(mailroom) == []
    [ticket] = mailroom.tickets()
    assert ticket["status"] == "new"
    inbound = [m for m in ticket["messages"] if m["direction"] == "inbound"]
    assert [m["kind"] for m in inbound] == ["customer"] * 4
    assert any("not authenticated" in e["detail"] for e in ticket["events"])

    mailroom.dovecot.append(
        "support",
        reply(notice, "#status solved\n" + ANSWER, headers={"Authentication-Results": "mx.example.com; dkim=pass header.d=example.com; dmarc=pass header.from=example.com"}),
    )
    assert mailroom.run_once() == 0
    assert len(_relays(mailroom)) == 1
    [ticket] = mailroom.tickets()
    assert ticket["status"] == "solved"


def test_out_of_office_reaches_no_customer_and_meets_no_sla(mailroom: Mailroom) -> None:
    _, _, notice = _ticket_and_notice(mailroom)
    ooo = reply(
        notice,
        "I am out of the office until Monday with limited access to email.",
        headers={"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"},
    ).replace(b"Subject: Re:", b"Subject: Automatic reply: Re:")
    mailroom.dovecot.append("support", ooo)
    assert mailroom.run_once() == 0
    assert _relays(mailroom) == []
    [ticket] = mailroom.tickets()
    assert ticket["first_response_at"] is None
    assert ticket["status"] == "new"
    assert [m["kind"] for m in ticket["messages"] if m["direction"] == "inbound"] == ["customer", "note"]


def test_engineer_answering_the_customer_directly_is_not_relayed_again(mailroom: Mailroom) -> None:
    _, _, notice = _ticket_and_notice(mailroom)
    # Reply-all to the notification with the customer added: proven, and the customer has it already.
    direct = reply(notice, ANSWER, to=CUSTOMER, cc="support@example.com")
    mailroom.dovecot.append("support", direct)
    assert mailroom.run_once() == 0
    assert _relays(mailroom) == []  # the customer got it from the engineer, not from us
    [ticket] = mailroom.tickets()
    assert ticket["first_response_at"] is not None


def _require_authentication(mailroom: Mailroom) -> None:
    text = mailroom.config.read_text().replace(
        'secret_env = "MAILROOM_SECRET"', 'secret_env = "MAILROOM_SECRET"\ntrusted_authserv_id = "mx.example.com"'
    )
    mailroom.config.write_text(text)


PASSING = {"Authentication-Results": "mx.example.com; dkim=pass header.d=example.com; dmarc=pass header.from=example.com"}


def test_engineer_opens_a_ticket_for_a_customer(mailroom: Mailroom) -> None:
    _require_authentication(mailroom)
    mailroom.dovecot.append(
        "support",
        mail(
            subject="Your migration window",
            sender="Eve Engineer <engineer@example.com>",
            body="#requester customer@example.org\n" + ANSWER,
            headers=PASSING,
        ),
    )
    assert mailroom.run_once() == 0
    [ticket] = mailroom.tickets()
    assert ticket["requester"] == CUSTOMER
    [relay] = _relays(mailroom)
    assert "#requester" not in body_text(relay)
    assert not [m for m in mailroom.dovecot.messages("customer") if header(m, "Auto-Submitted") == "auto-replied"]


def test_requester_without_authentication_opens_nothing_and_tells_the_engineer(mailroom: Mailroom) -> None:
    # Anyone can write From: an engineer; without a trusted server nothing proves a new mail theirs.
    mailroom.dovecot.append(
        "support",
        mail(subject="Your account", sender="Eve Engineer <engineer@example.com>",
             body="#requester victim@bank.test\nPlease log in at https://phish.test to keep your account.\n"),
    )
    assert mailroom.run_once() == 0
    assert mailroom.tickets() == []
    assert not [m for m in mailroom.smtp.messages if "victim@bank.test" in m.rcpt_tos]
    told = [m for m in mailroom.dovecot.messages("engineer") if "trusted_authserv_id" in body_text(m)]
    assert len(told) == 1


def test_mail_in_an_engineers_name_that_answers_no_notification_relays_and_obeys_nothing(mailroom: Mailroom) -> None:
    ticket, question, notice = _ticket_and_notice(mailroom)
    tag = header(notice, "Subject")
    forged = [
        mail(subject="Re: " + tag, sender="Eve Engineer <engineer@example.com>",
             body="#assign mallory@evil.test\n#status solved\n" + ANSWER),  # the ticket tag only
        reply(question, "#status solved\n" + ANSWER),  # answers the customer's own mail
    ]
    for raw in forged:
        mailroom.dovecot.append("support", raw)
    assert mailroom.run_once() == 0
    assert _relays(mailroom) == []
    tickets = mailroom.tickets()
    original = next(t for t in tickets if t["requester"] == CUSTOMER)
    assert original["status"] == "new" and original["assignee"] is None
    # The tag alone does not even join the ticket (the sender never took part): a ticket of its own.
    refused = [e for t in tickets for e in t["events"] if e["action"] == "agent mail refused"]
    assert len(refused) == 2
    assert not [m for m in mailroom.smtp.messages if any("evil.test" in r for r in m.rcpt_tos)]
    told = [m for m in mailroom.dovecot.messages("engineer") if "treated as a customer's" in body_text(m)]
    assert len(told) == 2
    # The engineer's genuine reply to the notification still works, with no Authentication-Results.
    mailroom.dovecot.append("support", reply(notice, "#status solved\n" + ANSWER))
    assert mailroom.run_once() == 0
    assert len(_relays(mailroom)) == 1
    assert next(t for t in mailroom.tickets() if t["requester"] == CUSTOMER)["status"] == "solved"


def test_assign_to_anyone_but_an_agent_is_refused(mailroom: Mailroom) -> None:
    _, _, notice = _ticket_and_notice(mailroom)
    mailroom.dovecot.append("support", reply(notice, "#assign mallory@evil.test\n" + ANSWER))
    assert mailroom.run_once() == 0
    assert _relays(mailroom) == []
    [ticket] = mailroom.tickets()
    assert ticket["assignee"] is None
    assert [m for m in mailroom.dovecot.messages("engineer") if "not an agent's address" in body_text(m)]


def test_solving_with_an_answer_meets_the_first_response(mailroom: Mailroom) -> None:
    _, _, notice = _ticket_and_notice(mailroom)
    mailroom.dovecot.append("support", reply(notice, "#status solved\n" + ANSWER))
    assert mailroom.run_once() == 0
    [ticket] = mailroom.tickets()
    assert ticket["status"] == "solved" and ticket["first_response_at"] is not None
    first = next(c for c in ticket["sla"]["clocks"] if c["metric"] == "first_response")
    assert first["state"] == "met" and first["met_at"] is not None
    assert len(_relays(mailroom)) >= 1


def test_a_1mb_header_on_an_engineer_s_reply_stalls_nothing(mailroom: Mailroom) -> None:
    import threading

    _, _, notice = _ticket_and_notice(mailroom)
    answer = reply(notice, ANSWER)
    # Folded pairs as a hostile sender writes them: the kind a quadratic scan took minutes over.
    pairs = "\r\n ".join(f"dkim=pass header.d=d{i}.example (x=\"a;b\")" for i in range(25_000))
    header_block, _, body = answer.partition(b"\r\n\r\n")
    answer = header_block + b"\r\nAuthentication-Results: mx.example.com;\r\n " + pairs.encode() + b"\r\n\r\n" + body
    assert len(answer) > 1_000_000
    mailroom.dovecot.append("support", answer)
    outcome: list[int] = []
    run = threading.Thread(target=lambda: outcome.append(mailroom.run_once()), daemon=True)
    run.start()
    run.join(timeout=120)  # a generous ceiling: linear parsing takes well under a second here
    assert outcome == [0], "run --once did not finish within two minutes"
    [relay] = _relays(mailroom)
    assert "raised the limit" in body_text(relay)


def _answer_below(notice: bytes, answer: str) -> bytes:
    """A bottom-posted reply (Thunderbird's "reply below the quote"): attribution, quote, then the answer."""
    quoted = reply(notice, "")  # the client's own Reply: subject, threading headers, the quote
    head, _, body = quoted.partition(b"\r\n\r\n")
    text = body.decode().replace("\r\n", "\n").strip()
    return head + b"\r\n\r\n" + f"{text}\n\n{answer}\n".replace("\n", "\r\n").encode()


def test_a_bottom_posted_answer_reaches_the_customer(mailroom: Mailroom) -> None:
    _, _, notice = _ticket_and_notice(mailroom)
    mailroom.dovecot.append("support", _answer_below(notice, ANSWER))
    assert mailroom.run_once() == 0
    [relay] = _relays(mailroom)
    assert body_text(relay).strip().startswith("Hi Jane,") and "wrote:" not in body_text(relay)
    [ticket] = mailroom.tickets()
    assert ticket["first_response_at"] is not None


def test_a_reply_of_quotes_alone_is_sent_back_to_the_engineer(mailroom: Mailroom) -> None:
    _, _, notice = _ticket_and_notice(mailroom)
    mailroom.dovecot.append("support", reply(notice, ""))
    assert mailroom.run_once() == 0
    assert _relays(mailroom) == []
    told = [m for m in mailroom.dovecot.messages("engineer") if "held no new text" in body_text(m)]
    assert len(told) == 1 and "nothing was sent to the customer" in body_text(told[0])
    [ticket] = mailroom.tickets()
    assert ticket["first_response_at"] is None


GMAIL_HTML = """<div dir="ltr">#priority P2<br>Hi Jane,<br><br>the export works again: <b>the limit is raised</b>.
<img src="cid:shot@mail.gmail.com" alt="screenshot"><img src="https://tracker.example.net/open.gif">
<script>alert("x")</script><br><br>Eve</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">
On Mon, 30 Nov 2026 at 10:00, Example Support &lt;support@example.com&gt; wrote:<br></div>
<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">New ticket: the customer's question</blockquote></div>"""


def _html_reply(notice: bytes, html: str, image: bytes | None = None) -> bytes:
    """An engineer's client replying in HTML (with a plain alternative), an inline image beside it."""
    import email
    from email import policy
    from email.message import EmailMessage

    threaded = email.message_from_bytes(reply(notice, "x"), policy=policy.default)
    msg = EmailMessage()
    for name in ("From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References"):
        msg[name] = threaded[name]
    msg.set_content("plain alternative the client wrote\n\n> quoted\n")
    msg.add_alternative(html, subtype="html")
    if image is not None:
        msg.get_payload()[1].add_related(image, "image", "png", cid="<shot@mail.gmail.com>")
    return msg.as_bytes()


def test_an_html_reply_is_relayed_with_its_html_its_inline_image_and_nothing_else(mailroom: Mailroom) -> None:
    import email
    from email import policy

    _, _, notice = _ticket_and_notice(mailroom)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    mailroom.dovecot.append("support", _html_reply(notice, GMAIL_HTML, png))
    assert mailroom.run_once() == 0
    [relay] = _relays(mailroom)
    parsed = email.message_from_bytes(relay, policy=policy.default)
    text = parsed.get_body(("plain",)).get_content()
    assert "the limit is raised" in text and "#priority" not in text and "customer's question" not in text
    html = parsed.get_body(("html",)).get_content()
    assert "<b>the limit is raised</b>" in html and "cid:shot@mail.gmail.com" in html
    for gone in ("#priority", "customer's question", "wrote:", "<script", "tracker.example.net", "gmail_quote"):
        assert gone not in html, gone
    images = [p for p in parsed.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0]["Content-ID"] == "<shot@mail.gmail.com>"
    assert images[0].get_content() == png
    [ticket] = mailroom.tickets()
    assert ticket["priority"] == "P2"


def test_a_plain_reply_is_relayed_as_plain_text_alone(mailroom: Mailroom) -> None:
    _, _, notice = _ticket_and_notice(mailroom)
    mailroom.dovecot.append("support", reply(notice, ANSWER))
    assert mailroom.run_once() == 0
    [relay] = _relays(mailroom)
    assert b"text/html" not in relay
