"""Pure: whether mail from an agent address is authenticated, from Authentication-Results."""

# Only headers whose authserv-id is the trusted server's count: anyone can write an
# Authentication-Results header into the mail they send. A sender can also write
# one naming *our* server. RFC 8601 section 5 has the receiving server delete such
# copies, and that is the real defence; on top of it we read only the topmost run
# of trusted headers (a server prepends its own, so the sender's copies are below
# it) and, within the run, the topmost DMARC result decides. A forged "dmarc=pass"
# under our server's real "dmarc=fail" therefore loses. The run may hold several
# headers because one server often adds one per filter (OpenDKIM, then OpenDMARC),
# all with the same id; it ends at a header of another server, i.e. an earlier hop.
#
# "dmarc=none" means the From domain publishes no DMARC policy, which is what the
# contract calls lacking DMARC: DKIM decides then. Any other DMARC result that is
# not "pass" (fail, temperror, permerror, …) is a refusal. DKIM alignment is
# relaxed alignment by parent/child domain (no public-suffix list): a passing
# signature proves control of its domain's DNS, so a parent such as "co.uk"
# cannot be claimed by a sender, and sibling subdomains are left out.

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mailroom.mail.message import Inbound

HEADER = "Authentication-Results"
_PAIR = re.compile(
    r"(?P<key>[A-Za-z0-9_-]+(?:\s*[./]\s*[A-Za-z0-9_-]+)?)\s*=\s*"
    r"(?P<value>\"(?:[^\"\\]|\\.)*\"|[^\s\";=]+)"
)
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
    """(True, why) when the trusted server says the mail passed DMARC or aligned DKIM."""
    trusted = trusted_authserv_id.strip().lower()
    server = trusted_authserv_id.strip()
    if not trusted:
        return False, "no trusted authserv-id configured"
    from_domain = message.from_addr.rpartition("@")[2].lower()
    if not from_domain:
        return False, "no From address"
    run = _trusted_run(message, trusted)
    if not run:
        return False, f"no Authentication-Results from {server}"
    results = [r for header in run for r in header.results]
    dmarc = next((r for r in results if r.method == "dmarc" and r.result != "none"), None)
    if dmarc is not None:
        if dmarc.result != "pass":
            return False, f"dmarc={dmarc.result} from {server}"
        checked = _domain(dmarc.properties.get("header.from", ""))
        if checked and checked != from_domain:
            return False, f"dmarc=pass from {server} is for {checked}, not {from_domain}"
        return True, f"dmarc=pass from {server}"
    passing = [r for r in results if r.method == "dkim" and r.result == "pass"]
    for result in passing:
        signer = _signing_domain(result)
        if signer and aligned(signer, from_domain):
            return True, f"dkim=pass for {signer} from {server} (no DMARC result)"
    if passing:
        signer = _signing_domain(passing[0]) or "an unnamed domain"
        return False, f"dkim=pass for {signer} does not align with {from_domain}"
    dkim = next((r for r in results if r.method == "dkim"), None)
    if dkim is not None:
        return False, f"dkim={dkim.result} from {server}"
    return False, f"no dmarc or dkim result from {server}"


def parse_header(value: str) -> AuthResults:
    """One Authentication-Results value (RFC 8601), read leniently: comments, quotes, folds."""
    segments = _split(_strip_comments(value))
    head = segments[0] if segments else ""
    found = _ID.fullmatch(head)
    authserv_id = _unquote(found.group("id")).lower() if found else ""
    results: list[Result] = []
    for segment in segments[1:]:
        pairs = [(m.group("key"), m.group("value")) for m in _PAIR.finditer(segment)]
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


def _trusted_run(message: Inbound, trusted: str) -> list[AuthResults]:
    """The topmost consecutive Authentication-Results headers with the trusted authserv-id."""
    run: list[AuthResults] = []
    for value in message.header_all(HEADER):
        parsed = parse_header(value)
        if parsed.authserv_id == trusted:
            run.append(parsed)
        elif run:
            break  # an earlier hop's header: what lies below came from outside
    return run


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


def _unquote(value: str) -> str:
    """A value without its surrounding quotes and quoted-pair backslashes."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value
