"""`mailroom report`: the figures as plain text tables, JSON, or a self-contained HTML page."""

from __future__ import annotations

import json
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

from mailroom import clock
from mailroom.errors import MailroomError
from mailroom.report.figures import build_report
from mailroom.report.text import text

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(value: str | None, option: str) -> date | None:
    """A YYYY-MM-DD option value; a bad one is an error naming the option."""
    if value is None:
        return None
    text = value.strip()
    try:
        if not _DATE.match(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise MailroomError(f'{option}: expected a date YYYY-MM-DD, got "{value}"') from None


def main(settings: Any, args: Any) -> int:
    """Run the report for the command line's range, team and mailbox (the database is already open)."""
    from mailroom.rules.ruleset import load_rules

    since = parse_day(getattr(args, "since", None), "--since")
    until = parse_day(getattr(args, "until", None), "--until")
    if since and until and since > until:
        raise MailroomError(f"--since: {since} is after --until {until}")
    rules = load_rules(Path(settings.support.rules), None)
    data = build_report(since, until, getattr(args, "team", None) or None, clock.now(), rules,
                        getattr(args, "mailbox", None) or None)
    html_path = getattr(args, "html", None)
    if html_path:
        from mailroom.report.html import render

        try:
            Path(html_path).write_text(render(data), encoding="utf-8")
        except OSError as exc:
            raise MailroomError(f"--html: cannot write {html_path}: {exc.strerror or exc}") from exc
        # stderr, so that `--json --html F` still prints only JSON on stdout.
        print(f"report written to {html_path}", file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, ensure_ascii=False))
    elif not html_path:
        print(text(data))
    return 0
