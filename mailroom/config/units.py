"""Durations ("90s", "15m", "4h", "2d", "1w"), sizes ("25MB") and instants as mailroom writes them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$", re.IGNORECASE)
_BYTES = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3}


def split_duration(text: str) -> tuple[float, str]:
    """`"4h"` → `(4.0, "h")`; raises ValueError with a readable message."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f'expected a duration like "90s", "15m", "4h" or "2d", got "{text}"')
    return float(match.group(1)), match.group(2)


def parse_duration(text: str) -> timedelta:
    """Wall-clock meaning of a duration string: `d` is 24 hours."""
    amount, unit = split_duration(text)
    return timedelta(seconds=amount * _SECONDS[unit])


def parse_size(text: str | int) -> int:
    """`"25MB"` → bytes (decimal units; KiB/MiB/GiB binary)."""
    if isinstance(text, int):
        return text
    match = _SIZE.match(str(text))
    if not match:
        raise ValueError(f'expected a size like "25MB", got "{text}"')
    return int(float(match.group(1)) * _BYTES[(match.group(2) or "b").lower()])


def format_duration(delta: timedelta) -> str:
    """Short human form: `1h30m`, `2d`, `45s`."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return sign + ("".join(parts) or "0s")


def iso(value: datetime | None) -> str | None:
    """UTC ISO 8601 ending in Z (the contract's form for every timestamp), or None."""
    return None if value is None else value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
