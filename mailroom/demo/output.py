"""What the demo prints: its progress, step by step, and a log's tail when a step fails."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from mailroom.demo.cast import DemoError, Failed
from mailroom.demo.sandbox import SandboxError

# --- output ------------------------------------------------------------------------------------


def _symbols(stream: TextIO) -> tuple[str, str]:
    """✓ and ✗ where the terminal or log can show them, else plain words."""
    try:
        "✓✗…".encode(stream.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "ok", "FAILED"
    return "✓", "✗"


class Progress:
    """Numbered steps, one line each with its duration, details indented below: readable in a plain log."""

    def __init__(self, total: int, daemon_log: Path, out: TextIO = sys.stdout) -> None:
        self.total = total
        self.number = 0
        self.daemon_log = daemon_log
        self.out = out
        self.ok, self.bad = _symbols(out)

    def say(self, line: str = "") -> None:
        """A plain line."""
        print(line, file=self.out, flush=True)

    @contextlib.contextmanager
    def step(self, title: str, expected: str) -> Iterator[list[str]]:
        """Run one step: its details are the list yielded; a DemoError or SandboxError fails it."""
        self.number += 1
        details: list[str] = []
        start = time.monotonic()
        try:
            yield details
        except Exception as exc:  # noqa: BLE001 - any error fails the step, reported the same way
            self.say(f"[{self.number:>2}/{self.total}] {self.bad} {title} ({time.monotonic() - start:.1f} s)")
            self.say(f"        expected: {expected}")
            why = str(exc) if isinstance(exc, (DemoError, SandboxError)) else f"{type(exc).__name__}: {exc}"
            for line in why.splitlines():
                self.say(f"        {line}")
            self.say(f"--- the last lines of {self.daemon_log} ---")
            self.say(tail(self.daemon_log))
            raise Failed(title) from exc
        self.say(f"[{self.number:>2}/{self.total}] {self.ok} {title} ({time.monotonic() - start:.1f} s)")
        for line in details:
            self.say(f"        {line}")


def tail(path: Path, lines: int = 30) -> str:
    """The end of a log file, or a note that there is none."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) or "(empty)"
    except OSError:
        return "(no log)"
