"""SLA achievement and CSAT figures over the tickets created in a date range, JSON-ready."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import peewee as pw

from mailroom.clock import as_utc
from mailroom.config.units import format_duration, iso
from mailroom.report.working import Calendars
from mailroom.store import breaches
from mailroom.store.models import Clock, Rating, Survey, Ticket

TARGET = 0.95
SOLVED_STATUSES = ("solved", "closed")
COMMENTS_SHOWN = 10
BREACHING_SHOWN = 50
# Time to first response in working time of the ticket's calendar (8h is one business day).
HISTOGRAM_EDGES = (0, 15 * 60, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 16 * 3600, 40 * 3600)
HISTOGRAM_LABELS = ("< 15m", "15m–1h", "1–2h", "2–4h", "4–8h", "8–16h", "16–40h", "≥ 40h")


@dataclass
class Tally:
    """Met and breached counts of one group; `pending`: not decided (running before due, paused, stopped)."""

    tickets: int = 0
    met: int = 0
    breached: int = 0
    pending: int = 0

    def add(self, outcome: str | None) -> None:
        """Count one clock's outcome (None: not decided yet)."""
        if outcome == "met":
            self.met += 1
        elif outcome == "breached":
            self.breached += 1
        else:
            self.pending += 1

    def json(self) -> dict[str, Any]:
        """Counts with achievement = met / (met + breached), null without a denominator."""
        return {
            "tickets": self.tickets,
            "met": self.met,
            "breached": self.breached,
            "pending": self.pending,
            "achievement": ratio(self.met, self.met + self.breached),
        }


@dataclass
class Week:
    """One ISO week's CSAT answers, for the charts."""

    responses: int = 0
    satisfied: int = 0


def ratio(part: int, whole: int) -> float | None:
    """part / whole; None when nothing was measured."""
    return part / whole if whole else None


