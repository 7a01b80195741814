"""compose: headers, threading, Thread-Index, header injection, non-ASCII, templates."""

from __future__ import annotations

import base64
import email
from datetime import UTC, datetime, timedelta
from email import policy
from email.header import Header, decode_header, make_header
from email.utils import getaddresses
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mailroom.compose import mails as compose
from mailroom.compose import wording
from mailroom.rules.ruleset import parse_rules
from mailroom.sla import deadlines

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NOW = datetime(2025, 12, 1, 17, 30, tzinfo=UTC)  # a Monday, 9:30 AM in Los Angeles
LONG_ID = "<DM6PR11MB4073E3B5E6C0A2C4F7D3A4B2C9A12AAAAAAAAA@DM6PR11MB4073.namprd11.prod.outlook.com>"

RULES = """\
version: 1
calendars:
  business: {timezone: "America/Los_Angeles", hours: {mon-fri: "09:00-17:00"}, holidays: ["2025-12-25"]}
  berlin: {timezone: "Europe/Berlin", hours: {mon-thu: "08:00-16:00", fri: "08:00-12:00"}}
  always: 24x7
agents: ["*@example.com"]
teams:
  general: {notify: ["team@example.com"]}
defaults: {team: general, priority: P3}
rules: []
"""


def draft(**changes: object) -> compose.Draft:
    values: dict = dict(
        sender_name="Example Support",
        sender_address="support@example.com",
        to=("customer@client.org",),
        subject="Re: [Support #12] Site is down",
        message_id="<mr.12.3.abcdef0123@example.com>",
        date=NOW,
        text="Hello\n",
        in_reply_to="<c1@client.org>",
        references=("<c0@client.org>", "<c1@client.org>"),
        auto_submitted="auto-replied",
        loop="support@example.com",
        thread_topic="Site is down",
        thread_index=compose.thread_index(None, NOW, "seed"),
    )
    values.update(changes)
    return compose.Draft(**values)


def parsed(d: compose.Draft) -> email.message.EmailMessage:
    raw = compose.build(d)
    return email.message_from_bytes(raw, policy=policy.default)


def all_recipients(msg: email.message.Message) -> list[str]:
    fields = [v for name in ("to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc") for v in msg.get_all(name, [])]
    return [addr for _, addr in getaddresses([str(f) for f in fields])]


# --- subjects ---------------------------------------------------------------------------------


def test_tag_is_added_once() -> None:
    tag = "[Support #{id}]"
    assert compose.tagged_subject("Site is down", tag, 12) == "[Support #12] Site is down"
    assert compose.tagged_subject("Re: [Support #12] Site is down", tag, 12) == "Re: [Support #12] Site is down"
    assert compose.tagged_subject("Re: [support  #12] Site is down", tag, 12) == "Re: [support #12] Site is down"
    # Another ticket's tag is not ours.
    assert compose.tagged_subject("[Support #13] x", tag, 12) == "[Support #12] [Support #13] x"


def test_reply_prefix_is_not_stacked() -> None:
    assert compose.reply_subject("Site is down") == "Re: Site is down"
    assert compose.reply_subject("RE: Site is down") == "RE: Site is down"
    assert compose.thread_topic("Re: Fwd: AW: Site is down") == "Site is down"


# --- headers ----------------------------------------------------------------------------------


def test_headers_of_an_acknowledgement() -> None:
    msg = parsed(draft(reply_to="support@example.com", suppress_auto_responses=True))
    assert str(msg["From"]) == "Example Support <support@example.com>"
    assert all_recipients(msg) == ["customer@client.org"]
    assert msg["Subject"] == "Re: [Support #12] Site is down"
    assert msg["Message-ID"] == "<mr.12.3.abcdef0123@example.com>"
    assert msg["In-Reply-To"] == "<c1@client.org>"
    assert msg["References"].split() == ["<c0@client.org>", "<c1@client.org>"]
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Loop"] == "support@example.com"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["Reply-To"] == "support@example.com"
    assert msg["Thread-Topic"] == "Site is down"
    assert email.utils.parsedate_to_datetime(msg["Date"]) == NOW


