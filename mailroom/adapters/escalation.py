"""Escalation backends: alerts opened and closed at OpsGenie (or JSM), PagerDuty or a signed webhook."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from mailroom.errors import ConfigError
from mailroom.ports import (
    ERROR_BODY_MAX,
    NOTE_MAX,
    Alert,
    Escalator,
    Outcome,
    State,
    shorten,
)

SOURCE = "mailroom"
TIMEOUT = 10.0  # seconds; an answer slower than this is retried like a server away
USER_AGENT = "mailroom"
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
PAGERDUTY_SEVERITY = {"P1": "critical", "P2": "error", "P3": "warning"}  # P4, P5: info

def classify(status: int) -> State:
    """Sent on 2xx; retry on 429 and 5xx but 501; every other answer is refused for good."""
    if 200 <= status < 300:
        return "sent"
    if status == 429 or (500 <= status < 600 and status != 501):
        return "retry"
    return "failed"


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None  # absent, or an HTTP date: the usual backoff applies


class _HttpBackend:
    """One reused httpx client, and requests turned into Outcomes with secrets kept out."""

    def __init__(self, secret: str, timeout: float, headers: Mapping[str, str] | None = None) -> None:
        self._secret = secret
        self._client = httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT, **(headers or {})})

    def close_client(self) -> None:
        """Release the HTTP connections."""
        self._client.close()

    def _post(self, url: str, *, params: Mapping[str, str] | None = None, json_body: Any = None,
              content: bytes | None = None, headers: Mapping[str, str] | None = None) -> Outcome:
        try:
            response = self._client.post(url, params=params, json=json_body, content=content, headers=headers)
        except httpx.UnsupportedProtocol as exc:
            return Outcome("failed", None, self._one_line(f"{type(exc).__name__}: {exc}"))
        except httpx.TransportError as exc:  # refused, reset, timed out: the server is away for now
            return Outcome("retry", None, self._one_line(f"{type(exc).__name__}: {exc}"))
        state = classify(response.status_code)
        if state == "sent":
            return Outcome("sent", response.status_code)
        body = shorten(response.text, ERROR_BODY_MAX) or response.reason_phrase
        return Outcome(state, response.status_code, self._one_line(f"HTTP {response.status_code}: {body}"),
                       _retry_after(response))

    def _one_line(self, text: str) -> str:
        # A server may echo what it was sent; the secret must not reach logs or the database.
        text = " ".join(text.split())
        return text.replace(self._secret, "[redacted]") if self._secret else text


class OpsgenieEscalator(_HttpBackend):
    """OpsGenie's alert API; Jira Service Management's integration API takes the same requests."""

    def __init__(self, api_url: str, api_key: str, *, timeout: float = TIMEOUT) -> None:
        super().__init__(api_key, timeout, {"Authorization": f"GenieKey {api_key}"})
        self.api_url = api_url.rstrip("/")

    def __repr__(self) -> str:
        return f"OpsgenieEscalator(api_url={self.api_url!r})"

    def open(self, alert: Alert) -> Outcome:
        """POST /v2/alerts; OpsGenie de-duplicates on the alias while the alert is open."""
        body: dict[str, Any] = {
            "message": alert.message,
            "alias": alert.alias,
            "description": alert.description,
            "priority": alert.priority,
            "tags": list(alert.tags),
            "details": dict(alert.details),
            "responders": [dict(r) for r in alert.responders],
            "source": alert.source or SOURCE,
        }
        if alert.entity:
            body["entity"] = alert.entity
        return self._post(f"{self.api_url}/v2/alerts", json_body=body)

    def close(self, alias: str, note: str = "") -> Outcome:
        """POST /v2/alerts/{alias}/close?identifierType=alias."""
        body = {"source": SOURCE}
        if note:
            body["note"] = note[:NOTE_MAX]
        return self._post(f"{self.api_url}/v2/alerts/{quote(alias, safe='')}/close",
                          params={"identifierType": "alias"}, json_body=body)

    def ping(self, heartbeat: str) -> Outcome:
        """POST /v2/heartbeats/{name}/ping."""
        return self._post(f"{self.api_url}/v2/heartbeats/{quote(heartbeat, safe='')}/ping")


class PagerDutyEscalator(_HttpBackend):
    """PagerDuty Events API v2: trigger and resolve with the alias as dedup_key."""

    def __init__(self, routing_key: str, events_url: str = PAGERDUTY_EVENTS_URL, *,
                 timeout: float = TIMEOUT) -> None:
        super().__init__(routing_key, timeout)
        self.events_url = events_url

    def __repr__(self) -> str:
        return f"PagerDutyEscalator(events_url={self.events_url!r})"

    def open(self, alert: Alert) -> Outcome:
        """Trigger an event; PagerDuty de-duplicates on dedup_key while the incident is open."""
        details: dict[str, str] = dict(alert.details)
        if alert.description:
            details.setdefault("description", alert.description)
        if alert.tags:
            details.setdefault("tags", ", ".join(alert.tags))
        payload = {
            "summary": alert.message,
            "source": alert.entity or alert.source or SOURCE,
            "severity": PAGERDUTY_SEVERITY.get(alert.priority, "info"),
            "custom_details": details,
        }
        return self._event("trigger", alert.alias, payload=payload)

    def close(self, alias: str, note: str = "") -> Outcome:
        """Resolve by dedup_key (Events v2 takes no note)."""
        return self._event("resolve", alias)

    def ping(self, heartbeat: str) -> Outcome:
        """Events v2 has no heartbeat; nothing to send."""
        return Outcome("sent")

    def _event(self, action: str, dedup_key: str, **extra: Any) -> Outcome:
        body = {"routing_key": self._secret, "event_action": action, "dedup_key": dedup_key,
                "client": SOURCE, **extra}
        return self._post(self.events_url, json_body=body)


class WebhookEscalator(_HttpBackend):
    """A JSON POST per event, signed with HMAC-SHA256 of the body in X-Mailroom-Signature."""

    def __init__(self, url: str, secret: str, *, timeout: float = TIMEOUT) -> None:
        super().__init__(secret, timeout)
        self.url = url

    def __repr__(self) -> str:
        # Webhook URLs often carry a token in their path; the host is enough to tell them apart.
        return f"WebhookEscalator(host={urlsplit(self.url).netloc!r})"

    def open(self, alert: Alert) -> Outcome:
        """Event "open" with the whole alert."""
        return self._send({"event": "open", "alert": dataclasses.asdict(alert)})

    def close(self, alias: str, note: str = "") -> Outcome:
        """Event "close" with the alias and the note."""
        return self._send({"event": "close", "alert": {"alias": alias, "note": note}})

    def ping(self, heartbeat: str) -> Outcome:
        """Event "heartbeat" with the heartbeat's name."""
        return self._send({"event": "heartbeat", "heartbeat": heartbeat})

    def _send(self, data: Mapping[str, Any]) -> Outcome:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
        return self._post(self.url, content=body, headers={
            "Content-Type": "application/json",
            "X-Mailroom-Signature": sign(self._secret, body),
        })


def sign(secret: str, body: bytes) -> str:
    """The X-Mailroom-Signature value for `body`: sha256=<hex HMAC-SHA256>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def build_escalator(settings: Any) -> Escalator | None:
    """The configured backend; None when OpsGenie is the backend but not configured (breaches are mailed)."""
    backend = settings.escalation.backend
    if backend == "opsgenie":
        og = settings.opsgenie
        return None if og is None else OpsgenieEscalator(og.api_url, og.api_key.reveal())
    if backend == "pagerduty":
        pd = _table(settings, "pagerduty")
        # The contract's [pagerduty] table has no events_url; a config without it gets the public one.
        return PagerDutyEscalator(pd.routing_key.reveal(), getattr(pd, "events_url", None) or PAGERDUTY_EVENTS_URL)
    if backend == "webhook":
        hook = _table(settings, "webhook")
        return WebhookEscalator(hook.url, hook.secret.reveal())
    raise ConfigError(f'escalation.backend: expected opsgenie, pagerduty or webhook, got "{backend}"')


def _table(settings: Any, name: str) -> Any:
    table = getattr(settings, name, None)
    if table is None:
        raise ConfigError(f'{name}: the [{name}] table is required when escalation.backend = "{name}"')
    return table
