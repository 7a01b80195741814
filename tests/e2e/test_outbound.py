"""Acknowledgements and team notifications: one each, threaded, never looped, never injected."""

from __future__ import annotations

import email
from email import policy
from email.header import Header

from mailroom.store import queries as store
from mailroom.store.models import Message

from .conftest import CUSTOMER, TEAM, Mailroom
from .mails import body_text, header, mail, message_id_of, reply


def _parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def test_customer_gets_one_acknowledgement_and_the_team_one_notification(mailroom: Mailroom) -> None:
    question = mail(subject="Cannot export reports to PDF", sender=f"Jane Customer <{CUSTOMER}>")
    mailroom.dovecot.append("support", question)
    assert mailroom.run_once() == 0
    [ticket] = mailroom.tickets()
    tag = f"[Support #{ticket['id']}]"

    [ack] = mailroom.dovecot.messages("customer")
    assert tag in header(ack, "Subject")
    assert header(ack, "In-Reply-To") == message_id_of(question)
    assert message_id_of(question) in header(ack, "References")
    assert header(ack, "Auto-Submitted") == "auto-replied"
    assert header(ack, "X-Loop") == "support@example.com"
    assert "support@example.com" in header(ack, "From")
    due = ticket["sla"]["first_response_due"]
    assert due is not None
    text = body_text(ack)
    assert str(ticket["id"]) in text
    assert "by " in text  # the promised time, in the customer's terms

    notices = [m for m in mailroom.dovecot.messages("engineer") if TEAM in (header(m, "To") or "")]
    assert len(notices) == 1
    notice = notices[0]
    assert tag in header(notice, "Subject")
    assert header(notice, "Reply-To") == "support@example.com"
    assert header(notice, "X-Auto-Response-Suppress") == "All"

    # The customer's follow-up: a second notification, no second acknowledgement.
    mailroom.dovecot.append(
        "support",
        mail(subject=f"Re: {tag} Cannot export reports to PDF", in_reply_to=header(ack, "Message-ID"), body="It happens with every invoice."),
    )
    assert mailroom.run_once() == 0
    assert len(mailroom.dovecot.messages("customer")) == 1
    notices = [m for m in mailroom.dovecot.messages("engineer") if tag in (header(m, "Subject") or "")]
    assert len(notices) == 2


def test_machine_mail_gets_no_acknowledgement(mailroom: Mailroom) -> None:
    bounce = (
        b"Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.org\r\nTo: support@example.com\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce-1@mx.example.org>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n--b--\r\n"
    )
    mailroom.dovecot.append("support", bounce)
    mailroom.dovecot.append("support", mail(subject="I am away", headers={"Auto-Submitted": "auto-replied"}))
    mailroom.dovecot.append("support", mail(subject="Spam", headers={"X-Spam-Flag": "YES"}, sender="x@example.org"))
    mailroom.dovecot.append("support", mail(subject="Loop", headers={"X-Loop": "support@example.com"}, sender="y@example.org"))
    assert mailroom.run_once() == 0
    assert mailroom.dovecot.count("customer", "INBOX") == 0
    store.open_database(mailroom.settings().database.url)
    reasons = [m.machine_reason for m in Message.select().where(Message.direction == "inbound")]
    assert len(reasons) == 4 and all(reasons)


def test_two_auto_responders_do_not_loop(mailroom: Mailroom) -> None:
    """A naive autoresponder at the customer answers every mail with a fresh one; mailroom stops at its limit."""
    mailroom.dovecot.append("support", mail(subject="Hello", sender="bot@example.org"))
    answered = 0
    for _ in range(60):
        assert mailroom.run_once() == 0
        inbox = mailroom.dovecot.messages("customer")
        for raw in inbox[answered:]:
            # The bot's answer carries no loop header and no threading: the worst case.
            mailroom.dovecot.append("support", mail(subject=f"Auto: {header(raw, 'Subject')[:40]} {answered}", sender="bot@example.org"))
        answered = len(inbox)
    acks = [m for m in mailroom.dovecot.messages("customer") if header(m, "Auto-Submitted") == "auto-replied"]
    assert 1 <= len(acks) <= 3


def test_customer_text_cannot_add_a_header(mailroom: Mailroom) -> None:
    raw = mail(subject="placeholder", sender=f"<{CUSTOMER}>").replace(
        b"Subject: placeholder", b"Subject: Hello\r\nBcc: victim@example.com"
    )
    # A header that decodes to CR/LF must not become one either.
    encoded = Header("Hello\r\nBcc: victim@example.com", "utf-8").encode()
    raw2 = mail(subject="placeholder", sender="other@example.org").replace(b"Subject: placeholder", f"Subject: {encoded}".encode())
    mailroom.dovecot.append("support", raw)
    mailroom.dovecot.append("support", raw2)
    assert mailroom.run_once() == 0
    for sent in mailroom.smtp.messages:
        assert "victim@example.com" not in sent.rcpt_tos
        assert _parsed(sent.raw)["Bcc"] is None
        assert b"\r\nBcc:" not in sent.raw


