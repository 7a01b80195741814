"""SLA breaches page OpsGenie once, at the due time, and the page stands down when answered."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest

from mailroom import clock
from mailroom.demo.backends import schema_dir

from .conftest import CUSTOMER, TEAM, Mailroom
from .mails import header, mail, reply

RULES = """
version: 1
calendars:
  always: 24x7
sla:
  P1: {first_response: 1h, resolution: 1d, calendar: always, escalate: true}
  P3: {first_response: 1d, calendar: always}
agents: ["*@example.com"]
teams:
  general: {notify: ["support-team@example.com"]}
  enterprise: {notify: ["support-team@example.com"], opsgenie_responders: [{type: team, name: "Enterprise"}]}
defaults: {team: general, priority: P3}
rules:
  - name: emergencies page at once
    if: {subject: "(?i)emergency"}
    then: {team: enterprise, priority: P1, page: true}
  - name: outages are P1
    if: {subject: "(?i)\\\\bdown\\\\b"}
    then: {priority: P1}
"""

ANSWER = (
    "Hi,\n\nthe database failover finished at 10:42 and the site is serving again; we traced the "
    "outage to a full disk on the primary and added an alert for it. We will send a written "
    "incident report tomorrow.\n\nEve"
)


@pytest.fixture
def paged(mailroom: Mailroom, opsgenie) -> Mailroom:  # noqa: ANN001
    """mailroom with OpsGenie configured and the escalation rules above."""
    mailroom.write_rules(RULES)
    with mailroom.config.open("a") as fh:
        fh.write(f'\n[opsgenie]\napi_url = "{opsgenie.url}"\napi_key_env = "OPSGENIE_API_KEY"\n')
    mailroom.env["OPSGENIE_API_KEY"] = "test-key"
    import os

    os.environ["OPSGENIE_API_KEY"] = "test-key"
    mailroom.opsgenie = opsgenie  # type: ignore[attr-defined]
    yield mailroom
    os.environ.pop("OPSGENIE_API_KEY", None)


def _at(delta: timedelta, base: datetime) -> None:
    clock.set_now(base + delta)


def _notice(room: Mailroom, ticket_id: int) -> bytes:
    tag = f"[Support #{ticket_id}]"
    return [m for m in room.dovecot.messages("engineer") if TEAM in (header(m, "To") or "") and tag in header(m, "Subject")][0]


def _open(room: Mailroom, subject: str) -> tuple[dict, datetime]:
    room.dovecot.append("support", mail(subject=subject, sender=f"<{CUSTOMER}>"))
    base = datetime.now(UTC)
    clock.set_now(base)
    assert room.run_once() == 0
    ticket = room.tickets()[-1]
    return ticket, datetime.fromisoformat(ticket["created_at"].replace("Z", "+00:00"))


def test_unanswered_p1_pages_once_at_due_time_and_closes_when_answered(paged: Mailroom) -> None:
    og = paged.opsgenie  # type: ignore[attr-defined]
    ticket, created = _open(paged, "Site is down")
    alias = f"mailroom-ticket-{ticket['id']}-first_response"
    _at(timedelta(minutes=58), created)
    assert paged.run_once() == 0
    assert og.creates(alias) == []
    _at(timedelta(minutes=61), created)
    assert paged.run_once() == 0
    [create] = og.creates(alias)
    schema = json.loads((schema_dir() / "create_alert.schema.json").read_text())
    jsonschema.validate(create.json, schema)
    assert create.json["priority"] == "P1"
    assert str(ticket["id"]) in create.json["message"] and len(create.json["message"]) <= 130
    for minute in range(50):
        _at(timedelta(minutes=62 + minute), created)
        assert paged.run_once() == 0
    assert len(og.creates(alias)) == 1

    paged.dovecot.append("support", reply(_notice(paged, ticket["id"]), ANSWER))
    assert paged.run_once() == 0
    assert len(og.closes(alias)) == 1
    shown = paged.tickets()[-1]
    clock_view = next(c for c in shown["sla"]["clocks"] if c["metric"] == "first_response")
    assert clock_view["state"] == "breached" and clock_view["alert"]["state"] == "closed"


def test_answered_in_time_sends_nothing(paged: Mailroom) -> None:
    og = paged.opsgenie  # type: ignore[attr-defined]
    ticket, created = _open(paged, "Site is down")
    _at(timedelta(minutes=20), created)
    paged.dovecot.append("support", reply(_notice(paged, ticket["id"]), ANSWER))
    assert paged.run_once() == 0
    for hours in range(1, 23):  # resolution (1d) is not due yet
        _at(timedelta(hours=hours), created)
        assert paged.run_once() == 0
    assert og.requests == []


def test_holding_reply_leaves_the_clock_running(paged: Mailroom) -> None:
    og = paged.opsgenie  # type: ignore[attr-defined]
    ticket, created = _open(paged, "Site is down")
    alias = f"mailroom-ticket-{ticket['id']}-first_response"
    _at(timedelta(minutes=10), created)
    paged.dovecot.append("support", reply(_notice(paged, ticket["id"]), "We are on it!"))
    assert paged.run_once() == 0
    assert paged.tickets()[-1]["first_response_at"] is None
    _at(timedelta(minutes=61), created)
    assert paged.run_once() == 0
    assert len(og.creates(alias)) == 1
    paged.dovecot.append("support", reply(_notice(paged, ticket["id"]), ANSWER))
    assert paged.run_once() == 0
    assert len(og.closes(alias)) == 1
    assert paged.tickets()[-1]["first_response_at"] is not None


def test_pages_open_at_once_and_close_when_solved(paged: Mailroom) -> None:
    og = paged.opsgenie  # type: ignore[attr-defined]
    ticket, created = _open(paged, "Emergency: payments failing")
    page = f"mailroom-ticket-{ticket['id']}-page"
    [create] = og.creates(page)
    assert create.json["responders"] == [{"type": "team", "name": "Enterprise"}]
    notice = _notice(paged, ticket["id"])
    paged.dovecot.append("support", reply(notice, "#page support-mgmt Customer threatens to churn\n#note"))
    assert paged.run_once() == 0
    mgmt = f"mailroom-ticket-{ticket['id']}-page-support-mgmt"
    [create] = og.creates(mgmt)
    assert create.json["responders"] == [{"type": "team", "name": "support-mgmt"}]
    assert str(ticket["id"]) in json.dumps(create.json["details"])
    assert "threatens to churn" in create.json["description"]
    paged.dovecot.append("support", reply(notice, "#status solved\n" + ANSWER))
    assert paged.run_once() == 0
    assert len(og.closes(page)) == 1 and len(og.closes(mgmt)) == 1


def test_throttled_and_failing_service_gets_the_alert_exactly_once(paged: Mailroom) -> None:
    og = paged.opsgenie  # type: ignore[attr-defined]
    ticket, created = _open(paged, "Site is down")
    alias = f"mailroom-ticket-{ticket['id']}-first_response"
    og.fail_next(3, status=503)
    og.fail_next(2, status=429)
    for minute in range(61, 61 + 12 * 10, 10):
        _at(timedelta(minutes=minute), created)
        assert paged.run_once() == 0
    assert len(og.creates(alias)) == 1
    # Faults are answered before the body is read: count the creates by route.
    assert len([r for r in og.requests if r.route == "/v2/alerts"]) == 6


def test_rejected_alert_is_not_retried_and_shows_on_the_ticket(paged: Mailroom) -> None:
    og = paged.opsgenie  # type: ignore[attr-defined]
    ticket, created = _open(paged, "Site is down")
    og.fail_next(1, status=422)
    for minute in (61, 75, 90, 120):
        _at(timedelta(minutes=minute), created)
        assert paged.run_once() == 0
    assert len([r for r in og.requests if r.route == "/v2/alerts"]) == 1
    shown = paged.tickets()[-1]
    first = next(c for c in shown["sla"]["clocks"] if c["metric"] == "first_response")
    assert first["alert"]["state"] == "failed"
    assert "422" in (first["alert"]["last_error"] or "")
