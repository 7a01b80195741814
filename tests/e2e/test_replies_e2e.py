"""Engineers' replies as their clients really write them reach the customer as the engineer's text alone.

Each client's mail is built as that client sends it (its MIME structure, its attribution or header
block, its quote markup, its signature), quoting the notification the engineer got, and goes the
whole way: Dovecot, `mailroom run --once`, aiosmtpd, the customer's mailbox.
"""

from __future__ import annotations

import email
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from html import escape

import pytest

from .conftest import CUSTOMER, Mailroom
from .mails import body_text, header, mail, reply

QUESTION = "Hello,\n\nWhich version fixes the PDF export?\nAnd can I export to CSV meanwhile?\n\nJane"
CLOSING = "\n\nEve Engineer\nExample Support"  # what the relay template puts below the engineer's text


def _threaded(notice: bytes, agent: tuple[str, str]) -> EmailMessage:
    """A reply's headers as the engineer's client writes them, threaded on the notification."""
    threaded = email.message_from_bytes(reply(notice, "x"), policy=policy.default)
    msg = EmailMessage()
    for name in ("From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References"):
        msg[name] = threaded[name]
    msg[agent[0]] = agent[1]
    return msg


def _notice_lines(notice: bytes) -> list[str]:
    return body_text(notice).rstrip().splitlines()


def _quoted(notice: bytes, marker: str = "> ") -> str:
    return "\n".join((marker + line).rstrip() for line in _notice_lines(notice))


def _html_lines(notice: bytes) -> str:
    return "<br>\n".join(escape(line) for line in _notice_lines(notice))


def _alternative(msg: EmailMessage, plain: str, html: str) -> bytes:
    msg.set_content(plain)
    msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


def thunderbird_bottom_posted(notice: bytes) -> bytes:
    """Thunderbird, reply below the quote, with its "-- " signature."""
    msg = _threaded(notice, ("User-Agent", "Mozilla Thunderbird"))
    plain = (f"On 30/11/2026 10:00, Example Support wrote:\n{_quoted(notice)}\n\n"
             "Hi Jane,\n\nversion 4.2 fixes the export; it is out tomorrow.\n\nEve\n\n-- \nEve Engineer\nExample Ltd")
    html = (
        '<html><head><meta http-equiv="content-type" content="text/html; charset=UTF-8"></head><body>\n'
        '<div class="moz-cite-prefix">On 30/11/2026 10:00, Example Support wrote:<br></div>\n'
        '<blockquote type="cite" cite="mid:notice@example.com">\n'
        f'<pre class="moz-quote-pre" wrap="">{escape(body_text(notice))}</pre>\n</blockquote>\n'
        "<p>Hi Jane,</p>\n<p>version 4.2 fixes the export; it is out tomorrow.</p>\n<p>Eve<br></p>\n"
        '<pre class="moz-signature" cols="72">-- \nEve Engineer\nExample Ltd</pre>\n</body></html>\n'
    )
    return _alternative(msg, plain, html)


def apple_mail_interleaved(notice: bytes) -> bytes:
    """Apple Mail, answers written between the customer's questions."""
    msg = _threaded(notice, ("X-Mailer", "Apple Mail (2.3774.300.61.1.2)"))
    plain = ("Hi Jane,\n\n> On 30 Nov 2026, at 10:00, Example Support <support@example.com> wrote:\n>\n"
             "> Which version fixes the PDF export?\n\nVersion 4.2, out tomorrow.\n\n"
             "> And can I export to CSV meanwhile?\n\nYes: Reports, then Export, then CSV.\n\nEve\n")
    html = (
        '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
        '<body style="overflow-wrap: break-word; -webkit-nbsp-mode: space; line-break: after-white-space;">'
        'Hi Jane,<br><div><br><blockquote type="cite"><div>On 30 Nov 2026, at 10:00, Example Support '
        '&lt;support@example.com&gt; wrote:</div><br class="Apple-interchange-newline">'
        "<div><div>Which version fixes the PDF export?</div></div></blockquote><div><br></div>"
        'Version 4.2, out tomorrow.<br><div><br><blockquote type="cite"><div>And can I export to CSV '
        "meanwhile?</div></blockquote><br></div><div>Yes: Reports, then Export, then CSV.</div>"
        "<div><br></div><div>Eve</div></div></body></html>"
    )
    return _alternative(msg, plain, html)


GERMAN_HEADERS = ("Von: Example Support <support@example.com>", "Gesendet: Montag, 30. November 2026 10:00",
                  "An: Eve Engineer <engineer@example.com>", "Betreff: {subject}")


def _german_plain(notice: bytes, subject: str) -> str:
    block = "\n".join(GERMAN_HEADERS).format(subject=subject)
    return ("Hallo Jane,\n\nVersion 4.2 behebt den Export, sie erscheint morgen.\n\nViele Grüße\nEve\n\n"
            f"{block}\n\n{body_text(notice)}")


def _german_html_headers(subject: str) -> str:
    labels = [line.split(": ", 1) for line in GERMAN_HEADERS]
    return "<br>\n".join(f"<b>{label}:</b> {escape(value.format(subject=subject))}" for label, value in labels)


