"""The IMAP adapter against a real Dovecot: TLS, STARTTLS, verified certificates, batches, moves, IDLE."""

from __future__ import annotations

import gc
import threading
import time
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mailroom.adapters.imap import MailboxConnection
from mailroom.demo.dovecot import Dovecot
from mailroom.errors import SignInError, TransientError


def _cfg(dovecot: Dovecot, security: str, port: int | None = None, ca_file: Path | None = None) -> Any:
    return SimpleNamespace(
        host="127.0.0.1", port=port or dovecot.port, security=security, ca_file=ca_file, username="support",
        folder="INBOX", processed_folder="Processed", quarantine_folder="Quarantine",
    )


def _raw(n: int, size: int = 0) -> bytes:
    return (f"From: c{n}@example.org\r\nSubject: mail {n}\r\nMessage-ID: <m{n}@example.org>\r\n\r\n" + "x" * size + "\r\n").encode()


def test_implicit_tls_and_starttls_verify_the_certificate(dovecot_tls: Dovecot) -> None:
    for security, port in (("tls", dovecot_tls.tls_port), ("starttls", dovecot_tls.port)):
        conn = MailboxConnection(_cfg(dovecot_tls, security, port, dovecot_tls.cert_path), Dovecot.PASSWORD)
        conn.connect()
        assert conn.select("INBOX") > 0
        conn.close()
    # Without the private CA the server's certificate is not trusted: no silent downgrade.
    untrusted = MailboxConnection(_cfg(dovecot_tls, "tls", dovecot_tls.tls_port, None), Dovecot.PASSWORD)
    with pytest.raises(TransientError, match="CERTIFICATE_VERIFY_FAILED|certificate"):
        untrusted.connect()


def test_login_failure_and_unreachable_server_are_transient_errors(dovecot: Dovecot) -> None:
    with pytest.raises(SignInError, match="refused the password"):
        MailboxConnection(_cfg(dovecot, "none"), "wrong").connect()
    dovecot.stop()
    with pytest.raises(TransientError, match=str(dovecot.port)):
        MailboxConnection(_cfg(dovecot, "none"), Dovecot.PASSWORD).connect()


def test_batches_peek_and_move_create_missing_folders(dovecot: Dovecot) -> None:
    for n in range(30):
        dovecot.append("support", _raw(n, size=2000 if n % 3 else 0))
    conn = MailboxConnection(_cfg(dovecot, "none"), Dovecot.PASSWORD)
    conn.connect()
    assert {"Processed", "Quarantine"} <= set(dovecot.folders("support"))
    conn.select("INBOX")
    uids = conn.uids()
    fetched = [item for batch in conn.batches(uids) for item in batch]
    assert [f.uid for f in fetched] == uids and all(f.arrived_at.tzinfo for f in fetched)
    # BODY.PEEK: fetching never marks mail as read.
    flags = conn.client.get_flags(uids)
    assert not any(b"\\Seen" in f for f in flags.values())
    conn.move(uids[:10], "Processed")
    conn.close()
    assert dovecot.count("support", "INBOX") == 20
    assert dovecot.count("support", "Processed") == 10


def test_idle_wakes_on_new_mail_and_stops_on_request(dovecot: Dovecot) -> None:
    conn = MailboxConnection(_cfg(dovecot, "none"), Dovecot.PASSWORD)
    conn.connect()
    conn.select("INBOX")
    assert conn.can_idle()
    timer = threading.Timer(0.3, lambda: dovecot.append("support", _raw(1)))
    timer.start()
    started = time.monotonic()
    assert conn.idle_wait(120) is True
    assert time.monotonic() - started < 60  # woken by the mail, not by the end of the wait
    # Mail already waiting (it arrived during the last pass) ends the wait at once.
    assert conn.idle_wait(10) is True
    conn.move(conn.uids(), "Processed")
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    assert conn.idle_wait(120, stop) is False
    assert time.monotonic() - started < 60  # ended by the request, not by the end of the wait
    conn.close()


def test_mail_arriving_between_the_look_and_idle_ends_the_wait_within_a_second(
    dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Dovecot announces in IDLE only what arrives after IDLE began; mail that lands just after
    # the look before it (the next customer's mail, right after a pass) shows at DONE.
    conn = MailboxConnection(_cfg(dovecot, "none"), Dovecot.PASSWORD)
    conn.connect()
    conn.select("INBOX")
    client = conn.client
    look = client.search

    def look_then_mail_arrives(*args: Any) -> Any:
        found = look(*args)
        dovecot.append("support", _raw(2))
        return found

    client.search = look_then_mail_arrives
    # Long later segments: the mail must show at the end of the short first one, not of a later.
    monkeypatch.setattr("mailroom.adapters.imap.IDLE_SEGMENT", 120.0)
    started = time.monotonic()
    assert conn.idle_wait(600) is True
    assert time.monotonic() - started < 60
    conn.close()


def test_mail_arriving_just_before_a_segment_ends_is_not_left_for_the_next(
    dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Dovecot batches IDLE announcements for half a second and drops one pending at DONE.
    monkeypatch.setattr("mailroom.adapters.imap.FIRST_SEGMENT", 1.0)
    monkeypatch.setattr("mailroom.adapters.imap.IDLE_SEGMENT", 120.0)
    conn = MailboxConnection(_cfg(dovecot, "none"), Dovecot.PASSWORD)
    conn.connect()
    conn.select("INBOX")
    threading.Timer(0.8, lambda: dovecot.append("support", _raw(3))).start()
    started = time.monotonic()
    assert conn.idle_wait(600) is True
    assert time.monotonic() - started < 60  # not left for the next (two-minute) segment
    conn.close()


def test_a_refused_login_leaves_no_connection_open(dovecot: Dovecot) -> None:
    # A daemon retrying a wrong password for hours must not pile up sockets.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(SignInError, match="refused the password"):
            MailboxConnection(_cfg(dovecot, "none"), "wrong").connect()
        gc.collect()
    leaked = [w for w in caught if issubclass(w.category, ResourceWarning) and str(dovecot.port) in str(w.message)]
    assert leaked == []
