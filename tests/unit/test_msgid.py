"""Our Message-IDs: format, verification, determinism."""

from __future__ import annotations

import re

from mailroom.mail import msgid

SECRET = "s3cret"


def test_make_has_ticket_serial_and_signature() -> None:
    value = msgid.make(12, 345, SECRET, "Example.com")
    assert re.fullmatch(r"<mr\.12\.345\.[0-9a-f]{10}@example\.com>", value)


def test_same_serial_same_id() -> None:
    assert msgid.make(12, 345, SECRET, "example.com") == msgid.make(12, 345, SECRET, "example.com")
    assert msgid.make(12, 345, SECRET, "example.com") != msgid.make(12, 346, SECRET, "example.com")


def test_serials_are_new_for_each_mail_and_fit_the_pattern() -> None:
    serials = {msgid.serial() for _ in range(1000)}
    assert len(serials) == 1000
    for serial in serials:
        assert msgid.verify(msgid.make(3, serial, SECRET, "example.com"), SECRET) == (3, serial)


def test_verify_round_trip() -> None:
    assert msgid.verify(msgid.make(7, 9, SECRET, "example.com"), SECRET) == (7, 9)
    assert msgid.verify("  " + msgid.make(7, 9, SECRET, "example.com") + " ", SECRET) == (7, 9)


def test_mail_without_ticket_carries_zero() -> None:
    assert msgid.verify(msgid.make(None, 4, SECRET, "example.com"), SECRET) == (0, 4)


def test_verify_refuses_forgeries() -> None:
    good = msgid.make(7, 9, SECRET, "example.com")
    assert msgid.verify(good, "other secret") is None
    assert msgid.verify(good.replace("mr.7.", "mr.8."), SECRET) is None
    assert msgid.verify("<CAKx1234@mail.gmail.com>", SECRET) is None
    assert msgid.verify("", SECRET) is None
    assert msgid.verify("<mr.7.9.zzzzzzzzzz@example.com>", SECRET) is None


def test_domain_of() -> None:
    assert msgid.domain_of("Support@Example.COM") == "example.com"
    assert msgid.domain_of("nodomain") == "localhost"
