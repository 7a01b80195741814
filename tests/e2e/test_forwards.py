"""An engineer forwards a customer's mail to support: a ticket for the customer, the engineer's words a note."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

from .conftest import CUSTOMER, Mailroom
from .mails import body_text, header, mail
from .test_engineers import PASSING, _require_authentication

QUESTION = "Hello,\n\nour invoice INV-20417 was charged twice this month. Can you refund one?\n\nJane"
SUBJECT = "Invoice charged twice"


def _gmail_forward(words: str, headers: dict[str, str] | None = None) -> bytes:
    """A forward as Gmail writes it: the customer's headers quoted under the engineer's words."""
    body = (
        f"{words}\n\n---------- Forwarded message ---------\nFrom: Jane Customer <{CUSTOMER}>\n"
        f"Date: Mon, Dec 7, 2026 at 9:12 AM\nSubject: {SUBJECT}\nTo: Eve Engineer <engineer@example.com>\n\n\n"
        f"{QUESTION}\n"
    )
    return mail(subject=f"Fwd: {SUBJECT}", sender="Eve Engineer <engineer@example.com>", body=body, headers=headers)


def _attached_forward(words: str, original: bytes) -> bytes:
    """A forward with the customer's mail attached whole (message/rfc822), as Outlook's "Forward as attachment"."""
    outer = message_from_bytes(mail(subject=f"FW: {SUBJECT}", sender="Eve Engineer <engineer@example.com>",
                                    body=words, headers=PASSING), policy=policy.default)
    assert isinstance(outer, EmailMessage)
    outer.add_attachment(message_from_bytes(original, policy=policy.default))
    return outer.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _acknowledgements(room: Mailroom) -> list[bytes]:
    return [m for m in room.dovecot.messages("customer") if header(m, "Auto-Submitted") == "auto-replied"]


def test_a_forward_opens_a_ticket_for_the_customer_with_the_engineers_words_as_a_note(mailroom: Mailroom) -> None:
    _require_authentication(mailroom)
    words = "#priority P1\nJane called me about this, she is upset: please refund today."
    mailroom.dovecot.append("support", _gmail_forward(words, PASSING))
    assert mailroom.run_once() == 0

    [ticket] = mailroom.tickets()
    assert ticket["requester"] == CUSTOMER
    assert ticket["subject"] == SUBJECT
    assert ticket["team"] == "billing"  # the rules read the customer's mail
    assert ticket["priority"] == "P1"  # the engineer's command
    first, note = [m for m in ticket["messages"] if m["direction"] == "inbound"]
    assert (first["kind"], first["from"]) == ("customer", CUSTOMER)
    assert first["text"].startswith("Hello,") and "INV-20417" in first["text"] and "Forwarded" not in first["text"]
    assert (note["kind"], note["from"]) == ("note", "engineer@example.com")
    assert note["text"] == "Jane called me about this, she is upset: please refund today."

    [ack] = _acknowledgements(mailroom)
    assert f"#{ticket['id']}" in header(ack, "Subject")
    # The note is internal: no mail to the customer carries it.
    assert all("upset" not in body_text(m) for m in mailroom.dovecot.messages("customer"))


def test_an_attached_customer_mail_opens_its_ticket_with_its_files(mailroom: Mailroom) -> None:
    _require_authentication(mailroom)
    original = mail(subject=SUBJECT, sender=f"Jane Customer <{CUSTOMER}>", body=QUESTION,
                    to="engineer@example.com", attachment=("invoice.pdf", b"%PDF-1.4 INV-20417"))
    mailroom.dovecot.append("support", _attached_forward("", original))
    assert mailroom.run_once() == 0

    [ticket] = mailroom.tickets()
    assert ticket["requester"] == CUSTOMER and ticket["subject"] == SUBJECT
    inbound = [m for m in ticket["messages"] if m["direction"] == "inbound"]
    assert [m["kind"] for m in inbound] == ["customer", "forward"]  # no words of the engineer: no note
    assert [a["filename"] for a in inbound[0]["attachments"]] == ["invoice.pdf"]
    assert len(_acknowledgements(mailroom)) == 1


def test_a_forward_without_proof_opens_nothing_for_the_customer_and_tells_the_engineer(mailroom: Mailroom) -> None:
    # Anyone can write From: an engineer; a forward would let them open tickets (and send mail) to anyone.
    mailroom.dovecot.append("support", _gmail_forward("Please handle."))
    assert mailroom.run_once() == 0
    assert mailroom.tickets() == []
    assert mailroom.dovecot.messages("customer") == []
    told = [m for m in mailroom.dovecot.messages("engineer") if "trusted_authserv_id" in body_text(m)]
    assert len(told) == 1


def test_the_same_mail_forwarded_twice_opens_one_ticket_with_both_notes(mailroom: Mailroom) -> None:
    _require_authentication(mailroom)
    original = mail(subject=SUBJECT, sender=f"Jane Customer <{CUSTOMER}>", body=QUESTION, to="engineer@example.com")
    mailroom.dovecot.append("support", _attached_forward("Please refund.", original))
    mailroom.dovecot.append("support", _attached_forward("#tag refund\nStill open? She wrote again.", original))
    mailroom.dovecot.append("support", _gmail_forward("Forwarded from my phone too.", PASSING))
    mailroom.dovecot.append("support", _gmail_forward("And once more.", PASSING))
    assert mailroom.run_once() == 0

    tickets = mailroom.tickets()
    # The attached mail and the quoted one are two forwards of what could be two mails: the quoted
    # one has no Message-ID to match, so it opens its own ticket once, and only once.
    assert len(tickets) == 2
    attached = next(t for t in tickets if any(m["kind"] == "customer" and m["attachments"] == [] and
                                              "mailroom.invalid" not in m["message_id"] for m in t["messages"]))
    notes = [m["text"] for m in attached["messages"] if m["kind"] == "note"]
    assert notes == ["Please refund.", "Still open? She wrote again."]
    assert "refund" in attached["tags"]
    assert len(_acknowledgements(mailroom)) == 2


def test_a_forward_of_the_customers_mail_that_is_already_a_ticket_adds_a_note(mailroom: Mailroom) -> None:
    _require_authentication(mailroom)
    original = mail(subject=SUBJECT, sender=f"Jane Customer <{CUSTOMER}>", body=QUESTION,
                    to="support@example.com, engineer@example.com")
    mailroom.dovecot.append("support", original)
    assert mailroom.run_once() == 0
    mailroom.dovecot.append("support", _attached_forward("She also phoned about it.", original))
    assert mailroom.run_once() == 0
    [ticket] = mailroom.tickets()
    assert [m["kind"] for m in ticket["messages"] if m["direction"] == "inbound"] == ["customer", "note"]
    assert len(_acknowledgements(mailroom)) == 1


def test_a_forward_of_an_agents_mail_or_one_without_a_sender_opens_nothing_for_anyone_else(mailroom: Mailroom) -> None:
    _require_authentication(mailroom)
    colleague = mail(subject=SUBJECT, sender="Bob Engineer <bob@example.com>", body=QUESTION, to="engineer@example.com")
    mailroom.dovecot.append("support", _attached_forward("From Bob.", colleague))
    mailroom.dovecot.append("support", mail(subject=f"Fwd: {SUBJECT}", sender="Eve Engineer <engineer@example.com>",
                                            body="The customer phoned, see below.\n", headers=PASSING))
    assert mailroom.run_once() == 0
    tickets = mailroom.tickets()
    # The mail with no sender to be found is handled as the engineer's own new mail, as before.
    assert [t["requester"] for t in tickets] == ["engineer@example.com"]
    told = [body_text(m) for m in mailroom.dovecot.messages("engineer") if header(m, "Auto-Submitted") == "auto-replied"]
    assert any("bob@example.com, an agent" in t for t in told)
    assert any("no forwarded message with its sender" in t for t in told)
    assert mailroom.dovecot.messages("customer") == []
