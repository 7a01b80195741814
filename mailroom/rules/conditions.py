"""The `if:` of a rule: read from rules.yaml, compiled once, answering yes/no and saying why."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from mailroom.mail.addresses import our_address, valid_address
from mailroom.rules.patterns import AddressPatterns, domain_suffixes
from mailroom.rules.policies import compiles
from mailroom.rules.yamlmarks import Mark, MarkedList, Problems, kind, suggest

if TYPE_CHECKING:
    from mailroom.mail.message import Inbound

CONDITIONS = (
    "from", "from_domain", "to", "cc", "subject", "body", "header", "has_attachment", "language", "to_address",
    "mailbox", "all", "any", "not",
)
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")

Reasons = tuple[str, ...] | None  # why a condition matched; None when it did not

# ---- conditions: each answers None (no) or the reasons it matched ---------------------------------


class Facts:
    """What conditions look at in one message, worked out once for all rules."""

    __slots__ = ("message", "from_addr", "from_suffixes", "from_suffix_set", "subject")

    def __init__(self, message: Inbound) -> None:
        self.message = message
        self.from_addr = message.from_addr.lower()
        self.from_suffixes = domain_suffixes(self.from_addr.rpartition("@")[2]) if self.from_addr else ()
        self.from_suffix_set = frozenset(self.from_suffixes)
        self.subject = message.subject


class Condition:
    """One yes/no question about a message."""

    __slots__ = ()

    def test(self, facts: Facts) -> Reasons:
        """None when the message does not match, else why it does."""
        raise NotImplementedError

    def describe(self) -> str:
        """The condition as an admin wrote it, for `not` and explanations."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{self.describe()}>"


class FromDomain(Condition):
    """`from_domain`: the sender's domain, or one of its parents, is listed."""

    __slots__ = ("patterns", "written")

    def __init__(self, written: list[str]) -> None:
        self.written = written
        self.patterns = AddressPatterns(written)

    def test(self, facts: Facts) -> Reasons:
        found = self.patterns.match_domain(facts.from_suffixes)
        return None if found is None else (f"from_domain {found} matched {facts.from_addr}",)

    def describe(self) -> str:
        return f"from_domain {', '.join(self.written)}"


class Address(Condition):
    """`from`, `to`, `cc`: one of the message's addresses in that field is covered by a pattern."""

    __slots__ = ("field", "patterns", "written")

    def __init__(self, field: str, written: list[str]) -> None:
        self.field, self.written, self.patterns = field, written, AddressPatterns(written)

    def test(self, facts: Facts) -> Reasons:
        if self.field == "from":
            addresses: tuple[str, ...] = (facts.from_addr,) if facts.from_addr else ()
        else:
            addresses = getattr(facts.message, self.field)
        for address in addresses:
            found = self.patterns.match(address.lower())
            if found is not None:
                return (f"{self.field} {found} matched {address}",)
        return None

    def describe(self) -> str:
        return f"{self.field} {', '.join(self.written)}"


class Text(Condition):
    """`subject` (the decoded subject) or `body` (the new text): a regular expression search."""

    __slots__ = ("field", "pattern", "rx")

    def __init__(self, field: str, pattern: str) -> None:
        self.field, self.pattern, self.rx = field, pattern, re.compile(pattern)

    def test(self, facts: Facts) -> Reasons:
        text = facts.subject if self.field == "subject" else facts.message.new_text
        found = self.rx.search(text)
        return None if found is None else (f"{self.field} /{self.pattern}/ matched {found.group(0)!r}",)

    def describe(self) -> str:
        return f"{self.field} /{self.pattern}/"


class Header(Condition):
    """`header: {Name: regex}`: for every name, some value of that header matches."""

    __slots__ = ("checks",)

    def __init__(self, checks: list[tuple[str, str]]) -> None:
        self.checks = [(name, pattern, re.compile(pattern)) for name, pattern in checks]

    def test(self, facts: Facts) -> Reasons:
        reasons = []
        for name, pattern, rx in self.checks:
            value = next((v for v in facts.message.header_all(name) if rx.search(v)), None)
            if value is None:
                return None
            reasons.append(f"header {name} /{pattern}/ matched {value!r}")
        return tuple(reasons)

    def describe(self) -> str:
        return "header " + ", ".join(f"{name} /{pattern}/" for name, pattern, _ in self.checks)


