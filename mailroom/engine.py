"""The pure interpreter: conditions answer yes/no and say why; matching rules' actions make a Decision."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mailroom.message import Attachment as MailAttachment
from mailroom.message import Inbound
from mailroom.policies import Policy, policy_fields

if TYPE_CHECKING:
    from mailroom.rules import Expectation, Link, Rules, SampleMessage

Reasons = tuple[str, ...] | None  # why a condition matched; None when it did not

# ---- address patterns ------------------------------------------------------------------------


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def domain_suffixes(domain: str) -> tuple[str, ...]:
    """`eu.bigcorp.com` → (`eu.bigcorp.com`, `bigcorp.com`, `com`): what a domain pattern may name."""
    labels = domain.split(".")
    return tuple(".".join(labels[i:]) for i in range(len(labels)))


class AddressPatterns:
    """Addresses and domains, exact or `*` globs, case-insensitive; a domain covers its subdomains."""

    __slots__ = ("addresses", "address_globs", "domains", "domain_globs")

    def __init__(self, patterns: list[str]) -> None:
        self.addresses: set[str] = set()
        self.domains: set[str] = set()
        self.address_globs: list[tuple[str, re.Pattern[str]]] = []
        self.domain_globs: list[tuple[str, re.Pattern[str]]] = []
        for raw in patterns:
            pattern = raw.strip().lower().removeprefix("@")
            is_address = "@" in pattern
            if "*" in pattern:
                (self.address_globs if is_address else self.domain_globs).append((pattern, _glob(pattern)))
            else:
                (self.addresses if is_address else self.domains).add(pattern)

    def match(self, address: str) -> str | None:
        """The pattern that covers `address` (lowercased), or None."""
        if address in self.addresses:
            return address
        for pattern, rx in self.address_globs:
            if rx.fullmatch(address):
                return pattern
        if self.domains or self.domain_globs:
            return self.match_domain(domain_suffixes(address.rpartition("@")[2]))
        return None

    def match_domain(self, suffixes: tuple[str, ...]) -> str | None:
        """The domain pattern that covers the domain whose suffixes are given, or None."""
        for suffix in suffixes:
            if suffix in self.domains:
                return suffix
        for pattern, rx in self.domain_globs:
            for suffix in suffixes:
                if rx.fullmatch(suffix):
                    return pattern
        return None


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


# ---- the interpreter -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleHit:
    """A rule that matched, and why."""

    name: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    """What the rules decided for a message that opens a ticket; data only, nothing done yet."""

    team: str
    priority: str
    tags: tuple[str, ...]
    assign: str | None
    notify: tuple[str, ...]  # added by rules; the team's own `notify` comes on top
    policy: Policy  # the effective policy: named or the priority's, with inline overrides applied
    policy_name: str  # the policy a rule named, else the priority
    ack: str | None  # the acknowledgement template, None for no acknowledgement
    links: tuple[Link, ...]
    survey: bool
    page: bool
    ignore: bool
    matched: tuple[RuleHit, ...]
    sla_override: dict[str, Any] | None = None  # inline `sla` keys as written, to resolve again later


_SCALARS = ("team", "priority", "assign", "sla", "ack", "survey", "page", "ignore")
_EVERYTHING: tuple[str, ...] = ("matches every message",)


def decide(rules: Rules, message: Inbound) -> Decision:
    """Run the rules top to bottom: the first match stops unless `continue`; defaults fill the rest."""
    facts = Facts(message)
    hits: list[RuleHit] = []
    chosen: dict[str, Any] = {}
    tags: dict[str, None] = {}
    notify: dict[str, None] = {}
    links: dict[Link, None] = {}
    inline: dict[str, Any] = {}
    suffixes = facts.from_suffix_set
    for rule in rules.rules:
        if rule.condition is None:
            reasons = _EVERYTHING
        elif rule.gate is not None and rule.gate.isdisjoint(suffixes):
            continue
        else:
            tested = rule.condition.test(facts)
            if tested is None:
                continue
            reasons = tested
        hits.append(RuleHit(rule.name, reasons))
        then = rule.then
        for name in _SCALARS:
            value = getattr(then, name)
            if value is not None:
                chosen[name] = value
        tags.update(dict.fromkeys(then.tags))
        notify.update(dict.fromkeys(then.notify))
        links.update(dict.fromkeys(then.links))
        if then.sla_override:
            inline.update(then.sla_override)
        if not rule.continue_:
            break
    defaults = rules.defaults
    priority = chosen.get("priority", defaults.priority)
    policy_name = chosen.get("sla") or priority
    ack = chosen.get("ack", defaults.ack)
    return Decision(
        team=chosen.get("team", defaults.team),
        priority=priority,
        tags=tuple(tags),
        assign=chosen.get("assign"),
        notify=tuple(notify),
        policy=rules.resolve_policy(priority, policy_name, inline),
        policy_name=policy_name,
        ack=ack if isinstance(ack, str) else None,
        links=tuple(links),
        survey=chosen.get("survey", defaults.survey),
        page=chosen.get("page", False),
        ignore=chosen.get("ignore", False),
        matched=tuple(hits),
        sla_override=inline or None,
    )


# ---- inline tests --------------------------------------------------------------------------------

# Inline tests need no real time; a Monday morning in the shipped calendar's zone reads naturally.
SAMPLE_ARRIVAL = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)


def sample_inbound(sample: SampleMessage, number: int = 1, arrived_at: datetime = SAMPLE_ARRIVAL) -> Inbound:
    """The Inbound an inline test's message stands for."""
    headers = [("From", sample.from_addr), ("Subject", sample.subject)]
    if sample.to:
        headers.append(("To", ", ".join(sample.to)))
    if sample.cc:
        headers.append(("Cc", ", ".join(sample.cc)))
    attachments = (MailAttachment("attachment.bin", "application/octet-stream", 0, b""),) if sample.has_attachment else ()
    return Inbound(
        message_id=f"<rules-test-{number}@mailroom.invalid>", in_reply_to=None, references=(),
        from_addr=sample.from_addr, from_name="", reply_to=None, to=sample.to, cc=sample.cc,
        subject=sample.subject, date=arrived_at, arrived_at=arrived_at, text=sample.body,
        new_text=sample.body, headers=(*headers, *sample.headers), attachments=attachments,
    )


