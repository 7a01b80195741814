"""Pure: whether mail from an agent address is authenticated, from Authentication-Results."""

# Only headers whose authserv-id is the trusted server's count: anyone can write an
# Authentication-Results header into the mail they send, and a sender can also write one
# naming *our* server. RFC 8601 section 5 has the receiving server delete such copies, and
# that is the real defence (the README says how); on top of it the least favourable verdict
# among every header with the trusted id decides. A sender can add passes but never remove
# the server's own fail or none: a forged "dmarc=pass" beside the server's "dmarc=fail" or
# "dkim=fail" loses.
#
# "dmarc=none" means the From domain publishes no DMARC policy, which is what the contract
# calls lacking DMARC: DKIM decides then, and every DKIM result the server wrote for the
# From domain (or for no named domain) must be a pass. DKIM alignment is relaxed alignment
# by parent/child domain (no public-suffix list): a passing signature proves control of its
# domain's DNS, so a parent such as "co.uk" cannot be claimed by a sender, and sibling
# subdomains are left out.
#
# Every header is read in time linear in its length: comments, quotes and key=value pairs
# are found by single forward (and bounded backward) scans, never by a regex that retries
# at every position.

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from mailroom.mail.message import Inbound

HEADER = "Authentication-Results"
_VALUE = re.compile(r"\"(?:[^\"\\]|\\.)*\"|[^\s\";=]+")
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_ID = re.compile(r"\s*(?P<id>\"(?:[^\"\\]|\\.)*\"|[^\s\";=]+)(?:\s+\d+)?\s*")


@dataclass(frozen=True)
class Result:
    """One result of an Authentication-Results header: method, result and properties."""

    method: str  # lowercased, without a version ("dkim")
    result: str  # lowercased ("pass")
    properties: dict[str, str] = field(default_factory=dict)  # "header.d" → value


@dataclass(frozen=True)
class AuthResults:
    """One parsed Authentication-Results header."""

    authserv_id: str  # lowercased; "" when the header has none (not RFC 8601)
    results: tuple[Result, ...]


def agent_mail_verdict(message: Inbound, trusted_authserv_id: str) -> tuple[bool, str]:
    """(True, why) when every trusted header that judges the mail passes it, by DMARC or aligned DKIM."""
    trusted = trusted_authserv_id.strip().lower()
    server = trusted_authserv_id.strip()
    if not trusted:
        return False, "no trusted authserv-id configured"
    from_domain = message.from_addr.rpartition("@")[2].lower()
    if not from_domain:
        return False, "no From address"
    headers = trusted_headers(message, trusted)
    if not headers:
        return False, f"no Authentication-Results from {server}"
    verdicts = [v for v in (_header_verdict(h, from_domain, server) for h in headers) if v is not None]
    if not verdicts:
        return False, f"no dmarc or dkim result from {server}"
    # The least favourable verdict decides: a sender can add passes, never take away a fail.
    return next((v for v in verdicts if not v[0]), verdicts[0])


def _header_verdict(header: AuthResults, from_domain: str, server: str) -> tuple[bool, str] | None:
    """One header's verdict: DMARC when it has one, else DKIM; None when it judges neither (SPF only)."""
    dmarc = next((r for r in header.results if r.method == "dmarc" and r.result != "none"), None)
    if dmarc is not None:
        if dmarc.result != "pass":
            return False, f"dmarc={dmarc.result} from {server}"
        checked = _domain(dmarc.properties.get("header.from", ""))
        if checked and checked != from_domain:
            return False, f"dmarc=pass from {server} is for {checked}, not {from_domain}"
        return True, f"dmarc=pass from {server}"
    dkim = [r for r in header.results if r.method == "dkim"]
    if not dkim:
        return None
    for result in dkim:
        signer = _signing_domain(result)
        if result.result == "pass" and signer and aligned(signer, from_domain):
            return True, f"dkim=pass for {signer} from {server} (no DMARC result)"
    passing = [r for r in dkim if r.result == "pass"]
    if passing:
        signer = _signing_domain(passing[0]) or "an unnamed domain"
        return False, f"dkim=pass for {signer} does not align with {from_domain}"
    return False, f"dkim={dkim[0].result} from {server}"