def test_long_message_ids_stay_verbatim() -> None:
    # Python would otherwise write them as encoded-words, which no client threads by.
    refs = tuple(f"<{i}.{LONG_ID[1:]}" for i in range(30))
    raw = compose.build(draft(in_reply_to=LONG_ID, references=refs))
    assert b"=?" not in raw.split(b"\r\n\r\n", 1)[0].replace(b"=?utf-8?", b"")
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["In-Reply-To"] == LONG_ID
    kept = msg["References"].split()
    assert len(kept) == compose.REFERENCES_MAX
    assert kept[0] == refs[0] and kept[-1] == refs[-1]
    for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        assert len(line) <= 998


def test_invalid_references_are_dropped() -> None:
    msg = parsed(draft(in_reply_to="not an id", references=("<ok@x>", "<bad id@x>", "<ok@x>")))
    assert msg["In-Reply-To"] is None
    assert msg["References"] == "<ok@x>"


def test_no_auto_submitted_on_a_relay() -> None:
    msg = parsed(draft(auto_submitted=None))
    assert msg["Auto-Submitted"] is None
    assert msg["X-Loop"] == "support@example.com"


def test_no_valid_recipient_is_an_error() -> None:
    with pytest.raises(ValueError):
        compose.build(draft(to=("not an address",)))


# --- header injection -------------------------------------------------------------------------

INJECTED = "Hello\r\nBcc: victim@example.com"


@pytest.mark.parametrize(
    "subject",
    [
        INJECTED,
        "Hello\nBcc: victim@example.com",
        Header(INJECTED, "utf-8").encode(),  # RFC 2047, base64
        "=?utf-8?q?Hello=0D=0ABcc:_victim@example.com?=",  # RFC 2047, quoted-printable
        # An encoded-word inside an encoded-word: decoded twice it would be the same attack.
        Header("=?utf-8?q?Hello=0D=0ABcc:_victim@example.com?=", "utf-8").encode(),
    ],
)
def test_subject_cannot_add_a_header(subject: str) -> None:
    raw = compose.build(draft(subject=subject))
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Bcc"] is None
    assert all_recipients(msg) == ["customer@client.org"]
    assert "\r" not in msg["Subject"] and "\n" not in msg["Subject"]
    assert b"\r\nBcc:" not in raw and b"\nBcc:" not in raw
    assert msg["Subject"].startswith("Hello")


@pytest.mark.parametrize("name", [INJECTED, Header(INJECTED, "utf-8").encode(), "Eve\x00\x07\x1b"])
def test_names_cannot_add_a_header(name: str) -> None:
    raw = compose.build(draft(sender_name=f"{name} via Example Support", thread_topic=name))
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Bcc"] is None
    assert all_recipients(msg) == ["customer@client.org"]
    assert msg["From"].addresses[0].addr_spec == "support@example.com"
    for value in (str(msg["From"]), msg["Thread-Topic"]):
        assert not any(ord(c) < 32 for c in value)


def test_clean_strips_controls_and_keeps_text() -> None:
    assert compose.clean("a\r\n\tb\x00c") == "a b c"
    assert compose.clean("=?utf-8?b?R3LDvMOfZQ==?=") == "Grüße"
    assert compose.clean("price =? 5") == "price =? 5"


# --- non-ASCII --------------------------------------------------------------------------------


def test_non_ascii_names_subject_and_body() -> None:
    d = draft(
        sender_name="Jörg Müller via Ëxample Support",
        subject="Re: [Support #12] Grüße aus Köln",
        text="Schöne Grüße,\nJörg\n",
        html="<p>Schöne Grüße</p>",
        attachments=(compose.File("résumé.pdf", "application/pdf", b"%PDF-1.4"),),
    )
    raw = compose.build(d)
    raw.decode("ascii")  # 7-bit clean: deliverable without 8BITMIME or SMTPUTF8
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["From"].addresses[0].display_name == "Jörg Müller via Ëxample Support"
    assert msg["Subject"] == "Re: [Support #12] Grüße aus Köln"
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == "Schöne Grüße,\nJörg\n"
    assert msg.get_body(("html",)).get_content().strip() == "<p>Schöne Grüße</p>"
    (part,) = list(msg.iter_attachments())
    assert part.get_filename() == "résumé.pdf"
    assert part.get_content() == b"%PDF-1.4"


