"""Pure: mail payloads → storable text: charsets, RFC 2047 words, HTML bodies as plain text."""

# Our own converter rather than html2text: html2text writes Markdown (`[text](url)`,
# `**bold**`, trailing double spaces for <br>, pipes or run-together cells for layout
# tables), which customers and engineers then read as noise. Here links become
# "text <url>", <blockquote> becomes `> ` lines and <hr> becomes Outlook's own
# underscore rule, so quoting.new_text treats HTML-only replies like plain ones.
# A regex tokenizer instead of html.parser: html.parser alone converts ~1.6 MB/s, this
# ~3.5 MB/s; possessive repeats that stop at the next "<" keep every input linear.

import binascii
import codecs
import functools
import html
import re
from email.message import Message

MAX_HTML = 2_000_000  # characters converted; the rest of a giant page is dropped
_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)|<![^<>]*+>?|<\?[^<>]*+>?|<(/?)([a-zA-Z][^\s/<>]*+)([^<>]*+)>",
    re.DOTALL,
)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
_RAW_TEXT = frozenset({"script", "style", "xml", "template", "textarea"})  # skipped with content
_HIDDEN = frozenset({"head", "title"})  # skipped until closed, or until body content starts
_HEAD_ONLY = frozenset({"meta", "link", "base", "html"})
_BLOCK = frozenset(
    {
        "address", "article", "aside", "center", "dd", "div", "dl", "dt", "fieldset",
        "figure", "footer", "form", "header", "main", "nav", "section", "table", "tbody",
        "thead", "tfoot", "tr", "caption",
    }
)
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre"})
_SPACES = re.compile(r"[ \t\r\n\f\v\u200b]+")
_RULE = "_" * 32  # what Outlook writes above the quoted header block in its text part
# Quote marks shown at most this deep: each line carries one "> " per level, so unbounded
# nesting (`<blockquote>` repeated) would make the text grow with the square of the markup.
MAX_QUOTE_DEPTH = 32


class _Text:
    """Collects lines of text, each prefixed by the blockquote depth it started at."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.line: list[str] = []
        self.has_text = False  # the current line holds more than spaces
        self.ends_in_space = True
        self.depth = 0  # blockquote nesting
        self.line_depth = 0
        self.hidden = 0
        self.pre = 0
        self.lists: list[int] = []  # per open list: 0 for <ul>, else the next <ol> number
        self.links: list[tuple[str | None, int]] = []  # (href, where its text starts)

    def newline(self, blank: bool = False) -> None:
        """End the current line; with blank, make sure one empty line follows."""
        text = "".join(self.line).rstrip()
        if text or self.pre:
            shown = min(self.line_depth, MAX_QUOTE_DEPTH)
            self.lines.append("> " * shown + text if text else ">" * shown)
        self.line, self.has_text, self.ends_in_space = [], False, True
        self.line_depth = self.depth
        if blank and self.lines and self.lines[-1].strip("> "):
            self.lines.append(">" * min(self.depth, MAX_QUOTE_DEPTH))

    def write(self, text: str) -> None:
        """Add text to the current line."""
        if not self.line:
            self.line_depth = self.depth
        self.line.append(text)
        self.has_text = self.has_text or bool(text.strip())
        self.ends_in_space = text[-1:] == " "

    def data(self, raw: str) -> None:
        """Text between tags: entities decoded, whitespace collapsed except in <pre>."""
        if self.hidden or not raw:
            return
        text = html.unescape(raw)
        if self.pre:
            for index, part in enumerate(text.split("\n")):
                if index:
                    self.newline()
                self.write(part)
            return
        text = _SPACES.sub(" ", text)
        if self.ends_in_space:
            text = text.lstrip()
        if text:
            self.write(text)

    def start(self, tag: str, attrs: str) -> None:
        """Open an element."""
        if tag in _HIDDEN:
            self.hidden += 1
            return
        if self.hidden and tag not in _HEAD_ONLY:
            self.hidden = 0  # as browsers do: body content closes an unclosed <head>
        if tag == "br":
            self.newline()
        elif tag == "hr":
            self.newline()
            self.write(_RULE)
            self.newline()
        elif tag == "blockquote":
            self.newline(blank=True)
            self.depth += 1
            self.line_depth = self.depth
        elif tag in _PARAGRAPH:
            self.newline(blank=True)
            self.pre += tag == "pre"
        elif tag in ("ul", "ol"):
            self.newline()
            self.lists.append(0 if tag == "ul" else 1)
        elif tag == "li":
            self.newline()
            self.write(self._bullet())
        elif tag in _BLOCK:
            self.newline()
        elif tag in ("td", "th") and self.has_text:
            self.write("  ")
        elif tag == "a":
            found = _HREF.search(attrs)
            href = html.unescape(next(g for g in found.groups() if g is not None)) if found else None
            self.links.append((href, len(self.line)))

    def end(self, tag: str) -> None:
        """Close an element."""
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif self.hidden:
            return
        elif tag == "blockquote":
            self.newline()
            self.depth = max(0, self.depth - 1)
            self.newline(blank=True)
        elif tag in _PARAGRAPH:
            self.pre -= tag == "pre" and self.pre > 0
            self.newline(blank=True)
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self.newline(blank=not self.lists)
        elif tag in _BLOCK or tag == "li":
            self.newline()
        elif tag == "a" and self.links:
            self._close_link(*self.links.pop())

    def _bullet(self) -> str:
        """The marker of a list item: "- " or "3. "."""
        indent = "  " * max(0, len(self.lists) - 1)
        if not self.lists or self.lists[-1] == 0:
            return indent + "- "
        number = self.lists[-1]
        self.lists[-1] += 1
        return f"{indent}{number}. "

    def _close_link(self, href: str | None, start: int) -> None:
        """Show a link's address after its text, unless the text already is the address."""
        if not href or not href.lower().startswith(("http://", "https://", "mailto:")):
            return
        text = "".join(self.line[start:]).strip() if start <= len(self.line) else ""
        shown = href[7:] if href.lower().startswith("mailto:") else href
        if text and shown.rstrip("/") not in text:
            self.write(f" <{shown}>")
        elif not text:
            self.write(shown)


