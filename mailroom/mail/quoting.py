"""Pure: the new text of a reply — its quoted history and signature removed, none of its answer lost."""

# Why a scanner of our own rather than a library: on the replies under tests/data/replies,
# email-reply-parser 0.5.12 gave 17 of 23 exactly (it knows only English attribution lines, and
# takes a paragraph that starts with "-r" or "--" for a signature, dropping an engineer's
# command-line flag) and mail-parser-reply 1.36 gave 14 of 23 at ~5x the time; both keep the
# `#` lines and lose a bottom-posted answer. The phrases clients write, in each language, are in
# replylang.py; the rules here are anchored to whole lines so that prose is not taken for history.
#
# A reply is read as segments: the engineer's text, and quoted blocks (`>` lines) with their
# attribution ("On … wrote:") dropped. One text segment (top- or bottom-posted) is the answer
# alone; text in several segments is an interleaved answer, kept with the quotes it answers.
# An Outlook header block, "-----Original Message-----" or an attribution over unquoted text
# starts history that runs to the end.

import re

from mailroom.mail import replylang

_END = r"[ \t\u00a0\u200e\u200f]*[:：][ \t\u00a0\u200e\u200f]*"
_ATTRIBUTION_WORD = re.compile(rf"(?:{replylang.ATTRIBUTION_WORDS})", re.IGNORECASE)
_ADDRESS = re.compile(r"[<(\[]?[^\s<>()\[\]@]+@[^\s<>()\[\]@]+\.[^\s<>()\[\]@:]+[>)\]]?")
_ORIGINAL_MESSAGE = re.compile(
    rf"[ \t>]*-{{2,}}[ \t]*(?:{replylang.ORIGINAL_PHRASES})[ \t]*-{{2,}}[ \t]*", re.IGNORECASE
)
_RULE = re.compile(r"[ \t]*_{10,}[ \t]*")
# A line of a separator drawn above a header block: dashes, underscores, equals signs, stars.
_SEPARATOR = re.compile(r"[ \t]*(?:-{3,}|_{3,}|={3,}|\*{3,})[ \t]*")
# Zoho's attribution between dashes: "---- On Wed, 24 Feb 2021 … john@example.com wrote ----".
_DASHED = re.compile(r"[ \t>]*-{2,}[ \t]*(\S.{0,300}?)[ \t]*-{2,}[ \t]*")
# An attribution without its colon ("… <john@example.com> wrote"): the verb ends the line. Asked
# of nearly every line of every mail: str.endswith over the phrases, where a regex alternation
# searched from each of the line's last 40 characters cost a millisecond a mail.
_ENDINGS = replylang.ATTRIBUTION_ENDINGS
# "30.09.2017, 18.30, "John" <john@example.com>:" — a date and a sender, no verb.
_ENDS_WITH_SENDER = re.compile(r"<[^\s<>@]+@[^\s<>@]+>[ \t]*[:：]$")
# The "-- " delimiter (many clients trim its space), an em-dash rule, a mailing list's "__".
_DELIMITER = re.compile(r"--|[—–]{1,20}")
_FOOTER_RULE = re.compile(r"_{2,}")
_CLAUSE = re.compile(r",\s+(\w)")
# Outlook's header block: a From line followed by Sent/Date/To/Subject lines, in the client's
# language, plain or bold (`**From:**` after HTML conversion).
_FROM_LINE = re.compile(rf"[ \t>]*\**(?:{replylang.FROM_FIELDS})\**{_END}", re.IGNORECASE)
_HEADER_LINE = re.compile(rf"[ \t>]*\**(?:{replylang.OTHER_FIELDS})\**{_END}", re.IGNORECASE)
_MOBILE_SIGNATURE = re.compile(rf"[ \t]*(?:{replylang.MOBILE_STARTS}).{{0,60}}", re.IGNORECASE)
_QUOTE = re.compile(r"[ \t]*>")
_COMMAND = re.compile(r"[ \t]*#\w")


