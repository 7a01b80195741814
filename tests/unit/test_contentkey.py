"""The content key: one mail delivered twice is one key; two mails that share a Message-ID are two."""

from __future__ import annotations

from pathlib import Path

import pytest

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
