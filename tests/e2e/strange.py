"""Strange mail as attackers and broken clients write it: thousands of MIME parts, nesting a hundred deep."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime


def _head(subject: str, boundary: str, message_id: str) -> bytes:
    return (f"From: Mallory <mallory@example.org>\r\nTo: support@example.com\r\nSubject: {subject}\r\n"
            f"Date: {format_datetime(datetime.now(UTC))}\r\nMessage-ID: {message_id}\r\nMIME-Version: 1.0\r\n"
            f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n').encode()


def many_parts(parts: int = 10_000, message_id: str = "<many-parts@example.org>") -> bytes:
    """One multipart/mixed of `parts` small text parts."""
    body = b"".join(b"--p\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % n for n in range(parts))
    return _head(f"{parts} parts", "p", message_id) + body + b"--p--\r\n"


def deep_nesting(levels: int = 100, message_id: str = "<deep-nesting@example.org>") -> bytes:
    """Multiparts nested `levels` deep, the text at the bottom."""
    opening = b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n" % (n, n + 1)
                       for n in range(levels - 1))
    bottom = b"--b%d\r\nContent-Type: text/plain\r\n\r\nthe bottom\r\n--b%d--\r\n" % (levels - 1, levels - 1)
    closing = b"".join(b"--b%d--\r\n" % n for n in reversed(range(levels - 1)))
    return _head(f"{levels} levels deep", "b0", message_id) + opening + bottom + closing
