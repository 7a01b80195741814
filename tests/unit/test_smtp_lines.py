"""The sender's line-ending check gives exactly the bytes aiosmtplib's own normalisation gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mailroom.adapters import smtp

_PIECES = st.lists(st.sampled_from([b"\r\n", b"\n", b"\r", b"a", b".", b" ", b"\r\r\n", b"\n\r"]), max_size=40)


@given(_PIECES)
def test_every_mail_gets_the_bytes_aiosmtplib_would_send(pieces: list[bytes]) -> None:
    message = b"".join(pieces)
    assert smtp.crlf_lines(message) == smtp._NORMALIZE(message)


@given(st.binary(max_size=200))
def test_any_bytes_get_the_bytes_aiosmtplib_would_send(message: bytes) -> None:
    assert smtp.crlf_lines(message) == smtp._NORMALIZE(message)


def test_mail_with_crlf_endings_is_sent_as_it_is_and_is_what_aiosmtplib_sends() -> None:
    import aiosmtplib.protocol

    mail = b"Subject: hi\r\n\r\nline one\r\n.line two\r\nno end"
    assert aiosmtplib.protocol.normalize_message_line_endings is smtp.crlf_lines
    assert smtp.crlf_lines(mail) == mail + b"\r\n" == smtp._NORMALIZE(mail)
