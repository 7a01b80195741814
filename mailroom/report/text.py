"""The report as plain text tables, as `mailroom report` prints it."""

from __future__ import annotations

from typing import Any

from mailroom.report.figures import TARGET


def percent(value: float | None) -> str:
    """0.9512 → "95.1%"; None → "-" (nothing to measure)."""
    return "-" if value is None else f"{value * 100:.1f}%"


def _scope(data: dict[str, Any]) -> str:
    span = data["range"]
    since, until = span["since"] or "the beginning", span["until"] or "now"
    team = f"team {span['team']}" if span["team"] else "all teams"
    mailbox = f", mailbox {span['mailbox']}" if span.get("mailbox") else ""
    return f"Tickets created from {since} to {until} (UTC), {team}{mailbox}; generated {span['generated_at']}"


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
