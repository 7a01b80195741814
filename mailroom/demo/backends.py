"""What the demo's alerting stand-in shares: the OpsGenie schemas, recorded requests, PagerDuty and webhook answers."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SEVERITIES = ("critical", "error", "warning", "info")
Answer = tuple[int, Any, dict[str, str]]

VENDORED = Path(__file__).resolve().parent / "opsgenie_schemas"


def schema_dir() -> Path:
    """The OpsGenie schemas: $MAILROOM_OPSGENIE_SCHEMAS, shared/opsgenie beside the repository, else our copy."""
    override = os.environ.get("MAILROOM_OPSGENIE_SCHEMAS")
    beside = Path(__file__).resolve().parents[3] / "shared" / "opsgenie"
    # The copy in the package lets the demo run from a lone clone or an install; a test keeps it equal.
    folder = Path(override) if override else beside if beside.is_dir() else VENDORED
    if not (folder / "create_alert.schema.json").is_file():
        raise FileNotFoundError(f"no OpsGenie schemas in {folder}: set MAILROOM_OPSGENIE_SCHEMAS to their folder")
    return folder


def load_validator(name: str) -> Draft202012Validator:
    """A validator for one shared schema, e.g. "create_alert"."""
    return _validator(schema_dir() / f"{name}.schema.json")


@cache  # every test starts a server; the schemas are read once
def _validator(path: Path) -> Draft202012Validator:
    schema = json.loads(path.read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@dataclass
class Recorded:
    """One request as the server saw it, and the status it answered (0: dropped unanswered)."""

    method: str
    path: str  # as sent, base path included
    route: str  # from /v2/ on (or the webhook path)
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    json: Any  # None for an empty body or one that is not JSON (then bad_json is set)
    bad_json: bool
    client: tuple[str, int]
    kind: str = "unknown"  # create close acknowledge note ping request-status pagerduty webhook unknown
    alias: str | None = None
    status: int = 0
    answer: Any = None


def pagerduty_answer(rec: Recorded, routing_key: str | None) -> Answer:
    """PagerDuty Events v2's answer to an event: 202 with its dedup key, or 400 with the problems."""
    event: dict[str, Any] = rec.json if isinstance(rec.json, dict) else {}
    problems = []
    key = event.get("routing_key")
    if not isinstance(key, str) or not key or (routing_key is not None and key != routing_key):
        problems.append("'routing_key' is missing or invalid")
    action = event.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        problems.append("'event_action' must be trigger, acknowledge or resolve")
    if action == "trigger":
        payload: dict[str, Any] = event["payload"] if isinstance(event.get("payload"), dict) else {}
        summary = payload.get("summary")
        if not isinstance(summary, str) or not 1 <= len(summary) <= 1024:
            problems.append("'payload.summary' is missing or longer than 1024 characters")
        if not isinstance(payload.get("source"), str) or not payload.get("source"):
            problems.append("'payload.source' is missing")
        if payload.get("severity") not in SEVERITIES:
            problems.append("'payload.severity' must be critical, error, warning or info")
    elif not event.get("dedup_key"):
        problems.append("'dedup_key' is required to acknowledge or resolve")
    if problems:
        return 400, {"status": "invalid event", "message": "Event object is invalid", "errors": problems}, {}
    dedup_key = event.get("dedup_key") or uuid.uuid4().hex
    rec.alias = dedup_key
    return 202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key}, {}


def webhook_answer(rec: Recorded, secret: str | None) -> Answer:
    """The generic webhook's answer: 401 for a bad signature (when a secret is set), 400 for bad JSON."""
    if secret is not None:
        expected = "sha256=" + hmac.new(secret.encode(), rec.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, rec.headers.get("x-mailroom-signature", "")):
            return 401, {"message": "bad signature"}, {}
    if rec.bad_json:
        return 400, {"message": "bad JSON"}, {}
    return 200, {"ok": True}, {}
