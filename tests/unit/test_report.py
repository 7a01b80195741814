"""The report's figures on a generated history with known answers, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from mailroom.report.figures import build_report
from mailroom.report.text import text
from mailroom.rules.ruleset import parse_rules
from mailroom.store.models import MODELS, Clock, Rating, Survey, Ticket, database
from mailroom.store.queries import open_database

RULES_TEXT = """
version: 1
calendars:
  business: {timezone: "America/Los_Angeles", hours: {mon-fri: "09:00-17:00"}, holidays: ["2026-04-03"]}
  always: 24x7
sla:
  P1: {first_response: 1h, next_response: 2h, calendar: always}
  P2: {first_response: 4h, next_response: 8h, calendar: business}
  P3: {first_response: 1d, next_response: 1d, calendar: business}
  P4: {first_response: 2d, next_response: 2d, calendar: business}
  enterprise: {first_response: 1h, next_response: 4h, calendar: always}
agents: ["*@example.com"]
teams:
  general: {notify: ["support-team@example.com"]}
  enterprise: {notify: ["enterprise@example.com"]}
  billing: {notify: ["billing@example.com"]}
defaults: {team: general, priority: P3}
rules: []
"""
RULES = parse_rules(RULES_TEXT)
# The calendar each policy counts in, as the rules above say (the test's own table).
POLICY_CALENDAR = {"P1": "always", "P2": "business", "P3": "business", "P4": "business", "enterprise": "always"}
START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday; US daylight saving time starts on 8 March
DAYS = 56
NOW = datetime(2026, 4, 28, 12, 0, tzinfo=UTC)
TEAMS = ("general", "enterprise", "billing")
PRIORITIES = ("P1", "P2", "P3", "P4")
HAPPY = {"good", "4", "5"}
EDGES = [0, 900, 3600, 7200, 14400, 28800, 57600, 144000]


@dataclass
class Gen:
    """One generated ticket and the answers the report must give about it."""

    key: str
    team: str
    priority: str
    policy: str | None
    created: datetime
    status: str = "new"
    first_response_at: datetime | None = None
    solved_at: datetime | None = None
    ttfr: int | None = None  # working seconds, chosen by the generator
    fr_clock: dict[str, Any] | None = None
    fr_outcome: str | None = None  # met | breached | None (no clock or undecided)
    nr_clocks: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)
    breaching: bool = False
    survey: str | None = None
    ratings: list[tuple[str, str | None, datetime]] = field(default_factory=list)
    id: int = 0


def _seconds(rnd: random.Random, low: float, high: float) -> timedelta:
    return timedelta(seconds=rnd.randint(int(low), int(high)))


def generate(seed: int = 7, count: int = 1200) -> list[Gen]:
    """A seeded history over 8 weeks: every ticket's outcome decided here, then made into rows."""
    rnd = random.Random(seed)
    out = []
    for n in range(count):
        team = rnd.choice(TEAMS)
        priority = rnd.choice(PRIORITIES)
        policy = "enterprise" if team == "enterprise" and rnd.random() < 0.5 else None
        created = START + timedelta(seconds=rnd.randrange(DAYS * 86400))
        g = Gen(f"gen-{n}", team, priority, policy, created)
        _first_response(rnd, g)
        _next_responses(rnd, g)
        _survey(rnd, g)
        out.append(g)
    # Exact boundaries for the range tests: first and last second of a day.
    out[0].created = datetime(2026, 3, 16, 0, 0, 0, tzinfo=UTC)
    out[1].created = datetime(2026, 3, 29, 23, 59, 59, tzinfo=UTC)
    out[2].created = datetime(2026, 3, 30, 0, 0, 0, tzinfo=UTC)
    out[3].created = datetime(2026, 3, 15, 23, 59, 59, tzinfo=UTC)
    for g in out[:4]:  # re-derive the times that hang on `created`
        g.first_response_at = g.ttfr = g.fr_clock = g.fr_outcome = g.solved_at = None
        g.nr_clocks, g.breaching, g.survey, g.ratings, g.status = [], False, None, [], "new"
        _first_response(rnd, g)
        _next_responses(rnd, g)
        _survey(rnd, g)
    return out


def _respond(rnd: random.Random, g: Gen) -> None:
    calendar = RULES.calendars[POLICY_CALENDAR[g.policy or g.priority]]
    g.ttfr = int(rnd.expovariate(1 / 14400)) + rnd.randint(1, 600)
    g.first_response_at = calendar.add(g.created, timedelta(seconds=g.ttfr))
    g.status = rnd.choice(("open", "pending", "solved", "solved", "closed"))