def test_forged_or_scored_spam_opens_its_ticket_but_sends_its_sender_nothing(mailroom: Mailroom) -> None:
    mailroom.config.write_text(mailroom.config.read_text().replace(
        'secret_env = "MAILROOM_SECRET"',
        'secret_env = "MAILROOM_SECRET"\ntrusted_authserv_id = "mx.example.com"\nspam_score_header = "X-Spam-Score"',
    ))
    forged = {"Authentication-Results": "mx.example.com; spf=fail smtp.mailfrom=example.org; dmarc=fail header.from=example.org"}
    mailroom.dovecot.append("support", mail(subject="Your invoice", headers=forged, sender=f"<{CUSTOMER}>"))
    mailroom.dovecot.append("support", mail(subject="Cheap pills", headers={"X-Spam-Score": "11.2"}, sender=f"<{CUSTOMER}>"))
    mailroom.dovecot.append("support", mail(subject="Export fails", headers={"X-Spam-Score": "1.0"}, sender=f"<{CUSTOMER}>"))
    assert mailroom.run_once() == 0

    acks = [header(m, "Subject") for m in mailroom.dovecot.messages("customer")]
    assert len(acks) == 1 and "Export fails" in acks[0]
    tickets = {t["subject"]: t for t in mailroom.tickets()}
    assert set(tickets) == {"Your invoice", "Cheap pills", "Export fails"}
    for subject, why in (("Your invoice", "spf=fail and dmarc=fail"), ("Cheap pills", "X-Spam-Score 11.2")):
        ticket = tickets[subject]
        assert "suspected-spam" in ticket["tags"]
        assert any(why in e["detail"] for e in ticket["events"] if e["action"] == "suspected spam")
    # The team still hears of every ticket (a person may be behind it), and an engineer can still answer.
    notices = mailroom.dovecot.messages("engineer")
    assert sorted(header(m, "Subject") or "" for m in notices) == sorted(f"[Support #{t['id']}] {s}" for s, t in tickets.items())
    [notice] = [m for m in notices if "Cheap pills" in (header(m, "Subject") or "")]
    passing = {"Authentication-Results": "mx.example.com; spf=pass; dkim=pass header.d=example.com; dmarc=pass"}
    mailroom.dovecot.append("support", reply(notice, "#status solved\nWe looked into this and it is not for us.", headers=passing))
    assert mailroom.run_once() == 0
    solved = next(t for t in mailroom.tickets() if t["subject"] == "Cheap pills")
    assert solved["status"] == "solved"
    # The engineer's own answer is relayed; the survey, which is automatic mail, is not sent.
    customer = mailroom.dovecot.messages("customer")
    assert len(customer) == 2 and "How did we do?" not in header(customer[-1], "Subject")
    assert any(e["action"] == "no survey" and "suspected spam" in e["detail"] for e in solved["events"])


def test_a_customer_is_acknowledged_and_answered_in_their_own_language(mailroom: Mailroom) -> None:
    mailroom.dovecot.append("support", mail(
        subject="Export funktioniert nicht", sender="Jana Kunde <jana@example.org>",
        body="Guten Tag,\n\nseit heute Morgen bricht der Export meiner Berichte ab. Können Sie mir helfen?\n\nJana",
    ))
    mailroom.dovecot.append("support", mail(subject="Export fails", sender="Joe <joe@example.org>",
                                            body="Hello, the export of my reports stops halfway since this morning."))
    assert mailroom.run_once() == 0
    acks = {header(m, "To") or "": body_text(m) for m in mailroom.dovecot.messages("customer")}
    german = next(text for to, text in acks.items() if "jana@" in to)
    english = next(text for to, text in acks.items() if "joe@" in to)
    assert "vielen Dank für Ihre Nachricht" in german and "Thank you for writing" not in german
    assert "Thank you for writing" in english
    ticket = next(t for t in mailroom.tickets() if "jana@" in t["requester"])
    assert ticket["language"] == "de"

    # The engineer's answer reaches her in a German wrapper; the team's notification stays in English.
    notice = next(m for m in mailroom.dovecot.messages("engineer") if f"#{ticket['id']}" in (header(m, "Subject") or ""))
    assert "Reply to this mail to answer the customer" in body_text(notice)
    mailroom.dovecot.append("support", reply(notice, "Hallo Jana, der Export ist behoben: bitte erneut versuchen."))
    assert mailroom.run_once() == 0
    relayed = [m for m in mailroom.dovecot.messages("customer") if "der Export ist behoben" in body_text(m)]
    assert len(relayed) == 1 and "im Betreff stehen" in body_text(relayed[0])