def check_tests(rules: Rules) -> list[str]:
    """Run the inline tests; one `file:LINE:COL: test N expected …, got …` line per unmet expectation."""
    failures = []
    for test in rules.tests:
        decision = decide(rules, sample_inbound(test.message, test.number))
        label = f"test {test.number}" + (f" ({test.name})" if test.name else "")
        for expectation in test.expect:
            unmet = _unmet(decision, expectation)
            if unmet:
                failures.append(f"{rules.filename}:{expectation.line}:{expectation.col}: {label} {unmet}")
    return failures


def _unmet(decision: Decision, expectation: Expectation) -> str | None:
    key, wanted = expectation.key, expectation.value
    if key == "sla" and not isinstance(wanted, str):
        actual = {k: _show(getattr(decision.policy, k)) for k in wanted}
        if all(actual[k] == _show(v) for k, v in policy_fields(wanted).items()):
            return None
        return f"expected sla {_show(dict(wanted))}, got {_show(actual)}"
    got: Any = {
        "sla": decision.policy_name,
        "matched": tuple(hit.name for hit in decision.matched),
        "ack": decision.ack if decision.ack is not None else False,
    }.get(key, getattr(decision, key, None))
    # tags and notify are a subset: other rules may add more
    ok = all(item in got for item in wanted) if key in ("tags", "notify") else got == wanted
    return None if ok else f"expected {key} {_show(wanted)}, got {_show(got)}"


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple | list):
        return ", ".join(_show(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, re.Pattern):
        return value.pattern
    return str(value)


# ---- explain -------------------------------------------------------------------------------------


def explain(rules: Rules, message: Inbound, now: datetime) -> dict[str, Any]:
    """Which rules match and why, the resulting routing, and the SLA due times (JSON-ready)."""
    decision = decide(rules, message)
    policy = decision.policy
    calendar = rules.calendar_for(policy)
    start = message.arrived_at or now
    team = rules.teams.get(decision.team)
    return {
        "matched": [{"name": hit.name, "reasons": list(hit.reasons)} for hit in decision.matched],
        "team": decision.team,
        "priority": decision.priority,
        "tags": list(decision.tags),
        "assign": decision.assign,
        "notify": list(dict.fromkeys([*(team.notify if team else ()), *decision.notify])),
        "ignore": decision.ignore,
        "page": decision.page,
        "survey": decision.survey,
        "ack": decision.ack,
        "acknowledge": decision.ack is not None and not decision.ignore,
        "links": [{"title": link.title, "url": link.url} for link in decision.links],
        "sla": {
            "policy": decision.policy_name,
            "calendar": policy.calendar,
            "timezone": calendar.timezone,
            "escalate": policy.escalate,
            "warn_before": str(policy.warn_before) if policy.warn_before else None,
            "start": _iso(start),
            "metrics": {
                name: {"duration": str(length), "due": _iso(calendar.due(start, length))}
                for name, length in policy.metrics().items()
            },
        },
        "evaluated_at": _iso(now),
    }


def format_explain(result: dict[str, Any]) -> str:
    """The text form of `explain`: the matching rules by name with their reasons, then the outcome."""
    lines = []
    if result["matched"]:
        lines.append("Matched rules:")
        for number, hit in enumerate(result["matched"], 1):
            lines.append(f"  {number}. {hit['name']}")
            lines += [f"       {reason}" for reason in hit["reasons"]]
    else:
        lines.append("No rule matched: the defaults apply.")
    yes = {True: "yes", False: "no"}
    ack = f"template '{result['ack']}'" if result["ack"] else "none"
    if result["ack"] and not result["acknowledge"]:
        ack += " (not sent: the message is ignored)"
    lines += [
        f"team:      {result['team']}",
        f"priority:  {result['priority']}",
        f"tags:      {', '.join(result['tags']) or '-'}",
        f"assign:    {result['assign'] or '-'}",
        f"notify:    {', '.join(result['notify']) or '-'}",
        f"ignore: {yes[result['ignore']]}   page: {yes[result['page']]}   survey: {yes[result['survey']]}",
        f"acknowledgement: {ack}",
    ]
    lines += [f"link:      {link['title']} <{link['url']}>" for link in result["links"]]
    sla = result["sla"]
    escalates = ", escalates" if sla["escalate"] else ""
    lines.append(f"SLA policy {sla['policy']} (calendar {sla['calendar']}, {sla['timezone']}{escalates}), from {sla['start']}:")
    for name, metric in sla["metrics"].items():
        lines.append(f"  {name:<15} {metric['duration']:>4}  due {metric['due']}")
    return "\n".join(lines)


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
