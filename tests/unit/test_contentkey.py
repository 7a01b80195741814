"""The content key: one mail delivered twice is one key; two mails that share a Message-ID are two."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailroom.store.contentkey import content_key, content_keys, legacy_content_key

SAME_ID = Path(__file__).resolve().parents[1] / "data" / "same-message-id"
CORPUS = ("msg_01.txt", "msg_03.txt", "msg_20.txt", "msg_29.txt")

AUTHORED = (
    b"From: Jane <jane@example.org>\r\nTo: support@example.com\r\nCc: billing@example.com\r\n"
    b"Subject: Invoice twice\r\nDate: Mon, 30 Nov 2026 09:00:00 -0800\r\nMessage-ID: <inv@client.example.org>\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nWe were charged twice.\r\n"
)


def _delivered(mailbox: str, hop: str, score: str) -> bytes:
    """AUTHORED as one receiving server hands it to `mailbox`, with the stamps it adds."""
    return (
        f"Return-Path: <jane@example.org>\r\nDelivered-To: {mailbox}\r\nX-Original-To: {mailbox}\r\n"
        f"Received: from {hop} (unknown [192.0.2.7])\r\n\tby mx.example.com (Postfix) with ESMTPS id {hop.upper()}\r\n"
        f"\tfor <{mailbox}>; Mon, 30 Nov 2026 17:00:0{len(hop) % 10} +0000 (UTC)\r\n"
        f"Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=example.org; dkim={'pass' if score else 'none'}\r\n"
        f"ARC-Seal: i=1; a=rsa-sha256; cv=none; d=example.com; s=arc; b={hop}\r\n"
        f"Received-SPF: pass ({hop})\r\nX-Spam-Status: No, score={score}\r\nX-Spam-Score: {score}\r\n"
        f"X-Virus-Scanned: amavisd-new at {hop}\r\nX-MS-Exchange-Organization-SCL: {score or 1}\r\n"
        f"DKIM-Signature: v=1; a=rsa-sha256; d={hop}; s=relay; b=abc\r\n"
    ).encode() + AUTHORED


def test_four_corpus_mails_sharing_a_message_id_have_four_keys() -> None:
    raws = [(SAME_ID / name).read_bytes() for name in CORPUS]
    assert len({content_key(raw) for raw in raws}) == 4
    # What version 4 made of them: one key, so three of the four were dropped as repeats.
    assert len({legacy_content_key(raw) for raw in raws}) == 1


def test_the_legacy_key_is_the_one_stored_before_version_5() -> None:
    # msg_01's key as version 4 stored it: databases in use hold keys made this way.
    assert legacy_content_key((SAME_ID / "msg_01.txt").read_bytes()) == (
        "835c15739d6cd22e57d5ca94465b04dfc1fc2ec9cd7293ba65caf725ab808067"
    )
    assert content_keys(AUTHORED) == (content_key(AUTHORED), legacy_content_key(AUTHORED))
    assert content_key(AUTHORED) != legacy_content_key(AUTHORED)


def test_stamps_servers_add_on_the_way_do_not_change_the_key() -> None:
    support = _delivered("support@example.com", "relay-a.example.org", "0.1")
    billing = _delivered("billing@example.com", "relay-b.example.net", "")
    assert content_key(support) == content_key(billing) == content_key(AUTHORED)


def test_refolding_reordering_and_line_ends_do_not_change_the_key() -> None:
    head, body = AUTHORED.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    refolded = [line.replace(b"; charset", b";\r\n   charset") for line in reversed(lines)]
    as_stored = b"\n".join(refolded).replace(b"\r\n", b"\n") + b"\n\n" + body.replace(b"\r\n", b"\n") + b"\n"
    assert content_key(as_stored) == content_key(AUTHORED)


@pytest.mark.parametrize("header", [
    b"Cc: someone-else@example.org", b"Reply-To: accounts@example.org", b"In-Reply-To: <earlier@client.example.org>",
    b"References: <earlier@client.example.org>", b"Content-Type: text/html; charset=utf-8",
    b"Content-Transfer-Encoding: quoted-printable", b"Content-Disposition: inline", b"X-Priority: 1",
])
def test_every_header_the_author_writes_counts(header: bytes) -> None:
    name = header.split(b":")[0] + b":"
    lines = [line for line in AUTHORED.split(b"\r\n\r\n")[0].split(b"\r\n") if not line.startswith(name)]
    changed = b"\r\n".join([*lines, header]) + b"\r\n\r\n" + AUTHORED.split(b"\r\n\r\n", 1)[1]
    assert content_key(changed) != content_key(AUTHORED)


def test_the_configured_spam_score_header_is_a_server_stamp() -> None:
    scored = b"X-Barracuda-Spam-Score: 0.4\r\n" + AUTHORED
    assert content_key(scored) != content_key(AUTHORED)
    assert content_key(scored, "X-Barracuda-Spam-Score") == content_key(AUTHORED)


def _whole_copy_legacy_key(raw: bytes) -> str:
    """The legacy key as defined: split at the first CRLF blank line, else at the first LF one."""
    import hashlib

    head, _, body = raw.partition(b"\r\n\r\n")
    if not body and b"\n\n" in raw:
        head, _, body = raw.partition(b"\n\n")
    digest = hashlib.sha256()
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        if line.split(b":", 1)[0].strip().lower() in (b"from", b"subject", b"date", b"message-id", b"to"):
            digest.update(line.strip() + b"\n")
    digest.update(body)
    return digest.hexdigest()


def _whole_copy_key(raw: bytes) -> str:
    """The key as defined: the mail with its line ends made LF, split at its first blank line."""
    import hashlib

    from mailroom.store import contentkey

    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    fields = [(n, v) for n, v in contentkey._fields(head) if not contentkey._in_transit(n, "")]
    digest = hashlib.sha256(contentkey._VERSION)
    for name, value in sorted(fields):
        digest.update(name + b":" + value + b"\n")
    digest.update(b"\n" + body.rstrip(b"\n"))
    return digest.hexdigest()


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=60).map(lambda b: b.translate(bytes.maketrans(b"abcdefgh", b"\r\n\r\n\r\n:a"))))
def test_the_key_read_a_piece_at_a_time_is_the_key_of_the_whole_mail(raw: bytes) -> None:
    # Keys of mail stored before must never change: pieces of 5 bytes cut CRLFs and trailing LFs apart.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("mailroom.store.contentkey._PIECE", 5)
        assert content_key(b"Subject: x\r\n" + raw) == _whole_copy_key(b"Subject: x\r\n" + raw)
        assert content_key(raw) == _whole_copy_key(raw)
    assert content_key(AUTHORED) == _whole_copy_key(AUTHORED)
    for mail in (raw, b"Subject: x\r\n" + raw, b"To: a\n\n" + raw):
        assert legacy_content_key(mail) == _whole_copy_legacy_key(mail)


def test_a_huge_mails_keys_cost_no_copy_of_it() -> None:
    body = b"000123 The export to CSV fails with error 0x80070005.\r\n" * 400_000  # 22 MB
    raw = AUTHORED + body
    tracemalloc.start()
    try:
        keys = content_keys(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert keys == (_whole_copy_key(raw), _whole_copy_legacy_key(raw))
    assert peak < len(raw) / 4, f"{peak / 1e6:.0f} MB held to hash a {len(raw) / 1e6:.0f} MB mail"
