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
from mailroom.report.figures import TARGET, build_report

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
    """Run the report for the command line's range and team (the database is already open)."""
    from mailroom.rules.ruleset import load_rules

    since = parse_day(getattr(args, "since", None), "--since")
    until = parse_day(getattr(args, "until", None), "--until")
    if since and until and since > until:
        raise MailroomError(f"--since: {since} is after --until {until}")
    rules = load_rules(Path(settings.support.rules), None)
    data = build_report(since, until, getattr(args, "team", None) or None, clock.now(), rules)
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


def percent(value: float | None) -> str:
    """0.9512 → "95.1%"; None → "-" (nothing to measure)."""
    return "-" if value is None else f"{value * 100:.1f}%"


def _scope(data: dict[str, Any]) -> str:
    span = data["range"]
    since, until = span["since"] or "the beginning", span["until"] or "now"
    team = f"team {span['team']}" if span["team"] else "all teams"
    return f"Tickets created from {since} to {until} (UTC), {team}; generated {span['generated_at']}"


def _achievement_rows(title: str, groups: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"  {title:<16} {'tickets':>8} {'met':>7} {'breached':>9} {'pending':>8} {'achieved':>9}"]
    for name, g in groups.items():
        flag = "  below target" if g["achievement"] is not None and g["achievement"] < TARGET else ""
        lines.append(
            f"  {name[:16]:<16} {g['tickets']:>8} {g['met']:>7} {g['breached']:>9} {g['pending']:>8} "
            f"{percent(g['achievement']):>9}{flag}"
        )
    return lines


def text(data: dict[str, Any]) -> str:
    """The report as plain text tables."""
    first, ttfr, nxt, csat = data["first_response"], data["time_to_first_response"], data["next_response"], data["csat"]
    lines = [
        _scope(data),
        "",
        f"Tickets opened  {data['tickets']}",
        f"Tickets solved  {data['solved']}",
        "",
        f"First response: {percent(first['achievement'])} on time (target {percent(TARGET)}), "
        f"{first['met']} met, {first['breached']} breached, {first['pending']} pending"
        + (f", {first['without_clock']} without an SLA clock" if first["without_clock"] else ""),
        *_achievement_rows("team", first["by_team"]),
        *_achievement_rows("priority", first["by_priority"]),
        "",
        f"Time to first response (working time of each ticket's calendar, {ttfr['count']} answered): "
        f"median {ttfr['median'] or '-'}, p90 {ttfr['p90'] or '-'}",
        f"Next response: {percent(nxt['achievement'])} on time (target {percent(TARGET)}), "
        f"{nxt['met']} met, {nxt['breached']} breached",
        "",
        f"CSAT: {percent(csat['score'])} satisfied ({csat['satisfied']} of {csat['responses']} answers); "
        f"{csat['surveys_sent']} surveys sent, response rate {percent(csat['response_rate'])}",
    ]
    if csat["comments"]:
        lines.append("Latest comments:")
        for c in csat["comments"]:
            first_line = " ".join(c["comment"].split())
            lines.append(f"  #{c['ticket']:<6} {c['at']} {c['rating'] or '-':<5} {first_line[:100]}")
    breaching = data["breaching_now"]
    lines += ["", f"Breaching now: {breaching['count']} unsolved ticket(s) past an SLA due time"]
    for b in breaching["tickets"]:
        lines.append(
            f"  #{b['ticket']:<6} {b['priority']} {b['team'][:12]:<12} {', '.join(b['metrics']):<30} "
            f"due {b['due']}, overdue {b['overdue'] or '-'}  {b['subject'][:50]}"
        )
    return "\n".join(lines)
