"""`mailroom status`: last poll, backlog, outbox, breaches, quarantine and the rules' state."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from mailroom import clock
from mailroom.daemon.health import snapshot
from mailroom.daemon.wiring import build_signins, connect_mailbox, signin_state
from mailroom.errors import MailroomError, RulesError, TransientError
from mailroom.rules.ruleset import load_rules


def status_command(settings: Any, *, as_json: bool) -> int:
    """`mailroom status`: last poll, backlog, outbox, breaches, quarantine, rules state."""
    rules_state: dict[str, Any] = {"path": str(settings.support.rules), "state": "good", "error": None}
    try:
        load_rules(settings.support.rules, settings.support.templates)
    except RulesError as exc:
        rules_state.update(state="error", error=exc.errors[0] if exc.errors else str(exc))
    except (OSError, MailroomError) as exc:
        rules_state.update(state="error", error=str(exc))
    data = snapshot(clock.now(), rules_state, settings)
    signins = build_signins(settings)
    for box, shown in zip(settings.all_mailboxes, data["mailboxes"], strict=True):
        shown.update(_waiting(settings, box, signins.mailboxes[box.name]))
    # The totals over every mailbox, as one mailbox's status showed them before there were several.
    counts = [shown["waiting"] for shown in data["mailboxes"]]
    data["waiting"] = None if None in counts else sum(counts)
    errors = [f"{shown['name']}: {shown['error']}" if len(counts) > 1 else shown["error"]
              for shown in data["mailboxes"] if shown["error"]]
    if errors:
        data["mailbox_error"] = "; ".join(errors)
    data["signin"] = _signin(settings, data["signin"], signins)
    if as_json:
        print(json.dumps(data, indent=2))
        return 0
    for shown in data["mailboxes"]:
        waiting = shown["waiting"] if shown["waiting"] is not None else "unknown"
        problem = shown["error"] or shown["last_error"]
        print(f"mailbox {shown['name']} ({shown['ledger']}): {shown['state']}, last poll {shown['last_poll_at'] or 'never'},"
              f" {waiting} waiting" + (f" (error: {problem})" if problem else ""))
    out = data["outbox"]
    print(f"outbox: {out['queued']} mail(s) queued, oldest {out['oldest_queued_at'] or '-'}; {out['failed']} failed; {out['alerts_queued']} alert(s) queued, {out['alerts_failed']} failed")
    print(f"open breaches: {data['breaches_open']}; quarantine: {data['quarantine']}")
    for state in data["signin"]:
        until = f", token until {state['token_expires_at']}" if state["token_expires_at"] else ""
        failing = f" (failing since {state['failing_since']}: {state['error']})" if state["failing_since"] else ""
        print(f"sign-in {state['connection']}: {state['method']} ({state['key']}){until}{failing}")
    print(f"rules {rules_state['path']}: {rules_state['state']}" + (f" ({rules_state['error']})" if rules_state["error"] else ""))
    return 0


def _waiting(settings: Any, box: Any, credentials: Any) -> dict[str, Any]:
    """How many mails wait in the mailbox's folder now, asked of the server; its state and error."""
    try:
        conn = connect_mailbox(settings, tries=1, credentials=credentials, box=box)
        try:
            conn.select(box.folder)
            return {"waiting": len(conn.uids()), "state": "ok", "error": None}
        finally:
            conn.close()
    except TransientError as exc:
        return {"waiting": None, "state": "error", "error": str(exc)}


def _signin(settings: Any, recorded: list[dict[str, Any]], signins: Any) -> list[dict[str, Any]]:
    """Each mailbox's sign-in as this command just did it; SMTP's as the daemon last recorded it, else its method."""
    smtp = next((s for s in recorded if s["connection"] == "smtp"), None)
    states = [asdict(signin_state(settings.connection_of(box), signins.mailboxes[box.name]))
              for box in settings.all_mailboxes]
    if signins.smtp is not None:
        states.append(smtp or asdict(signin_state("smtp", signins.smtp)))
    return states
