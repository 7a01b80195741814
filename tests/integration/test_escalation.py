"""The escalation backends against a local server speaking OpsGenie's, PagerDuty's and a webhook's API."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from mailroom.adapters.escalation import (
    OpsgenieEscalator,
    PagerDutyEscalator,
    WebhookEscalator,
    build_escalator,
    classify,
)
from mailroom.demo.backends import load_validator
from mailroom.demo.opsgenie import OpsgenieServer
from mailroom.errors import ConfigError
from mailroom.ports import DETAILS_MAX, Alert, Outcome

ALIAS = "mailroom-ticket-42-first_response"
KEY = "test-key"  # the fake's default


def alert(**changes: object) -> Alert:
    """A breach alert as the SLA check raises it."""
    values: dict = {
        "alias": ALIAS,
        "message": "Ticket #42 first response overdue: Printer on fire",
        "description": "Due 2025-03-03T10:00:00Z, not answered.",
        "priority": "P2",
        "tags": ["mailroom", "sla"],
        "details": {"ticket": "42", "requester": "ann@example.com", "team": "Enterprise",
                    "due": "2025-03-03T10:00:00Z"},
        "responders": [{"type": "team", "name": "Enterprise"}],
    }
    return Alert(**{**values, **changes})


def secret(value: str) -> SimpleNamespace:
    """A stand-in for config's secret values."""
    return SimpleNamespace(reveal=lambda: value)


@pytest.fixture
def escalator(opsgenie: OpsgenieServer) -> Iterator[OpsgenieEscalator]:
    """An OpsGenie escalator pointed at the fake."""
    esc = OpsgenieEscalator(opsgenie.url, KEY)
    yield esc
    esc.close_client()


# --- OpsGenie ---------------------------------------------------------------------------------


def test_open_sends_a_valid_create_alert(opsgenie: OpsgenieServer, escalator: OpsgenieEscalator) -> None:
    assert escalator.open(alert()) == Outcome("sent", 202)
    (rec,) = opsgenie.requests
    assert (rec.method, rec.path) == ("POST", "/v2/alerts")
    assert rec.headers["authorization"] == f"GenieKey {KEY}"
    assert rec.headers["content-type"] == "application/json"
    load_validator("create_alert").validate(rec.json)
    assert rec.json == {
        "message": "Ticket #42 first response overdue: Printer on fire",
        "alias": ALIAS,
        "description": "Due 2025-03-03T10:00:00Z, not answered.",
        "priority": "P2",
        "tags": ["mailroom", "sla"],
        "details": {"ticket": "42", "requester": "ann@example.com", "team": "Enterprise",
                    "due": "2025-03-03T10:00:00Z"},
        "responders": [{"type": "team", "name": "Enterprise"}],
        "source": "mailroom",
    }
    assert opsgenie.alerts[ALIAS]["open"]


def test_entity_is_sent_when_given(opsgenie: OpsgenieServer, escalator: OpsgenieEscalator) -> None:
    escalator.open(alert(entity="ticket-42"))
    assert opsgenie.creates()[0].json["entity"] == "ticket-42"


def test_long_message_and_details_are_cut_to_what_opsgenie_accepts(
        opsgenie: OpsgenieServer, escalator: OpsgenieEscalator) -> None:
    long = alert(message="Ticket #42 first response overdue: " + "Printer on fire again " * 20,
                 description="d" * 20000, tags=[f"tag-{i}-" + "x" * 60 for i in range(30)],
                 details={"ticket": "42", "body": "é\n\"" * 5000, "after": "dropped or cut"})
    assert escalator.open(long).state == "sent"
    body = opsgenie.creates()[0].json
    load_validator("create_alert").validate(body)
    assert len(body["message"]) <= 130 and body["message"].startswith("Ticket #42 first response overdue")
    assert body["message"].endswith("…")
    assert len(json.dumps(body["details"], ensure_ascii=False)) <= DETAILS_MAX
    assert body["details"]["ticket"] == "42"


