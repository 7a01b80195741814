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
    data = snapshot(clock.now(), rules_state)
    signins = build_signins(settings)
    try:
        conn = connect_mailbox(settings, tries=1, credentials=signins.imap)
        try:
            conn.select(settings.mailbox.folder)
            data["waiting"] = len(conn.uids())
        finally:
            conn.close()
    except TransientError as exc:
        data["waiting"] = None
        data["mailbox_error"] = str(exc)
    data["signin"] = _signin(data["signin"], signins)
    if as_json:
        print(json.dumps(data, indent=2))
        return 0
    for box in data["mailboxes"]:
        print(f"mailbox {box['name']}: last poll {box['last_poll_at'] or 'never'}" + (f" (error: {box['last_error']})" if box["last_error"] else ""))
    print(f"waiting in the mailbox: {data['waiting'] if data['waiting'] is not None else 'unknown (' + data.get('mailbox_error', '') + ')'}")
    out = data["outbox"]
    print(f"outbox: {out['queued']} mail(s) queued, oldest {out['oldest_queued_at'] or '-'}; {out['failed']} failed; {out['alerts_queued']} alert(s) queued, {out['alerts_failed']} failed")
    print(f"open breaches: {data['breaches_open']}; quarantine: {data['quarantine']}")
    for state in data["signin"]:
        until = f", token until {state['token_expires_at']}" if state["token_expires_at"] else ""
        failing = f" (failing since {state['failing_since']}: {state['error']})" if state["failing_since"] else ""
        print(f"sign-in {state['connection']}: {state['method']} ({state['key']}){until}{failing}")
    print(f"rules {rules_state['path']}: {rules_state['state']}" + (f" ({rules_state['error']})" if rules_state["error"] else ""))
    return 0


def _signin(recorded: list[dict[str, Any]], signins: Any) -> list[dict[str, Any]]:
    """IMAP's sign-in as this command just did it; SMTP's as the daemon last recorded it, else its method."""

    smtp = next((s for s in recorded if s["connection"] == "smtp"), None)
    states = [asdict(signin_state("imap", signins.imap))]
    if signins.smtp is not None:
        states.append(smtp or asdict(signin_state("smtp", signins.smtp)))
    return states
