"""The one place mailroom reads the current time, so tests and the demo can set it.

In-process, tests call `set_now()` / `advance()`. For a `mailroom` process started by a test
or the demo, `MAILROOM_CLOCK_FILE` names a file holding either an ISO 8601 instant (time
stands still there) or `+SECONDS` / `-SECONDS` (an offset from the real time); the file is
re-read on every call so the starter can move time while the process runs.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

_fixed: datetime | None = None
_offset = timedelta(0)


def now() -> datetime:
    """The current instant, timezone-aware UTC."""
    path = os.environ.get("MAILROOM_CLOCK_FILE")
    if path:
        try:
            with open(path, encoding="ascii") as fh:
                text = fh.read().strip()
        except OSError:
            text = ""
        if text[:1] in "+-" and text:
            return datetime.now(UTC) + timedelta(seconds=float(text))
        if text:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return value if value.tzinfo else as_utc(value)
    if _fixed is not None:
        return _fixed
    return datetime.now(UTC) + _offset


def as_utc(instant: datetime) -> datetime:
    """`instant` in UTC; a naive one is UTC already (that is how the database keeps them)."""
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def set_now(instant: datetime | None) -> None:
    """Freeze the clock at `instant` (None returns to real time)."""
    global _fixed, _offset
    _fixed = instant.astimezone(UTC) if instant is not None else None
    _offset = timedelta(0)


def advance(delta: timedelta) -> None:
    """Move the clock forward, frozen or not."""
    global _fixed, _offset
    if _fixed is not None:
        _fixed += delta
    else:
        _offset += delta
