"""A local HTTP server speaking OpsGenie's alert API (plus PagerDuty Events v2 and a webhook) for tests."""

from __future__ import annotations

import contextlib
import hmac
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from mailroom.demo.backends import (
    Answer,
    Recorded,
    load_validator,
    pagerduty_answer,
    webhook_answer,
)

ACCEPTED = "Request will be processed"
UNPROCESSABLE = "Request body is not processable. Please check the errors."
DETAILS_MAX = 8000
IDENTIFIER_TYPES = ("id", "alias", "tiny")
ENQUEUE = "/v2/enqueue"  # PagerDuty Events v2, at any base path
HOOK = "/hook"  # the generic webhook, at any base path
ACTIONS = {"close": ("Close", "Closed alert"), "acknowledge": ("Acknowledge", "Acknowledged alert"),
           "notes": ("AddNote", "Added note")}



@dataclass(frozen=True)
class _Fault:
    status: int  # 0: close the connection without an answer
    body: Any
    retry_after: str | None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: OpsgenieServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real service and httpx's pool expect
    server: _Server
    timeout = 30  # an idle keep-alive connection does not hold its thread for ever

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle holds the body ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.fake._connections.add(self.connection)

    def finish(self) -> None:
        self.server.fake._connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.fake._serve(self, "GET")

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.server.fake._serve(self, "POST")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # test output stays readable; `requests` has everything