def parse_header(value: str) -> AuthResults:
    """One Authentication-Results value (RFC 8601), read leniently: comments, quotes, folds."""
    segments = _split(_strip_comments(value))
    head = segments[0] if segments else ""
    found = _ID.fullmatch(head)
    authserv_id = _unquote(found.group("id")).lower() if found else ""
    results: list[Result] = []
    for segment in segments[1:]:
        pairs = _pairs(segment)
        if not pairs:
            continue  # "none", or an empty segment after a trailing ";"
        method_key, result_value = pairs[0]
        method = re.split(r"\s*/\s*", method_key.lower(), maxsplit=1)[0]
        if "." in method:
            continue  # a property without a method: not a resinfo
        properties: dict[str, str] = {}
        for key, prop_value in pairs[1:]:
            key = re.sub(r"\s+", "", key.lower())
            properties.setdefault(key, _unquote(prop_value))
        results.append(Result(method, _unquote(result_value).lower(), properties))
    return AuthResults(authserv_id, tuple(results))


def aligned(signer: str, from_domain: str) -> bool:
    """True when the domains are equal or one is a parent of the other (relaxed alignment)."""
    signer, from_domain = signer.lower().rstrip("."), from_domain.lower().rstrip(".")
    if "." not in signer or "." not in from_domain:
        return False  # a bare top-level domain aligns with nothing
    return signer == from_domain or from_domain.endswith("." + signer) or signer.endswith("." + from_domain)


def trusted_headers(message: Inbound, trusted: str) -> list[AuthResults]:
    """Every Authentication-Results header with the (lowercased) trusted authserv-id, wherever it stands."""
    parsed = (parse_header(value) for value in message.header_all(HEADER))
    return [header for header in parsed if header.authserv_id == trusted]


def _signing_domain(result: Result) -> str:
    """The signing domain of a DKIM result: header.d, else the domain of header.i."""
    return _domain(result.properties.get("header.d", "")) or _domain(result.properties.get("header.i", ""))


def _domain(value: str) -> str:
    """The domain of `domain`, `@domain` or `local@domain`, lowercased."""
    return value.rpartition("@")[2].strip().strip(".").lower()


def _strip_comments(value: str) -> str:
    """The value with (nested) comments replaced by a space, quoted strings kept."""
    out: list[str] = []
    depth = 0
    quoted = False
    index = 0
    while index < len(value):
        char = value[index]
        if char == "\\" and (quoted or depth):
            if not depth:
                out.append(value[index : index + 2])
            index += 2
            continue
        if depth:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if not depth:
                out.append(" ")
        elif quoted:
            out.append(char)
            quoted = char != '"'
        elif char == "(":
            depth = 1
        else:
            out.append(char)
            quoted = char == '"'
        index += 1
    return "".join(out).replace("\r", " ").replace("\n", " ").replace("\t", " ")


def _split(value: str) -> list[str]:
    """The value split at every ";" outside quoted strings."""
    segments: list[str] = []
    current: list[str] = []
    quoted = False
    index = 0
    while index < len(value):
        char = value[index]
        if quoted and char == "\\":
            current.append(value[index : index + 2])
            index += 2
            continue
        if char == '"':
            quoted = not quoted
        if char == ";" and not quoted:
            segments.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    segments.append("".join(current))
    return segments


def _pairs(segment: str) -> list[tuple[str, str]]:
    """Every `key=value` of a segment (a key may be `word.word` or `word/word`), in one pass."""
    pairs: list[tuple[str, str]] = []
    floor = 0  # nothing before this belongs to a later pair
    equals = segment.find("=")
    while equals != -1:
        start, end = _key_before(segment, equals, floor)
        value = _VALUE.match(segment, _skip_blanks(segment, equals + 1)) if start < end else None
        if value is not None:
            pairs.append((segment[start:end], value.group()))
            floor = value.end()
        else:
            floor = equals + 1
        equals = segment.find("=", floor)
    return pairs


def _key_before(segment: str, equals: int, floor: int) -> tuple[int, int]:
    """(start, end) of the key written before the `=` at `equals`; start == end when there is none."""
    end = _back_over(segment, equals, floor, str.isspace)
    start = _back_over(segment, end, floor, _KEY_CHARS.__contains__)
    if start == end:
        return start, end
    dot = _back_over(segment, start, floor, str.isspace)
    if dot > floor and segment[dot - 1] in "./":
        word_end = _back_over(segment, dot - 1, floor, str.isspace)
        word_start = _back_over(segment, word_end, floor, _KEY_CHARS.__contains__)
        if word_start < word_end:
            start = word_start
    return start, end


def _back_over(text: str, index: int, floor: int, wanted: Callable[[str], bool]) -> int:
    """The lowest index >= floor such that every character from it up to `index` is `wanted`."""
    while index > floor and wanted(text[index - 1]):
        index -= 1
    return index


def _skip_blanks(text: str, index: int) -> int:
    while index < len(text) and text[index].isspace():
        index += 1
    return index


def _unquote(value: str) -> str:
    """A value without its surrounding quotes and quoted-pair backslashes."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value
