"""Bytes of a MIME mail from clean values: headers folded, bodies 7bit, quoted-printable or base64."""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable, Sequence
from urllib.parse import quote

LIMIT = 78  # RFC 5322 2.1.1: a line SHOULD be at most 78 characters...
HARD_LIMIT = 998  # ...and MUST be at most 998
QP_LIMIT = 76  # RFC 2045 6.7, the soft break's "=" included

_SPECIALS = re.compile(r'[][\\()<>@,:;".]')  # a display name with these is quoted (email.utils.formataddr)
_ATOM = re.compile(r"[!#$%&'*+/=?^_`{|}~0-9A-Za-z-]+")  # RFC 5322 atext
_ESCAPES = re.compile(r'[\\"]')
_NOT_7BIT = re.compile(r"[^\t\n\x20-\x7e]")  # controls go quoted-printable: NUL is never 7bit (RFC 2045 2.7)
_BASE64_LINE = re.compile(rb".{1,76}")  # RFC 2045 6.8; a regex splits 100 KB faster than slicing
_PARAM_SAFE = "!#$&+-.^_`|~"  # RFC 2231 attribute-char besides letters and digits
_EW_OVERHEAD = len(" =?utf-8?b??=")
_EW_MAX_BASE64 = 75 - len("=?utf-8?b??=")  # RFC 2047 2: an encoded-word is at most 75 characters
_EW_ROOM = min(LIMIT - _EW_OVERHEAD, _EW_MAX_BASE64) // 4 * 3  # bytes in one on a line of its own

Part = tuple[str, bytes]  # header lines, each ending CRLF; the body, ending CRLF (or empty)


# --- headers ----------------------------------------------------------------------------------


class _Header:
    """One header being folded: words go on the line while it stays within LIMIT."""

    def __init__(self, name: str) -> None:
        self.head = f"{name}:"
        self.lines: list[str] = []
        self.line = self.head

    def word(self, word: str) -> None:
        """A word written as it is, on a new line when this one would grow past LIMIT."""
        # The first word stays next to the name: some parsers mishandle a fold right after the colon.
        if len(self.line) + 1 + len(word) > LIMIT and self.line != self.head:
            self.lines.append(self.line)
            self.line = ""
        self.line += " " + word

    def encoded(self, text: str, at_spaces: bool = False) -> None:
        """RFC 2047 UTF-8 encoded-words of `text`, split between characters, none past LIMIT.

        `at_spaces` keeps a short text whole, wrapping it to a new line if need be, and splits a
        long one after spaces where it can: Python's parser (unlike RFC 2047 and mail clients)
        reads the fold between two encoded-words of a display name as a space, so a split shows
        there as a doubled space rather than as a space inside a word.
        """
        # A lone surrogate (undecodable input) becomes "?" rather than failing the whole mail.
        data = text.encode("utf-8", "replace")
        start = 0
        while start < len(data):
            room = min(LIMIT - len(self.line) - _EW_OVERHEAD, _EW_MAX_BASE64) // 4 * 3
            whole = 0  # bytes to keep in one encoded-word: the rest of the text, else its next word
            if at_spaces:
                whole = len(data) - start
                if whole > _EW_ROOM:
                    whole = (data.find(b" ", start) + 1 or len(data)) - start
            if (room < 4 or room < whole <= _EW_ROOM) and self.line:  # on a line of its own it fits
                self.lines.append(self.line)
                self.line = ""
                continue
            end = min(start + room, len(data))
            while end < len(data) and data[end] & 0xC0 == 0x80:  # never split a character
                end -= 1
            if at_spaces and end < len(data) and data.rfind(b" ", start, end) > start:
                end = data.rfind(b" ", start, end) + 1
            self.line += f" =?utf-8?b?{binascii.b2a_base64(data[start:end], newline=False).decode()}?="
            start = end

    def text(self) -> str:
        """The folded header, CRLF at the end of every line."""
        return "\r\n".join([*self.lines, self.line]) + "\r\n"


def verbatim(name: str, tokens: Sequence[str]) -> str:
    """A header of tokens written as given, folded only between them (Message-ID, References)."""
    if len(tokens) == 1 and len(name) + 2 + len(tokens[0]) <= LIMIT:
        return f"{name}: {tokens[0]}\r\n"
    header = _Header(name)
    for token in tokens:
        header.word(token)
    return header.text()


def unstructured(name: str, text: str) -> str:
    """Free text (single spaces, no controls): ASCII words as they are, the rest as encoded-words."""
    if text.isascii() and len(name) + 2 + len(text) <= LIMIT:
        return f"{name}: {text}\r\n"
    header = _Header(name)
    longest = HARD_LIMIT - len(name) - 2
    _words(header, text, lambda word: word.isascii() and len(word) <= longest)
    return header.text()


def mailbox(name: str, display_name: str, address: str) -> str:
    """`name: display name <address>`, the name quoted or encoded as RFC 5322 and 2047 want."""
    if not display_name:
        return f"{name}: {address}\r\n"
    header = _Header(name)
    longest = HARD_LIMIT - len(name) - 2
    phrase = display_name
    if phrase.isascii() and _SPECIALS.search(phrase):
        phrase = '"' + _ESCAPES.sub(r"\\\g<0>", phrase) + '"'
    if phrase.isascii() and all(len(word) <= longest for word in phrase.split(" ")):
        for word in phrase.split(" "):  # a fold inside the quotes is FWS, unfolded back to the space
            header.word(word)
    else:
        # Atoms as they are, the other words as encoded-words: no quoting rules to mix with.
        _words(header, display_name, lambda word: len(word) <= longest and bool(_ATOM.fullmatch(word)), True)
    header.word(f"<{address}>")
    return header.text()