def test_repeated_open_de_duplicates_and_reuses_the_connection(
        opsgenie: OpsgenieServer, escalator: OpsgenieEscalator) -> None:
    escalator.open(alert())
    escalator.open(alert())
    assert opsgenie.alerts[ALIAS]["count"] == 2
    first, second = opsgenie.requests
    assert first.client == second.client  # one kept-alive connection, not one per request


def test_close_by_alias(opsgenie: OpsgenieServer, escalator: OpsgenieEscalator) -> None:
    escalator.open(alert())
    assert escalator.close(ALIAS, "first response sent") == Outcome("sent", 202)
    rec = opsgenie.requests[-1]
    assert (rec.method, rec.path, rec.query) == ("POST", f"/v2/alerts/{ALIAS}/close", {"identifierType": "alias"})
    assert rec.headers["authorization"] == f"GenieKey {KEY}"
    load_validator("alert_action").validate(rec.json)
    assert rec.json == {"source": "mailroom", "note": "first response sent"}
    assert opsgenie.alerts[ALIAS]["open"] is False


def test_close_without_note_and_of_nothing_open_is_sent(opsgenie: OpsgenieServer, escalator: OpsgenieEscalator) -> None:
    assert escalator.close("mailroom-health-poll").state == "sent"
    assert opsgenie.closes("mailroom-health-poll")[0].json == {"source": "mailroom"}


def test_alias_is_quoted_in_the_path(opsgenie: OpsgenieServer, escalator: OpsgenieEscalator) -> None:
    odd = "mailroom-ticket-9-first response?#x"
    escalator.open(alert(alias=odd))
    escalator.close(odd)
    assert opsgenie.requests[-1].path == "/v2/alerts/mailroom-ticket-9-first%20response%3F%23x/close"
    assert opsgenie.requests[-1].query == {"identifierType": "alias"}
    assert opsgenie.alerts[odd]["open"] is False


def test_ping_the_heartbeat(opsgenie: OpsgenieServer, escalator: OpsgenieEscalator) -> None:
    assert escalator.ping("mailroom-worker") == Outcome("sent", 202)
    rec = opsgenie.requests[-1]
    assert (rec.method, rec.path) == ("POST", "/v2/heartbeats/mailroom-worker/ping")
    assert rec.headers["authorization"] == f"GenieKey {KEY}"


@pytest.mark.parametrize(("status", "state"), [(503, "retry"), (429, "retry"), (500, "retry"), (502, "retry"),
                                               (501, "failed"), (422, "failed"), (400, "failed"), (404, "failed")])
def test_refusals_are_classified(opsgenie: OpsgenieServer, escalator: OpsgenieEscalator, status: int,
                                 state: str) -> None:
    opsgenie.fail_next(1, status, body={"message": f"server says {status}"})
    outcome = escalator.open(alert())
    assert (outcome.state, outcome.status) == (state, status)
    assert outcome.error == f'HTTP {status}: {{"message": "server says {status}"}}'


def test_unprocessable_body_reaches_the_error(opsgenie: OpsgenieServer, escalator: OpsgenieEscalator) -> None:
    opsgenie.fail_next(1, 422)
    outcome = escalator.open(alert())
    assert outcome.state == "failed" and "Request body is not processable" in (outcome.error or "")


def test_throttling_carries_retry_after(opsgenie: OpsgenieServer, escalator: OpsgenieEscalator) -> None:
    opsgenie.fail_next(1, 429, retry_after="7")
    assert escalator.open(alert()).retry_after == 7.0


def test_long_error_bodies_are_cut_to_one_line(opsgenie: OpsgenieServer, escalator: OpsgenieEscalator) -> None:
    opsgenie.fail_next(1, 502, body="<html>\n<h1>502 Bad Gateway</h1>\n" + "<p>upstream</p>\n" * 100 + "</html>")
    error = escalator.open(alert()).error or ""
    assert error.startswith("HTTP 502: <html> <h1>502 Bad Gateway</h1> <p>upstream</p>")
    assert "\n" not in error and len(error) <= len("HTTP 502: ") + 300


