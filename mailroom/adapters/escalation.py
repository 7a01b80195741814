"""Escalation backends: alerts opened and closed at OpsGenie (or JSM), PagerDuty or a signed webhook."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import quote, urlsplit

import httpx

from mailroom.errors import ConfigError

SOURCE = "mailroom"
TIMEOUT = 10.0  # seconds; an answer slower than this is retried like a server away
USER_AGENT = "mailroom"
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
PAGERDUTY_SEVERITY = {"P1": "critical", "P2": "error", "P3": "warning"}  # P4, P5: info

# OpsGenie's documented limits (shared/opsgenie/*.schema.json); longer values are refused with 422.
MESSAGE_MAX = 130
DESCRIPTION_MAX = 15000
DETAILS_MAX = 8000
TAGS_MAX, TAG_MAX = 20, 50
RESPONDERS_MAX = 50
ENTITY_MAX = 512
NOTE_MAX = 25000
ERROR_BODY_MAX = 300  # of a refusal's body in Outcome.error

State = Literal["sent", "retry", "failed"]


def shorten(text: str, limit: int) -> str:
    """`text` on one line, cut at a word to at most `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    # Alert messages name the ticket first, so cutting the end keeps the name.
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def fit_details(details: Mapping[Any, Any]) -> dict[str, str]:
    """Details as strings, cut so that their JSON stays within OpsGenie's 8,000 characters."""
    # The limit does not say how it counts; the serialised object is the larger plausible measure.
    fitted: dict[str, str] = {}
    for raw_key, raw_value in details.items():
        key = str(raw_key)
        fitted[key] = "" if raw_value is None else str(raw_value)
        over = _json_size(fitted) - DETAILS_MAX
        while over > 0:
            value = fitted[key]
            if len(value) <= 1:
                del fitted[key]
                return fitted
            fitted[key] = value[: max(0, len(value) - over - 1)] + "…"
            over = _json_size(fitted) - DETAILS_MAX
    return fitted


def _json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False))


@dataclass(frozen=True)
class Alert:
    """One alert to open; values are cut to what the backends accept when it is made."""

    alias: str
    message: str
    description: str = ""
    priority: str = "P3"
    tags: tuple[str, ...] = ()
    details: Mapping[str, str] = field(default_factory=dict)
    responders: tuple[Mapping[str, str], ...] = ()
    entity: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        # Outbox payloads come back from JSON with lists and loose values; normalise them once here.
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        put("message", shorten(self.message, MESSAGE_MAX) or self.alias[:MESSAGE_MAX])
        put("description", self.description[:DESCRIPTION_MAX])
        # A wrong priority must not stop the page from going out.
        put("priority", self.priority if self.priority in PRIORITIES else "P3")
        put("tags", tuple(dict.fromkeys(str(tag)[:TAG_MAX] for tag in self.tags))[:TAGS_MAX])
        put("details", fit_details(self.details))
        put("responders", tuple(dict(r) for r in self.responders)[:RESPONDERS_MAX])
        put("entity", self.entity[:ENTITY_MAX] if self.entity else None)


@dataclass(frozen=True)
class Outcome:
    """What one request to a backend came to: sent, worth retrying, or refused for good."""

    state: State
    status: int | None = None
    error: str | None = None  # one line, without secrets
    retry_after: float | None = None  # seconds, when the server said (429, 503)


class Escalator(Protocol):
    """An escalation backend: open and close alerts by alias, ping a heartbeat."""

    def open(self, alert: Alert) -> Outcome:
        """Open (or de-duplicate into) the alert with `alert.alias`."""
        ...

    def close(self, alias: str, note: str = "") -> Outcome:
        """Close the alert with `alias`; closing one that is not open succeeds."""
        ...

    def ping(self, heartbeat: str) -> Outcome:
        """Tell the backend this worker is alive."""
        ...

    def close_client(self) -> None:
        """Release the HTTP connections."""
        ...


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
