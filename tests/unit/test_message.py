"""parse: raw bytes → Inbound, on real-world, broken and hostile mail."""

import base64
import glob
import hashlib
import os
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import pytest
import test

from mailroom.errors import UnparseableMessage
from mailroom.mail.htmltext import MAX_QUOTE_DEPTH, html_to_text
from mailroom.mail.message import parse

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MAIL = Path(__file__).parent.parent / "data" / "mail"
CORPUS = sorted(glob.glob(os.path.join(os.path.dirname(test.__file__), "test_email", "data", "msg_*.txt")))


def mail(*headers: str, body: str = "Hello.\n", raw_body: bytes | None = None) -> bytes:
    """A message from header lines and a body, with CRLF line ends as on the wire."""
    head = "\r\n".join(headers).encode("utf-8")
    return head + b"\r\n\r\n" + (raw_body if raw_body is not None else body.replace("\n", "\r\n").encode())


def fixture(name: str):
    return parse((MAIL / name).read_bytes(), NOW)


# --- CPython's email corpus -------------------------------------------------------------


def test_the_corpus_is_there():
    assert len(CORPUS) >= 40


@pytest.mark.parametrize("path", CORPUS, ids=os.path.basename)
def test_every_corpus_message_parses_with_a_message_id(path):
    raw = Path(path).read_bytes()
    try:
        message = parse(raw, NOW)
    except UnparseableMessage as exc:
        assert str(exc)
        return
    assert message.message_id.startswith("<") and message.message_id.endswith(">")
    assert message.content_hash == hashlib.sha256(raw).hexdigest()
    for text in (message.text, message.new_text, message.subject, *(v for _, v in message.headers)):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogates


def test_the_32_corpus_messages_without_message_id_get_deterministic_ids():
    derived = {}
    for path in CORPUS:
        raw = Path(path).read_bytes()
        first = parse(raw, NOW).message_id
        if first.endswith("@mailroom.invalid>"):
            assert parse(raw, NOW + timedelta(hours=1)).message_id == first
            derived[path] = first
    assert len(derived) == 32
    assert len(set(derived.values())) == 32


# --- ids and threading headers -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<abc@example.com>", "<abc@example.com>"),
        ("  <abc@example.com> (added by the relay)", "<abc@example.com>"),
        ("abc@example.com", "<abc@example.com>"),
    ],
)
def test_message_id_is_normalised(value, expected):
    assert parse(mail(f"Message-ID: {value}", "From: a@example.com"), NOW).message_id == expected


@pytest.mark.parametrize("value", ["", "   ", "not an id", "<a b@c>", "<" + "x" * 1000 + "@y>"])
def test_missing_or_malformed_message_id_is_derived_from_the_content(value):
    raw = mail(f"Message-ID: {value}", "From: a@example.com")
    digest = hashlib.sha256(raw).hexdigest()
    assert parse(raw, NOW).message_id == f"<{digest[:32]}@mailroom.invalid>"
    other = parse(raw + b"more", NOW).message_id
    assert other != parse(raw, NOW).message_id


def test_in_reply_to_is_its_first_token_and_references_all_in_order_once():
    message = fixture("gmail_reply.eml")
    assert message.in_reply_to == "<20261201100000.ack-1234@example.com>"
    assert message.references == ("<CAB1234=first@mail.gmail.com>", "<20261201100000.ack-1234@example.com>")


def test_references_keep_the_100_most_recent():
    ids = " ".join(f"<id{i}@example.com>" for i in range(250))
    message = parse(mail("From: a@example.com", f"References: {ids}"), NOW)
    assert len(message.references) == 100
    assert message.references[0] == "<id150@example.com>"
    assert message.references[-1] == "<id249@example.com>"


# --- addresses ------------------------------------------------------------------------