def outlook_desktop_german(notice: bytes) -> bytes:
    """Outlook for Windows in German: Word HTML, the bordered "Von:/Gesendet:" block above the history."""
    msg = _threaded(notice, ("X-Mailer", "Microsoft Outlook 16.0"))
    subject = str(msg["Subject"])
    html = (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta http-equiv="Content-Type" '
        'content="text/html; charset=utf-8"><style><!-- p.MsoNormal {margin:0cm;font-family:"Calibri",sans-serif;} '
        "--></style></head><body lang=\"DE\" link=\"#0563C1\"><div class=\"WordSection1\">"
        '<p class="MsoNormal">Hallo Jane,<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
        '<p class="MsoNormal">Version 4.2 behebt den Export, sie erscheint morgen.<o:p></o:p></p>'
        '<p class="MsoNormal"><o:p>&nbsp;</o:p></p><p class="MsoNormal">Viele Grüße<br>Eve<o:p></o:p></p>'
        '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
        '<div><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
        f'<p class="MsoNormal">{_german_html_headers(subject)}<o:p></o:p></p>'
        "</div></div>"
        f'<p class="MsoNormal"><o:p>&nbsp;</o:p></p><p class="MsoNormal">{_html_lines(notice)}<o:p></o:p></p>'
        "</div></body></html>"
    )
    return _alternative(msg, _german_plain(notice, subject), html)


def outlook_365_german(notice: bytes) -> bytes:
    """Outlook on the web and the new Outlook in German: #appendonsend, a rule, div#divRplyFwdMsg."""
    msg = _threaded(notice, ("X-MS-Exchange-Organization-AuthAs", "Internal"))
    subject = str(msg["Subject"])
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body dir="ltr">'
        '<div class="elementToProof" style="font-family: Aptos, sans-serif; font-size: 12pt;">Hallo Jane,</div>'
        '<div class="elementToProof"><br></div><div class="elementToProof">Version 4.2 behebt den Export, '
        'sie erscheint morgen.</div><div class="elementToProof"><br></div>'
        '<div class="elementToProof">Viele Grüße<br>Eve</div><div id="appendonsend"></div>'
        '<hr style="display:inline-block;width:98%" tabindex="-1">'
        '<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" '
        f'color="#000000">{_german_html_headers(subject)}</font><div>&nbsp;</div></div>'
        f"<div>{_html_lines(notice)}</div></body></html>"
    )
    return _alternative(msg, _german_plain(notice, subject), html)


def k9_android_russian(notice: bytes) -> bytes:
    """K-9 Mail on Android in Russian: plain text, the answer above "… пишет:" and the quote."""
    msg = _threaded(notice, ("User-Agent", "K-9 Mail for Android"))
    msg.set_content(
        "Здравствуйте, Джейн!\n\nВерсия 4.2 исправляет экспорт, она выйдет завтра.\n\nЕва\n"
        "-- \nОтправлено с моего устройства Android с помощью K-9 Mail. Пожалуйста, извините за краткость.\n\n"
        f"30 ноября 2026 г. 10:00:00 GMT+03:00, Example Support <support@example.com> пишет:\n{_quoted(notice)}\n"
    )
    return msg.as_bytes()


def gmail_japanese(notice: bytes) -> bytes:
    """Gmail in Japanese: div.gmail_quote with its gmail_attr line, a plain alternative beside it."""
    msg = _threaded(notice, ("X-Gm-Message-State", "AOJu0Yw"))
    attribution = "2026年11月30日(月) 10:00 Example Support <support@example.com>:"
    plain = f"ジェーン様\n\nバージョン4.2でエクスポートが直ります。明日公開です。\n\nイヴ\n\n{attribution}\n\n{_quoted(notice)}\n"
    html = (
        '<div dir="ltr">ジェーン様<div><br></div><div>バージョン4.2でエクスポートが直ります。明日公開です。</div>'
        '<div><br></div><div>イヴ</div></div><br><div class="gmail_quote gmail_quote_container">'
        f'<div dir="ltr" class="gmail_attr">{escape(attribution)}<br></div>'
        '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
        f'rgb(204,204,204);padding-left:1ex">{_html_lines(notice)}</blockquote></div>\n'
    )
    return _alternative(msg, plain, html)


def iphone_japanese(notice: bytes) -> bytes:
    """iPhone Mail in Japanese: "…のメッセージ:" above the quote, "iPhoneから送信" below the answer."""
    msg = _threaded(notice, ("X-Mailer", "iPhone Mail (22B91)"))
    attribution = "2026/11/30 10:00、Example Support <support@example.com>のメッセージ:"
    plain = f"ジェーン様\n\nバージョン4.2で直ります。\n\nイヴ\n\niPhoneから送信\n\n> {attribution}\n>\n{_quoted(notice)}\n"
    html = (
        '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
        '<body dir="auto"><div dir="ltr">ジェーン様</div><div dir="ltr"><br></div>'
        '<div dir="ltr">バージョン4.2で直ります。</div><div dir="ltr"><br></div><div dir="ltr">イヴ</div>'
        '<div dir="ltr"><br><div dir="ltr">iPhoneから送信</div><div dir="ltr"><br>'
        f'<blockquote type="cite">{escape(attribution)}<br><br></blockquote></div>'
        f'<blockquote type="cite"><div dir="ltr">{_html_lines(notice)}</div></blockquote></div></body></html>'
    )
    return _alternative(msg, plain, html)


