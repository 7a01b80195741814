"""SLA clocks, breaches, pages and their alerts on a real database; alerts flushed to a local OpsGenie."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailroom.adapters.escalation import OpsgenieEscalator
from mailroom.app import alerting, clocks, cycle, tickets
from mailroom.app.context import Context
from mailroom.config.loader import load_settings
from mailroom.demo.opsgenie import OpsgenieServer
from mailroom.rules.ruleset import parse_rules
from mailroom.store import queries as store
from mailroom.store.models import Clock, Event, OutboxItem, Page, Ticket

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday
ANSWER = "Restart the proxy: the certificate was renewed overnight and the old one is cached."
RULES = """
version: 1
calendars:
  business: {timezone: "UTC", hours: {mon-fri: "09:00-17:00"}}
  always: 24x7
sla:
  P1: {first_response: 1h, next_response: 2h, resolution: 1d, calendar: always, escalate: true,
       warn_before: 15m, min_words: 25, holding_replies: ["(?i)we are on it", "(?i)looking into (it|this)"]}
  P2: {first_response: 4h, calendar: business, escalate: true}
  P3: {first_response: 1d, next_response: null, resolution: null, calendar: business}
teams:
  general: {notify: ["support-team@example.com"]}
  enterprise: {notify: ["enterprise@example.com"], opsgenie_responders: [{type: team, name: "Enterprise"}]}
defaults: {team: general, priority: P3}
"""


# --- fixtures (database_url and opsgenie come from tests/conftest.py) ------------------------------


@pytest.fixture
def db(database_url: str) -> Iterator[None]:
    """The store opened on the test's empty database."""
    handle = store.open_database(database_url)
    yield
    handle.close()


def settings_for(tmp_path: Path, opsgenie_url: str | None = "http://127.0.0.1:9", heartbeat: str = "") -> object:
    """Settings read from a mailroom.toml, as the daemon reads them."""
    table = f'[opsgenie]\napi_url = "{opsgenie_url}"\napi_key_env = "OG_KEY"\nheartbeat = "{heartbeat}"\n' if opsgenie_url else ""
    config = tmp_path / "mailroom.toml"
    config.write_text(
        '[mailbox]\nhost = "127.0.0.1"\nusername = "support"\npassword_env = "IMAP_PW"\n'
        '[smtp]\nhost = "127.0.0.1"\n'
        f'[support]\naddress = "support@example.com"\ntemplates = "{ROOT / "templates"}"\ndata_dir = "{tmp_path}"\n'
        + table
        + '[escalation]\ngive_up_after = "1h"\n[limits]\nclose_solved_after = "4d"\n'
    )
    return load_settings(config, {"IMAP_PW": "pw", "OG_KEY": "test-key", "MAILROOM_SECRET": "s" * 32})


@pytest.fixture
def ctx(db: None, tmp_path: Path) -> Context:
    """A context at T0 with OpsGenie configured."""
    return Context(settings_for(tmp_path), parse_rules(RULES), "s" * 32, T0)


def at(ctx: Context, when: datetime) -> Context:
    """The same context at another instant."""
    return dataclasses.replace(ctx, now=when)


def open_ticket(ctx: Context, priority: str = "P1", team: str = "general", subject: str = "Site is down") -> Ticket:
    """A new ticket with its clocks, as the lifecycle opens it."""
    ticket = Ticket.create(subject=subject, priority=priority, team=team, requester="ops@bigcorp.com",
                           decision={"policy_name": priority}, created_at=ctx.now, updated_at=ctx.now)
    clocks.ticket_opened(ctx, ticket, ctx.now)
    return ticket


def alert_rows(ticket: Ticket, action: str | None = None) -> list[OutboxItem]:
    query = OutboxItem.select().where((OutboxItem.ticket == ticket.id) & (OutboxItem.kind == "alert"))
    if action:
        query = query.where(OutboxItem.action == action)
    return list(query.order_by(OutboxItem.id))


def clock(ticket: Ticket, metric: str) -> Clock:
    return Clock.select().where((Clock.ticket == ticket.id) & (Clock.metric == metric)).order_by(Clock.id.desc()).get()


def mails(ticket: Ticket) -> list[OutboxItem]:
    return list(OutboxItem.select().where((OutboxItem.ticket == ticket.id) & (OutboxItem.kind == "mail")))


