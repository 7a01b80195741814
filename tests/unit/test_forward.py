"""Customers' mails as engineers' clients forward them: the original sender, subject, text and words above."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from mailroom.mail.forward import find, is_forward_subject, original_subject
from mailroom.mail.message import Inbound, parse

ARRIVED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
JANE = "jane@customer.test"
QUESTION = "Hello,\n\nthe export to PDF fails since this morning.\n\nJane"


def _mail(subject: str, text: str, html: str | None = None, sender: str = "Eve Engineer <eve@example.com>",
          date: str = "Tue, 01 Dec 2026 11:00:00 +0000", attachments: tuple[EmailMessage, ...] = ()) -> Inbound:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@example.com"
    msg["Subject"] = subject
    msg["Date"] = date
    msg["Message-ID"] = f"<{abs(hash((subject, text, date)))}@example.com>"
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for inner in attachments:
        msg.add_attachment(inner)
    return parse(msg.as_bytes(), ARRIVED)


def _html_only(subject: str, html: str) -> Inbound:
    msg = EmailMessage()
    msg["From"] = "Eve Engineer <eve@example.com>"
    msg["To"] = "support@example.com"
    msg["Subject"] = subject
    msg.set_content(html, subtype="html")
    return parse(msg.as_bytes(), ARRIVED)


GMAIL = (
    "Can you take this one? Jane is on the enterprise plan.\n\n"
    "---------- Forwarded message ---------\n"
    f"From: Jane Customer <{JANE}>\n"
    "Date: Mon, Dec 1, 2026 at 10:00 AM\n"
    "Subject: Export to PDF fails\n"
    "To: Eve Engineer <eve@example.com>\n\n\n" + QUESTION + "\n"
)
GMAIL_HTML = (
    '<div dir="ltr">Can you take this one? Jane is on the enterprise plan.<br><br>'
    '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">---------- Forwarded message ---------<br>'
    'From: <strong class="gmail_sendername" dir="auto">Jane Customer</strong> '
    f'<span dir="auto">&lt;{JANE}&gt;</span><br>Date: Mon, Dec 1, 2026 at 10:00 AM<br>'
    "Subject: Export to PDF fails<br>To: Eve Engineer &lt;eve@example.com&gt;<br></div><br><br>"
    '<div dir="ltr">Hello,<br><br>the export to PDF fails since this morning.<br><br>Jane</div></div></div>'
)
OUTLOOK = (
    "Please look at this, she needs it today.\n\nEve\n\n"
    "________________________________\n"
    f"From: Jane Customer <{JANE}>\n"
    "Sent: Monday, December 1, 2026 10:00 AM\n"
    "To: Eve Engineer <eve@example.com>\n"
    "Subject: Export to PDF fails\n\n" + QUESTION + "\n"
)
OUTLOOK_DE = (
    "#priority P1\nBitte dringend ansehen.\n\nMit freundlichen Grüßen\nEve\n\n"
    f"Von: Jane Customer [mailto:{JANE}]\n"
    "Gesendet: Montag, 1. Dezember 2026 10:00\n"
    "An: Eve Engineer\n"
    "Betreff: Export nach PDF schlägt fehl\n\n"
    "Hallo,\n\nder Export nach PDF schlägt seit heute Morgen fehl.\n\nJane\n"
)
OUTLOOK_DE_HTML = (
    "<p>Bitte dringend ansehen.</p><div id=\"divRplyFwdMsg\"><hr><font><b>Von:</b> Jane Customer "
    f"&lt;{JANE}&gt;<br><b>Gesendet:</b> Montag, 1. Dezember 2026 10:00<br><b>An:</b> Eve Engineer<br>"
    "<b>Betreff:</b> Export nach PDF schlägt fehl</font><div>&nbsp;</div></div>"
    "<div>Hallo,<br>der Export nach PDF schlägt seit heute Morgen fehl.</div>"
)
APPLE = (
    "FYI, from the customer.\n\nSent from my iPhone\n\n"
    "Begin forwarded message:\n\n"
    f"From: Jane Customer <{JANE}>\n"
    "Subject: Export to PDF fails\n"
    "Date: 1 December 2026 at 10:00:00 CET\n"
    "To: eve@example.com\n\n" + QUESTION + "\n"
)
APPLE_DE = (
    "Anfang der weitergeleiteten Nachricht:\n\n"
    f"Von: Jane Customer <{JANE}>\n"
    "Betreff: Export nach PDF schlägt fehl\n"
    "Datum: 1. Dezember 2026 um 10:00:00 MEZ\n"
    "An: eve@example.com\n\n"
    "Hallo,\nder Export schlägt fehl.\n"
)
THUNDERBIRD = (
    "#team billing\nThis is a billing question.\n\n"
    "-------- Forwarded Message --------\n"
    "Subject: \tExport to PDF fails\n"
    "Date: \tMon, 1 Dec 2026 10:00:00 +0100\n"
    f"From: \tJane Customer <{JANE}>\n"
    "To: \teve@example.com\n\n" + QUESTION + "\n"
)
THUNDERBIRD_DE = (
    "-------- Weitergeleitete Nachricht --------\n"
    "Betreff: \tExport nach PDF schlägt fehl\n"
    "Datum: \tMon, 1 Dec 2026 10:00:00 +0100\n"
    f"Von: \tJane Customer <{JANE}>\n"
    "An: \teve@example.com\n\n"
    "> Hallo,\n> der Export schlägt fehl.\n"
)


@pytest.mark.parametrize(
    ("subject", "text", "html", "note", "original_subject_", "original_start"),
    [
        ("Fwd: Export to PDF fails", GMAIL, GMAIL_HTML, "Can you take this one? Jane is on the enterprise plan.",
         "Export to PDF fails", "Hello,"),
        ("FW: Export to PDF fails", OUTLOOK, None, "Please look at this, she needs it today.\n\nEve",
         "Export to PDF fails", "Hello,"),
        ("WG: Export nach PDF schlägt fehl", OUTLOOK_DE, None, "#priority P1\nBitte dringend ansehen.\n\n"
         "Mit freundlichen Grüßen\nEve", "Export nach PDF schlägt fehl", "Hallo,"),
        ("Fwd: Export to PDF fails", APPLE, None, "FYI, from the customer.", "Export to PDF fails", "Hello,"),
        ("WG: Export nach PDF schlägt fehl", APPLE_DE, None, "", "Export nach PDF schlägt fehl", "Hallo,"),
        ("Fwd: Export to PDF fails", THUNDERBIRD, None, "#team billing\nThis is a billing question.",
         "Export to PDF fails", "Hello,"),
        ("WG: Export nach PDF schlägt fehl", THUNDERBIRD_DE, None, "", "Export nach PDF schlägt fehl", "Hallo,"),
    ],
    ids=["gmail", "outlook", "outlook-de", "apple-mail", "apple-mail-de", "thunderbird", "thunderbird-de"],
)
def test_a_quoted_forward_names_the_customer_and_keeps_the_engineers_words_apart(
    subject: str, text: str, html: str | None, note: str, original_subject_: str, original_start: str
) -> None:
    found = find(_mail(subject, text, html))
    assert found is not None and found.original is not None
    original = found.original
    assert (original.from_addr, original.from_name) == (JANE, "Jane Customer")
    assert original.subject == original_subject_
    assert original.text.startswith(original_start)
    assert "Forward" not in original.text and "From:" not in original.text and ">" not in original.text
    assert found.note == note
    assert original.arrived_at == ARRIVED


def test_an_rfc_2822_date_in_the_quoted_block_is_the_originals_date() -> None:
    found = find(_mail("Fwd: Export to PDF fails", THUNDERBIRD))
    assert found is not None and found.original is not None
    assert found.original.date == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("html", [GMAIL_HTML, OUTLOOK_DE_HTML], ids=["gmail", "outlook-de"])
def test_an_html_only_forward_is_read_from_its_structure(html: str) -> None:
    found = find(_html_only("Fwd: Export", html))
    assert found is not None and found.original is not None
    assert found.original.from_addr == JANE
    assert found.original.text.startswith(("Hello,", "Hallo,"))
    assert found.note.startswith(("Can you take", "Bitte dringend"))


def _customer_mail(with_file: bool = True) -> EmailMessage:
    inner = EmailMessage()
    inner["From"] = f'"Customer, Jane" <{JANE}>'
    inner["To"] = "eve@example.com"
    inner["Subject"] = "Export to PDF fails"
    inner["Date"] = "Mon, 01 Dec 2026 10:00:00 +0100"
    inner["Message-ID"] = "<question-1@customer.test>"
    inner.set_content(QUESTION)
    if with_file:
        inner.add_attachment(b"%PDF-1.4 report", maintype="application", subtype="pdf", filename="report.pdf")
    return inner


def test_an_attached_message_is_the_customers_mail_with_its_files() -> None:
    found = find(_mail("Fwd: Export to PDF fails", "#priority P1\nVIP, please hurry.\n\n-- \nEve",
                       attachments=(_customer_mail(),)))
    assert found is not None and found.original is not None and found.how == "attached message"
    original = found.original
    assert (original.from_addr, original.from_name) == (JANE, "Customer, Jane")
    assert original.message_id == "<question-1@customer.test>"
    assert original.subject == "Export to PDF fails"
    assert original.text.strip() == QUESTION
    assert [a.filename for a in original.attachments] == ["report.pdf"]
    assert original.arrived_at == ARRIVED
    assert found.note == "#priority P1\nVIP, please hurry."


def test_the_same_quoted_mail_forwarded_twice_has_the_same_message_id() -> None:
    first = find(_mail("Fwd: Export to PDF fails", GMAIL))
    again = find(_mail("Fwd: Export to PDF fails", "Again, please.\n\n" + GMAIL.split("\n\n", 1)[1],
                       date="Wed, 02 Dec 2026 09:00:00 +0000"))
    other = find(_mail("Fwd: Export to PDF fails", GMAIL.replace("since this morning", "since yesterday")))
    assert first and again and other and first.original and again.original and other.original
    assert first.original.message_id == again.original.message_id
    assert first.original.message_id != other.original.message_id


@pytest.mark.parametrize(
    ("subject", "text"),
    [
        ("Export to PDF fails", "Hello,\n\nthe export fails.\n\nFrom: the next release on, it works.\n"),
        ("RE: Export to PDF fails", OUTLOOK),  # a reply quotes the same block: no forward without the prefix
        ("Re: Export", "Sure.\n\n-----Original Message-----\n" + OUTLOOK.split("\n\n", 2)[2]),
    ],
    ids=["prose", "outlook-reply", "original-message-reply"],
)
def test_mail_that_is_no_forward_is_none(subject: str, text: str) -> None:
    assert find(_mail(subject, text)) is None


@pytest.mark.parametrize(
    ("subject", "text", "problem"),
    [
        ("Fwd: Export to PDF fails", "See below, the customer called me.\n", "no forwarded message"),
        ("FW: Export", OUTLOOK.replace(f"Jane Customer <{JANE}>", "Jane Customer"), "no single valid address"),
        ("FW: Export", OUTLOOK.replace(f"<{JANE}>", f"<{JANE}> <mallory@evil.test>"), "no single valid address"),
        ("FW: Export", OUTLOOK.replace(f"<{JANE}>", "<jane@customer.test\\r\\nBcc:x@y>"), "no single valid address"),
    ],
    ids=["subject-only", "no-address", "two-addresses", "injected"],
)
def test_a_forward_without_a_usable_sender_says_why(subject: str, text: str, problem: str) -> None:
    found = find(_mail(subject, text))
    assert found is not None and found.original is None
    assert problem in found.problem


def test_an_attached_message_without_a_sender_says_why() -> None:
    inner = _customer_mail(with_file=False)
    del inner["From"]
    found = find(_mail("Fwd: Export", "Have a look.", attachments=(inner,)))
    assert found is not None and found.original is None and "no valid From" in found.problem


def test_a_display_name_keeps_no_control_characters() -> None:
    found = find(_mail("Fwd: x", GMAIL.replace("Jane Customer <", "Jane\u2028Bcc: x@evil.test\x0bCustomer <")))
    assert found is not None and found.original is not None
    assert found.original.from_addr == JANE
    assert found.original.from_name.isprintable()


@pytest.mark.parametrize(
    "subject",
    ["Fwd: Export", "FW: Export", "WG: Export", "TR: Export", "RV: Export", "I: Export", "Doorst: Export",
     "VS: Export", "VB: Export", "PD: Export", "ENC: Export", "Fwd: WG: Export", "Fwd[2]: Export", "转发：Export"],
)
def test_forward_prefixes_in_many_languages_are_removed(subject: str) -> None:
    assert is_forward_subject(subject)
    assert original_subject(subject) == "Export"


def test_a_reply_or_plain_subject_is_no_forward() -> None:
    for subject in ("Re: Export", "AW: Export", "Export", "Forwarding rules for my account"):
        assert not is_forward_subject(subject)
    assert original_subject("Re: Export") == "Re: Export"