def test_connection_refused_is_retried() -> None:
    server = OpsgenieServer(api_key=KEY).start()
    url = server.url
    server.stop()
    esc = OpsgenieEscalator(url, KEY)
    try:
        outcome = esc.open(alert())
    finally:
        esc.close_client()
    assert (outcome.state, outcome.status) == ("retry", None)
    assert "ConnectError" in (outcome.error or "")


def test_a_dropped_connection_is_retried(opsgenie: OpsgenieServer, escalator: OpsgenieEscalator) -> None:
    opsgenie.drop_next()
    assert escalator.open(alert()).state == "retry"
    assert escalator.open(alert()).state == "sent"


def test_jira_service_management_base_url_works_unchanged() -> None:
    with OpsgenieServer(api_key=KEY, prefix="/jsm/ops/integration") as server:
        esc = OpsgenieEscalator(server.url + "/", KEY)
        try:
            assert esc.open(alert()).state == "sent"
            assert esc.close(ALIAS).state == "sent"
        finally:
            esc.close_client()
        create, close = server.requests
        assert create.path == "/jsm/ops/integration/v2/alerts"
        assert close.path == f"/jsm/ops/integration/v2/alerts/{ALIAS}/close"
        assert create.headers["authorization"] == close.headers["authorization"] == f"GenieKey {KEY}"
        assert server.alerts[ALIAS]["open"] is False


def test_the_key_stays_out_of_repr_and_errors(opsgenie: OpsgenieServer) -> None:
    wrong = "og-key-never-shown"
    esc = OpsgenieEscalator(opsgenie.url, wrong)
    try:
        assert wrong not in repr(esc) and opsgenie.url in repr(esc)
        refused = esc.open(alert())
        assert (refused.state, refused.status) == ("failed", 401)
        opsgenie.fail_next(1, 400, body={"message": f"bad key {wrong}"})
        echoed = esc.open(alert())
    finally:
        esc.close_client()
    assert wrong not in repr(refused) and wrong not in repr(echoed)
    assert "[redacted]" in (echoed.error or "")


@pytest.mark.parametrize(("status", "state"), [(200, "sent"), (202, "sent"), (204, "sent"), (301, "failed"),
                                               (401, "failed"), (429, "retry"), (501, "failed"), (599, "retry")])
def test_classify(status: int, state: str) -> None:
    assert classify(status) == state


# --- PagerDuty and webhook --------------------------------------------------------------------


@pytest.mark.parametrize(("priority", "severity"), [("P1", "critical"), ("P2", "error"), ("P3", "warning"),
                                                    ("P4", "info"), ("P5", "info")])
def test_pagerduty_trigger_and_resolve(opsgenie: OpsgenieServer, priority: str, severity: str) -> None:
    routing_key = "R" * 32
    esc = PagerDutyEscalator(routing_key, opsgenie.events_url)
    try:
        assert routing_key not in repr(esc)
        assert esc.open(alert(priority=priority)) == Outcome("sent", 202)
        assert esc.close(ALIAS, "met") == Outcome("sent", 202)
        assert esc.ping("mailroom-worker") == Outcome("sent")
    finally:
        esc.close_client()
    trigger, resolve = opsgenie.requests
    assert trigger.json == {
        "routing_key": routing_key, "event_action": "trigger", "dedup_key": ALIAS, "client": "mailroom",
        "payload": {
            "summary": "Ticket #42 first response overdue: Printer on fire",
            "source": "mailroom",
            "severity": severity,
            "custom_details": {"ticket": "42", "requester": "ann@example.com", "team": "Enterprise",
                               "due": "2025-03-03T10:00:00Z", "description": "Due 2025-03-03T10:00:00Z, not answered.",
                               "tags": "mailroom, sla"},
        },
    }
    assert resolve.json == {"routing_key": routing_key, "event_action": "resolve", "dedup_key": ALIAS,
                            "client": "mailroom"}


