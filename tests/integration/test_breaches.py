"""`mailroom status`, the report and the metrics count the same open breaches, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mailroom.daemon.health import snapshot
from mailroom.daemon.metrics import open_breaches_by_policy
from mailroom.report.figures import build_report
from mailroom.rules.ruleset import parse_rules
from mailroom.store.models import MODELS, Clock, Ticket
from mailroom.store.queries import open_database

NOW = datetime(2026, 4, 28, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
RULES = parse_rules("""
version: 1
calendars: {always: 24x7}
sla:
  P3: {first_response: 1h, next_response: 1h, calendar: always}
agents: ["*@example.com"]
teams:
  general: {notify: ["support-team@example.com"]}
  billing: {notify: ["billing@example.com"]}
defaults: {team: general, priority: P3}
rules: []
""")


@pytest.fixture
def db(database_url: str) -> Iterator[None]:
    """An empty, opened database."""
    conn = open_database(database_url)
    for model in reversed(MODELS):
        model.delete().execute()
    yield
    conn.close()


def ticket(subject: str, status: str, *clocks: dict[str, Any], team: str = "general") -> int:
    """A ticket created three hours before NOW with these clocks (metric, state, due, met and breached times)."""
    created = NOW - 3 * HOUR
    row = Ticket.create(subject=subject, status=status, team=team, requester=f"{subject}@example.org",
                        created_at=created, updated_at=created)
    for clock in clocks:
        Clock.create(ticket=row.id, metric=clock.get("metric", "first_response"), started_at=created,
                     due_at=clock.get("due_at"), state=clock["state"], met_at=clock.get("met_at"),
                     breached_at=clock.get("breached_at"))
    return row.id


def breached(**extra: Any) -> dict[str, Any]:
    return {"state": "breached", "due_at": NOW - 2 * HOUR, "breached_at": NOW - 2 * HOUR, **extra}


def both(team: str | None = None) -> tuple[int, dict[str, Any]]:
    """What `status` says of open breaches, and the report's list of tickets breaching now."""
    return snapshot(NOW)["breaches_open"], build_report(None, None, team, NOW, RULES)["breaching_now"]


def scraped() -> int:
    """The metrics endpoint's `mailroom_open_breaches`, summed over its policies."""
    return sum(open_breaches_by_policy(NOW).values())


def test_status_and_report_agree_on_which_breaches_are_open(db: None) -> None:
    unanswered = ticket("unanswered", "new", breached())
    # Past due and unanswered, before the SLA job came round to mark it: `status` missed these.
    unmarked = ticket("unmarked", "open", {"state": "running", "due_at": NOW - HOUR})
    unmarked_next = ticket("unmarked reply", "open", {"metric": "next_response", "state": "running",
                                                      "due_at": NOW - timedelta(minutes=1)})
    # Two broken promises on one ticket are one ticket breaching: `status` counted clocks.
    twice = ticket("twice", "pending", breached(),
                   {"metric": "resolution", "state": "running", "due_at": NOW - HOUR})
    # Answered late: the clock stays `breached` for the report, but nobody waits any more;
    # `status` still counted it as open.
    ticket("answered late", "open", breached(met_at=NOW - HOUR))
    ticket("solved unanswered", "solved", breached())
    ticket("closed past due", "closed", {"state": "running", "due_at": NOW - HOUR})
    ticket("waiting on the customer", "pending", {"state": "paused", "due_at": NOW - HOUR})
    ticket("not due yet", "new", {"state": "running", "due_at": NOW + HOUR})
    ticket("no due time", "new", {"state": "running", "due_at": None})
    ticket("met on time", "open", {"state": "met", "due_at": NOW - HOUR, "met_at": NOW - 2 * HOUR})

    count, listed = both()
    assert count == listed["count"] == 4
    # The metrics gauge counts by the same rule: it missed the unmarked ones, too.
    assert scraped() == 4
    assert {b["ticket"] for b in listed["tickets"]} == {unanswered, unmarked, unmarked_next, twice}
    [entry] = [b for b in listed["tickets"] if b["ticket"] == twice]
    assert sorted(entry["metrics"]) == ["first_response", "resolution"]


def test_the_answer_that_comes_closes_the_breach_for_both(db: None) -> None:
    waiting = ticket("waiting", "open", breached())
    assert both()[0] == both()[1]["count"] == scraped() == 1
    Clock.update(met_at=NOW - HOUR).where(Clock.ticket == waiting).execute()
    count, listed = both()
    assert count == listed["count"] == scraped() == 0 and listed["tickets"] == []


def test_an_empty_database_has_no_breaches(db: None) -> None:
    count, listed = both()
    assert count == listed["count"] == 0


def test_the_breach_list_is_one_query_whatever_the_number_of_tickets(
    db: None, caplog: pytest.LogCaptureFixture
) -> None:
    def statements(team: str) -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            listed = build_report(None, None, team, NOW, RULES)["breaching_now"]
        assert listed["count"] == (1 if team == "general" else 40)
        return len([r for r in caplog.records if r.name == "peewee"])

    ticket("one", "new", breached())
    for i in range(40):
        ticket(f"many-{i}", "open", breached(), {"metric": "resolution", "state": "running",
                                                "due_at": NOW - HOUR}, team="billing")
    # The same statements for one breaching ticket as for forty: none is issued per ticket.
    assert statements("general") == statements("billing")