def _first_response(rnd: random.Random, g: Gen) -> None:
    r = rnd.random()
    if r < 0.05:  # no SLA clock (imported history); may still have a response time
        if rnd.random() < 0.5:
            _respond(rnd, g)
        g.status = g.status if g.first_response_at else "closed"
        return
    if r < 0.65:
        _respond(rnd, g)
        due = g.first_response_at + _seconds(rnd, 0, 3 * 3600)
        g.fr_clock, g.fr_outcome = {"state": "met", "due_at": due, "met_at": g.first_response_at}, "met"
    elif r < 0.75:  # answered late after the SLA job marked the breach
        _respond(rnd, g)
        due = g.created + (g.first_response_at - g.created) / 2
        due = due.replace(microsecond=0)
        if due >= g.first_response_at:
            due = g.first_response_at - timedelta(seconds=1)
        g.fr_clock = {"state": "breached", "due_at": due, "met_at": g.first_response_at, "breached_at": due}
        g.fr_outcome = "breached"
    elif r < 0.79:  # answered late before the SLA job ran: met, but after its due time
        _respond(rnd, g)
        due = g.first_response_at - _seconds(rnd, 1, 3600)
        g.fr_clock, g.fr_outcome = {"state": "met", "due_at": due, "met_at": g.first_response_at}, "breached"
    elif r < 0.86:  # never answered, marked
        due = g.created + _seconds(rnd, 3600, 10 * 3600)
        g.fr_clock, g.fr_outcome = {"state": "breached", "due_at": due, "breached_at": due}, "breached"
        g.breaching = True
    elif r < 0.92:  # never answered, the SLA job has not marked it yet
        due = g.created + _seconds(rnd, 3600, 10 * 3600)
        g.fr_clock, g.fr_outcome = {"state": "running", "due_at": due}, "breached"
        g.breaching = True
    elif r < 0.96:  # waiting, not due yet
        g.fr_clock, g.fr_outcome = {"state": "running", "due_at": NOW + _seconds(rnd, 60, 3 * 86400)}, None
    elif r < 0.98:  # waiting on the customer: paused, no outcome
        g.fr_clock, g.fr_outcome, g.status = {"state": "paused", "due_at": g.created + _seconds(rnd, 3600, 7200)}, None, "pending"
    else:  # solved unanswered: stopped; a miss when solved after the due time before any check marked it
        due = g.created + _seconds(rnd, 3600, 7200)
        late = rnd.random() < 0.5
        g.status, g.solved_at = "solved", due + (_seconds(rnd, 1, 3600) if late else -_seconds(rnd, 1, 1800))
        g.fr_clock, g.fr_outcome = {"state": "stopped", "due_at": due}, "breached" if late else None


def _next_responses(rnd: random.Random, g: Gen) -> None:
    if g.first_response_at is None:
        return
    start = g.first_response_at
    for _ in range(rnd.choice((0, 0, 1, 1, 2))):
        start = start + _seconds(rnd, 3600, 86400)
        due = start + _seconds(rnd, 3600, 8 * 3600)
        kinds = ["met", "late", "unmet"] + (["running-past", "running"] if g.status in ("open", "pending") else [])
        kind = rnd.choice(kinds)
        if kind == "met":
            clock, outcome = {"state": "met", "due_at": due, "met_at": due - _seconds(rnd, 0, 3600)}, "met"
        elif kind == "late":
            clock = {"state": "breached", "due_at": due, "breached_at": due, "met_at": due + _seconds(rnd, 1, 3600)}
            outcome = "breached"
        elif kind == "unmet":
            clock, outcome = {"state": "breached", "due_at": due, "breached_at": due}, "breached"
            g.breaching = g.breaching or g.status in ("open", "pending")
        elif kind == "running-past":
            clock, outcome = {"state": "running", "due_at": min(due, NOW - timedelta(minutes=5))}, "breached"
            g.breaching = True
        else:
            clock, outcome = {"state": "running", "due_at": NOW + _seconds(rnd, 60, 86400)}, None
        clock["started_at"] = start
        g.nr_clocks.append((clock, outcome))


def _survey(rnd: random.Random, g: Gen) -> None:
    if g.status not in ("solved", "closed") or g.fr_clock is None:
        return
    g.survey = rnd.choice(("sent", "sent", "sent", "sent", "scheduled", "cancelled"))
    if g.survey != "sent" or rnd.random() < 0.4:
        return
    scale = ("1", "2", "3", "4", "5") if g.team == "enterprise" else ("good", "okay", "bad")
    at = g.created + timedelta(days=2)
    for _ in range(rnd.choice((1, 1, 1, 2, 3))):
        at = at + _seconds(rnd, 60, 86400)
        comment = rnd.choice((None, None, f"comment <b>{g.key}</b> {rnd.randrange(10**6)}"))
        g.ratings.append((rnd.choice(scale), comment, at))