def test_alternative_and_attachments_structure() -> None:
    only_text = parsed(draft())
    assert only_text.get_content_type() == "text/plain"
    both = parsed(draft(html="<p>Hello</p>"))
    assert both.get_content_type() == "multipart/alternative"
    mixed = parsed(draft(html="<p>Hello</p>", attachments=(compose.File("a.txt", "text/plain", b"x\n"),)))
    assert mixed.get_content_type() == "multipart/mixed"
    assert [p.get_content_type() for p in mixed.iter_parts()] == ["multipart/alternative", "text/plain"]


@pytest.mark.parametrize("ctype", ["message/delivery-status", "message/rfc822", "multipart/mixed", "", "nonsense"])
def test_any_attachment_type_is_sent(ctype: str) -> None:
    mail = parsed(draft(attachments=(compose.File("", ctype, b"Reporting-MTA: dns; mx\r\n"),)))
    (part,) = list(mail.iter_attachments())
    assert part.get_content() == b"Reporting-MTA: dns; mx\r\n"
    assert part.get_filename() in ("attachment", "attachment.eml")


def test_build_is_deterministic() -> None:
    d = draft(html="<p>x</p>", attachments=(compose.File("a.bin", "application/octet-stream", b"\0\1"),))
    assert compose.build(d) == compose.build(d)


# --- the wire ---------------------------------------------------------------------------------

NAMES = ["Example Support", "张伟 via Example Support", "Jörg Müller via Ëxample Support", "😀 Smiley", 'Doe, John "JD" (IT)']
SUBJECTS = ["Re: [Support #12] Site is down", "Grüße aus Köln", "主题：" + "测试" * 60, "🎉 Party 🎉 " * 30, "x" * 10_000]
TEXTS = ["Hello  \nFrom here\n.\n..\n" + "long line " * 30 + "\n\tTab \n", "Schöne Grüße,\r\nJörg", "中文" * 100, "=3D a=b\n"]
FILES = [
    (),
    (compose.File("résumé.pdf", "application/pdf", bytes(range(256)) * 4),),
    (compose.File("", "message/rfc822", b"From: a@b\r\n\r\nhi\r\n"), compose.File("a b.txt", "text/plain", b"x\n")),
]


def wire_drafts() -> list[compose.Draft]:
    refs = tuple(f"<{i}.{LONG_ID[1:]}" for i in range(30))
    drafts = []
    for i, (name, subject) in enumerate((n, s) for n in NAMES for s in SUBJECTS):
        text, odd = TEXTS[i % 4], bool(i % 2)
        drafts.append(draft(
            sender_name=name, subject=subject, thread_topic=subject, text=text, html=None if i % 5 < 2 else f"<p>{text}</p>",
            attachments=FILES[i % 3], references=refs if odd else ("<c0@client.org>",), in_reply_to=LONG_ID if odd else None,
        ))
    return drafts


