"""SLA policies: what a team promises per priority, and the replies that never count as an answer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mailroom.sla.calendar import Duration

PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
METRICS = ("first_response", "next_response", "resolution")
POLICY_KEYS = (*METRICS, "calendar", "escalate", "warn_before", "min_words", "holding_replies")

# Replies that only say the mail arrived or that someone will look: they never meet a first response.
HOLDING_PHRASES = (
    r"\bwe(?:'re| are) on (?:it|this)\b",
    r"\blooking into (?:it|this|the issue|your (?:issue|request))\b",
    r"\b(?:will|'ll) get back to you\b",
    r"\bget back to you (?:shortly|soon|asap)\b",
    r"\bthanks? (?:you )?for (?:reaching out|contacting|getting in touch|your patience)\b",
    r"\bwe(?:'ve| have) received your (?:message|request|e-?mail|ticket)\b",
    r"\bwe(?:'re| are) (?:investigating|checking|looking at)\b",
    r"\b(?:will|'ll) (?:keep you (?:posted|updated)|update you)\b",
    r"\bbear with us\b",
    r"\b(?:have |'ve )?escalated (?:it|this|your (?:issue|request))\b",
    r"\b(?:someone|a member of (?:our|the) team) will\b",
    r"\b(?:will|'ll) (?:be in touch|follow up)\b",
)
DEFAULT_HOLDING = tuple(re.compile(p, re.IGNORECASE) for p in HOLDING_PHRASES)
DEFAULT_MIN_WORDS = 25


@dataclass(frozen=True)
class Policy:
    """What the team promises for a ticket: metric lengths, the calendar they count in, escalation."""

    name: str
    first_response: Duration | None = None
    next_response: Duration | None = None
    resolution: Duration | None = None
    calendar: str = "always"
    escalate: bool = False
    warn_before: Duration | None = None
    min_words: int = DEFAULT_MIN_WORDS
    holding_replies: tuple[re.Pattern[str], ...] = field(default=DEFAULT_HOLDING, repr=False)

    def metrics(self) -> dict[str, Duration]:
        """The metrics this policy tracks, by name, in contract order."""
        values = {name: getattr(self, name) for name in METRICS}
        return {name: value for name, value in values.items() if value is not None}

    def is_holding(self, text: str) -> bool:
        """True when a short reply only holds the customer off ("we are on it")."""
        if len(text.split()) >= self.min_words:
            return False
        return any(pattern.search(text) for pattern in self.holding_replies)


def _d(text: str | None) -> Duration | None:
    return Duration.parse(text) if text else None


def default_policies(business: str) -> dict[str, Policy]:
    """The built-in P1..P5, counted in `business` except P1, which runs around the clock."""
    table = {  # first response, next response, resolution
        "P1": ("1h", "2h", "1d"),
        "P2": ("4h", "8h", "3d"),
        "P3": ("1d", "2d", "5d"),
        "P4": ("2d", "3d", "10d"),
        "P5": ("5d", "5d", "20d"),
    }
    policies = {}
    for name, (first, following, resolution) in table.items():
        urgent = name == "P1"
        policies[name] = Policy(
            name, _d(first), _d(following), _d(resolution),
            calendar="always" if urgent else business,
            escalate=urgent,
            warn_before=_d("15m") if urgent else None,
        )
    return policies


def policy_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Typed Policy fields from an already validated mapping (a policy or an inline `sla` override)."""
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        if key in METRICS or key == "warn_before":
            fields[key] = _d(value)
        elif key == "holding_replies":
            fields[key] = tuple(re.compile(p) for p in value)
        else:
            fields[key] = value
    return fields


def override(policy: Policy, raw: Mapping[str, Any] | None) -> Policy:
    """`policy` with the keys of an inline `sla` mapping replacing its own."""
    return replace(policy, **policy_fields(raw)) if raw else policy
