"""What templates are given to say, pure: times in the customer's terms, links, and samples of each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from markupsafe import Markup

ISO = "%Y-%m-%dT%H:%M:%SZ"


# --- the values every template gets -----------------------------------------------------------


def link_values(links: Any) -> list[dict[str, str]]:
    """The rules' documentation links as {title, url}, whether written as strings or mappings."""
    out = []
    for link in links or ():
        if isinstance(link, str):
            out.append({"title": link, "url": link})
        elif isinstance(link, dict) and link.get("url"):
            out.append({"title": str(link.get("title") or link["url"]), "url": str(link["url"])})
    return out


def clock_values(metric: str, due_at: datetime, zone: tzinfo, now: datetime) -> dict[str, Any]:
    """`clock`: the SLA metric a warning or breach is about, and when it falls due."""
    return {
        "metric": metric,
        "label": metric.replace("_", " "),
        "due": local_time(due_at, zone, now),
        "due_at": due_at.strftime(ISO),
        "overdue": due_at < now,
        "remaining": human_span(due_at - now),
    }


# --- times in the customer's terms ------------------------------------------------------------


def local_time(instant: datetime, zone: tzinfo, reference: datetime | None = None) -> str:
    """`11:00 AM PST on Monday, 1 December` (the year added when it is not the reference's)."""
    local = instant.astimezone(zone)
    text = f"{_clock(local.hour * 60 + local.minute)} {local.tzname()} on {local:%A}, {local.day} {local:%B}"
    if reference is not None and reference.astimezone(zone).year != local.year:
        text += f" {local.year}"
    return text


def _clock(minute: int) -> str:
    hour, mins = divmod(minute % 1440, 60)
    return f"{hour % 12 or 12}:{mins:02d} {'AM' if hour < 12 else 'PM'}"


_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def describe_hours(calendar: Any) -> str | None:
    """`Monday to Friday, 9:00 AM–5:00 PM (America/Los_Angeles)`; None for a 24x7 calendar."""
    week = getattr(calendar, "week", ()) if calendar is not None else ()
    if not week or getattr(calendar, "is_24x7", False):
        return None
    groups: list[tuple[int, int, Any]] = []
    for day, ranges in enumerate(week):
        if groups and groups[-1][2] == ranges and groups[-1][1] == day - 1:
            groups[-1] = (groups[-1][0], day, ranges)
        else:
            groups.append((day, day, ranges))
    parts = []
    for first, last, ranges in groups:
        if not ranges:
            continue
        days = _DAYS[first] if first == last else f"{_DAYS[first]} to {_DAYS[last]}"
        hours = ", ".join(f"{_clock(a)}–{_clock(b)}" for a, b in ranges)
        parts.append(f"{days}, {hours}")
    zone = getattr(calendar, "timezone", None) or str(getattr(calendar, "zone", "UTC"))
    text = "; ".join(parts) + f" ({zone} time)"
    if getattr(calendar, "holidays", None):
        text += ", except public holidays"
    return text


def human_span(delta: timedelta) -> str:
    """`2 hours 5 minutes`, `3 days`, `less than a minute` (the sign is ignored)."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [(days, "day"), (hours, "hour"), (mins, "minute")]
    words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n][:2]
    return " ".join(words) or "less than a minute"


def due_view(
    due_at: datetime | None, calendar: Any, now: datetime, metric: str = "first_response"
) -> dict[str, Any] | None:
    """What a template shows of a due time: in the calendar's zone, with its business hours."""
    if due_at is None:
        return None
    zone = getattr(calendar, "zone", None) or UTC
    hours = describe_hours(calendar)
    open_now = True
    opens = None
    if hours is not None and hasattr(calendar, "is_open"):
        open_now = bool(calendar.is_open(now))
        if not open_now:
            opens = local_time(calendar.next_open(now), zone, now)
    remaining = due_at - now
    return {
        "metric": metric.replace("_", " "),
        "text": "by " + local_time(due_at, zone, now),
        "at": due_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "local": due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),  # for wording in other languages
        "zone": getattr(calendar, "timezone", None) or str(zone),
        "business_hours": hours,
        "open_now": open_now,
        "opens": opens,
        "overdue": remaining < timedelta(0),
    }


