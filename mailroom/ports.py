"""What the use-cases and the adapters share: the values and protocols at their seam.

`app` is handed an Escalator and a MailSender and speaks to them in these types; the adapters
implement them. Neither side imports the other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

PRIORITIES = ("P1", "P2", "P3", "P4", "P5")

# --- alerts out --------------------------------------------------------------------------------

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


# --- mail out ----------------------------------------------------------------------------------

Item = tuple[str, list[str], bytes]  # envelope sender, recipients, the mail's bytes


@dataclass(frozen=True)
class Result:
    """What became of one mail: sent, retry (for now) or failed (permanent), with a one-line error.

    `refused` holds the recipients the server refused (address → "code message"); a mail can be
    sent to some recipients and refused for others.
    """

    state: State
    error: str | None = None
    refused: dict[str, str] = field(default_factory=dict)
    temporary: tuple[str, ...] = ()  # refused recipients worth another try (4xx)


class MailSender(Protocol):
    """An SMTP relay: sends batches of mail, one Result each, in order."""

    def send_batch(self, items: list[Item]) -> list[Result]:
        """Send each (envelope sender, recipients, bytes); never raises for one mail's failure."""
        ...


# --- what the use-cases count -------------------------------------------------------------------


class Meter(Protocol):
    """Where the use-cases count what they do, for the metrics endpoint (the daemon's, or none)."""

    def mail_sent(self, kind: str) -> None:
        """One mail left for good: an acknowledgement, a relay, a notification…"""

    def first_response(self, seconds: float) -> None:
        """A ticket got its first response, this long after it opened."""