def new_text(text: str) -> str:
    """The text without quoted history and signature; leading `#` command lines are kept."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = lines[: _history_start(lines)]
    segments = _segments(lines)
    segments = _without_signature(segments)
    answers = [i for i, (quoted, body) in enumerate(segments) if not quoted and _has_words(body)]
    if not answers:
        return ""
    # Command lines alone (above a bottom-posted answer) do not make an answer interleaved.
    prose = [i for i in answers if not all(_COMMAND.match(line) or not line.strip() for line in segments[i][1])]
    if len(prose) <= 1:
        kept = [line for i in answers for line in segments[i][1]]
    else:
        # From the first answer on (with the quote it answers when that comes first), to the last.
        start = answers[0] - 1 if answers[0] > 0 and segments[answers[0] - 1][0] else answers[0]
        kept = [line for _, body in segments[start : answers[-1] + 1] for line in body]
    return _trimmed(kept)


def is_attribution_line(text: str) -> bool:
    """True when one line (as a client writes it atop a quote) reads as "On … wrote:"."""
    line = " ".join(text.split())
    return 0 < len(line) <= 1000 and _attribution_span([line], 0) == 1


def _segments(lines: list[str]) -> list[tuple[bool, list[str]]]:
    """(quoted, lines) runs; attribution lines dropped; blank lines stay with the run they follow."""
    segments: list[tuple[bool, list[str]]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        span = _attribution_span(lines, index)
        if span:
            index += span
            continue
        quoted = bool(_QUOTE.match(line)) or _is_wrapped_quote(lines, index)
        if segments and (not line.strip() or segments[-1][0] == quoted):
            segments[-1][1].append(line)
        else:
            segments.append((quoted, [line]))
        index += 1
    return segments


def _is_wrapped_quote(lines: list[str], index: int) -> bool:
    """True for the tail of a long quoted line that a client wrapped without its ">" marker."""
    if index == 0 or index + 1 >= len(lines) or not lines[index].strip():
        return False
    before, after = lines[index - 1].rstrip(), lines[index + 1]
    if not (_QUOTE.match(before) and _QUOTE.match(after)) or len(before) < 60:
        return False
    # A sentence that ended above is answered below; a cut one, or a lower-case start, goes on.
    return before[-1] not in ".?!:" or lines[index].lstrip()[:1].islower()


def _without_signature(segments: list[tuple[bool, list[str]]]) -> list[tuple[bool, list[str]]]:
    """Segments up to a signature delimiter, and without a mobile signature ending a text segment."""
    out: list[tuple[bool, list[str]]] = []
    for position, (quoted, body) in enumerate(segments):
        if not quoted:
            last = position == len(segments) - 1
            for index, line in enumerate(body):
                if _DELIMITER.fullmatch(line.rstrip()) or last and _is_footer(body, index):
                    out.append((quoted, _without_mobile_signature(body[:index])))
                    return out
            body = _without_mobile_signature(body)
        out.append((quoted, body))
    return out


def _is_footer(body: list[str], index: int) -> bool:
    """True for a mailing list's footer: a line of underscores and at most six short lines to the end."""
    if not _FOOTER_RULE.fullmatch(body[index].strip()) or len(body) - index > 12:
        return False
    return sum(1 for line in body[index + 1 :] if line.strip()) <= 6


def _without_mobile_signature(body: list[str]) -> list[str]:
    """The lines without a trailing "Sent from my iPhone" (and the blank lines around it)."""
    end = len(body)
    while end and not body[end - 1].strip():
        end -= 1
    if end and _is_mobile_signature(body[end - 1]):
        return body[: end - 1]
    return body


def _is_mobile_signature(line: str) -> bool:
    """True for "Sent from my iPhone" and its kin; not for a sentence that starts the same way."""
    if len(line) > 100:
        return False
    # "Sent from my desk, is much easier …" goes on in lower case: a sentence, not a signature.
    clause = _CLAUSE.search(line.strip().split(". ", 1)[0])
    if clause and clause.group(1).islower():
        return False
    return _MOBILE_SIGNATURE.fullmatch(line) is not None


def _has_words(lines: list[str]) -> bool:
    return any(line.strip() for line in lines)


def _trimmed(lines: list[str]) -> str:
    """Lines joined, without blank lines at either end and without trailing spaces at the end."""
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return "\n".join(lines[start:end])


def _history_start(lines: list[str]) -> int:
    """The index where unquoted history begins (it runs to the end), or len(lines)."""
    for index, line in enumerate(lines):
        if _QUOTE.match(line):
            continue
        bare = line.strip()
        if bare[:1] in "-_" and (_ORIGINAL_MESSAGE.fullmatch(line) or _rule_before_headers(lines, index)):
            return _with_separators(lines, index)
        if bare[:1] == "-" and _is_dashed_attribution(line):
            return index
        if _FROM_LINE.match(line) and _is_header_block(lines, index):
            return _with_separators(lines, index)
        span = _attribution_span(lines, index)
        if span and not _next_is_quote(lines, index + span):
            return index  # an attribution over unquoted history (Outlook's plain-text reply)
        if _is_mobile_signature(line) and _names_a_device(line) and _stands_alone(lines, index):
            return index  # a phone's signature closes the answer; its client puts the history below
    return len(lines)