# --- sample values: every variable a template may use --------------------------------------

FAMILIES = ("ack", "notification", "relay", "survey", "agent_error", "sla_warning", "breach", "merged")
# The variables each family gets (besides `support` and `ticket`), and those that may be None.
VARIABLES = {
    "ack": ("customer_name", "due", "links"),
    "notification": ("customer_name", "why", "new_ticket", "message", "attachments", "due", "similar"),
    "relay": ("customer_name", "text", "html", "engineer", "attachments"),
    "survey": ("customer_name", "choices", "token"),
    "agent_error": ("error", "message"),
    "sla_warning": ("customer_name", "clock"),
    "breach": ("customer_name", "clock"),
    "merged": ("customer_name", "merged"),
}
_NULLABLE = {"ack": ("due",), "notification": ("message", "due"), "agent_error": ("ticket",), "relay": ("html",)}


def family(name: str) -> str:
    """The family a template belongs to: its own name, or the suffix (`enterprise_ack` → ack)."""
    return next((f for f in FAMILIES if name == f or name.endswith("_" + f)), "ack")


def sample_values() -> dict[str, Any]:
    """One value for every template variable, as outbound fills them."""
    now = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)
    return {
        "support": {"name": "Example Support", "address": "support@example.com"},
        "ticket": {
            "id": 12, "tag": "[Support #12]", "subject": "Site is down", "status": "new",
            "priority": "P2", "team": "general", "requester": "ops@bigcorp.com",
            "requester_name": "Olga Ops", "assignee": "alice@example.com",
            "created_at": "2026-12-01T17:30:00Z",
        },
        "customer_name": "Olga Ops",
        "due": due_view(now + timedelta(hours=2), None, now),
        "links": [{"title": "Status page", "url": "https://status.example.com/"}],
        "why": "new ticket",
        "new_ticket": True,
        "message": {
            "from_addr": "ops@bigcorp.com", "from_name": "Olga Ops", "subject": "Site is down",
            "date": "2026-12-01T17:30:00Z", "text": "Our site is down since 17:00.",
            "to": ["support@example.com"], "cc": [],
            "cut": True, "original": "/var/lib/mailroom/data/originals/3f/3f2a.eml.gz",
        },
        "attachments": [{"filename": "screen.png", "content_type": "image/png", "size": 2048, "included": True}],
        "similar": [{"id": 7, "tag": "[Support #7]", "subject": "Site down after renewal", "status": "solved",
                     "answer": "The certificate had expired; we renewed it and the site is back."}],
        "merged": {"id": 11, "tag": "[Support #11]", "subject": "Website unreachable"},
        "engineer": {"name": "Alice Engineer", "address": "alice@example.com"},
        "text": "The site is back up; the cause was an expired certificate.",
        "html": Markup("<p>The site is back up; the cause was an expired certificate.</p>"),
        "choices": [{"label": "Good", "address": "support+rate-x-good@example.com", "mailto": "mailto:support+rate-x-good@example.com"}],
        "token": "x",
        "error": "line 2 \"#priority P9\": expected P1 to P5",
        "clock": {
            "metric": "first_response", "label": "first response", "due": "7:30 PM UTC on Tuesday, 1 December",
            "due_at": "2026-12-01T19:30:00Z", "overdue": False, "remaining": "15 minutes",
        },
    }


def sample_variants(name: str) -> list[tuple[str, dict[str, Any]]]:
    """The full sample, and a sparse one: empty lists, no assignee, the family's None values."""
    kind = family(name)
    wanted = ("support", "ticket", *VARIABLES[kind])
    full = {k: v for k, v in sample_values().items() if k in wanted}
    sparse = {k: v for k, v in sample_values().items() if k in wanted}
    sparse.update({k: [] for k in ("links", "attachments", "similar") if k in sparse})
    sparse.update({k: "" for k in ("customer_name",) if k in sparse})
    sparse["ticket"].update(assignee=None, requester_name="")
    if "engineer" in sparse:
        sparse["engineer"]["name"] = ""
    for key in _NULLABLE.get(kind, ()):
        sparse[key] = None
    return [("full", full), ("sparse", sparse)]