class Attachment(Condition):
    """`has_attachment: true|false`."""

    __slots__ = ("wanted",)

    def __init__(self, wanted: bool) -> None:
        self.wanted = wanted

    def test(self, facts: Facts) -> Reasons:
        if facts.message.has_attachment != self.wanted:
            return None
        return ("has an attachment",) if self.wanted else ("has no attachment",)

    def describe(self) -> str:
        return f"has_attachment {str(self.wanted).lower()}"


class Language(Condition):
    """`language: de` or `[de, at]`: the language detected in the customer's first mail."""

    __slots__ = ("codes",)

    def __init__(self, codes: tuple[str, ...]) -> None:
        self.codes = codes

    def test(self, facts: Facts) -> Reasons:
        found = facts.message.language
        return (f"written in {found}",) if found in self.codes else None

    def describe(self) -> str:
        return "language " + ", ".join(self.codes)


class ToAddress(Condition):
    """`to_address: billing@example.com` or a list: which of our addresses the mail was written to."""

    __slots__ = ("addresses",)

    def __init__(self, addresses: tuple[str, ...]) -> None:
        self.addresses = addresses

    def test(self, facts: Facts) -> Reasons:
        for recipient in facts.message.delivered_to():
            found = our_address(recipient, self.addresses)
            if found:
                return (f"written to {found}",)
        return None

    def describe(self) -> str:
        return "to_address " + ", ".join(self.addresses)


class InMailbox(Condition):
    """`mailbox: billing` or a list: the mailbox (by its name in mailroom.toml) the mail was read from."""

    __slots__ = ("names",)

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def test(self, facts: Facts) -> Reasons:
        found = facts.message.mailbox
        return (f"read from mailbox {found}",) if found in self.names else None

    def describe(self) -> str:
        return "mailbox " + ", ".join(self.names)


class All(Condition):
    """`all: [...]`, or several keys in one mapping: every part matches."""

    __slots__ = ("parts",)

    def __init__(self, parts: list[Condition]) -> None:
        self.parts = parts

    def test(self, facts: Facts) -> Reasons:
        reasons: tuple[str, ...] = ()
        for part in self.parts:
            found = part.test(facts)
            if found is None:
                return None
            reasons += found
        return reasons

    def describe(self) -> str:
        return "all of (" + "; ".join(p.describe() for p in self.parts) + ")"


class AnyOf(Condition):
    """`any: [...]`: the first part that matches says why."""

    __slots__ = ("parts",)

    def __init__(self, parts: list[Condition]) -> None:
        self.parts = parts

    def test(self, facts: Facts) -> Reasons:
        for part in self.parts:
            found = part.test(facts)
            if found is not None:
                return found
        return None

    def describe(self) -> str:
        return "any of (" + "; ".join(p.describe() for p in self.parts) + ")"


class Not(Condition):
    """`not: {...}`: the inner condition does not match."""

    __slots__ = ("part",)

    def __init__(self, part: Condition) -> None:
        self.part = part

    def test(self, facts: Facts) -> Reasons:
        return (f"not ({self.part.describe()}) did not match",) if self.part.test(facts) is None else None

    def describe(self) -> str:
        return f"not ({self.part.describe()})"


def domain_gate(condition: Condition | None) -> frozenset[str] | None:
    """The exact sender domains a condition requires, if it requires some; None when it does not.

    Most rules in a large file name customers by `from_domain`; checking that set first lets the
    interpreter pass over a rule with one set lookup instead of evaluating its whole condition.
    """
    parts = condition.parts if isinstance(condition, All) else [condition]
    for part in parts:
        if isinstance(part, FromDomain) and not part.patterns.domain_globs:
            return frozenset(part.patterns.domains)
    return None


# ---- reading `if:` -----------------------------------------------------------------------------


def read_condition(problems: Problems, value: Any, mark: Mark, what: str) -> Condition | None:
    """The condition a mapping describes (several keys mean all of them); None after a problem."""
    p = problems
    mapping = p.mapping(value, mark, what)
    if mapping is None:
        return None
    if not mapping:
        p.add(mark, f"{what}: an empty condition")
        return None
    p.known_keys(mapping, CONDITIONS, "condition")
    found = [_one_condition(p, key, v, mapping.at(key)) for key, v in mapping.items() if key in CONDITIONS]
    parts = [part for part in found if part is not None]
    if len(parts) != len(mapping):
        return None
    return parts[0] if len(parts) == 1 else All(parts)