class OpsgenieServer:
    """OpsGenie's alert API on 127.0.0.1, recording every request; faults injected per test.

    `prefix` (e.g. "/jsm/ops/integration") is required before /v2/ when given; by default any
    base path is accepted, so OpsGenie and Jira Service Management style URLs both work.
    """

    def __init__(self, api_key: str = "test-key", *, prefix: str | None = None, routing_key: str | None = None,
                 webhook_secret: str | None = None, process_at_once: bool = True) -> None:
        self.api_key = api_key
        self.prefix = prefix.rstrip("/") if prefix else None
        self.routing_key = routing_key  # PagerDuty: None accepts any non-empty key
        self.webhook_secret = webhook_secret  # None: signatures are recorded, not checked
        # False: GET /v2/alerts/requests/{id} answers 404 until process_pending() is called.
        self.process_at_once = process_at_once
        self.validators = {name: load_validator(name) for name in ("create_alert", "alert_action", "add_note")}
        self.errors: list[str] = []  # bugs of this server, answered with 500
        self._lock = threading.Condition(threading.RLock())
        self._requests: list[Recorded] = []
        self._alerts: dict[str, dict[str, Any]] = {}
        self._processed: dict[str, dict[str, Any]] = {}
        self._faults: list[_Fault] = []
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- life -----------------------------------------------------------------------------------

    def start(self) -> OpsgenieServer:
        """Listen on a free port and serve in a thread."""
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-opsgenie", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open keep-alive connections, so later requests are refused."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        for conn in list(self._connections):
            with contextlib.suppress(OSError):  # already closed by the client
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(5)
        self._server = self._thread = None

    def __enter__(self) -> OpsgenieServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root(self) -> str:
        """http://127.0.0.1:PORT, without the base path."""
        if self._server is None:
            raise RuntimeError("the server is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """The api_url to configure: the root plus the required prefix, if any."""
        return self.root + (self.prefix or "")

    @property
    def events_url(self) -> str:
        """PagerDuty Events v2 enqueue URL."""
        return self.root + ENQUEUE

    @property
    def hook_url(self) -> str:
        """The generic webhook URL."""
        return self.root + HOOK

    # --- faults ---------------------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 503, *, body: Any = None, retry_after: str | None = None) -> None:
        """Answer the next `n` requests with `status` (429 carries Retry-After, 422 the documented body).

        `body` is sent as JSON, or as text when it is a str.
        """
        if body is None:
            body = {"message": UNPROCESSABLE, "errors": {"message": "injected"}} if status == 422 else {
                "message": f"injected {status}"}
        if status == 429 and retry_after is None:
            retry_after = "1"
        with self._lock:
            self._faults.extend([_Fault(status, body, retry_after)] * n)

    def process_pending(self) -> None:
        """Mark every accepted request processed, for GET /v2/alerts/requests/{id}."""
        with self._lock:
            for known in self._processed.values():
                known["done"] = True

    def drop_next(self, n: int = 1) -> None:
        """Close the connection of the next `n` requests without answering."""
        with self._lock:
            self._faults.extend([_Fault(0, None, None)] * n)

    # --- what happened --------------------------------------------------------------------------

    @property
    def requests(self) -> list[Recorded]:
        """Every request so far, in order of arrival."""
        with self._lock:
            return list(self._requests)

    @property
    def alerts(self) -> dict[str, dict[str, Any]]:
        """alias → {"id", "open", "count", "creates", "closes", "acknowledged", "notes", "last"}."""
        with self._lock:
            return {alias: dict(state) for alias, state in self._alerts.items()}

    def creates(self, alias: str | None = None) -> list[Recorded]:
        """Accepted POST /v2/alerts requests, for one alias or all."""
        return self._accepted("create", alias)

    def closes(self, alias: str | None = None) -> list[Recorded]:
        """Accepted close requests, for one alias or all."""
        return self._accepted("close", alias)

    def pings(self) -> list[Recorded]:
        """Accepted heartbeat pings."""
        return self._accepted("ping", None)

    def events(self, action: str | None = None) -> list[Recorded]:
        """Accepted PagerDuty events, of one event_action or all."""
        return [r for r in self._accepted("pagerduty", None) if action is None or r.json["event_action"] == action]

    def hooks(self) -> list[Recorded]:
        """Accepted webhook posts."""
        return self._accepted("webhook", None)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 60.0) -> bool:
        """Block until `predicate()` holds (checked on every request), or False after `timeout` seconds."""
        with self._lock:
            return self._lock.wait_for(predicate, timeout)

    def _accepted(self, kind: str, alias: str | None) -> list[Recorded]:
        return [r for r in self.requests
                if r.kind == kind and 200 <= r.status < 300 and (alias is None or r.alias == alias)]

    # --- serving --------------------------------------------------------------------------------

    def _serve(self, handler: _Handler, method: str) -> None:
        split = urlsplit(handler.path)
        raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        parsed, bad_json = _parse(raw)
        rec = Recorded(
            method=method, path=split.path, route=split.path,
            query={k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()},
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=raw, json=parsed, bad_json=bad_json, client=handler.client_address[:2],
        )
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
            try:
                status, body, headers = self._fault_answer(rec, fault) if fault else self._answer(rec)
            except Exception as exc:  # noqa: BLE001 - a bug here must show as a failure, not a hang
                self.errors.append(f"{type(exc).__name__}: {exc}")
                status, body, headers = 500, {"message": f"fake server bug: {exc}"}, {}
            rec.status, rec.answer = status, body
            # Recorded before the answer leaves, so a test sees it as soon as its call returns.
            self._requests.append(rec)
            self._lock.notify_all()
        if status == 0:
            handler.close_connection = True
            return
        # A str body goes out as text, like the HTML error page of a proxy in front of the service.
        data = b"" if body is None else body.encode() if isinstance(body, str) else json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/html" if isinstance(body, str) else "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _fault_answer(self, rec: Recorded, fault: _Fault) -> Answer:
        rec.kind = "fault"
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        return fault.status, fault.body, headers

    def _answer(self, rec: Recorded) -> Answer:
        if rec.method == "POST" and rec.path.endswith(ENQUEUE):
            rec.route, rec.kind = ENQUEUE, "pagerduty"
            return pagerduty_answer(rec, self.routing_key)
        if rec.method == "POST" and rec.path.endswith(HOOK):
            rec.route, rec.kind = HOOK, "webhook"
            return webhook_answer(rec, self.webhook_secret)
        route = self._strip_prefix(rec.path)
        if route is None:
            return _error(404, "No such path")
        rec.route = route
        if not self._authorised(rec):
            return _error(401, "Could not authenticate")
        if rec.bad_json:
            return _error(400, "Could not parse request body")
        parts = [unquote(p) for p in route.split("/")[1:]]
        match rec.method, parts:
            case "POST", ["v2", "alerts"]:
                return self._create(rec)
            case "GET", ["v2", "alerts", "requests", request_id]:
                rec.kind = "request-status"
                return self._request_status(request_id)
            case "POST", ["v2", "alerts", identifier, ("close" | "acknowledge" | "notes") as action]:
                return self._action(rec, identifier, action)
            case "POST" | "GET", ["v2", "heartbeats", name, "ping"]:
                rec.kind, rec.alias = "ping", name
                return 202, {"result": "PONG - Heartbeat received", "took": 0.1, "requestId": str(uuid.uuid4())}, {}
        return _error(404, "No such path")

    def _strip_prefix(self, path: str) -> str | None:
        if self.prefix is not None:
            return path[len(self.prefix):] if path.startswith(self.prefix + "/v2/") else None
        at = path.find("/v2/")
        return path[at:] if at >= 0 else None

    def _authorised(self, rec: Recorded) -> bool:
        scheme, _, key = rec.headers.get("authorization", "").partition(" ")
        return scheme == "GenieKey" and hmac.compare_digest(key.encode(), self.api_key.encode())

    def _create(self, rec: Recorded) -> Answer:
        rec.kind = "create"
        errors = self._violations("create_alert", rec.json)
        if not errors and sum(len(k) + len(v) for k, v in rec.json.get("details", {}).items()) > DETAILS_MAX:
            errors["details"] = f"Details can not be longer than {DETAILS_MAX} characters"
        if errors:
            return 422, {"message": UNPROCESSABLE, "errors": errors, "took": 0.0, "requestId": str(uuid.uuid4())}, {}
        alias = rec.json.get("alias") or str(uuid.uuid4())  # without an alias nothing is de-duplicated
        rec.alias = alias
        state = self._alerts.setdefault(alias, _new_state())
        if state["open"]:
            state["count"] += 1
        else:
            state.update(id=str(uuid.uuid4()), open=True, count=1, acknowledged=False, notes=[])
        state["creates"] += 1
        state["last"] = rec.json
        return self._accepted_answer("Create", "Created alert", True, alias, state["id"])

    def _action(self, rec: Recorded, identifier: str, action: str) -> Answer:
        rec.kind = {"notes": "note"}.get(action, action)
        id_type = rec.query.get("identifierType", "id")
        if id_type not in IDENTIFIER_TYPES:
            return _error(422, UNPROCESSABLE, errors={"identifierType": f"must be one of {', '.join(IDENTIFIER_TYPES)}"})
        # Close and acknowledge take an empty body too; a note needs one.
        if rec.json is not None or action == "notes":
            errors = self._violations("add_note" if action == "notes" else "alert_action", rec.json)
            if errors:
                return _error(422, UNPROCESSABLE, errors=errors)
        if id_type == "alias":
            rec.alias = identifier
        else:
            rec.alias = next((a for a, s in self._alerts.items() if s["id"] == identifier), None)
        state = self._alerts.setdefault(rec.alias, _new_state()) if rec.alias else None
        done = state is not None and state["open"]
        if state is not None and action == "close":
            state["closes"] += 1
        if state is not None and done:
            if action == "close":
                state["open"] = False
            elif action == "acknowledge":
                state["acknowledged"] = True
            else:
                state["notes"].append(rec.json["note"])
        # Accepted whatever the alert's state: the outcome shows only in the request's status.
        name, status = ACTIONS[action]
        return self._accepted_answer(name, status if done else "Alert does not exist", done, rec.alias,
                                     state["id"] if state else None)

    def _accepted_answer(self, action: str, status: str, success: bool, alias: str | None,
                         alert_id: str | None) -> Answer:
        request_id = str(uuid.uuid4())
        self._processed[request_id] = {
            "done": self.process_at_once,
            "data": {"success": success, "action": action, "processedAt": time.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                     "integrationId": "fake-integration", "isSuccess": success, "status": status,
                     "alertId": alert_id or "", "alias": alias or ""},
        }
        return 202, {"result": ACCEPTED, "took": 0.1, "requestId": request_id}, {}

    def _request_status(self, request_id: str) -> Answer:
        known = self._processed.get(request_id)
        if known is None or not known["done"]:
            return 404, {"message": "Request not processed yet", "took": 0.0, "requestId": str(uuid.uuid4())}, {
                "X-Opsgenie-Errortype": "RequestNotProcessed"}
        return 200, {"data": known["data"], "took": 0.0, "requestId": str(uuid.uuid4())}, {}

    def _violations(self, schema: str, body: Any) -> dict[str, str]:
        errors: dict[str, str] = {}
        for error in self.validators[schema].iter_errors(body):
            where = ".".join(str(p) for p in error.absolute_path) or "body"
            errors.setdefault(where, error.message[:200])
        return errors


def _parse(raw: bytes) -> tuple[Any, bool]:
    """The body's JSON (None when empty), and whether it failed to parse."""
    if not raw.strip():
        return None, False
    try:
        return json.loads(raw), False
    except ValueError:
        return None, True


def _new_state() -> dict[str, Any]:
    return {"id": None, "open": False, "count": 0, "creates": 0, "closes": 0, "acknowledged": False, "notes": [],
            "last": None}


def _error(status: int, message: str, **extra: Any) -> Answer:
    return status, {"message": message, **extra, "took": 0.0, "requestId": str(uuid.uuid4())}, {}
