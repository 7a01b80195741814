"""When to try again: a refused mail or alert, a mailbox that is away; doubling, capped."""

from __future__ import annotations

import random
from datetime import timedelta

FIRST = 4.0  # seconds; with jitter the first retry still comes within 5 s
CEILING = 600.0  # never more than 10 minutes apart


def doubling(attempts: int, first: float, ceiling: float) -> float:
    """Seconds before the next try after `attempts` failed tries (1 for the first): first, 2×, 4×… capped."""
    return min(ceiling, first * (2 ** min(max(0, attempts - 1), 32)))


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Delay before a refused mail or alert is tried again; the jitter spreads a burst of retries."""
    jitter = (rng or random).uniform(0.75, 1.25)
    return timedelta(seconds=min(CEILING, doubling(attempts, FIRST, CEILING) * jitter))