def thunderbird_japanese(notice: bytes) -> bytes:
    """Thunderbird in Japanese, plain text: "… さんは書きました:" above the quote."""
    msg = _threaded(notice, ("User-Agent", "Mozilla Thunderbird"))
    msg.set_content(f"ジェーン様\n\n直りました。\n\nイヴ\n\n2026/11/30 10:00 に Example Support さんは書きました:\n"
                    f"{_quoted(notice)}\n")
    return msg.as_bytes()


CLIENTS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "thunderbird_bottom_posted": (thunderbird_bottom_posted,
                                  "Hi Jane,\n\nversion 4.2 fixes the export; it is out tomorrow.\n\nEve"),
    "apple_mail_interleaved": (apple_mail_interleaved,
                               "Hi Jane,\n\n> Which version fixes the PDF export?\n\nVersion 4.2, out tomorrow.\n\n"
                               "> And can I export to CSV meanwhile?\n\nYes: Reports, then Export, then CSV.\n\nEve"),
    "outlook_desktop_german": (outlook_desktop_german,
                               "Hallo Jane,\n\nVersion 4.2 behebt den Export, sie erscheint morgen.\n\nViele Grüße\nEve"),
    "outlook_365_german": (outlook_365_german,
                           "Hallo Jane,\n\nVersion 4.2 behebt den Export, sie erscheint morgen.\n\nViele Grüße\nEve"),
    "k9_android_russian": (k9_android_russian,
                           "Здравствуйте, Джейн!\n\nВерсия 4.2 исправляет экспорт, она выйдет завтра.\n\nЕва"),
    "gmail_japanese": (gmail_japanese, "ジェーン様\n\nバージョン4.2でエクスポートが直ります。明日公開です。\n\nイヴ"),
    "iphone_japanese": (iphone_japanese, "ジェーン様\n\nバージョン4.2で直ります。\n\nイヴ"),
    "thunderbird_japanese": (thunderbird_japanese, "ジェーン様\n\n直りました。\n\nイヴ"),
}


def _notice(room: Mailroom) -> bytes:
    room.dovecot.append("support", mail(subject="Export to PDF fails", body=QUESTION,
                                        sender=f"Jane Customer <{CUSTOMER}>"))
    assert room.run_once() == 0
    [notice] = [m for m in room.dovecot.messages("engineer") if "Which version fixes" in body_text(m)]
    return notice


def _relays(room: Mailroom) -> list[bytes]:
    return [m for m in room.dovecot.messages("customer") if header(m, "Auto-Submitted") != "auto-replied"]


def _answer_in(relay: bytes) -> str:
    """The engineer's text in a relay: above the names the relay signs with and its footer."""
    text = body_text(relay).replace("\r\n", "\n").split("\n--\n")[0].rstrip()
    assert text.endswith(CLOSING), text
    return text[: -len(CLOSING)]


@pytest.mark.parametrize("client", list(CLIENTS))
def test_a_reply_reaches_the_customer_as_the_engineers_text_alone(mailroom: Mailroom, client: str) -> None:
    write, answer = CLIENTS[client]
    notice = _notice(mailroom)
    mailroom.dovecot.append("support", write(notice))
    assert mailroom.run_once() == 0

    [relay] = _relays(mailroom)
    assert _answer_in(relay).split() == answer.split()
    parsed = email.message_from_bytes(relay, policy=policy.default)
    html_part = parsed.get_body(("html",))
    if html_part is not None:  # the engineer wrote HTML: the relay's HTML holds the answer and no history
        html = html_part.get_content()
        assert answer.split("\n")[-1] in html
        for gone in ("Reply to this mail to answer", "Example Support &lt;", "Gesendet:", "gmail_quote", "-- "):
            assert gone not in html, gone
    [ticket] = mailroom.tickets()
    assert ticket["first_response_at"] is not None


def test_an_outlook_html_reply_of_the_history_alone_is_sent_back_to_the_engineer(mailroom: Mailroom) -> None:
    notice = _notice(mailroom)
    msg = _threaded(notice, ("X-Mailer", "Microsoft Outlook 16.0"))
    subject = str(msg["Subject"])
    html = (
        '<html><body><div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">'
        f'<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif">{_german_html_headers(subject)}'
        f"</font><div>&nbsp;</div></div><div>{_html_lines(notice)}</div></body></html>"
    )
    plain = "\n".join(GERMAN_HEADERS).format(subject=subject) + "\n\n" + body_text(notice)
    mailroom.dovecot.append("support", _alternative(msg, plain, html))
    assert mailroom.run_once() == 0

    assert _relays(mailroom) == []
    told = [m for m in mailroom.dovecot.messages("engineer") if "held no new text" in body_text(m)]
    assert len(told) == 1
    [ticket] = mailroom.tickets()
    assert ticket["first_response_at"] is None
