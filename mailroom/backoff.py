"""When to try a refused mail or alert again: the first retry within 5 s, then doubling with jitter."""

from __future__ import annotations

import random
from datetime import timedelta

FIRST = 4.0  # seconds; with jitter the first retry still comes within 5 s
CEILING = 600.0  # never more than 10 minutes apart


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """Delay before the next try, after `attempts` failed tries (1 for the first failure)."""
    base = min(CEILING, FIRST * (2 ** max(0, attempts - 1)))
    jitter = (rng or random).uniform(0.75, 1.25)
    return timedelta(seconds=min(CEILING, base * jitter))
