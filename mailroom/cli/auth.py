"""`mailroom auth login|status`: a user's device-code sign-in for tenants without application permissions."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from mailroom.adapters.signin.build import provider_for
from mailroom.adapters.signin.microsoft import MicrosoftProvider
from mailroom.config.settings import OAuth2Settings
from mailroom.config.units import iso
from mailroom.errors import SignInError


@dataclass(frozen=True)
class Connection:
    """A connection that signs in with OAuth2, and the table it reads."""

    name: str  # imap (imap:NAME beside other mailboxes) or smtp
    username: str
    oauth2: OAuth2Settings
    shared: bool  # SMTP on the mailbox's table: signed in by the mailbox's sign-in


def oauth2_connections(settings: Any) -> list[Connection]:
    """Each mailbox's and SMTP's OAuth2 sign-ins, in that order."""
    found = [
        Connection(settings.connection_of(box), box.username, box.oauth2, False)
        for box in settings.all_mailboxes
        if box.auth == "oauth2"
    ]
    if settings.smtp.auth == "oauth2":
        shared = settings.smtp.oauth2 is settings.mailbox.oauth2
        found.append(Connection("smtp", settings.smtp.username or settings.mailbox.username, settings.smtp.oauth2, shared))
    return found


def _user_signin(settings: Any, conn: Connection) -> MicrosoftProvider:
    provider = provider_for(conn.oauth2, conn.username, settings.support.data_dir)
    assert isinstance(provider, MicrosoftProvider)
    return provider


def login_command(settings: Any, *, as_json: bool) -> int:
    """Sign in each device-code table once: the URL and code printed, the user awaited, msal's cache kept."""
    tables = [c for c in oauth2_connections(settings) if not c.shared]
    device = [c for c in tables if c.oauth2.flow == "device_code"]
    for conn in tables:
        if conn.oauth2.flow != "device_code":
            print(f'{conn.oauth2.key}: flow = "{conn.oauth2.flow}" signs in without a user; skipped', file=sys.stderr)
    if not device:
        where = tables[0].oauth2.key + ".flow" if tables else "mailbox.auth"
        raise SignInError(f'{where}: no connection signs in with flow = "device_code"; nothing to sign in')
    # With --json, stdout is the answer alone: the instructions go to the terminal through stderr.
    out = sys.stderr if as_json else sys.stdout
    done = []
    for conn in device:
        key = conn.oauth2.key

        def say(text: str, key: str = key) -> None:
            print(f"{key}: {text}", file=out, flush=True)

        signed_in = _user_signin(settings, conn).login(say)
        until = iso(signed_in.expires_at) if signed_in.expires_at else None
        done.append({"connection": conn.name, "key": key, "signed_in": True,
                     "account": signed_in.account, "expires_at": until})
        print(f"{key}: signed in as {signed_in.account}" + (f", token until {until}" if until else ""),
              file=out, flush=True)
    if as_json:
        print(json.dumps({"connections": done}, indent=2))
    return 0


def status_command(settings: Any, recorded: dict[str, Any], *, as_json: bool) -> int:
    """Each OAuth2 connection: provider and flow, who is signed in and until when; never a token."""
    rows = [_status(settings, conn, recorded.get(conn.name)) for conn in oauth2_connections(settings)]
    if as_json:
        print(json.dumps({"connections": rows}, indent=2))
        return 0
    if not rows:
        print('no connection signs in with OAuth2 (mailbox.auth = "password")')
    for row in rows:
        head = f"{row['connection']} ({row['key']}): {row['provider']} {row['flow']}"
        if not row["signed_in"]:
            hint = ": run `mailroom auth login`" if row["flow"] == "device_code" else " yet (the daemon signs in by itself)"
            print(f"{head}, not signed in{hint}")
            continue
        until = f", token until {row['expires_at']}" if row["expires_at"] else ""
        print(f"{head}, signed in as {row['account']}{until}")
    return 0


def _status(settings: Any, conn: Connection, recorded: Any) -> dict[str, Any]:
    cfg = conn.oauth2
    row: dict[str, Any] = {"connection": conn.name, "key": cfg.key, "provider": cfg.provider, "flow": cfg.flow,
                           "account": None, "expires_at": None, "signed_in": False}
    if cfg.flow == "device_code":
        signed_in = _user_signin(settings, conn).signed_in()
        if signed_in is not None:
            row.update(account=signed_in.account, signed_in=True,
                       expires_at=iso(signed_in.expires_at) if signed_in.expires_at else None)
    elif recorded is not None and recorded.token_expires_at:
        # The application signs in by itself: what the daemon last saw of its token.
        row.update(account=conn.username, signed_in=recorded.failing_since is None,
                   expires_at=recorded.token_expires_at)
    return row