def html_to_text(markup: str) -> str:
    """Readable text of an HTML document; never raises on malformed markup."""
    markup = markup[:MAX_HTML]
    out = _Text()
    position = 0
    while position < len(markup):
        token = _TOKEN.search(markup, position)
        if token is None:
            out.data(markup[position:])
            break
        out.data(markup[position : token.start()])
        position = token.end()
        closing, name, attrs = token.groups()
        if name is None:
            continue  # a comment, doctype or processing instruction
        tag = name.lower()
        if closing:
            out.end(tag)
        elif tag in _RAW_TEXT:
            # Script and style text is never shown; skip to the element's end.
            close = re.compile(rf"</{tag}\s*>", re.IGNORECASE).search(markup, position)
            position = close.end() if close else len(markup)
        else:
            out.start(tag, attrs)
            if attrs.rstrip().endswith("/") and tag in ("a", "blockquote"):
                out.end(tag)
    out.newline()
    return _tidy(out.lines)


def _tidy(lines: list[str]) -> str:
    """Join lines, keeping at most one blank line in a row and none at the ends."""
    out: list[str] = []
    for line in lines:
        if not line.strip("> ") and out and not out[-1].strip("> "):
            continue
        out.append(line)
    while out and not out[0].strip("> "):
        out.pop(0)
    while out and not out[-1].strip("> "):
        out.pop()
    return "\n".join(out)


# gb2312 labels GBK text in practice; a strict gb2312 codec mangles GBK-only characters.
_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
    "csgb2312": "gb18030", "euc-cn": "gb18030", "chinese": "gb18030", "big5": "big5hkscs",
    "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "euc-kr": "cp949", "shift_jis": "cp932",
    "sjis": "cp932", "x-sjis": "cp932", "windows-31j": "cp932", "iso-8859-8-i": "iso-8859-8",
    "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "utf8": "utf-8",
}
_UNDECLARED = frozenset({"", "us-ascii", "ascii", "ansi_x3.4-1968", "unknown-8bit", "x-unknown", "unknown", "default"})
_NOT_TEXT = frozenset({"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"})
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,75})\?([bBqQ])\?([^?]*)\?=")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/]")


def decode(data: bytes, charset: str | None, defects: list[str] | None = None) -> str:
    """Bytes as text in their declared charset: bad bytes replaced, unknown charsets guessed."""
    label = (charset or "").strip().strip("\"'").lower()[:64]
    codec = None if label in _UNDECLARED else _codec(label)
    if codec is None:
        if label not in _UNDECLARED and defects is not None:
            defects.append(f"unknown charset {label!r}")
        # UTF-8 is by far the likeliest undeclared charset; Latin-1 reads any byte.
        for guess in ("utf-8", "cp1252"):
            try:
                return data.decode(guess)
            except UnicodeDecodeError:
                pass
        return data.decode("latin-1")
    try:
        return data.decode(codec)
    except UnicodeError:
        if codec == "cp1252":
            return data.decode("latin-1")  # the five bytes cp1252 leaves undefined
        if defects is not None:
            defects.append(f"bytes invalid in charset {label!r} replaced")
        try:
            return data.decode(codec, "replace")
        except UnicodeError:
            return data.decode("utf-8", "replace")