# --- clocks and breaches --------------------------------------------------------------------------


def test_opening_starts_the_policy_s_clocks(ctx: Context) -> None:
    ticket = open_ticket(ctx)
    metrics = {c.metric: c for c in Clock.select().where(Clock.ticket == ticket.id)}
    assert set(metrics) == {"first_response", "resolution"}
    assert metrics["first_response"].due_at == T0 + timedelta(hours=1)
    assert metrics["first_response"].warn_at == T0 + timedelta(minutes=45)
    assert metrics["resolution"].due_at == T0 + timedelta(days=1)
    assert metrics["first_response"].escalate
    p3 = open_ticket(ctx, "P3")  # P3 tracks no resolution
    assert [c.metric for c in Clock.select().where(Clock.ticket == p3.id)] == ["first_response"]
    assert clock(p3, "first_response").due_at == T0 + timedelta(days=1)  # one working day: 8h


def test_unanswered_p1_raises_exactly_one_alert(ctx: Context) -> None:
    ticket = open_ticket(ctx, team="enterprise")
    due = T0 + timedelta(hours=1)
    cycle.check_sla_once(at(ctx, due - timedelta(seconds=1)))
    assert alert_rows(ticket) == []
    cycle.check_sla_once(at(ctx, due))
    rows = alert_rows(ticket)
    assert len(rows) == 1
    row = rows[0]
    assert (row.action, row.alias, row.state) == ("open", f"mailroom-ticket-{ticket.id}-first_response", "queued")
    body = row.payload
    assert f"#{ticket.id}" in body["message"] and len(body["message"]) <= 130
    assert body["priority"] == "P1"
    assert body["details"] == {"ticket": str(ticket.id), "requester": "ops@bigcorp.com", "team": "enterprise",
                               "due": "2026-11-30T11:00:00Z", "metric": "first_response", "subject": "Site is down"}
    assert body["responders"] == [{"type": "team", "name": "Enterprise"}]
    first = clock(ticket, "first_response")
    assert (first.state, first.breached_at, first.alert_alias) == ("breached", due, row.alias)
    assert Event.select().where((Event.ticket == ticket.id) & (Event.action == "breached")).count() == 1
    for minute in range(1, 51):
        cycle.check_sla_once(at(ctx, due + timedelta(minutes=minute)))
    assert len(alert_rows(ticket)) == 1


def test_answer_after_the_breach_closes_the_alert(ctx: Context) -> None:
    ticket = open_ticket(ctx)
    cycle.check_sla_once(at(ctx, T0 + timedelta(hours=1)))
    later = T0 + timedelta(hours=2)
    assert clocks.agent_response(at(ctx, later), ticket, later, ANSWER, holding=False)
    rows = alert_rows(ticket)
    assert [(r.action, r.alias) for r in rows] == [("open", rows[0].alias), ("close", rows[0].alias)]
    first = clock(ticket, "first_response")
    assert (first.state, first.met_at) == ("breached", later)


def test_answer_before_due_raises_nothing(ctx: Context) -> None:
    ticket = open_ticket(ctx)
    reply = T0 + timedelta(minutes=30)
    assert clocks.agent_response(at(ctx, reply), ticket, reply, ANSWER, holding=False)
    cycle.check_sla_once(at(ctx, T0 + timedelta(hours=3)))
    assert alert_rows(ticket) == []
    assert (clock(ticket, "first_response").state, clock(ticket, "first_response").met_at) == ("met", reply)


def test_late_answer_before_any_check_is_a_breach_without_alert(ctx: Context) -> None:
    ticket = open_ticket(ctx)
    late = T0 + timedelta(hours=1, minutes=5)
    assert clocks.agent_response(at(ctx, late), ticket, late, ANSWER, holding=False)
    first = clock(ticket, "first_response")
    assert (first.state, first.breached_at, first.met_at) == ("breached", T0 + timedelta(hours=1), late)
    cycle.check_sla_once(at(ctx, late))
    assert alert_rows(ticket) == []


@pytest.mark.parametrize(("text", "holding"), [("We are on it!", False), (ANSWER, True)])
def test_holding_reply_leaves_first_response_running(ctx: Context, text: str, holding: bool) -> None:
    ticket = open_ticket(ctx)
    reply = T0 + timedelta(minutes=10)
    assert not clocks.agent_response(at(ctx, reply), ticket, reply, text, holding=holding)
    assert clock(ticket, "first_response").state == "running"
    cycle.check_sla_once(at(ctx, T0 + timedelta(hours=1)))
    assert [r.action for r in alert_rows(ticket)] == ["open"]