def nearest_rank(values: list[float], percent: int) -> float | None:
    """The nearest-rank percentile of sorted `values`: the ceil(p/100 × n)-th smallest."""
    if not values:
        return None
    rank = max(1, -(-percent * len(values) // 100))
    value = values[rank - 1]
    return int(value) if float(value).is_integer() else value


def day_bounds(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """UTC instants [since 00:00, the day after until 00:00): `until` is inclusive."""
    start = datetime.combine(since, time(), UTC) if since else None
    end = datetime.combine(until + timedelta(days=1), time(), UTC) if until else None
    return start, end


def ticket_filter(since: date | None, until: date | None, team: str | None, mailbox: str | None = None) -> pw.Expression:
    """Tickets created in the range (and of the team, and came in on the mailbox)."""
    start, end = day_bounds(since, until)
    where: pw.Expression = Ticket.id.is_null(False)
    if start is not None:
        where &= Ticket.created_at >= start
    if end is not None:
        where &= Ticket.created_at < end
    if team:
        where &= Ticket.team == team
    if mailbox:
        where &= Ticket.mailbox == mailbox
    return where


def clock_outcome(now: datetime) -> pw.Node:
    """SQL: 'met' (on time), 'breached' (late, or still unmet past due), else NULL (not decided).

    Decided in the database so that 100k clocks come back as small strings, not datetimes.
    """
    return pw.Case(None, [
        ((Clock.state == "breached") | Clock.breached_at.is_null(False), "breached"),
        ((Clock.state == "met") & Clock.due_at.is_null(False) & Clock.met_at.is_null(False)
         & (Clock.met_at > Clock.due_at), "breached"),
        (Clock.state == "met", "met"),
        # Past due without a response: breached even before the SLA job marks it.
        ((Clock.state == "running") & Clock.due_at.is_null(False) & (Clock.due_at <= now), "breached"),
        # Solved unanswered after the due time, before an SLA check came round to mark it.
        ((Clock.state == "stopped") & Clock.met_at.is_null() & Clock.due_at.is_null(False)
         & (Clock.due_at <= pw.fn.COALESCE(Ticket.solved_at, Ticket.closed_at)), "breached"),
    ], None)


def raw_rows(query: pw.Query) -> Iterator[tuple[Any, ...]]:
    """Rows as the driver returns them, in batches.

    Peewee's per-value conversion (strptime on SQLite) was most of the time over 100k
    tickets; `instant` parses the datetimes that are used, with fromisoformat.
    """
    cursor = Ticket._meta.database.execute(query)
    while batch := cursor.fetchmany(2000):
        yield from batch


def instant(value: Any) -> datetime | None:
    """A stored datetime (naive UTC, or SQLite's text) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value)


def _week(instant: datetime) -> str:
    year, week, _ = instant.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"


def _week_keys(first: date, last: date) -> list[str]:
    monday = first - timedelta(days=first.weekday())
    keys = []
    while monday <= last:
        year, week, _ = monday.isocalendar()
        keys.append(f"{year}-W{week:02d}")
        monday += timedelta(days=7)
    return keys


def _without(values: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k != key}


def _duration(seconds: float | None) -> str | None:
    """Human form; minutes are precise enough once a span passes an hour."""
    if seconds is None:
        return None
    if abs(seconds) >= 3600:
        seconds = round(seconds / 60) * 60
    return format_duration(timedelta(seconds=round(seconds)))



def _histogram(values: Iterable[float]) -> list[dict[str, Any]]:
    counts = [0] * len(HISTOGRAM_EDGES)
    for value in values:
        slot = sum(1 for edge in HISTOGRAM_EDGES[1:] if value >= edge)
        counts[slot] += 1
    uppers = (*HISTOGRAM_EDGES[1:], None)
    return [
        {"label": label, "from_seconds": low, "to_seconds": high, "count": count}
        for label, low, high, count in zip(HISTOGRAM_LABELS, HISTOGRAM_EDGES, uppers, counts, strict=True)
    ]


def build_report(
    since: date | None, until: date | None, team: str | None, now: datetime, rules: Any, mailbox: str | None = None
) -> dict[str, Any]:
    """Every figure of `mailroom report` for tickets created in [since, until] (UTC dates), of a team or mailbox."""
    where = ticket_filter(since, until, team, mailbox)
    calendars = Calendars(rules)
    rows = (
        Ticket.select(Ticket.id, Ticket.team, Ticket.priority, Ticket.status, Ticket.created_at,
                      Ticket.first_response_at, Ticket.decision)
        .where(where)
    )
    info: dict[int, tuple[str, str, str]] = {}  # id → (team, priority, week)
    solved = 0
    ttfr: list[float] = []
    days: set[date] = set()
    for ticket_id, t_team, priority, status, created_raw, answered_raw, decision in raw_rows(rows):
        created_at = instant(created_raw)
        assert created_at is not None  # the column is NOT NULL
        info[ticket_id] = (t_team, priority, _week(created_at))
        days.add(created_at.date())
        solved += status in SOLVED_STATUSES
        answered_at = instant(answered_raw)
        if answered_at is not None:
            ttfr.append(calendars.of(priority, decision).seconds(created_at, answered_at))
    ttfr.sort()

    first, following = _clock_tallies(where, now, info)
    csat = _csat(where, info)
    # Open-ended ranges run from the first ticket up to today, so quiet recent weeks show too.
    today = now.astimezone(UTC).date()
    first_day = since or min(days, default=None)
    span = (first_day, until or (max(today, max(days, default=today)) if first_day else None))
    counts = Counter(week for _, _, week in info.values())
    weeks = _weekly(span, counts, first["weeks"], csat.pop("weeks"))
    median, p90 = nearest_rank(ttfr, 50), nearest_rank(ttfr, 90)
    return {
        "range": {"since": since.isoformat() if since else None, "until": until.isoformat() if until else None,
                  "team": team, "generated_at": iso(now), "mailbox": mailbox},
        "tickets": len(info),
        "solved": solved,
        "target": TARGET,
        "first_response": {**first["total"].json(), "target": TARGET,
                           "without_clock": len(info) - first["total"].tickets,
                           "by_team": {k: v.json() for k, v in sorted(first["team"].items())},
                           "by_priority": {k: v.json() for k, v in sorted(first["priority"].items())}},
        "time_to_first_response": {
            "count": len(ttfr),
            "median_seconds": median, "p90_seconds": p90,
            "median": _duration(median), "p90": _duration(p90),
            "histogram": _histogram(ttfr),
        },
        # Every next_response clock counts: a ticket may owe several next responses.
        "next_response": {**_without(following.json(), "tickets"),
                          "clocks": following.met + following.breached + following.pending, "target": TARGET},
        "csat": csat,
        "breaching_now": breaching_now(team, now, mailbox),
        "weekly": weeks,
    }


def _clock_tallies(where: pw.Expression, now: datetime, info: dict[int, tuple[str, str, str]]) -> tuple[dict[str, Any], Tally]:
    """First response per ticket (its latest clock) by team, priority and week; next response per clock."""
    query = (
        Clock.select(Clock.ticket, Clock.metric, clock_outcome(now))
        .join(Ticket)
        .where(where & Clock.metric.in_(("first_response", "next_response")))
        .order_by(Clock.id)
    )
    latest_first: dict[int, str | None] = {}
    following = Tally()
    for ticket_id, metric, outcome in raw_rows(query):
        if metric == "first_response":
            latest_first[ticket_id] = outcome  # a re-created clock (priority change) replaces the old
        else:
            following.add(outcome)
    total = Tally()
    by_team: dict[str, Tally] = defaultdict(Tally)
    by_priority: dict[str, Tally] = defaultdict(Tally)
    weeks: dict[str, Tally] = defaultdict(Tally)
    for ticket_id, outcome in latest_first.items():
        t_team, priority, week = info[ticket_id]
        for tally in (total, by_team[t_team], by_priority[priority], weeks[week]):
            tally.tickets += 1
            tally.add(outcome)
    # Teams and priorities with tickets but no clocks still show, with null achievement.
    for t_team, priority, _ in info.values():
        by_team.setdefault(t_team, Tally())
        by_priority.setdefault(priority, Tally())
    return {"total": total, "team": by_team, "priority": by_priority, "weeks": weeks}, following


def _csat(where: pw.Expression, info: dict[int, tuple[str, str, str]]) -> dict[str, Any]:
    """The latest answer per ticket counts; every comment is kept."""
    query = (
        Rating.select(Rating.ticket, Rating.rating, Rating.satisfied, Rating.comment, Rating.at)
        .join(Ticket)
        .where(where)
        .order_by(Rating.at, Rating.id)
    )
    latest: dict[int, bool] = {}
    comments: list[dict[str, Any]] = []
    for ticket_id, rating, satisfied, comment, at in raw_rows(query):
        if rating is not None:
            latest[ticket_id] = bool(satisfied)
        if comment and comment.strip():
            comments.append({"ticket": ticket_id, "at": iso(instant(at)), "rating": rating, "comment": comment.strip()})
    sent = Survey.select().join(Ticket).where(where & (Survey.state == "sent")).count()
    weeks: dict[str, Week] = defaultdict(Week)
    for ticket_id, happy in latest.items():
        week = weeks[info[ticket_id][2]]
        week.responses += 1
        week.satisfied += happy
    responses, satisfied = len(latest), sum(latest.values())
    return {
        "responses": responses,
        "satisfied": satisfied,
        "score": ratio(satisfied, responses),
        "surveys_sent": sent,
        "response_rate": ratio(responses, sent),
        "comments": list(reversed(comments))[:COMMENTS_SHOWN],
        "weeks": weeks,
    }


def _weekly(span: tuple[date | None, date | None], counts: Counter[str], first: dict[str, Tally],
            csat: dict[str, Week]) -> list[dict[str, Any]]:
    """Every ISO week of the range (of the data, when open-ended), by ticket creation week."""
    first_day, last_day = span
    if first_day is None or last_day is None:
        return []
    out = []
    for key in _week_keys(first_day, last_day):
        tally, answers = first.get(key, Tally()), csat.get(key, Week())
        monday = date.fromisocalendar(int(key[:4]), int(key[6:]), 1)
        out.append({
            "week": key, "start": monday.isoformat(), "tickets": counts.get(key, 0),
            "first_response": {"met": tally.met, "breached": tally.breached,
                               "achievement": ratio(tally.met, tally.met + tally.breached)},
            "csat": {"responses": answers.responses, "satisfied": answers.satisfied,
                     "score": ratio(answers.satisfied, answers.responses)},
        })
    return out


def breaching_now(team: str | None, now: datetime, mailbox: str | None = None) -> dict[str, Any]:
    """Unsolved tickets (of any creation date) with an SLA metric past due and unmet, most overdue first."""
    # One query for the whole list, whatever the number of tickets: the rows come sorted and
    # are grouped per ticket here.
    query = (
        Clock.select(Clock.ticket, Clock.metric, Clock.due_at, Ticket.subject, Ticket.priority, Ticket.team,
                     Ticket.status, Ticket.assignee)
        .join(Ticket)
        .where(breaches.open_breaches(now, team, mailbox))
        .order_by(Clock.due_at, Clock.id)
    )
    tickets: dict[int, dict[str, Any]] = {}
    for ticket_id, metric, due_raw, subject, priority, t_team, status, assignee in raw_rows(query):
        due = instant(due_raw)
        entry = tickets.get(ticket_id)
        if entry is None:
            overdue = (now - due).total_seconds() if due is not None else None
            tickets[ticket_id] = {
                "ticket": ticket_id, "subject": subject, "priority": priority, "team": t_team,
                "status": status, "assignee": assignee, "metrics": [metric], "due": iso(due),
                "overdue_seconds": round(overdue) if overdue is not None else None,
                "overdue": _duration(overdue),
            }
        elif metric not in entry["metrics"]:
            entry["metrics"].append(metric)
    return {"count": len(tickets), "tickets": list(tickets.values())[:BREACHING_SHOWN]}