def insert(history: list[Gen]) -> None:
    """Write the history as the lifecycle would have left it."""
    with database.atomic():
        tickets = [
            {"subject": g.key, "status": g.status, "priority": g.priority, "team": g.team,
             "requester": f"{g.key}@customer.example.net", "created_at": g.created, "updated_at": g.created,
             "first_response_at": g.first_response_at, "solved_at": g.solved_at, "source": "mail" if g.fr_clock else "import",
             "decision": {"policy_name": g.policy, "sla_override": None, "survey": True}}
            for g in history
        ]
        _insert(Ticket, tickets)
        ids = dict(Ticket.select(Ticket.subject, Ticket.id).tuples())
        clocks, surveys, ratings = [], [], []
        for g in history:
            g.id = ids[g.key]
            if g.fr_clock:
                clocks.append(_clock_row(g, "first_response", {"started_at": g.created, **g.fr_clock}))
            clocks += [_clock_row(g, "next_response", c) for c, _ in g.nr_clocks]
            if g.survey:
                surveys.append({"ticket": g.id, "due_at": g.created + timedelta(days=1), "state": g.survey,
                                "token": f"t{g.id}", "sent_at": g.created if g.survey == "sent" else None})
            ratings += [{"ticket": g.id, "rating": r, "satisfied": r in HAPPY, "comment": c, "at": at}
                        for r, c, at in g.ratings]
        for model, rows in ((Clock, clocks), (Survey, surveys), (Rating, ratings)):
            _insert(model, rows)


def _insert(model: Any, rows: list[dict[str, Any]]) -> None:
    # In batches: SQLite limits the number of variables in one statement.
    for i in range(0, len(rows), 500):
        model.insert_many(rows[i:i + 500]).execute()


def _clock_row(g: Gen, metric: str, clock: dict[str, Any]) -> dict[str, Any]:
    return {"ticket": g.id, "metric": metric, "started_at": clock.get("started_at", g.created),
            "due_at": clock["due_at"], "state": clock["state"], "met_at": clock.get("met_at"),
            "breached_at": clock.get("breached_at")}


# --- the expectation, from the generator's lists -----------------------------------------------