def test_holding_reply_closes_nothing(ctx: Context) -> None:
    ticket = open_ticket(ctx)
    cycle.check_sla_once(at(ctx, T0 + timedelta(hours=1)))
    late = T0 + timedelta(hours=2)
    clocks.agent_response(at(ctx, late), ticket, late, "We are on it!", holding=False)
    assert [r.action for r in alert_rows(ticket)] == ["open"]


def test_customer_follow_up_starts_next_response_once(ctx: Context) -> None:
    ticket = open_ticket(ctx)
    clocks.customer_message(ctx, ticket, T0 + timedelta(minutes=5))
    assert not Clock.select().where((Clock.ticket == ticket.id) & (Clock.metric == "next_response")).exists()
    reply = T0 + timedelta(minutes=20)
    clocks.agent_response(at(ctx, reply), ticket, reply, ANSWER, holding=False)
    followup = T0 + timedelta(minutes=40)
    clocks.customer_message(at(ctx, followup), ticket, followup)
    clocks.customer_message(at(ctx, followup), ticket, followup + timedelta(minutes=1))
    started = list(Clock.select().where((Clock.ticket == ticket.id) & (Clock.metric == "next_response")))
    assert [(c.state, c.due_at) for c in started] == [("running", followup + timedelta(hours=2))]
    answer = followup + timedelta(minutes=30)
    assert clocks.agent_response(at(ctx, answer), ticket, answer, ANSWER, holding=False)
    assert clock(ticket, "next_response").state == "met"


def test_pending_pauses_resolution_for_two_hours(ctx: Context) -> None:
    ticket = open_ticket(ctx)
    clocks.agent_response(ctx, ticket, T0 + timedelta(minutes=10), ANSWER, holding=False)
    tickets.set_status(at(ctx, T0 + timedelta(hours=1)), ticket, "pending", "agent@example.com")
    assert clock(ticket, "resolution").state == "paused"
    cycle.check_sla_once(at(ctx, T0 + timedelta(days=2)))  # a paused clock never breaches
    assert clock(ticket, "resolution").state == "paused"
    tickets.set_status(at(ctx, T0 + timedelta(hours=3)), ticket, "open", "ops@bigcorp.com")
    resolution = clock(ticket, "resolution")
    assert (resolution.state, resolution.due_at) == ("running", T0 + timedelta(days=1, hours=2))
    assert resolution.warn_at == resolution.due_at - timedelta(minutes=15)
    cycle.check_sla_once(at(ctx, T0 + timedelta(days=1, hours=1)))
    assert clock(ticket, "resolution").state == "running"
    cycle.check_sla_once(at(ctx, T0 + timedelta(days=1, hours=2)))
    assert clock(ticket, "resolution").state == "breached"


def test_priority_change_replans_from_the_start(ctx: Context) -> None:
    ticket = open_ticket(ctx, "P3")
    assert clock(ticket, "first_response").due_at == T0 + timedelta(days=1)
    ticket.priority = "P1"
    ticket.save()
    later = at(ctx, T0 + timedelta(minutes=20))
    clocks.priority_changed(later, ticket)
    first = clock(ticket, "first_response")
    assert (first.due_at, first.warn_at, first.escalate) == (T0 + timedelta(hours=1), T0 + timedelta(minutes=45), True)
    # P1 tracks a resolution that P3 did not: it counts from the ticket's creation.
    assert clock(ticket, "resolution").due_at == T0 + timedelta(days=1)
    cycle.check_sla_once(at(ctx, T0 + timedelta(hours=1)))
    assert [r.action for r in alert_rows(ticket)] == ["open"]


def test_priority_change_keeps_time_spent_pending(ctx: Context) -> None:
    ticket = open_ticket(ctx, "P2")  # 4 working hours from Monday 10:00: due 14:00
    tickets.set_status(at(ctx, T0 + timedelta(hours=1)), ticket, "pending", "agent@example.com")
    tickets.set_status(at(ctx, T0 + timedelta(hours=2)), ticket, "open", "ops@bigcorp.com")
    assert clock(ticket, "first_response").due_at == T0 + timedelta(hours=5)
    ticket.priority = "P1"
    ticket.save()
    clocks.priority_changed(at(ctx, T0 + timedelta(hours=2)), ticket)
    assert clock(ticket, "first_response").due_at == T0 + timedelta(hours=2)


