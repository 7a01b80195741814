"""Pure: the new text of a reply — its quoted history and signature removed."""

# Why a small scanner of our own rather than a library: on the replies under
# tests/data/replies (Gmail, Outlook in both styles, Apple Mail, iPhone, German and
# French clients, signatures, an engineer's leading `#` commands), email-reply-parser
# 0.5.12 gave 17 of 23 exactly (it knows only English attribution lines, and takes a
# paragraph that starts with "-r" or "--" for a signature, dropping an engineer's
# command-line flag) and mail-parser-reply 1.36 gave 14 of 23 (12 with its signature
# removal, which also drops "- item" lists and "Thanks," paragraphs; it keeps "-- "
# signatures, misses German Outlook headers, strips indentation off code) at ~5x
# the time. Both keep the `#` lines. The rules below are the ones those libraries
# and the clients' own formats agree on; each is anchored to a whole line so that a
# customer's prose is not mistaken for history.

import re

_STARTERS = ("On", "Am", "Le", "El", "Il", "Op", "Em")
# An attribution line, possibly wrapped over up to three lines and possibly quoted
# itself (iOS Mail puts it inside the quote). Bounded repeats keep matching linear.
_ATTRIBUTION = re.compile(
    r"(?:>[ \t]?)*[ \t]*(?:"
    r"On\s.{4,500}?\swrote\s?:"
    r"|Am\s.{4,500}?\sschrieb\s.{0,500}?:"
    r"|Le\s.{4,500}?\sa\s+écrit\s*:"
    r"|El\s.{4,500}?\sescribió\s*:"
    r"|Il\s.{4,500}?\sha\s+scritto\s*:"
    r"|Op\s.{4,500}?\sschreef\s.{0,500}?:"
    r"|Em\s.{4,500}?\sescreveu\s*:"
    r")\s*",
    re.DOTALL,
)
_ORIGINAL_MESSAGE = re.compile(
    r"[ \t>]*-{2,}[ \t]*(?:Original Message|Ursprüngliche Nachricht|Message d'origine"
    r"|Mensaje original|Messaggio originale|Oorspronkelijk bericht|Mensagem original)"
    r"[ \t]*-{2,}[ \t]*",
    re.IGNORECASE,
)
_RULE = re.compile(r"[ \t]*_{10,}[ \t]*")
# Outlook's header block: a From line followed by Sent/Date/To/Subject lines, in the
# client's language, plain or bold (`**From:**` after HTML conversion).
_FROM_LINE = re.compile(r"[ \t>]*\**(?:From|Von|De|Da|Van|Fra|Från|Od)\**[ \t\u00a0]?:", re.I)
_HEADER_LINE = re.compile(
    r"[ \t>]*\**(?:Sent|Date|To|Cc|Subject|Gesendet|Datum|An|Betreff|Envoyé|À|A|Objet"
    r"|Enviado|Para|Asunto|Inviato|Oggetto|Verzonden|Aan|Onderwerp)\**[ \t\u00a0]?:",
    re.IGNORECASE,
)
_MOBILE_SIGNATURE = re.compile(
    r"[ \t]*(?:Sent from my .{1,60}|Sent from (?:Mail|Outlook|Yahoo Mail)(?: for .{1,60})?"
    r"|Get Outlook for .{1,60}|Von meinem .{1,60} gesendet|Gesendet von meinem .{1,60}"
    r"|Envoyé de mon .{1,60}|Enviado desde mi .{1,60}|Inviato da .{1,60})[ \t]*",
    re.IGNORECASE,
)


def new_text(text: str) -> str:
    """The text without quoted history and signature; leading `#` command lines are kept."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = lines[: _history_start(lines)]
    lines = _drop_trailing_quote(lines)
    if lines and _MOBILE_SIGNATURE.fullmatch(lines[-1]):
        lines = _drop_trailing_quote(lines[:-1])
    for index, line in enumerate(lines):
        if line.rstrip() == "--":  # the "-- " delimiter; many clients trim its space
            lines = _drop_trailing_quote(lines[:index])
            break
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)


def _history_start(lines: list[str]) -> int:
    """The index of the first line of quoted history, or len(lines) when there is none."""
    for index, line in enumerate(lines):
        bare = line.lstrip("> \t")
        if bare.startswith(_STARTERS) and _is_attribution(lines, index):
            return index
        if bare[:1] in "-_" and (_ORIGINAL_MESSAGE.fullmatch(line) or _rule_before_headers(lines, index)):
            return index
        if _FROM_LINE.match(line) and _is_header_block(lines, index):
            return index
    return len(lines)


def _is_attribution(lines: list[str], index: int) -> bool:
    """True when an "On … wrote:" line (maybe wrapped) starts at index."""
    for extra in range(3):
        window = " ".join(lines[index : index + extra + 1])
        if len(window) <= 1000 and _ATTRIBUTION.fullmatch(window):
            # A date or a following quote tells an attribution from a sentence of prose.
            return any(ch.isdigit() for ch in window) or _next_is_quote(lines, index + extra + 1)
    return False


def _next_is_quote(lines: list[str], start: int) -> bool:
    """True when the first non-blank line from start is quoted, or none follows."""
    for line in lines[start:]:
        if line.strip():
            return line.lstrip().startswith(">")
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


def _drop_trailing_quote(lines: list[str]) -> list[str]:
    """Lines without the blank and `>`-quoted lines at their end."""
    end = len(lines)
    while end and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith(">")):
        end -= 1
    return lines[:end]