def _words(header: _Header, text: str, plain: Callable[[str], bool], at_spaces: bool = False) -> None:
    """The words of `text`: `plain` ones as they are, runs of the others as encoded-words."""
    run: list[str] = []  # encoded together: decoders drop the space between two encoded-words
    for word in text.split(" "):
        if plain(word):
            if run:
                header.encoded(" ".join(run), at_spaces)
                run = []
            header.word(word)
        else:
            run.append(word)
    if run:
        header.encoded(" ".join(run), at_spaces)


def address_list(name: str, addresses: Sequence[str]) -> str:
    """`name: a, b, c`, folded after the commas."""
    header = _Header(name)
    for address in addresses[:-1]:
        header.word(address + ",")
    header.word(addresses[-1])
    return header.text()


# --- parts ------------------------------------------------------------------------------------


def text_part(subtype: str, text: str) -> Part:
    """A text/* part of LF-terminated text: 7bit when short ASCII lines allow, else quoted-printable."""
    crlf = text.replace("\n", "\r\n")
    if text.isascii() and not _NOT_7BIT.search(text) and max(map(len, text.split("\n"))) <= LIMIT:
        cte, body = "7bit", crlf.encode("ascii")
    else:
        cte, body = "quoted-printable", _quoted_printable(crlf.encode("utf-8"))
    return f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: {cte}\r\n', body


def _base64_body(content: bytes) -> bytes:
    """`content` in base64, cut into CRLF-ended lines of the standard length."""
    encoded = binascii.b2a_base64(content, newline=False)
    return b"\r\n".join(_BASE64_LINE.findall(encoded)) + b"\r\n" if encoded else b""


def attachment(maintype: str, subtype: str, filename: str, content: bytes) -> Part:
    """A base64 part offered as a file named `filename`."""
    body = _base64_body(content)
    headers = (
        f"Content-Type: {maintype}/{subtype}\r\nContent-Transfer-Encoding: base64\r\n"
        f"{_disposition(filename)}"
    )
    return headers, body


def inline_image(maintype: str, subtype: str, content_id: str, content: bytes) -> Part:
    """A base64 image an HTML part shows as `cid:content_id` (a multipart/related member)."""
    body = _base64_body(content)
    headers = (
        f"Content-Type: {maintype}/{subtype}\r\nContent-Transfer-Encoding: base64\r\n"
        f"Content-ID: <{content_id}>\r\nContent-Disposition: inline\r\n"
    )
    return headers, body


def multipart(subtype: str, boundary: str, parts: Sequence[Part]) -> Part:
    """A multipart/* part holding `parts` (the boundary must occur in none of them)."""
    header = f'Content-Type: multipart/{subtype}; boundary="{boundary}"'
    if len(header) > LIMIT:
        header = f'Content-Type: multipart/{subtype};\r\n boundary="{boundary}"'
    delimiter = f"--{boundary}\r\n".encode("ascii")
    body = []
    for part_headers, part_body in parts:
        # The CRLF before each delimiter belongs to the delimiter (RFC 2046 5.1.1), not the part.
        body += [delimiter, part_headers.encode("ascii"), b"\r\n", part_body, b"\r\n"]
    body.append(f"--{boundary}--\r\n".encode("ascii"))
    return header + "\r\n", b"".join(body)


def mail(headers: Sequence[str], part: Part) -> bytes:
    """The whole mail: `headers` (folded, CRLF-terminated), MIME-Version, then `part`."""
    head = "".join(headers) + "MIME-Version: 1.0\r\n" + part[0] + "\r\n"
    return head.encode("ascii") + part[1]


def _disposition(filename: str) -> str:
    """`attachment; filename=…`: quoted when ASCII and short, else RFC 2231, continued if long."""
    if filename.isascii():
        value = '"' + _ESCAPES.sub(r"\\\g<0>", filename) + '"'
        if len(f"Content-Disposition: attachment; filename={value}") <= LIMIT:
            return f"Content-Disposition: attachment; filename={value}\r\n"
        if len(f" filename={value}") <= LIMIT:
            return f"Content-Disposition: attachment;\r\n filename={value}\r\n"
    value = "utf-8''" + quote(filename, safe=_PARAM_SAFE, errors="replace")
    if len(f"Content-Disposition: attachment; filename*={value}") <= LIMIT:
        return f"Content-Disposition: attachment; filename*={value}\r\n"
    pieces: list[str] = []
    start = 0
    while start < len(value):
        prefix = f" filename*{len(pieces)}*="
        end = start + LIMIT - len(prefix) - 1  # room for the ";" between pieces
        if end < len(value):  # never split a %XX escape
            end -= 1 if value[end - 1] == "%" else 2 if value[end - 2] == "%" else 0
        pieces.append(prefix + value[start:end])
        start = end
    return "Content-Disposition: attachment;\r\n" + ";\r\n".join(pieces) + "\r\n"


def _quoted_printable(data: bytes) -> bytes:
    """Quoted-printable of CRLF text, every line within QP_LIMIT."""
    encoded = binascii.b2a_qp(data, istext=True)  # CRLF in, CRLF out: binascii keeps the input's line ends
    lines = encoded.split(b"\r\n")
    if max(map(len, lines)) <= QP_LIMIT:
        return encoded
    # binascii escapes a space or tab before a line break after measuring the line, so such a
    # line can come out 77 long; it gets one more soft break, never inside an =XX escape.
    fixed = []
    for line in lines:
        while len(line) > QP_LIMIT:
            cut = QP_LIMIT - 1
            cut -= 1 if line[cut - 1 : cut] == b"=" else 2 if line[cut - 2 : cut - 1] == b"=" else 0
            fixed.append(line[:cut] + b"=")
            line = line[cut:]
        fixed.append(line)
    return b"\r\n".join(fixed)