def test_page_and_solved_close_both(ctx: Context) -> None:
    ticket = open_ticket(ctx, team="enterprise")
    clocks.page(ctx, ticket, "enterprise", "page", "paged by rule: outages")
    clocks.page(ctx, ticket, "security", "page-security", "database on fire")
    pages = {p.alias: p for p in Page.select().where(Page.ticket == ticket.id)}
    assert set(pages) == {f"mailroom-ticket-{ticket.id}-page", f"mailroom-ticket-{ticket.id}-page-security"}
    opens = {r.alias: r.payload for r in alert_rows(ticket, "open")}
    assert opens[f"mailroom-ticket-{ticket.id}-page"]["responders"] == [{"type": "team", "name": "Enterprise"}]
    assert opens[f"mailroom-ticket-{ticket.id}-page-security"]["responders"] == [{"type": "team", "name": "security"}]
    cycle.check_sla_once(at(ctx, T0 + timedelta(hours=1)))
    solved = at(ctx, T0 + timedelta(hours=2))
    tickets.set_status(solved, ticket, "solved", "agent@example.com")
    closes = sorted(r.alias for r in alert_rows(ticket, "close"))
    assert closes == sorted([*pages, f"mailroom-ticket-{ticket.id}-first_response"])
    assert clock(ticket, "resolution").state == "met"
    assert clock(ticket, "first_response").state == "breached"
    tickets.set_status(at(ctx, T0 + timedelta(hours=3)), ticket, "closed", "agent@example.com")
    assert len(alert_rows(ticket, "close")) == 3  # nothing closed twice


def test_paging_a_team_again_reopens_its_page(ctx: Context) -> None:
    ticket = open_ticket(ctx)
    clocks.page(ctx, ticket, "security", "page-security", "first")
    tickets.set_status(ctx, ticket, "solved", "agent@example.com")
    tickets.set_status(ctx, ticket, "open", "agent@example.com")
    clocks.page(ctx, ticket, "security", "page-security", "again")
    assert [p.state for p in Page.select().where(Page.ticket == ticket.id)] == ["open"]
    assert [r.action for r in alert_rows(ticket)] == ["open", "close", "open"]


def test_warning_is_mailed_once(ctx: Context) -> None:
    ticket = open_ticket(ctx)
    cycle.check_sla_once(at(ctx, T0 + timedelta(minutes=44)))
    assert mails(ticket) == []
    for minute in (45, 46, 50):
        cycle.check_sla_once(at(ctx, T0 + timedelta(minutes=minute)))
    sent = mails(ticket)
    assert len(sent) == 1
    assert sent[0].recipients == ["support-team@example.com"]
    assert clock(ticket, "first_response").warned_at == T0 + timedelta(minutes=45)


def test_breach_is_mailed_without_opsgenie(db: None, tmp_path: Path) -> None:
    ctx = Context(settings_for(tmp_path, opsgenie_url=None), parse_rules(RULES), "s" * 32, T0)
    ticket = open_ticket(ctx)
    clocks.agent_response(ctx, ticket, T0, ANSWER, holding=False)  # no warning mail in the way
    tickets.set_status(ctx, ticket, "open", "agent@example.com")
    clocks.customer_message(ctx, ticket, T0 + timedelta(minutes=1))
    before = len(mails(ticket))
    cycle.check_sla_once(at(ctx, T0 + timedelta(hours=3)))
    assert alert_rows(ticket) == []
    notices = mails(ticket)[before:]
    # Found already due, the clock is breached at once: no warning comes before the notice.
    assert len(notices) == 1 and b"SLA breached" in bytes(notices[0].raw)
    assert clock(ticket, "next_response").state == "breached"