def test_addresses_are_lowercased_and_display_names_decoded():
    message = fixture("gmail_reply.eml")
    assert (message.from_addr, message.from_name) == ("bob.smith@gmail.com", "Bob Smith")
    assert message.to == ("support@example.com",)
    assert message.cc == ("jane@example.com", "alice@customer.org")


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("=?iso-8859-1?q?J=FCrgen_M=FCller?= <jm@example.de>", "Jürgen Müller"),
        ("=?utf-8?b?SsO8cmdlbg==?= <JM@Example.DE>", "Jürgen"),
        ("=?koi8-r?b?6dfBzg==?= <jm@example.de>", "Иван"),
    ],
)
def test_display_names_decode_in_any_charset(header, name):
    message = parse(mail(f"From: {header}"), NOW)
    assert message.from_name == name
    assert message.from_addr == "jm@example.de"


def test_reply_to_is_kept_separately():
    message = parse(mail("From: a@example.com", "Reply-To: Team <Team@Example.com>"), NOW)
    assert message.reply_to == "team@example.com"


@pytest.mark.parametrize("value", [None, "", "undisclosed-recipients:;", "not an address", "<>"])
def test_missing_or_invalid_from_gives_an_empty_address(value):
    headers = ["Subject: x"] + ([f"From: {value}"] if value is not None else [])
    message = parse(mail(*headers), NOW)
    assert message.from_addr == ""


def test_a_2mb_to_header_with_40000_addresses_parses_fast_and_keeps_500():
    addresses = ",\r\n ".join(f'"Customer, No {i}" <customer.{i}@example-company.com>' for i in range(40_000))
    raw = mail("From: a@example.com", f"To: {addresses}", "Subject: many")
    assert len(raw) > 2_000_000
    started = time.perf_counter()
    message = parse(raw, NOW)
    assert time.perf_counter() - started < 1.0  # ~0.1 s here; the stdlib parser alone takes seconds
    assert len(message.to) == 500
    assert message.to[0] == "customer.0@example-company.com"
    assert message.subject == "many"
    assert any("kept 500" in defect for defect in message.defects)


def test_a_flood_of_header_fields_is_cut_to_1000():
    raw = mail("From: a@example.com", *(f"X-Junk-{i}: {i}" for i in range(20_000)), "Subject: kept?")
    message = parse(raw, NOW)
    assert len(message.headers) == 1000
    assert message.text == "Hello.\n"
    assert any("dropped" in defect for defect in message.defects)


# --- subject ----------------------------------------------------------------------------


def test_a_gb2312_subject_with_gbk_only_characters_decodes():
    message = fixture("gb2312_subject.eml")
    assert message.subject == "朱镕基的报告"
    assert message.from_name == "王镕"
    assert "打印机又坏了" in message.text


def test_a_10000_character_subject_is_capped():
    message = parse(mail("From: a@example.com", "Subject: " + "x" * 10_000), NOW)
    assert message.subject == "x" * 1000


def test_a_folded_encoded_subject_is_unfolded_and_decoded():
    raw = mail("Subject: =?utf-8?q?Drucker_im?=\r\n =?utf-8?q?_3=2E_Stock_kaputt?=", "From: a@example.com")
    assert parse(raw, NOW).subject == "Drucker im 3. Stock kaputt"


def test_raw_crlf_in_subject_starts_a_new_header_and_never_reaches_the_subject():
    message = parse(b"From: a@example.com\r\nSubject: Hello\r\nBcc: victim@example.com\r\n\r\nhi\r\n", NOW)
    assert message.subject == "Hello"
    assert message.header("Bcc") == "victim@example.com"


@pytest.mark.parametrize(
    "subject",
    ["=?utf-8?q?Hello=0D=0ABcc:_victim@example.com?=", "=?utf-8?b?SGVsbG8NCkJjYzogdmljdGltQGV4YW1wbGUuY29t?="],
)
def test_encoded_crlf_never_reaches_the_subject_or_headers(subject):
    message = parse(mail("From: a@example.com", f"Subject: {subject}"), NOW)
    assert "\r" not in message.subject and "\n" not in message.subject
    assert message.subject.startswith("Hello") and message.subject.endswith("victim@example.com")
    assert all("\r" not in v and "\n" not in v for _, v in message.headers)


# --- date, headers, metadata ---------------------------------------------------------------


def test_date_is_converted_to_utc():
    assert fixture("gmail_reply.eml").date == datetime(2026, 12, 1, 10, 5, tzinfo=UTC)