def language_codes(p: Problems, value: Any, at: Mark, key: str) -> tuple[str, ...]:
    """ISO 639-1 codes as written (`de` or `[de, fr]`), each checked; () after a problem."""
    written = [(text.strip().lower(), mark) for text, mark in p.texts(value, at, key)]
    bad = [(code, mark) for code, mark in written if not LANGUAGE_CODE.fullmatch(code)]
    for code, mark in bad:
        p.add(mark, f"{key}: '{code}' is not a language code (ISO 639-1, like de, fr, es)")
    return () if bad or not written else tuple(dict.fromkeys(code for code, _ in written))


def mailbox_names(p: Problems, value: Any, at: Mark, key: str) -> tuple[str, ...]:
    """Mailbox names as written (`billing` or a list), each one of mailroom.toml's when it is known; () after a problem."""
    written = [(text.strip(), mark) for text, mark in p.texts(value, at, key)]
    bad = [(name, mark) for name, mark in written if p.mailboxes is not None and name not in p.mailboxes]
    for name, mark in bad:
        known = ", ".join(p.mailboxes or ())
        p.add(mark, f"{key}: '{name}' is not a mailbox of mailroom.toml ({known}){suggest(name, p.mailboxes or ())}")
    return () if bad or not written else tuple(dict.fromkeys(name for name, _ in written))


def _our_addresses(p: Problems, value: Any, at: Mark, key: str) -> tuple[str, ...]:
    """Addresses as written, each one of ours when mailroom.toml is known; () after a problem."""
    written = [(text.strip().lower(), mark) for text, mark in p.texts(value, at, key)]
    bad = False
    for address, mark in written:
        if not valid_address(address):
            p.add(mark, f"{key}: '{address}' is not an address")
            bad = True
        elif p.ours is not None and our_address(address, p.ours) is None:
            p.add(mark, f"{key}: '{address}' is not one of our addresses ({', '.join(p.ours)})")
            bad = True
    return () if bad or not written else tuple(dict.fromkeys(a for a, _ in written))


def _one_condition(p: Problems, key: str, value: Any, at: Mark) -> Condition | None:
    if key not in ("all", "any") and isinstance(value, MarkedList) and not value:
        # Said, not skipped: a rule whose only condition vanished would match every message.
        p.add(at, f"{key}: an empty list matches nothing; name at least one")
        return None
    if key == "from_domain":
        written = p.patterns(value, at, key, domains=True)
        return FromDomain(written) if written else None
    if key in ("from", "to", "cc"):
        written = p.patterns(value, at, key)
        return Address(key, written) if written else None
    if key in ("subject", "body"):
        pattern = p.text(value, at, key)
        return Text(key, pattern) if pattern is not None and compiles(p, pattern, at) else None
    if key == "header":
        mapping = p.mapping(value, at, key)
        if not mapping:
            if mapping is not None:
                p.add(at, "header: expected a mapping of header names to regular expressions")
            return None
        checks = []
        for name, written in mapping.items():
            pattern = p.text(written, mapping.at(name), f"header {name}")
            if pattern is not None and compiles(p, pattern, mapping.at(name)):
                checks.append((str(name), pattern))
        return Header(checks) if len(checks) == len(mapping) else None
    if key == "has_attachment":
        flag = p.flag(value, at, key)
        return None if flag is None else Attachment(flag)
    if key == "language":
        codes = language_codes(p, value, at, key)
        return Language(codes) if codes else None
    if key == "to_address":
        addresses = _our_addresses(p, value, at, key)
        return ToAddress(addresses) if addresses else None
    if key == "mailbox":
        names = mailbox_names(p, value, at, key)
        return InMailbox(names) if names else None
    if key == "not":
        inner = read_condition(p, value, at, "not")
        return None if inner is None else Not(inner)
    if not isinstance(value, MarkedList) or not value:
        p.add(at, f"{key}: expected a non-empty list of conditions, got {kind(value)}")
        return None
    found = [read_condition(p, item, value.at(i), key) for i, item in enumerate(value)]
    parts = [part for part in found if part is not None]
    if len(parts) != len(found):
        return None
    return All(parts) if key == "all" else AnyOf(parts)