@pytest.mark.parametrize("d", wire_drafts())
def test_the_wire_says_what_the_draft_says(d: compose.Draft) -> None:
    raw = compose.build(d)
    assert raw == compose.build(d)
    raw.decode("ascii")
    assert raw.endswith(b"\r\n") and raw.count(b"\r") == raw.count(b"\n") == raw.count(b"\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert all(len(line) <= 78 for line in body.split(b"\r\n"))  # 7bit, quoted-printable, base64
    assert all(len(line) <= (78 if b"=?" in line else 998) for line in head.split(b"\r\n"))
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == compose.clean(d.subject)[: compose.SUBJECT_MAX + 40]
    assert msg["Thread-Topic"] == compose.clean(d.thread_topic)
    (sender,) = msg["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (compose.clean(d.sender_name), d.sender_address)
    assert msg["References"].split() == compose.cap_references(list(d.references))
    assert msg["In-Reply-To"] == d.in_reply_to
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == compose._body(d.text)
    if d.html is not None:
        assert msg.get_body(("html",)).get_content().replace("\r\n", "\n") == compose._body(d.html)
    files = [(p.get_filename(), p.get_content_type(), p.get_payload(decode=True)) for p in msg.iter_attachments()]
    octet = "application/octet-stream"
    assert files == [(f.filename or "attachment.eml", octet if f.content_type.startswith("message/") else f.content_type, f.content)
                     for f in d.attachments]


def test_long_non_ascii_name_splits_where_mail_clients_join_it() -> None:
    name = "Александр Сергеевич Пушкин-Гончаров via Example Support"
    raw = compose.build(draft(sender_name=name))
    folded = raw.split(b"\r\nTo:")[0].removeprefix(b"From: ").replace(b"\r\n", b"").decode()
    assert folded.count("=?") > 1 and all(len(line) <= 78 for line in raw.split(b"\r\nTo:")[0].split(b"\r\n"))
    assert str(make_header(decode_header(folded.rpartition(" <")[0]))) == name  # RFC 2047 6.2
    # Python's address parser reads the fold between two encoded-words as a space (clients drop it).
    display = parsed(draft(sender_name=name))["From"].addresses[0].display_name
    assert " ".join(display.split()) == name


# --- Thread-Index -----------------------------------------------------------------------------


def test_thread_index_new_header_block() -> None:
    value = compose.thread_index(None, NOW, "seed")
    raw = base64.b64decode(value)
    assert len(raw) == 22
    assert raw[0] == 0x01  # FILETIME's top byte in this era, the reserved byte of the format
    assert compose.thread_index(None, NOW, "seed") == value
    assert compose.thread_index(None, NOW, "other")[8:] != value[8:]


def test_thread_index_continues_the_customers() -> None:
    parent = compose.thread_index(None, NOW, "customer")
    child = base64.b64decode(compose.thread_index(parent, NOW + timedelta(minutes=5), "ours"))
    assert len(child) == 27 and child[:22] == base64.b64decode(parent)
    word = int.from_bytes(child[22:26], "big")
    assert word >> 31 == 0  # a short delta: bits 48..18 of the FILETIME difference
    delta = (word & 0x7FFFFFFF) << 18
    assert abs(delta - 5 * 60 * 10_000_000) < 1 << 18
    grandchild = base64.b64decode(compose.thread_index(base64.b64encode(child).decode(), NOW, "x"))
    assert len(grandchild) == 32 and grandchild[:27] == child


@pytest.mark.parametrize("bad", ["", "not base64!", base64.b64encode(b"short").decode(), base64.b64encode(b"x" * 24).decode()])
def test_thread_index_bad_parent_starts_anew(bad: str) -> None:
    assert len(base64.b64decode(compose.thread_index(bad, NOW, "s"))) == 22


def test_thread_index_in_the_mail() -> None:
    parent = compose.thread_index(None, NOW, "customer")
    msg = parsed(draft(thread_index=compose.thread_index(parent, NOW, "ours")))
    assert base64.b64decode(msg["Thread-Index"])[:22] == base64.b64decode(parent)


# --- times in the customer's terms ------------------------------------------------------------


def test_local_time_in_the_customers_terms() -> None:
    la = ZoneInfo("America/Los_Angeles")
    assert wording.local_time(datetime(2025, 12, 1, 19, 0, tzinfo=UTC), la) == "11:00 AM PST on Monday, 1 December"
    later = wording.local_time(datetime(2026, 1, 5, 0, 30, tzinfo=UTC), la, NOW)
    assert later == "4:30 PM PST on Sunday, 4 January 2026"


def test_business_hours_described() -> None:
    rules = parse_rules(RULES)
    assert wording.describe_hours(rules.calendars["always"]) is None
    assert wording.describe_hours(rules.calendars["business"]) == (
        "Monday to Friday, 9:00 AM–5:00 PM (America/Los_Angeles time), except public holidays"
    )
    assert wording.describe_hours(rules.calendars["berlin"]) == (
        "Monday to Thursday, 8:00 AM–4:00 PM; Friday, 8:00 AM–12:00 PM (Europe/Berlin time)"
    )


def test_due_view_outside_business_hours() -> None:
    rules = parse_rules(RULES)
    saturday = datetime(2025, 12, 6, 18, 0, tzinfo=UTC)
    due = rules.calendars["business"].due(saturday, rules.sla["P3"].first_response)
    view = wording.due_view(due, rules.calendars["business"], saturday)
    assert view["text"] == "by 5:00 PM PST on Monday, 8 December"  # 1d = one 8-hour working day
    assert view["open_now"] is False
    assert view["opens"] == "9:00 AM PST on Monday, 8 December"


# --- templates --------------------------------------------------------------------------------


def test_shipped_templates_pass_render_check() -> None:
    assert compose.render_check(TEMPLATES, list(wording.FAMILIES)) == []


def test_render_check_catches_an_undefined_variable(tmp_path: Path) -> None:
    (tmp_path / "ack.txt.j2").write_text("Hello {{ customer_name }}, {{ custmer.plan }}\n")
    (tmp_path / "enterprise_ack.txt.j2").write_text("{{ engineer.name }} will call you\n")  # not an ack variable
    (tmp_path / "enterprise_ack.html.j2").write_text("<p>{{ ticket.id }}</p>\n")
    (tmp_path / "relay.txt.j2").write_text("{{ text }}\n")
    (tmp_path / "notification.txt.j2").write_text("{{ message.text }}\n")  # message may be None
    # survey has no template here: the shipped one serves; vip_ack has none anywhere.
    problems = compose.render_check(tmp_path, ["ack", "enterprise_ack", "relay", "notification", "survey", "vip_ack"])
    assert len(problems) == 4, problems
    assert "custmer" in problems[0] and problems[0].startswith(str(tmp_path / "ack"))
    assert "engineer" in problems[1]
    assert "notification" in problems[2] and "sparse" in problems[2]
    assert "no such template" in problems[3] and "vip_ack" in problems[3]


def test_html_template_is_autoescaped(tmp_path: Path) -> None:
    (tmp_path / "ack.txt.j2").write_text("{{ ticket.subject }}\n")
    (tmp_path / "ack.html.j2").write_text("<p>{{ ticket.subject }}</p>\n")
    values = dict(wording.sample_variants("ack")[0][1])
    values["ticket"] = {**values["ticket"], "subject": "<script>x</script>"}
    text, html = compose.render(tmp_path, "ack", values)
    assert text == "<script>x</script>\n"
    assert html == "<p>&lt;script&gt;x&lt;/script&gt;</p>\n"


@pytest.mark.parametrize("priority", ["P1", "P2", "P3", "P4", "P5"])
@pytest.mark.parametrize("calendar", ["business", "berlin", "always"])
def test_every_template_renders_for_every_priority_and_calendar(priority: str, calendar: str) -> None:
    rules = parse_rules(RULES)
    policy = rules.resolve_policy(priority, None, {"calendar": calendar})
    cal = rules.calendar_for(policy)
    for start in (NOW, datetime(2025, 12, 6, 3, 0, tzinfo=UTC)):  # a weekday morning and a Saturday night
        due_at = deadlines.due_at(policy, cal, "first_response", start)
        due = wording.due_view(due_at, cal, start)
        for name in wording.FAMILIES:
            values = dict(wording.sample_variants(name)[0][1])
            values["ticket"] = {**values["ticket"], "priority": priority}
            if "due" in values:
                values["due"] = due
            text, html = compose.render(TEMPLATES, name, values)
            assert "{{" not in text and (html is None or "{{" not in html)
            if name == "ack":
                assert due is not None and due["text"] in text
                assert "Reply to this mail" in text and "[Support #12]" in text
                if calendar == "always":
                    assert "business hours" not in text
                else:
                    assert "business hours" in text and cal.timezone in text
                assert ("We are closed right now" in text) == (not cal.is_open(start))


def test_ack_offers_the_chosen_links() -> None:
    values = dict(wording.sample_variants("ack")[0][1])
    values["links"] = [{"title": "Resetting your password", "url": "https://docs.example.com/reset"}]
    text, html = compose.render(TEMPLATES, "ack", values)
    assert "  - Resetting your password: https://docs.example.com/reset" in text
    assert '<a href="https://docs.example.com/reset">Resetting your password</a>' in html