@pytest.mark.parametrize("headers", [(), ("Date: not a date",), ("Date: Tue, 31 Feb 2026 10:00 +0000",)])
def test_missing_or_unreadable_date_is_the_arrival_time(headers):
    assert parse(mail("From: a@example.com", *headers), NOW).date == NOW


def test_arrival_time_is_kept_in_utc():
    local = datetime(2026, 12, 1, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    message = parse(mail("From: a@example.com"), local)
    assert message.arrived_at == NOW and message.arrived_at.tzinfo == UTC


def test_headers_are_decoded_in_order_on_one_line():
    message = fixture("apple_mail_reply.eml")
    names = [name for name, _ in message.headers]
    assert names[:3] == ["From", "Content-Type", "Content-Transfer-Encoding"]
    assert message.header("subject") == "Re: [#1240] Imprimante bloquée"
    assert message.header("Content-Type") == "text/plain; charset=utf-8"


def test_return_path_thread_index_content_type_and_hash():
    bounce, outlook = fixture("bounce.eml"), fixture("outlook_html_only.eml")
    assert bounce.return_path == ""
    assert outlook.return_path is None
    assert fixture("gmail_reply.eml").return_path == "bob.smith@gmail.com"
    assert outlook.thread_index == "AQHZ1a2b3c4d5e6f7g8h9i0jAAABBBcc"
    assert outlook.content_type == "text/html"
    assert bounce.content_type == "multipart/report"
    raw = (MAIL / "bounce.eml").read_bytes()
    assert bounce.content_hash == hashlib.sha256(raw).hexdigest()


# --- bodies ---------------------------------------------------------------------------------


def test_text_plain_is_preferred_and_history_is_stripped():
    message = fixture("gmail_reply.eml")
    assert message.text.startswith("Thanks Jane, restarting the spooler fixed it.\n\nOn Tue")
    assert message.new_text == "Thanks Jane, restarting the spooler fixed it."


def test_html_only_mail_becomes_readable_text_with_its_links():
    message = fixture("outlook_html_only.eml")
    assert "<" not in message.text.replace("<https://", "").replace("<jane@", "").replace("<bob@", "")
    assert "replacement – the old one" in message.text
    assert "our incident page <https://status.customer.org/incidents/42>" in message.text
    assert message.new_text == (
        "Yes, please go ahead with the replacement – the old one is beyond repair.\n"
        "See our incident page <https://status.customer.org/incidents/42>."
    )


def test_bytes_invalid_in_the_declared_charset_are_replaced():
    raw = mail("From: a@example.com", "Content-Type: text/plain; charset=utf-8", raw_body=b"caf\xe9 \xff ok\r\n")
    message = parse(raw, NOW)
    assert message.text == "caf\ufffd \ufffd ok\n"
    assert any("invalid" in defect for defect in message.defects)


@pytest.mark.parametrize(
    ("charset", "body", "text"),
    [
        ("x-klingon", "Grüße".encode(), "Grüße"),
        ("x-klingon", "Grüße".encode("latin-1"), "Grüße"),
        ("base64", b"aGVsbG8=", "aGVsbG8="),  # a codec that is not a charset must not run
        ("us-ascii", "naïve".encode(), "naïve"),
    ],
)
def test_unknown_or_wrong_charsets_fall_back_to_utf8_then_latin1(charset, body, text):
    raw = mail("From: a@example.com", f"Content-Type: text/plain; charset={charset}", raw_body=body)
    assert parse(raw, NOW).text == text


def test_nul_and_dovecot_0x80_bytes_give_storable_text():
    raw = mail(
        "From: a@example.com",
        "Subject: a\x00b",
        "Content-Type: text/plain; charset=utf-8",
        raw_body=b"before\x00after \x80 end\r\n",
    )
    message = parse(raw, NOW)
    assert message.text == "beforeafter \ufffd end\n"
    assert message.subject == "ab"
    assert all("\x00" not in value for _, value in message.headers)
    assert "NUL bytes removed" in message.defects


def test_a_message_with_no_headers_at_all():
    message = parse(b"just a line of text\r\nand another\r\n", NOW)
    assert (message.from_addr, message.subject, message.headers) == ("", "", ())
    assert message.text == "just a line of text\nand another\n"
    assert message.message_id.endswith("@mailroom.invalid>")
    assert message.date == NOW


@pytest.mark.parametrize("raw", [b"", b"   \r\n\r\n"])
def test_empty_input_is_unparseable(raw):
    with pytest.raises(UnparseableMessage, match="empty"):
        parse(raw, NOW)


def test_deeply_nested_multiparts_keep_their_headers():
    parts = [b"From: a@example.com\nSubject: deep\nContent-Type: multipart/mixed; boundary=b0\n\n"]
    parts += [b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (i - 1, i) for i in range(1, 1500)]
    message = parse(b"".join(parts) + b"--b1499\n\nbottom\n", NOW)
    assert message.subject == "deep" and message.from_addr == "a@example.com"
    assert any("nesting" in defect for defect in message.defects)


# --- attachments -------------------------------------------------------------------------------


def test_attachments_have_decoded_safe_names_and_their_bytes():
    message = fixture("attachments.eml")
    names = [(a.filename, a.content_type) for a in message.attachments]
    assert names == [
        ("image001.png", "image/png"),  # a named inline screenshot is kept; the unnamed logo is not
        ("Rechnung März.pdf", "application/pdf"),
        ("Übersicht.pdf", "application/pdf"),
        ("attachment-4.bin", "application/octet-stream"),
        ("etc_passwd", "text/plain"),
        ("[#1234] Printer.eml", "message/rfc822"),
    ]
    pdf = message.attachments[1]
    assert pdf.content.startswith(b"%PDF-1.4") and pdf.size == len(pdf.content)
    forwarded = message.attachments[-1].content
    assert forwarded.startswith(b"From: Bob Smith <bob@customer.org>\r\n") and forwarded.endswith(b"Hello?\r\n")
    assert message.text == "Siehe Anhang."


@pytest.mark.parametrize("mark", ["\u202e", "\u2066", "\u200f", "\u061c"])
def test_attachment_names_lose_the_direction_marks_that_disguise_them(mark):
    name = f"invoice{mark}fdp.exe"
    raw = mail(
        "From: a@example.com",
        "Subject: invoice",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="XX"',
        raw_body=b"--XX\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--XX\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=utf-8''"
        + quote(name).encode()
        + b"\r\n\r\nMZ\r\n--XX--\r\n",
    )
    assert [a.filename for a in parse(raw, NOW).attachments] == ["invoicefdp.exe"]


def test_html_quotes_nested_without_end_are_marked_at_most_32_deep():
    markup = "<blockquote>quoted" * 5_000
    lines = [line for line in html_to_text(markup).splitlines() if line.endswith("quoted")]
    assert lines[0] == "> quoted"
    assert lines[-1] == "> " * MAX_QUOTE_DEPTH + "quoted"
    assert len(lines) == 5_000


@pytest.fixture(scope="module")
def big_mail() -> tuple[bytes, bytes]:
    content = os.urandom(1_000_000) * 20
    raw = mail(
        "From: a@example.com",
        "Subject: logs",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="XX"',
        raw_body=b"--XX\r\nContent-Type: text/plain\r\n\r\nLogs attached.\r\n--XX\r\n"
        b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=logs.bin\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(content).replace(b"\n", b"\r\n")
        + b"--XX--\r\n",
    )
    return raw, content


def test_a_20mb_attachment_under_the_limit_is_stored(big_mail):
    raw, content = big_mail
    message = parse(raw, NOW)
    (attachment,) = message.attachments
    assert (attachment.filename, attachment.size) == ("logs.bin", 20_000_000)
    assert attachment.content == content
    assert message.text == "Logs attached."


def test_a_20mb_attachment_over_the_limit_is_recorded_without_bytes(big_mail):
    raw, _ = big_mail
    (attachment,) = parse(raw, NOW, max_attachment_size=1_000_000).attachments
    assert (attachment.filename, attachment.size, attachment.content) == ("logs.bin", 20_000_000, None)
