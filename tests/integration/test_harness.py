"""The test servers themselves: Dovecot, the SMTP server and the databases do what other tests rely on."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from datetime import UTC, datetime
from email.message import EmailMessage

import aiosmtplib
import pytest
from imapclient import IMAPClient
from imapclient.exceptions import LoginError
from playhouse.db_url import connect

from mailroom.demo.dovecot import Dovecot, process_group
from mailroom.demo.smtp import SmtpServer


def raw_mail(subject: str = "Hello", body: str = "Body text.\r\n", sender: str = "customer@example.org",
             to: str = "support@example.com") -> bytes:
    """A small mail as CRLF bytes."""
    return (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{subject.replace(' ', '.')}"
            f"@client.example.org>\r\n\r\n{body}").encode()


def email_message(subject: str = "Hello", to: str = "support@example.com", body: str = "Body text.\n") -> EmailMessage:
    """An EmailMessage for aiosmtplib."""
    msg = EmailMessage()
    msg["From"] = "customer@example.org"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    return msg


def send(server: SmtpServer, msg: EmailMessage, **kwargs: object) -> None:
    """aiosmtplib.send to the test server, plaintext unless asked otherwise."""
    kwargs.setdefault("start_tls", False)
    asyncio.run(aiosmtplib.send(msg, hostname=server.host, port=server.port, timeout=10, **kwargs))  # type: ignore[arg-type]


# -- Dovecot -----------------------------------------------------------------------------------


def test_dovecot_login_append_fetch_and_capabilities(dovecot: Dovecot) -> None:
    with dovecot.client("support") as imap:
        caps = imap.capabilities()
        assert b"IDLE" in caps and b"MOVE" in caps and b"UIDPLUS" in caps
        raw = raw_mail("First")
        imap.append("INBOX", raw)
        imap.select_folder("INBOX")
        [uid] = imap.search("ALL")
        assert imap.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"] == raw
    assert dovecot.messages("support") == [raw]
    assert dovecot.count("customer", "INBOX") == 0  # users have separate mailboxes


def test_dovecot_wrong_password_is_refused(dovecot: Dovecot) -> None:
    with pytest.raises(LoginError):
        dovecot.client("support", password="wrong")


def test_dovecot_helpers_folders_flags_and_internaldate(dovecot: Dovecot) -> None:
    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    first = dovecot.append("support", raw_mail("One"), msg_time=when)
    second = dovecot.append("support", raw_mail("Two"), folder="Archive/2026", flags=[r"\Seen"])
    assert first == 1 and second == 1  # UIDs from APPENDUID
    assert dovecot.folders("support") == ["Archive", "Archive/2026", "INBOX"]
    assert dovecot.count("support", "Archive/2026") == 1
    assert dovecot.count("support", "Nowhere") == 0 and dovecot.messages("support", "Nowhere") == []
    with dovecot.client("support") as imap:
        imap.select_folder("INBOX", readonly=True)
        data = imap.fetch("1", ["INTERNALDATE"])[1]
        assert data[b"INTERNALDATE"].astimezone(UTC) == when
        imap.select_folder("Archive/2026", readonly=True)
        assert rb"\Seen" in imap.fetch("1", ["FLAGS"])[1][b"FLAGS"]
    dovecot.clear()
    assert dovecot.folders("support") == ["INBOX"] and dovecot.count("support") == 0


def test_dovecot_wait_for_returns_messages_appended_meanwhile(dovecot: Dovecot) -> None:
    later = threading.Timer(0.3, dovecot.append, ("engineer", raw_mail("Late")))
    later.start()
    try:
        assert len(dovecot.wait_for("engineer", "INBOX", 1, timeout=60)) == 1
    finally:
        later.cancel()
    with pytest.raises(AssertionError, match="holds 1 messages"):
        dovecot.wait_for("engineer", "INBOX", 2, timeout=0.2)


def test_dovecot_move_and_idle(dovecot: Dovecot) -> None:
    dovecot.append("support", raw_mail("Move me"))
    with dovecot.client("support") as imap:
        imap.create_folder("Processed")
        imap.select_folder("INBOX")
        imap.move(imap.search("ALL"), "Processed")
        assert dovecot.count("support", "INBOX") == 0 and dovecot.count("support", "Processed") == 1

        imap.idle()
        started = time.monotonic()
        dovecot.append("support", raw_mail("Arrives during IDLE"))
        responses = imap.idle_check(timeout=60)
        imap.idle_done()
    assert any(r[1] == b"EXISTS" for r in responses), responses
    # inotify, or the 1 s check interval at worst: far from Dovecot's default of 30 s.
    assert time.monotonic() - started < 20


def test_dovecot_stop_and_start_on_the_same_port(dovecot: Dovecot) -> None:
    port = dovecot.port
    dovecot.append("support", raw_mail("Kept"))
    imap = dovecot.client("support")
    imap.select_folder("INBOX")
    dovecot.stop()
    assert not dovecot.running
    with pytest.raises((OSError, IMAPClient.AbortError, IMAPClient.Error)):
        imap.noop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((dovecot.host, port), timeout=2)
    dovecot.start()
    assert dovecot.port == port
    with dovecot.client("support") as again:
        again.select_folder("INBOX")
        assert len(again.search("ALL")) == 1
    dovecot.restart()
    assert dovecot.port == port and dovecot.count("support") == 1


def test_dovecot_leaves_no_process_behind() -> None:
    server = Dovecot()
    with server:
        server.append("support", raw_mail("x"))
        pgid = server.pid
        assert pgid is not None and process_group(pgid)
    assert process_group(pgid) == []
    assert not server.folder.exists()


def test_dovecot_tls_implicit_and_starttls_verify_with_cert_path(dovecot_tls: Dovecot) -> None:
    assert dovecot_tls.cert_path is not None and dovecot_tls.tls_port
    with dovecot_tls.client("support", tls=True) as imap:
        assert b"IDLE" in imap.capabilities()
    context = ssl.create_default_context(cafile=str(dovecot_tls.cert_path))
    with IMAPClient("127.0.0.1", port=dovecot_tls.port, ssl=False, timeout=10) as imap:
        imap.starttls(context)
        imap.login("support", Dovecot.PASSWORD)
    localhost = ssl.create_default_context(cafile=str(dovecot_tls.cert_path))
    with IMAPClient("localhost", port=dovecot_tls.tls_port, ssl=True, ssl_context=localhost, timeout=10) as imap:
        imap.login("customer", Dovecot.PASSWORD)
    with pytest.raises(ssl.SSLCertVerificationError):  # a client must not trust it without the file
        IMAPClient("127.0.0.1", port=dovecot_tls.tls_port, ssl=True, ssl_context=ssl.create_default_context(),
                   timeout=10)


# -- SMTP --------------------------------------------------------------------------------------


def test_smtp_records_what_aiosmtplib_sends(smtp_server: SmtpServer) -> None:
    long_line = "x" * 5000  # beyond the 1,000 of RFC 5321, as Outlook writes
    msg = email_message("Grüße", body=f"Héllo\n{long_line}\n")
    send(smtp_server, msg, recipients=["support@example.com", "Team@Example.com"])
    [got] = smtp_server.wait_for(1, timeout=60)
    assert got.mail_from == "customer@example.org"
    assert got.rcpt_tos == ["support@example.com", "Team@Example.com"]
    assert got.subject == "Grüße"
    assert long_line in got.message.get_content()
    assert got.raw.endswith(b"\r\n") and b"\r\n" in got.raw
    assert got.received_at.tzinfo is not None and got.peer is not None and got.peer[0] == "127.0.0.1"
    assert smtp_server.by_recipient("team@example.com") == [got]
    assert smtp_server.by_recipient("nobody@example.com") == []
    smtp_server.clear()
    assert smtp_server.messages == []


def test_smtp_accepts_smtputf8_addresses(smtp_server: SmtpServer) -> None:
    msg = email_message("UTF-8", to="jörg@exämple.org")
    send(smtp_server, msg)
    [got] = smtp_server.wait_for(1, timeout=60)
    assert got.rcpt_tos == ["jörg@exämple.org"] and "SMTPUTF8" in got.mail_options


def test_smtp_temporary_failure_then_success(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next(1)
    with pytest.raises(aiosmtplib.SMTPDataError) as failed:
        send(smtp_server, email_message("Retry me"))
    assert failed.value.code == 451 and "Try again later" in failed.value.message
    assert smtp_server.messages == []
    send(smtp_server, email_message("Retry me"))
    assert [m.subject for m in smtp_server.wait_for(1)] == ["Retry me"]
    assert smtp_server.faults_served == 1


def test_smtp_permanent_refusal_at_rcpt(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next(1, 550, "5.1.1 No such user", at="RCPT")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        send(smtp_server, email_message("Nobody"), recipients=["a@example.org", "b@example.org"])
    assert {r.code for r in refused.value.recipients} == {550}
    send(smtp_server, email_message("Next one"))
    assert [m.subject for m in smtp_server.wait_for(1)] == ["Next one"]


def test_smtp_refused_connections_then_back_on_the_same_port(smtp_server: SmtpServer) -> None:
    port = smtp_server.port
    smtp_server.refuse_connections(True)
    with pytest.raises(aiosmtplib.SMTPConnectError):
        send(smtp_server, email_message("Refused"))
    smtp_server.refuse_connections(False)
    assert smtp_server.port == port
    send(smtp_server, email_message("Accepted"))
    assert [m.subject for m in smtp_server.wait_for(1)] == ["Accepted"]


def test_smtp_auth_over_plaintext(smtp_server: SmtpServer) -> None:
    smtp_server.require_auth("mailer", "s3cret")
    with pytest.raises(aiosmtplib.SMTPResponseException) as unauthenticated:
        send(smtp_server, email_message("No login"))
    assert unauthenticated.value.code == 530
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        send(smtp_server, email_message("Wrong"), username="mailer", password="nope")
    send(smtp_server, email_message("Logged in"), username="mailer", password="s3cret")
    [got] = smtp_server.wait_for(1)
    assert got.auth_user == "mailer" and got.subject == "Logged in"


@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_smtp_tls_verified_with_cert_path(mode: str) -> None:
    with SmtpServer(tls=mode) as server:  # type: ignore[arg-type]
        assert server.cert_path is not None
        context = ssl.create_default_context(cafile=str(server.cert_path))
        if mode == "starttls":
            send(server, email_message("Secret"), start_tls=True, tls_context=context)
        else:
            send(server, email_message("Secret"), use_tls=True, tls_context=context)
        [got] = server.wait_for(1)
        assert got.tls


def test_smtp_delivers_into_dovecot_by_routes(smtp_server: SmtpServer, dovecot: Dovecot) -> None:
    smtp_server.deliver_to(dovecot, {
        "support@example.com": "support",
        "support+*@example.com": "support",
        "*@example.org": "customer",
        "*@example.com": "engineer",
    })
    send(smtp_server, email_message("To support"), recipients=["Support@Example.com", "support+billing@example.com"])
    send(smtp_server, email_message("To both"), recipients=["jane@example.org", "team@example.com"])
    send(smtp_server, email_message("Unrouted"), recipients=["someone@elsewhere.net"])
    # Delivery is done before the 250 answer: no waiting needed.
    [to_support] = dovecot.messages("support")  # one copy for the two addresses routed to support
    assert b"Subject: To support" in to_support
    assert to_support.startswith(b"Return-Path: <customer@example.org>\r\nDelivered-To: Support@Example.com\r\n")
    assert len(dovecot.messages("customer")) == 1 and len(dovecot.messages("engineer")) == 1
    assert len(smtp_server.messages) == 3


def test_smtp_delivery_into_a_stopped_dovecot_is_a_temporary_failure(smtp_server: SmtpServer,
                                                                     dovecot: Dovecot) -> None:
    smtp_server.deliver_to(dovecot, {"*": "support"})
    dovecot.stop()
    with pytest.raises(aiosmtplib.SMTPDataError) as failed:
        send(smtp_server, email_message("While down"))
    assert failed.value.code == 451 and smtp_server.delivery_errors
    dovecot.start()
    send(smtp_server, email_message("After"))
    assert len(dovecot.wait_for("support", "INBOX", 1, timeout=60)) == 1


# -- databases ---------------------------------------------------------------------------------


def test_database_url_is_empty_and_usable(database_url: str) -> None:
    db = connect(database_url)
    try:
        assert db.get_tables() == []  # every test starts with an empty database
        db.execute_sql("CREATE TABLE probe (name TEXT)")
        db.execute_sql("INSERT INTO probe (name) VALUES ('x')")
        assert db.execute_sql("SELECT name FROM probe").fetchall() == [("x",)]
    finally:
        db.close()


def test_pg_url_is_postgresql(pg_url: str) -> None:
    assert pg_url.startswith("postgresql://postgres@127.0.0.1:5432/mailroom_test_")
    db = connect(pg_url)
    try:
        assert db.execute_sql("SELECT current_database()").fetchone()[0] == pg_url.rsplit("/", 1)[1]
    finally:
        db.close()
