"""The local OpsGenie server answers as the real service does (shared/opsgenie/README.md)."""

from __future__ import annotations

import hashlib
import hmac
import threading
import uuid
from typing import Any

import httpx
import pytest

from mailroom.demo.opsgenie import UNPROCESSABLE, OpsgenieServer

AUTH = {"Authorization": "GenieKey test-key"}
ALERT: dict[str, Any] = {"message": "Ticket #7: first response overdue", "alias": "mailroom-ticket-7-first_response",
         "priority": "P2", "tags": ["mailroom"], "details": {"ticket": "7"},
         "responders": [{"type": "team", "name": "Enterprise"}], "source": "mailroom"}


# One client for the module: a new one per request costs more than the request.
http = httpx.Client(timeout=5)


def create(server: OpsgenieServer, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    """POST /v2/alerts straight to the fake."""
    return http.post(f"{server.url}/v2/alerts", json=body, headers=AUTH if headers is None else headers)


def close(server: OpsgenieServer, alias: str, body: object = None) -> httpx.Response:
    """POST /v2/alerts/{alias}/close?identifierType=alias straight to the fake."""
    return http.post(f"{server.url}/v2/alerts/{alias}/close", params={"identifierType": "alias"},
                     json=body, headers=AUTH)


def test_valid_alert_is_accepted_with_the_documented_answer(opsgenie: OpsgenieServer) -> None:
    answer = create(opsgenie, ALERT)
    assert answer.status_code == 202
    body = answer.json()
    assert body["result"] == "Request will be processed" and body["took"] == 0.1
    uuid.UUID(body["requestId"])
    (rec,) = opsgenie.creates()
    assert rec.json == ALERT and rec.alias == ALERT["alias"] and rec.headers["authorization"] == "GenieKey test-key"


def test_message_of_131_characters_is_unprocessable(opsgenie: OpsgenieServer) -> None:
    answer = create(opsgenie, {**ALERT, "message": "x" * 131})
    assert answer.status_code == 422
    assert answer.json()["message"] == UNPROCESSABLE == "Request body is not processable. Please check the errors."
    assert "message" in answer.json()["errors"]
    assert create(opsgenie, {**ALERT, "message": "x" * 130}).status_code == 202


@pytest.mark.parametrize("change", [
    {"details": {"note": "x" * 8001}},
    {"details": {"ticket": 7}},
    {"tags": ["t"] * 21},
    {"priority": "P6"},
    {"responders": [{"type": "team"}]},
    {"unknown": "key"},
    {"message": ""},
])
def test_schema_and_details_violations_are_unprocessable(opsgenie: OpsgenieServer, change: dict) -> None:
    answer = create(opsgenie, {**ALERT, **change})
    assert answer.status_code == 422, answer.text
    assert answer.json()["message"] == UNPROCESSABLE and answer.json()["errors"]
    assert opsgenie.creates() == [] and opsgenie.alerts == {}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "GenieKey wrong"}, {"Authorization": "Basic test-key"},
                                     {"Authorization": "test-key"}])
def test_without_the_genie_key_is_unauthorised(opsgenie: OpsgenieServer, headers: dict[str, str]) -> None:
    assert create(opsgenie, ALERT, headers=headers).status_code == 401
    assert opsgenie.alerts == {}


def test_bad_json_is_a_bad_request(opsgenie: OpsgenieServer) -> None:
    answer = http.post(f"{opsgenie.url}/v2/alerts", content=b"{not json", headers={**AUTH, "Content-Type": "application/json"})
    assert answer.status_code == 400
    assert opsgenie.requests[-1].bad_json


def test_alias_de_duplicates_while_open_and_opens_anew_after_close(opsgenie: OpsgenieServer) -> None:
    alias = ALERT["alias"]
    create(opsgenie, ALERT)
    create(opsgenie, {**ALERT, "message": "again"})
    state = opsgenie.alerts[alias]
    assert (state["open"], state["count"], state["creates"]) == (True, 2, 2)
    assert state["last"]["message"] == "again"
    first_id = state["id"]

    assert close(opsgenie, alias, {"source": "mailroom", "note": "met"}).status_code == 202
    assert opsgenie.alerts[alias]["open"] is False and opsgenie.alerts[alias]["closes"] == 1

    create(opsgenie, ALERT)
    state = opsgenie.alerts[alias]
    assert (state["open"], state["count"], state["creates"]) == (True, 1, 3)
    assert state["id"] != first_id


def test_close_by_alias_is_accepted_even_when_nothing_is_open(opsgenie: OpsgenieServer) -> None:
    answer = close(opsgenie, "never-opened")
    assert answer.status_code == 202
    status = http.get(f"{opsgenie.url}/v2/alerts/requests/{answer.json()['requestId']}", headers=AUTH)
    assert status.status_code == 200
    assert status.json()["data"]["isSuccess"] is False
    assert status.json()["data"]["status"] == "Alert does not exist"
    assert [r.alias for r in opsgenie.closes()] == ["never-opened"]


def test_close_body_is_checked_against_the_alert_action_schema(opsgenie: OpsgenieServer) -> None:
    answer = close(opsgenie, "a", {"source": "mailroom", "reason": "not a field"})
    assert answer.status_code == 422 and "body" in answer.json()["errors"]
    assert opsgenie.closes() == []