def _with_separators(lines: list[str], index: int) -> int:
    """The start of history moved up over the separators and header lines drawn above it."""
    start = index
    for before in range(index - 1, max(index - 8, -1), -1):
        line = lines[before]
        if _SEPARATOR.fullmatch(line) or _HEADER_LINE.match(line):
            start = before
        elif line.strip():
            break
    return start


def _is_dashed_attribution(line: str) -> bool:
    """True for an attribution set between dashes, as Zoho writes it."""
    found = _DASHED.fullmatch(line)
    if not found:
        return False
    inner = found.group(1)
    return _ATTRIBUTION_WORD.search(inner) is not None and any(ch.isdigit() for ch in inner)


def _names_a_device(line: str) -> bool:
    """True when a phone signature names the device or app ("Sent from my …", "… Outlook für Android")."""
    bare = f" {line.strip()} "
    return not bare.rstrip().endswith(".") and any(word.lower() in bare.lower() for word in replylang.DEVICES)


def _stands_alone(lines: list[str], index: int) -> bool:
    """True when the line is a paragraph of its own, with more text below it."""
    before = index == 0 or not lines[index - 1].strip()
    after = index + 1 < len(lines) and not lines[index + 1].strip()
    return before and after


def _attribution_span(lines: list[str], index: int) -> int:
    """How many lines (1-3) an "On … wrote:" attribution starting at index spans; 0 when none does."""
    for extra in range(3):
        last = index + extra
        if last >= len(lines) or (extra and not lines[last].strip()):
            return 0
        end = lines[last].rstrip()
        colon = end.endswith((":", "："))
        if not colon and not end[-40:].lower().endswith(_ENDINGS):
            continue
        if extra and not _may_open(lines[index]):
            return 0  # "Hi," above "On … wrote:" is the answer's first line, not the attribution's
        window = " ".join(line.lstrip("> \t") for line in lines[index : last + 1]).strip()
        broken = end.strip() == ">:"  # Gmail wrapping "<a@b.c>:" puts the ">:" on a quoted line
        if len(window) > 1000 or _QUOTE.match(lines[last]) and not _QUOTE.match(lines[index]) and not broken:
            return 0
        if _is_attribution(window, _next_is_quote(lines, last + 1), colon):
            return extra + 1
    return 0


def _may_open(line: str) -> bool:
    """True when a line can begin an attribution wrapped over lines: it has a date, a sender or the verb."""
    return any(ch.isdigit() for ch in line) or "@" in line or _ATTRIBUTION_WORD.search(line) is not None


def _is_attribution(window: str, quote_follows: bool, colon: bool = True) -> bool:
    """True when a line ending in ":" reads as "On <date>, <name> wrote:" in some language."""
    has_word = _ATTRIBUTION_WORD.search(window) is not None
    has_date = any(ch.isdigit() for ch in window)
    has_address = _ADDRESS.search(window) is not None
    if not colon:  # "… <a@b.c> wrote" without its colon: all three, wherever it stands
        return has_word and has_date and has_address
    if quote_follows:
        # Above a quote: the verb, or a date with a sender (Gmail's "2026年12月1日 … <a@b>:").
        return has_word and (has_date or has_address or len(window) < 200) or (has_date and has_address)
    # Above unquoted text, prose is likelier: the verb, a date and a sender, or a date and a sender
    # that ends the line ("30.09.2017, 18.30, "John" <john@example.com>:").
    return has_date and (has_word and has_address or _ENDS_WITH_SENDER.search(window) is not None)


def _next_is_quote(lines: list[str], start: int) -> bool:
    """True when the first non-blank line from start is quoted, or none follows."""
    for index in range(start, len(lines)):  # by index: a slice would copy the rest for each line
        if lines[index].strip():
            return bool(_QUOTE.match(lines[index]))
    return True


def _is_header_block(lines: list[str], index: int) -> bool:
    """True when at least two header lines follow the From line at index."""
    following = lines[index + 1 : index + 7]
    return sum(1 for line in following if _HEADER_LINE.match(line)) >= 2


def _rule_before_headers(lines: list[str], index: int) -> bool:
    """True for Outlook's underscore rule directly above a header block."""
    if not _RULE.fullmatch(lines[index]):
        return False
    for offset in (1, 2):
        if index + offset < len(lines) and _FROM_LINE.match(lines[index + offset]):
            return _is_header_block(lines, index + offset)
    return False
