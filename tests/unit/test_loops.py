"""Machine mail, out-of-office replies and addresses that must never get automatic mail."""

from datetime import UTC, datetime

import pytest

from mailroom.mail.loops import automatic_mail_reason, is_out_of_office, no_reply_reason
from mailroom.mail.message import Inbound

SUPPORT = "support@example.com"
ARRIVED = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def mail(
    *headers: tuple[str, str],
    from_addr: str = "jane@customer.example.org",
    subject: str = "Printer offline",
    return_path: str | None = "jane@customer.example.org",
    content_type: str = "text/plain",
) -> Inbound:
    return Inbound(
        message_id="<a1@customer.example.org>", in_reply_to=None, references=(), from_addr=from_addr,
        from_name="Jane", reply_to=None, to=(SUPPORT,), cc=(), subject=subject, date=ARRIVED,
        arrived_at=ARRIVED, text="Hello", new_text="Hello",
        headers=(("From", from_addr), ("Subject", subject), *headers),
        return_path=return_path, content_type=content_type,
    )


def reason(message: Inbound, lists: tuple[str, ...] = ()) -> str | None:
    return automatic_mail_reason(message, SUPPORT, lists)


def test_a_plain_customer_mail_has_no_reason():
    assert reason(mail()) is None
    assert reason(mail(return_path=None)) is None
    assert not is_out_of_office(mail())


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ((("Auto-Submitted", "auto-replied"),), "Auto-Submitted: auto-replied"),
        ((("Auto-Submitted", "Auto-Generated"),), "Auto-Submitted: auto-generated"),
        ((("Auto-Submitted", "auto-notified"),), "Auto-Submitted: auto-notified"),
        ((("Precedence", "bulk"),), "Precedence: bulk"),
        ((("Precedence", "Junk"),), "Precedence: junk"),
        ((("Precedence", "list"),), "Precedence: list"),
        ((("Precedence", "auto_reply"),), "Precedence: auto_reply"),
        ((("X-Precedence", "bulk"),), "X-Precedence: bulk"),
        ((("List-Id", "Example News <news.example.org>"),), "List-Id news.example.org is not ours"),
        ((("List-Id", "news.example.org"),), "List-Id news.example.org is not ours"),
        ((("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),), "List-Unsubscribe-Post (bulk mail)"),
        ((("X-Loop", "support@example.com"),), "X-Loop names support@example.com"),
        ((("X-Loop", "<Support@Example.COM>"),), "X-Loop names support@example.com"),
        ((("X-Loop", "helpdesk@other.org"), ("X-Loop", "support@example.com")), "X-Loop names support@example.com"),
        ((("X-Spam-Flag", "YES"),), "X-Spam-Flag: YES"),
        ((("X-Spam-Flag", "yes "),), "X-Spam-Flag: YES"),
        ((("X-Autoreply", "yes"),), "X-Autoreply: yes"),
        ((("X-Autorespond", "Vacation"),), "X-Autorespond: Vacation"),
        ((("X-Autoresponder", ""),), "X-Autoresponder: (empty)"),
    ],
)
def test_machine_mail_headers(headers, expected):
    assert reason(mail(*headers)) == expected


def test_auto_submitted_with_parameters_and_comments():
    assert reason(mail(("Auto-Submitted", "auto-generated; type=dsn"))) == "Auto-Submitted: auto-generated"
    assert reason(mail(("Auto-Submitted", "auto-replied (vacation)"))) == "Auto-Submitted: auto-replied"


@pytest.mark.parametrize(
    "headers",
    [
        (("Auto-Submitted", "no"),),
        (("Auto-Submitted", "No"),),
        (("Auto-Submitted", ""),),
        (("Precedence", "first-class"),),
        (("X-Spam-Flag", "NO"),),
        (("X-Loop", "helpdesk@other.org"),),
        (("X-Loop", "mysupport@example.com"),),
        (("X-Loop", "support@example.com.evil.org"),),
        (("X-Autoreply", "no"),),
        (("X-Auto-Response-Suppress", "All"),),
        (("X-Auto-Response-Suppress", "OOF, AutoReply"),),
        (("X-MS-Exchange-Generated-Message-Source", "Mailbox Rules Agent"),),
        (("List-Unsubscribe", "<mailto:unsubscribe@crm.example.net>"),),
    ],
)
def test_not_machine_mail(headers):
    assert reason(mail(*headers)) is None


@pytest.mark.parametrize(
    "entry", ["support.example.com", "<support.example.com>", "Support.Example.com", "support@example.com"]
)
def test_a_list_id_of_ours_is_not_list_mail(entry):
    message = mail(
        ("List-Id", "Example Support <support.example.com>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("Precedence", "first-class"),
    )
    assert reason(message, (entry,)) is None


def test_a_list_id_compared_as_a_whole_value():
    assert reason(mail(("List-Id", "support-group")), ("support-group",)) is None
    assert reason(mail(("List-Id", "<other.example.com>")), ("support.example.com",)) == (
        "List-Id other.example.com is not ours"
    )


def test_our_group_marks_relayed_mail_precedence_list():
    message = mail(("List-Id", "<support.example.com>"), ("Precedence", "list"))
    assert reason(message, ("support.example.com",)) is None
    assert reason(message) == "Precedence: list"


def test_our_list_does_not_excuse_other_markers():
    message = mail(("List-Id", "<support.example.com>"), ("Precedence", "bulk"))
    assert reason(message, ("support.example.com",)) == "Precedence: bulk"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"return_path": ""}, "bounce (empty return path)"),
        ({"content_type": "multipart/report"}, "bounce (multipart/report)"),
        ({"from_addr": "mailer-daemon@mx.customer.example.org"}, "bounce (from mailer-daemon@mx.customer.example.org)"),
        ({"from_addr": "postmaster@customer.example.org"}, "bounce (from postmaster@customer.example.org)"),
    ],
)
def test_bounces(kwargs, expected):
    assert reason(mail(**kwargs)) == expected


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: [Support #12] Printer offline",
        "AUTOMATIC REPLY:Printer",
        "Abwesenheitsnotiz: [Support #12] Drucker",
        "Automatische Antwort: Drucker",
        "Réponse automatique : Imprimante",
        "Respuesta automática: Impresora",
        "Autosvar: Skrivare",
        "Out of Office AutoReply: Printer",
        "Auto-Reply: Printer",
    ],
)
def test_auto_reply_subjects_alone(subject):
    assert reason(mail(subject=subject)) is not None
    assert is_out_of_office(mail(subject=subject))


