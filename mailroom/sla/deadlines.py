"""SLA arithmetic, pure: a policy's metrics and due times, holding replies, pauses and re-planning."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from mailroom.sla.calendar import Calendar, Duration
from mailroom.sla.policies import PRIORITIES, Policy

ALIAS_PREFIX = "mailroom-ticket-"
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_ZERO = timedelta(0)


def alert_alias(ticket_id: int, suffix: str) -> str:
    """The OpsGenie alias of a ticket's metric (`first_response`) or page (`page`, `page-<team>`)."""
    return f"{ALIAS_PREFIX}{ticket_id}-{suffix}"


def policy_name(priority: str, named: str | None) -> str:
    """Which policy a ticket follows: a policy a rule named, else its priority's.

    The routing decision records the priority itself as the policy when no rule named one;
    that record must not pin the ticket to its first priority once an engineer changes it.
    """
    if not named or named in PRIORITIES:
        return priority
    return str(named)


def due_at(policy: Policy, calendar: Calendar, metric: str, start: datetime) -> datetime | None:
    """When `metric` started at `start` falls due, in the policy's calendar; None when untracked."""
    length: Duration | None = getattr(policy, metric, None)
    return None if length is None else calendar.due(start, length)


def warn_at(policy: Policy, due: datetime | None) -> datetime | None:
    """When to warn the team before `due` (wall-clock `warn_before` ahead), or None."""
    if due is None or policy.warn_before is None:
        return None
    # A warning is about the clock on the wall ("15 minutes left"), whatever the calendar.
    return due - _wall(policy.warn_before)


def _wall(d: Duration) -> timedelta:
    return timedelta(seconds=d.amount * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[d.unit])


def word_count(text: str) -> int:
    """Words of a reply as a reader counts them (punctuation and signs are not words)."""
    return len(_WORD.findall(text or ""))


def is_holding(text: str, policy: Policy) -> bool:
    """True for a short reply that only holds the customer off: a holding pattern, under `min_words`."""
    if word_count(text) >= policy.min_words:
        return False
    return any(pattern.search(text or "") for pattern in policy.holding_replies)


def counts_as_response(text: str, holding: bool, policy: Policy) -> bool:
    """True when an agent's public reply meets a response metric (not `#holding`, not a holding phrase)."""
    return not holding and bool((text or "").strip()) and not is_holding(text, policy)


def paused_working(calendar: Calendar, paused_at: datetime, resumed_at: datetime) -> timedelta:
    """Working time spent paused, which the clock's deadline moves by."""
    return calendar.working_between(paused_at, resumed_at)


def resumed_due(calendar: Calendar, due: datetime, paused_at: datetime, resumed_at: datetime) -> datetime:
    """The deadline of a clock resumed at `resumed_at`: the working time it had left, from then on."""
    left = calendar.working_between(paused_at, due)
    # A clock already overdue when paused keeps nothing in hand: it falls due at once.
    return calendar.add(resumed_at, left) if left > _ZERO else max(due, resumed_at)


def replanned_due(policy: Policy, calendar: Calendar, metric: str, started_at: datetime,
                  paused: timedelta = _ZERO) -> datetime | None:
    """A deadline re-planned from the clock's start under another policy, past pauses kept."""
    length: Duration | None = getattr(policy, metric, None)
    if length is None:
        return None
    return calendar.add(started_at, calendar.duration(length) + paused)