@functools.lru_cache(maxsize=128)
def _codec(label: str) -> str | None:
    """The Python codec of a charset label, or None when unknown or not a text codec."""
    try:
        info = codecs.lookup(_ALIASES.get(label.split("*", 1)[0], label.split("*", 1)[0]))
    except (LookupError, ValueError, TypeError):
        return None
    # Python also names non-text codecs (base64, zlib) and escape codecs; a sender must not pick them.
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_TEXT:
        return None
    return info.name


def as_text(value: object, hint: str | None = None) -> str:
    """A header value from the parser as real text: raw 8-bit bytes read as UTF-8, else `hint`."""
    text = str(value)
    if not _SURROGATES.search(text):
        return text
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", text)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return decode(data, hint)


def decode_words(text: str) -> str:
    """RFC 2047 encoded words decoded, in any charset, tolerating bad padding and split characters."""
    if "=?" not in text:
        return text
    out: list[str] = []
    pending: list[tuple[str, bytes]] = []  # adjacent words; same-charset bytes are joined first
    position = 0
    for word in _ENCODED_WORD.finditer(text):
        gap = text[position : word.start()]
        if gap and (gap.strip() or not pending):
            out.extend(decode(data, label) for label, data in pending)
            pending = []
            out.append(gap)
        label, kind, payload = word.group(1).lower().split("*", 1)[0], word.group(2), word.group(3)
        data = _base64(payload) if kind in "bB" else binascii.a2b_qp(payload.encode("utf-8", "replace"), header=True)
        if pending and pending[-1][0] == label:
            pending[-1] = (label, pending[-1][1] + data)
        else:
            pending.append((label, data))
        position = word.end()
    out.extend(decode(data, label) for label, data in pending)
    out.append(text[position:])
    return "".join(out)


def _base64(payload: str) -> bytes:
    """Lenient base64: stray characters dropped, padding repaired."""
    clean = _NOT_BASE64.sub("", payload)
    if len(clean) % 4 == 1:
        clean = clean[:-1]
    try:
        return binascii.a2b_base64(clean + "=" * (-len(clean) % 4))
    except binascii.Error:
        return b""


def payload_bytes(part: Message, defects: list[str], limit: int | None = None) -> bytes:
    """A leaf part's content with its transfer encoding undone (about `limit` bytes at most); never raises."""
    try:
        payload = part.get_payload()
        cte = str(part.get("content-transfer-encoding", "")).strip().lower()
        if limit is not None and isinstance(payload, str) and len(payload) > 3 * limit:
            # Cut before decoding: a 50 MB text part is read as far as it is kept, not copied whole.
            return _first_bytes(payload, cte, limit)
        if cte == "base64" and isinstance(payload, str):
            try:
                # One C call over the whole payload; the stdlib splits it into lines first.
                return binascii.a2b_base64(payload.encode("ascii", "surrogateescape"))
            except (binascii.Error, UnicodeEncodeError):
                pass
        data = part.get_payload(decode=True)
        return data if isinstance(data, bytes) else b""
    except Exception as exc:  # noqa: BLE001 - a broken part keeps the rest of the mail readable
        defects.append(f"part not decodable: {type(exc).__name__}")
        return b""


def _first_bytes(payload: str, cte: str, limit: int) -> bytes:
    """The first `limit` or so content bytes of an encoded payload, cut at a line end."""
    # Encoded text is at most 3 characters a byte (quoted-printable); base64 is 4 per 3.
    cut = payload[: 3 * limit]
    cut = cut[: cut.rfind("\n") + 1] or cut
    data = cut.encode("ascii", "surrogateescape")
    if cte == "base64":
        return _base64(cut)
    if cte == "quoted-printable":
        return binascii.a2b_qp(data)
    return data


def storable(text: str) -> str:
    """Text a database accepts: no NUL, no lone surrogates."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if _SURROGATES.search(text):
        text = _SURROGATES.sub("\ufffd", text)
    return text
