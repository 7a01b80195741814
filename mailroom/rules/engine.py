"""The pure interpreter: which rules match a message, the Decision their actions make, and why."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mailroom.config.units import iso
from mailroom.mail.message import Inbound
from mailroom.mail.mime import Attachment as MailAttachment
from mailroom.rules.conditions import Facts
from mailroom.sla.policies import Policy, policy_fields

if TYPE_CHECKING:
    from mailroom.rules.inline import Expectation, SampleMessage
    from mailroom.rules.ruleset import Link, Rules


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
    language: str | None = None  # a rule's `language:`, else the one detected in the message


_SCALARS = ("team", "priority", "assign", "sla", "ack", "survey", "page", "ignore", "language")
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
        language=chosen.get("language") or message.language,
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
        language=sample.language, mailbox=sample.mailbox,
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
        return str(value.pattern)
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
        "language": decision.language,
        "mailbox": message.mailbox or None,
        "ack": decision.ack,
        "acknowledge": decision.ack is not None and not decision.ignore,
        "links": [{"title": link.title, "url": link.url} for link in decision.links],
        "sla": {
            "policy": decision.policy_name,
            "calendar": policy.calendar,
            "timezone": calendar.timezone,
            "escalate": policy.escalate,
            "warn_before": str(policy.warn_before) if policy.warn_before else None,
            "start": iso(start),
            "metrics": {
                name: {"duration": str(length), "due": iso(calendar.due(start, length))}
                for name, length in policy.metrics().items()
            },
        },
        "evaluated_at": iso(now),
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
        f"mailbox:   {result['mailbox'] or '-'}",
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