def test_solved_tickets_close_by_themselves(ctx: Context) -> None:
    ticket = open_ticket(ctx, "P3")
    solved_at = T0 + timedelta(hours=1)
    tickets.set_status(at(ctx, solved_at), ticket, "solved", "agent@example.com")
    cycle.check_sla_once(at(ctx, solved_at + timedelta(days=4) - timedelta(seconds=1)))
    assert Ticket.get_by_id(ticket.id).status == "solved"
    cycle.check_sla_once(at(ctx, solved_at + timedelta(days=4)))
    closed = Ticket.get_by_id(ticket.id)
    assert (closed.status, closed.closed_at) == ("closed", solved_at + timedelta(days=4))
    assert Event.select().where((Event.ticket == ticket.id) & (Event.detail == "solved → closed")).count() == 1


def test_reopening_restarts_resolution(ctx: Context) -> None:
    ticket = open_ticket(ctx)
    tickets.set_status(at(ctx, T0 + timedelta(hours=2)), ticket, "solved", "agent@example.com")
    reopened = T0 + timedelta(hours=5)
    tickets.set_status(at(ctx, reopened), ticket, "open", "ops@bigcorp.com")
    resolutions = list(Clock.select().where((Clock.ticket == ticket.id) & (Clock.metric == "resolution")).order_by(Clock.id))
    assert [(c.state, c.due_at) for c in resolutions] == [
        ("met", T0 + timedelta(days=1)), ("running", reopened + timedelta(days=1))]


def test_clock_view_is_the_contract_s(ctx: Context) -> None:
    ticket = open_ticket(ctx)
    view = clocks.clock_view(ticket)
    assert view["first_response_due"] == "2026-11-30T11:00:00Z"
    assert view["breached"] is False
    assert view["clocks"][0] == {
        "metric": "first_response", "due": "2026-11-30T11:00:00Z", "state": "running", "met_at": None,
        "breached_at": None,
        "alert": {"alias": f"mailroom-ticket-{ticket.id}-first_response", "state": "none", "last_error": None},
    }
    cycle.check_sla_once(at(ctx, T0 + timedelta(hours=1)))
    view = clocks.clock_view(ticket)
    assert view["breached"] is True
    assert view["clocks"][0]["breached_at"] == "2026-11-30T11:00:00Z"


# --- alerts at a local OpsGenie -------------------------------------------------------------------


@pytest.fixture
def escalator(opsgenie: OpsgenieServer) -> Iterator[OpsgenieEscalator]:
    client = OpsgenieEscalator(opsgenie.url, "test-key")
    yield client
    client.close_client()


def flush_until_quiet(ctx: Context, escalator: OpsgenieEscalator, rows: list[OutboxItem], tries: int = 20) -> Context:
    """Flush, moving time to each row's next attempt, until none of `rows` is queued."""
    for _ in range(tries):
        alerting.flush_alerts_once(ctx, escalator)
        waiting = [OutboxItem.get_by_id(r.id) for r in rows]
        waiting = [r for r in waiting if r.state == "queued"]
        if not waiting:
            return ctx
        ctx = at(ctx, max(ctx.now, min(r.next_attempt_at for r in waiting)))
    raise AssertionError("rows still queued")


def breached(ctx: Context) -> tuple[Ticket, Context]:
    ticket = open_ticket(ctx, team="enterprise")
    due = at(ctx, T0 + timedelta(hours=1))
    cycle.check_sla_once(due)
    return ticket, due


def test_alert_arrives_once_through_503s_and_429s(ctx: Context, opsgenie: OpsgenieServer,
                                                  escalator: OpsgenieEscalator) -> None:
    ticket, now = breached(ctx)
    alias = f"mailroom-ticket-{ticket.id}-first_response"
    opsgenie.fail_next(3, 503)
    opsgenie.fail_next(2, 429)
    alerting.flush_alerts_once(now, escalator)
    row = alert_rows(ticket)[0]
    assert (row.state, row.attempts) == ("queued", 1)
    assert row.next_attempt_at - now.now <= timedelta(seconds=5)
    flush_until_quiet(now, escalator, [row])
    row = OutboxItem.get_by_id(row.id)
    assert (row.state, row.attempts) == ("sent", 6)
    assert len(opsgenie.creates(alias)) == 1
    assert clock(ticket, "first_response").alert_state == "open"
    assert clocks.clock_view(ticket)["clocks"][0]["alert"]["state"] == "open"
    alerting.flush_alerts_once(at(now, now.now + timedelta(hours=1)), escalator)
    assert len(opsgenie.creates(alias)) == 1