@pytest.mark.parametrize("subject", ["Auto: Printer", "Out of Office: Printer", "OOO: back Monday"])
def test_short_auto_reply_subjects_count_only_with_exchange_markers(subject):
    assert reason(mail(subject=subject)) is None
    marked = mail(("X-Auto-Response-Suppress", "All"), subject=subject)
    assert reason(marked) == f"automatic reply subject ({subject.split(':')[0]}:) with Exchange markers"


@pytest.mark.parametrize(
    "subject",
    [
        "Re: Automatic reply: Printer offline",
        "Fwd: Abwesenheitsnotiz: Drucker",
        "Auto insurance claim 1234",
        "Out of office calendar not syncing",
        "Automatic replies are not sent",
        "Question about the automatic reply feature",
    ],
)
def test_subjects_people_write(subject):
    assert reason(mail(("X-Auto-Response-Suppress", "All"), subject=subject)) is None
    assert not is_out_of_office(mail(subject=subject))


@pytest.mark.parametrize(
    "message",
    [
        mail(("Auto-Submitted", "auto-replied")),
        mail(("X-Autoreply", "yes")),
        mail(("X-Autorespond", "yes")),
        mail(("Precedence", "auto_reply")),
        mail(subject="Automatic reply: Re: [Support #3] Printer"),
        mail(subject="Out of Office: Re: [Support #3] Printer"),
        mail(subject="Auto: Re: [Support #3] Printer"),
    ],
)
def test_out_of_office(message):
    assert is_out_of_office(message)


@pytest.mark.parametrize(
    "message",
    [
        mail(subject="Re: [Support #3] Printer"),
        mail(("Auto-Submitted", "no")),
        mail(("Auto-Submitted", "auto-generated")),  # machine mail, but not an out-of-office
        mail(("X-Auto-Response-Suppress", "All"), subject="RE: [Support #3] Printer"),
    ],
)
def test_not_out_of_office(message):
    assert not is_out_of_office(message)


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("", "no address to answer"),
        ("   ", "no address to answer"),
        ("jane", "no address to answer"),
        ("support@example.com", "support@example.com is the support address"),
        ("Support@Example.com", "support@example.com is the support address"),
        ("support+12@example.com", "support+12@example.com is the support address"),
        ("noreply@shop.example.net", "noreply@shop.example.net is a no-reply address"),
        ("no-reply@shop.example.net", "no-reply@shop.example.net is a no-reply address"),
        ("no_reply@shop.example.net", "no_reply@shop.example.net is a no-reply address"),
        ("donotreply@shop.example.net", "donotreply@shop.example.net is a no-reply address"),
        ("do-not-reply@shop.example.net", "do-not-reply@shop.example.net is a no-reply address"),
        ("DoNotReply@shop.example.net", "donotreply@shop.example.net is a no-reply address"),
        ("no-reply-aws@amazon.example", "no-reply-aws@amazon.example is a no-reply address"),
        ("notifications-noreply@social.example", "notifications-noreply@social.example is a no-reply address"),
        ("noreply+bounce@shop.example.net", "noreply+bounce@shop.example.net is a no-reply address"),
        ("mailer-daemon@mx.example.net", "mailer-daemon@mx.example.net is a mail system address"),
        ("MAILER-DAEMON@mx.example.net", "mailer-daemon@mx.example.net is a mail system address"),
        ("postmaster@example.net", "postmaster@example.net is a mail system address"),
    ],
)
def test_no_reply_addresses(address, expected):
    assert no_reply_reason(address, SUPPORT) == expected


@pytest.mark.parametrize(
    "address",
    [
        "jane@customer.example.org",
        "support@customer.example.org",  # the customer's own support desk is a person's address
        "supporter@example.com",
        "snoreply@example.net",
        "noreplyalex@example.net",
        "reply@example.net",
        "postmaster.jane@example.net",
    ],
)
def test_addresses_that_may_get_automatic_mail(address):
    assert no_reply_reason(address, SUPPORT) is None


def test_every_address_of_ours_is_known_to_the_loop_guard() -> None:
    ours = (SUPPORT, "billing@example.com")
    looped = mail(("X-Loop", "billing@example.com"))
    assert automatic_mail_reason(looped, ours, ()) == "X-Loop names billing@example.com"
    assert automatic_mail_reason(looped, SUPPORT, ()) is None
    assert no_reply_reason("billing+csat-x-good@example.com", ours) == "billing+csat-x-good@example.com is the support address"