def test_request_status_is_404_until_processed_then_200() -> None:
    with OpsgenieServer(process_at_once=False) as server:
        request_id = create(server, ALERT).json()["requestId"]
        url = f"{server.url}/v2/alerts/requests/{request_id}"
        early = http.get(url, headers=AUTH)
        assert early.status_code == 404 and early.headers["X-Opsgenie-Errortype"] == "RequestNotProcessed"
        server.process_pending()
        data = http.get(url, headers=AUTH).json()["data"]
        assert data["success"] is True and data["isSuccess"] is True and data["status"] == "Created alert"
        assert data["alias"] == ALERT["alias"] and data["alertId"] == server.alerts[ALERT["alias"]]["id"]


def test_heartbeat_ping_answers_pong(opsgenie: OpsgenieServer) -> None:
    answer = http.post(f"{opsgenie.url}/v2/heartbeats/mailroom-worker/ping", headers=AUTH)
    assert answer.status_code == 202 and answer.json()["result"] == "PONG - Heartbeat received"
    assert [r.alias for r in opsgenie.pings()] == ["mailroom-worker"]


def test_any_base_path_before_v2_is_accepted(opsgenie: OpsgenieServer) -> None:
    answer = http.post(f"{opsgenie.root}/jsm/ops/integration/v2/alerts", json=ALERT, headers=AUTH)
    assert answer.status_code == 202
    assert opsgenie.requests[-1].path == "/jsm/ops/integration/v2/alerts"
    assert opsgenie.requests[-1].route == "/v2/alerts"


def test_a_required_prefix_is_required() -> None:
    with OpsgenieServer(prefix="/jsm/ops/integration") as server:
        assert server.url.endswith("/jsm/ops/integration")
        assert create(server, ALERT).status_code == 202
        assert http.post(f"{server.root}/v2/alerts", json=ALERT, headers=AUTH).status_code == 404


def test_injected_faults_answer_the_next_requests_then_stop(opsgenie: OpsgenieServer) -> None:
    opsgenie.fail_next(2, 503)
    opsgenie.fail_next(1, 429)
    assert create(opsgenie, ALERT).status_code == 503
    assert create(opsgenie, ALERT).status_code == 503
    throttled = create(opsgenie, ALERT)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "1"
    assert create(opsgenie, ALERT).status_code == 202
    assert [r.status for r in opsgenie.requests] == [503, 503, 429, 202]
    assert opsgenie.alerts[ALERT["alias"]]["count"] == 1


def test_injected_422_carries_the_documented_body(opsgenie: OpsgenieServer) -> None:
    opsgenie.fail_next(1, 422)
    answer = create(opsgenie, ALERT)
    assert answer.status_code == 422 and answer.json()["message"] == UNPROCESSABLE


def test_a_dropped_request_gets_no_answer(opsgenie: OpsgenieServer) -> None:
    opsgenie.drop_next()
    with pytest.raises(httpx.RemoteProtocolError):
        create(opsgenie, ALERT)
    assert opsgenie.requests[-1].status == 0


def test_pagerduty_events_are_accepted_and_checked() -> None:
    with OpsgenieServer(routing_key="R" * 32) as server:
        trigger = {"routing_key": "R" * 32, "event_action": "trigger", "dedup_key": "k",
                   "payload": {"summary": "s", "source": "mailroom", "severity": "error"}}
        answer = http.post(server.events_url, json=trigger)
        assert answer.status_code == 202
        assert answer.json() == {"status": "success", "message": "Event processed", "dedup_key": "k"}
        assert http.post(server.events_url, json={**trigger, "routing_key": "other"}).status_code == 400
        assert http.post(server.events_url, json={**trigger, "payload": {"summary": "s"}}).status_code == 400
        assert http.post(server.events_url, json={"routing_key": "R" * 32, "event_action": "resolve"}).status_code == 400
        assert [r.alias for r in server.events("trigger")] == ["k"]


def test_webhook_checks_the_signature_when_it_has_the_secret() -> None:
    with OpsgenieServer(webhook_secret="hook-secret") as server:
        body = b'{"event":"open"}'
        good = "sha256=" + hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
        assert http.post(server.hook_url, content=body, headers={"X-Mailroom-Signature": good}).status_code == 200
        assert http.post(server.hook_url, content=body, headers={"X-Mailroom-Signature": "sha256=00"}).status_code == 401
        (hook,) = server.hooks()
        assert hook.json == {"event": "open"} and hook.headers["x-mailroom-signature"] == good


def test_wait_for_sees_requests_from_another_thread(opsgenie: OpsgenieServer) -> None:
    threading.Timer(0.1, create, (opsgenie, ALERT)).start()
    assert opsgenie.wait_for(lambda: len(opsgenie.creates()) == 1, timeout=60)


def test_after_stop_connections_are_refused() -> None:
    server = OpsgenieServer().start()
    url = server.url
    with httpx.Client() as client:
        assert client.post(f"{url}/v2/alerts", json=ALERT, headers=AUTH).status_code == 202
        server.stop()
        # The kept-alive connection is gone too, so the next request finds nobody listening.
        with pytest.raises(httpx.TransportError):
            client.post(f"{url}/v2/alerts", json=ALERT, headers=AUTH)
    assert server.errors == []


def test_our_copy_of_the_schemas_matches_the_shared_ones() -> None:
    """The package keeps a copy of the schemas for lone clones and installs; it must not drift from the contract's."""
    from mailroom.demo.backends import VENDORED, schema_dir

    shared = schema_dir()
    for path in VENDORED.glob("*.json"):
        if shared != VENDORED:
            assert path.read_bytes() == (shared / path.name).read_bytes()
    assert sorted(p.name for p in VENDORED.glob("*.json")) == sorted(p.name for p in shared.glob("*.json"))