def test_pagerduty_refusal_keeps_the_routing_key_out(opsgenie: OpsgenieServer) -> None:
    routing_key = "R" * 32
    opsgenie.fail_next(1, 400, body={"status": "invalid event", "errors": [f"routing_key {routing_key} unknown"]})
    esc = PagerDutyEscalator(routing_key, opsgenie.events_url)
    try:
        outcome = esc.open(alert())
    finally:
        esc.close_client()
    assert outcome.state == "failed" and routing_key not in (outcome.error or "")


def test_webhook_events_carry_a_verifiable_signature() -> None:
    with OpsgenieServer(webhook_secret="hook-secret") as server:
        esc = WebhookEscalator(server.hook_url, "hook-secret")
        try:
            assert "hook-secret" not in repr(esc)
            assert [esc.open(alert()).state, esc.close(ALIAS, "met").state, esc.ping("hb").state] == ["sent"] * 3
        finally:
            esc.close_client()
        opened, closed, pinged = server.hooks()
    for rec in (opened, closed, pinged):
        expected = "sha256=" + hmac.new(b"hook-secret", rec.body, hashlib.sha256).hexdigest()
        assert rec.headers["x-mailroom-signature"] == expected
    assert opened.json["event"] == "open" and opened.json["alert"]["alias"] == ALIAS
    assert opened.json["alert"]["responders"] == [{"type": "team", "name": "Enterprise"}]
    assert closed.json == {"event": "close", "alert": {"alias": ALIAS, "note": "met"}}
    assert pinged.json == {"event": "heartbeat", "heartbeat": "hb"}


def test_webhook_with_the_wrong_secret_is_refused() -> None:
    with OpsgenieServer(webhook_secret="hook-secret") as server:
        esc = WebhookEscalator(server.hook_url, "other-secret")
        try:
            outcome = esc.open(alert())
        finally:
            esc.close_client()
    assert (outcome.state, outcome.status) == ("failed", 401)


# --- the alert value and settings -------------------------------------------------------------


def test_alert_normalises_outbox_payloads() -> None:
    made = alert(priority="urgent", tags=["a", "a", "b"], details={"ticket": 42, "none": None}, entity="")
    assert made.priority == "P3"
    assert made.tags == ("a", "b")
    assert made.details == {"ticket": "42", "none": ""}
    assert made.responders == ({"type": "team", "name": "Enterprise"},)
    assert made.entity is None
    assert Alert(alias="mailroom-health-poll", message="  ").message == "mailroom-health-poll"


def settings(backend: str, **tables: object) -> SimpleNamespace:
    """Settings as config.py makes them, with only what escalation reads."""
    return SimpleNamespace(escalation=SimpleNamespace(backend=backend), opsgenie=tables.get("opsgenie"),
                           pagerduty=tables.get("pagerduty"), webhook=tables.get("webhook"))


def test_build_escalator_from_settings(opsgenie: OpsgenieServer) -> None:
    assert build_escalator(settings("opsgenie")) is None
    og = build_escalator(settings("opsgenie", opsgenie=SimpleNamespace(api_url=opsgenie.url, api_key=secret(KEY),
                                                                       heartbeat="")))
    assert isinstance(og, OpsgenieEscalator)
    try:
        assert og.open(alert()).state == "sent"
    finally:
        og.close_client()
    pd = build_escalator(settings("pagerduty", pagerduty=SimpleNamespace(routing_key=secret("R"), events_url="")))
    assert isinstance(pd, PagerDutyEscalator) and pd.events_url == "https://events.pagerduty.com/v2/enqueue"
    pd.close_client()
    hook = build_escalator(settings("webhook", webhook=SimpleNamespace(url="https://hooks.example.com/x",
                                                                       secret=secret("s"))))
    assert isinstance(hook, WebhookEscalator)
    hook.close_client()


@pytest.mark.parametrize(("backend", "named"), [("pagerduty", "pagerduty:"), ("webhook", "webhook:"),
                                                ("sms", "escalation.backend:")])
def test_build_escalator_names_the_missing_key(backend: str, named: str) -> None:
    with pytest.raises(ConfigError, match=f"^{named}"):
        build_escalator(settings(backend))