def test_close_waits_for_its_open(ctx: Context, opsgenie: OpsgenieServer, escalator: OpsgenieEscalator) -> None:
    ticket, now = breached(ctx)
    alias = f"mailroom-ticket-{ticket.id}-first_response"
    opsgenie.fail_next(1, 503)
    alerting.flush_alerts_once(now, escalator)  # the open must wait
    clocks.agent_response(now, ticket, now.now, ANSWER, holding=False)
    alerting.flush_alerts_once(now, escalator)
    assert opsgenie.closes(alias) == []
    flush_until_quiet(now, escalator, alert_rows(ticket))
    kinds = [r.kind for r in opsgenie.requests if r.alias == alias and r.status == 202]
    assert kinds == ["create", "close"]
    assert not opsgenie.alerts[alias]["open"]
    assert clock(ticket, "first_response").alert_state == "closed"


def test_422_is_not_retried_and_recorded(ctx: Context, opsgenie: OpsgenieServer, escalator: OpsgenieEscalator) -> None:
    ticket, now = breached(ctx)
    opsgenie.fail_next(1, 422)
    alerting.flush_alerts_once(now, escalator)
    row = alert_rows(ticket)[0]
    assert (row.state, row.attempts) == ("failed", 1)
    assert "422" in row.last_error and "not processable" in row.last_error
    alert = clocks.clock_view(ticket)["clocks"][0]["alert"]
    assert alert["state"] == "failed" and "not processable" in alert["last_error"]
    assert Event.select().where((Event.ticket == ticket.id) & (Event.action == "alert refused")).count() == 1
    alerting.flush_alerts_once(at(now, now.now + timedelta(hours=1)), escalator)
    assert len(opsgenie.requests) == 1
    # Nothing is open at OpsGenie, so solving the ticket queues no close for it.
    tickets.set_status(now, ticket, "solved", "agent@example.com")
    assert alert_rows(ticket, "close") == []


def test_page_and_solve_reach_opsgenie(ctx: Context, opsgenie: OpsgenieServer, escalator: OpsgenieEscalator) -> None:
    ticket = open_ticket(ctx, team="enterprise")
    clocks.page(ctx, ticket, "enterprise", "page", "paged by rule")
    alerting.flush_alerts_once(ctx, escalator)
    alias = f"mailroom-ticket-{ticket.id}-page"
    assert opsgenie.alerts[alias]["open"]
    tickets.set_status(ctx, ticket, "solved", "agent@example.com")
    alerting.flush_alerts_once(ctx, escalator)
    assert not opsgenie.alerts[alias]["open"]
    assert Page.get(Page.alias == alias).state == "closed"


def test_retries_give_up_after_the_configured_time(ctx: Context, opsgenie: OpsgenieServer,
                                                   escalator: OpsgenieEscalator) -> None:
    ticket, now = breached(ctx)
    opsgenie.fail_next(1000, 503)
    alerting.flush_alerts_once(now, escalator)
    alerting.flush_alerts_once(at(now, now.now + timedelta(hours=1)), escalator)  # give_up_after = 1h
    row = alert_rows(ticket)[0]
    assert row.state == "failed" and "503" in row.last_error
    assert clock(ticket, "first_response").alert_state == "failed"


def test_heartbeat_is_pinged_when_named(db: None, tmp_path: Path, opsgenie: OpsgenieServer,
                                        escalator: OpsgenieEscalator) -> None:
    named = Context(settings_for(tmp_path, opsgenie.url, heartbeat="mailroom"), parse_rules(RULES), "s" * 32, T0)
    assert alerting.heartbeat(named, escalator).state == "sent"
    assert len(opsgenie.pings()) == 1
    unnamed = Context(settings_for(tmp_path, opsgenie.url), parse_rules(RULES), "s" * 32, T0)
    assert alerting.heartbeat(unnamed, escalator) is None
    assert len(opsgenie.pings()) == 1


def test_one_flush_sends_every_due_row(ctx: Context, opsgenie: OpsgenieServer, escalator: OpsgenieEscalator) -> None:
    opened = [open_ticket(ctx) for _ in range(12)]
    due = at(ctx, T0 + timedelta(hours=1))
    cycle.check_sla_once(due)
    assert alerting.flush_alerts_once(due, escalator) == 12
    assert sorted(r.alias for r in opsgenie.creates()) == sorted(
        f"mailroom-ticket-{t.id}-first_response" for t in opened)