def rank(values: list[int], p: int) -> int | None:
    """Nearest rank, written out: the smallest value with at least p% of values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(p / 100 * len(ordered)) - 1]


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def expect(history: list[Gen]) -> dict[str, Any]:
    """What the report must say about these tickets."""
    fr = [g.fr_outcome for g in history if g.fr_clock]
    nr = [o for g in history for _, o in g.nr_clocks]
    latest = {g.key: g.ratings[-1][0] for g in history if g.ratings}
    by_team: dict[str, list[str | None]] = defaultdict(list)
    by_priority: dict[str, list[str | None]] = defaultdict(list)
    for g in history:
        if g.fr_clock:
            by_team[g.team].append(g.fr_outcome)
            by_priority[g.priority].append(g.fr_outcome)
    ttfr = [g.ttfr for g in history if g.ttfr is not None]
    comments = sorted(((at, g.key, c) for g in history for _, c, at in g.ratings if c), reverse=True)
    return {
        "tickets": len(history),
        "solved": sum(g.status in ("solved", "closed") for g in history),
        "met": fr.count("met"), "breached": fr.count("breached"), "pending": fr.count(None),
        "achievement": share(fr.count("met"), fr.count("met") + fr.count("breached")),
        "by_team": {t: (v.count("met"), v.count("breached")) for t, v in by_team.items()},
        "by_priority": {p: (v.count("met"), v.count("breached")) for p, v in by_priority.items()},
        "nr": (nr.count("met"), nr.count("breached")),
        "median": rank(ttfr, 50), "p90": rank(ttfr, 90), "answered": len(ttfr),
        "histogram": [sum(1 for v in ttfr if bisect_right(EDGES, v) - 1 == i) for i in range(len(EDGES))],
        "responses": len(latest),
        "satisfied": sum(r in HAPPY for r in latest.values()),
        "sent": sum(g.survey == "sent" for g in history),
        "comments": [c for _, _, c in comments[:10]],
    }


def check(report: dict[str, Any], history: list[Gen]) -> None:
    """Every figure against the expectation, exactly."""
    e = expect(history)
    first = report["first_response"]
    assert report["tickets"] == e["tickets"]
    assert report["solved"] == e["solved"]
    assert (first["met"], first["breached"], first["pending"]) == (e["met"], e["breached"], e["pending"])
    assert first["achievement"] == pytest.approx(e["achievement"], abs=1e-6)
    assert first["target"] == 0.95
    for team, (met, breached) in e["by_team"].items():
        assert (first["by_team"][team]["met"], first["by_team"][team]["breached"]) == (met, breached)
        assert first["by_team"][team]["achievement"] == pytest.approx(share(met, met + breached), abs=1e-6)
    for priority, (met, breached) in e["by_priority"].items():
        assert (first["by_priority"][priority]["met"], first["by_priority"][priority]["breached"]) == (met, breached)
    nr = report["next_response"]
    assert (nr["met"], nr["breached"]) == e["nr"]
    ttfr = report["time_to_first_response"]
    assert ttfr["count"] == e["answered"]
    assert ttfr["median_seconds"] == e["median"]
    assert ttfr["p90_seconds"] == e["p90"]
    assert [b["count"] for b in ttfr["histogram"]] == e["histogram"]
    csat = report["csat"]
    assert (csat["responses"], csat["satisfied"], csat["surveys_sent"]) == (e["responses"], e["satisfied"], e["sent"])
    assert csat["score"] == pytest.approx(share(e["satisfied"], e["responses"]), abs=1e-6)
    assert csat["response_rate"] == pytest.approx(share(e["responses"], e["sent"]), abs=1e-6)
    assert [c["comment"] for c in csat["comments"]] == e["comments"]


# --- tests -------------------------------------------------------------------------------------


@pytest.fixture
def db(database_url: str) -> Iterator[None]:
    """An empty, opened database."""
    conn = open_database(database_url)
    for model in reversed(MODELS):
        model.delete().execute()
    yield
    for model in reversed(MODELS):
        model.delete().execute()
    conn.close()


@pytest.fixture
def history(db: None) -> list[Gen]:
    """1,200 generated tickets, inserted."""
    generated = generate()
    insert(generated)
    return generated


def test_the_whole_history(history: list[Gen]) -> None:
    report = build_report(None, None, None, NOW, RULES)
    check(report, history)
    e = expect(history)
    # The generator's mix is what it says: enough of each case to mean something.
    assert e["met"] > 500 and e["breached"] > 250 and e["pending"] > 40 and e["responses"] > 100
    assert report["first_response"]["without_clock"] == sum(1 for g in history if not g.fr_clock)


def test_contract_shape(history: list[Gen]) -> None:
    report = build_report(None, None, None, NOW, RULES)
    assert isinstance(report["tickets"], int)
    assert set(report["first_response"]) >= {"met", "breached", "achievement"}
    assert set(report["csat"]) >= {"responses", "satisfied", "score"}
    assert 0.0 <= report["first_response"]["achievement"] <= 1.0
    assert 0.0 <= report["csat"]["score"] <= 1.0


def test_weekly_series(history: list[Gen]) -> None:
    weeks = build_report(None, None, None, NOW, RULES)["weekly"]
    expected_keys = sorted({f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}"
                            for d in (START + timedelta(days=i) for i in range((NOW - START).days + 1))})
    assert [w["week"] for w in weeks] == expected_keys
    for week in weeks:
        mine = [g for g in history if f"{g.created.isocalendar()[0]}-W{g.created.isocalendar()[1]:02d}" == week["week"]]
        outcomes = [g.fr_outcome for g in mine if g.fr_clock]
        assert week["tickets"] == len(mine)
        assert (week["first_response"]["met"], week["first_response"]["breached"]) == (
            outcomes.count("met"), outcomes.count("breached"))
        latest = [g.ratings[-1][0] for g in mine if g.ratings]
        assert (week["csat"]["responses"], week["csat"]["satisfied"]) == (len(latest), sum(r in HAPPY for r in latest))


def test_since_until_are_utc_days_with_until_inclusive(history: list[Gen]) -> None:
    since, until = date(2026, 3, 16), date(2026, 3, 29)
    report = build_report(since, until, None, NOW, RULES)
    inside = [g for g in history if since <= g.created.date() <= until]
    assert {"gen-0", "gen-1"} <= {g.key for g in inside}
    assert not {"gen-2", "gen-3"} & {g.key for g in inside}
    check(report, inside)
    assert [w["week"] for w in report["weekly"]] == ["2026-W12", "2026-W13"]
    assert report["range"] == {"since": "2026-03-16", "until": "2026-03-29", "team": None,
                               "generated_at": "2026-04-28T12:00:00Z", "mailbox": None}


def test_open_ended_ranges_and_a_single_day(history: list[Gen]) -> None:
    since = date(2026, 4, 1)
    check(build_report(since, None, None, NOW, RULES), [g for g in history if g.created.date() >= since])
    check(build_report(None, since, None, NOW, RULES), [g for g in history if g.created.date() <= since])
    day = date(2026, 3, 16)
    check(build_report(day, day, None, NOW, RULES), [g for g in history if g.created.date() == day])


def test_team_filter(history: list[Gen]) -> None:
    report = build_report(None, None, "enterprise", NOW, RULES)
    mine = [g for g in history if g.team == "enterprise"]
    check(report, mine)
    assert list(report["first_response"]["by_team"]) == ["enterprise"]
    breaching = report["breaching_now"]
    assert breaching["count"] == sum(g.breaching for g in mine)
    assert all(b["team"] == "enterprise" for b in breaching["tickets"])


def test_mailbox_filter(history: list[Gen]) -> None:
    billing = [g for g in history if g.id % 3 == 0]
    Ticket.update(mailbox="billing").where(Ticket.id.in_([g.id for g in billing])).execute()
    Ticket.update(mailbox="support").where(Ticket.id.not_in([g.id for g in billing])).execute()
    report = build_report(None, None, None, NOW, RULES, mailbox="billing")
    check(report, billing)
    assert report["range"]["mailbox"] == "billing"
    assert report["breaching_now"]["count"] == sum(g.breaching for g in billing)
    assert {b["ticket"] for b in report["breaching_now"]["tickets"]} <= {g.id for g in billing}
    assert "all teams, mailbox billing;" in text(report)
    # With a team too: both cut.
    both = [g for g in billing if g.team == "enterprise"]
    check(build_report(None, None, "enterprise", NOW, RULES, mailbox="billing"), both)
    assert build_report(None, None, None, NOW, RULES, mailbox="sales")["tickets"] == 0


def test_breaching_now(history: list[Gen]) -> None:
    breaching = build_report(None, None, None, NOW, RULES)["breaching_now"]
    expected = {g.id for g in history if g.breaching and g.status in ("new", "open", "pending")}
    assert breaching["count"] == len(expected)
    shown = [b["ticket"] for b in breaching["tickets"]]
    assert set(shown) <= expected and len(shown) == min(50, len(expected))
    dues = [b["due"] for b in breaching["tickets"]]
    assert dues == sorted(dues)  # most overdue first


def test_null_cases(db: None) -> None:
    empty = build_report(None, None, None, NOW, RULES)
    assert empty["tickets"] == 0 and empty["weekly"] == []
    assert empty["first_response"] == {**empty["first_response"], "met": 0, "breached": 0, "achievement": None}
    assert (empty["csat"]["responses"], empty["csat"]["satisfied"], empty["csat"]["score"]) == (0, 0, None)
    assert empty["csat"]["response_rate"] is None
    ttfr = empty["time_to_first_response"]
    assert (ttfr["median_seconds"], ttfr["p90_seconds"], ttfr["median"]) == (None, None, None)

    # Tickets without clocks or answers: counted, but no achievement and no score.
    history = [Gen(f"bare-{i}", "general", "P3", None, START + timedelta(hours=i)) for i in range(3)]
    insert(history)
    report = build_report(date(2026, 3, 2), date(2026, 3, 8), None, NOW, RULES)
    assert report["tickets"] == 3
    assert report["first_response"]["achievement"] is None
    assert report["first_response"]["by_team"]["general"]["achievement"] is None
    assert report["csat"]["score"] is None
    assert report["weekly"][0]["first_response"]["achievement"] is None
    # A range with no tickets at all still lists its weeks, empty.
    later = build_report(date(2026, 6, 1), date(2026, 6, 14), None, NOW, RULES)
    assert later["tickets"] == 0 and len(later["weekly"]) == 2
    assert all(w["first_response"]["achievement"] is None for w in later["weekly"])


def test_nearest_rank_on_small_samples(db: None) -> None:
    # Four tickets answered after 10, 20, 30, 40 minutes of 24x7 time: median is the 2nd, p90 the 4th.
    history = []
    for i, minutes in enumerate((30, 10, 40, 20)):
        g = Gen(f"small-{i}", "general", "P1", None, START + timedelta(hours=i))
        g.first_response_at, g.ttfr, g.status = g.created + timedelta(minutes=minutes), minutes * 60, "open"
        history.append(g)
    insert(history)
    ttfr = build_report(None, None, None, NOW, RULES)["time_to_first_response"]
    assert (ttfr["median_seconds"], ttfr["p90_seconds"]) == (1200, 2400)
    assert (ttfr["median"], ttfr["p90"]) == ("20m", "40m")
