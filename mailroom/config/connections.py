"""The connections of mailroom.toml: one `[mailbox]` or several `[[mailbox]]`, and `[smtp]`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mailroom.config.hosts import is_loopback
from mailroom.config.oauth2 import AUTH, oauth2_table, read_oauth2
from mailroom.config.settings import MailboxSettings, OAuth2Settings, SmtpSettings
from mailroom.config.tomlkeys import Table, show
from mailroom.errors import ConfigError

SECURITY = ("tls", "starttls", "none")
IMAP_PORTS = {"tls": 993, "starttls": 143, "none": 143}
SMTP_PORTS = {"tls": 465, "starttls": 587, "none": 25}
ADDRESS = re.compile(r'^[^@\s<>",;]+@[^@\s<>",;.]+(\.[^@\s<>",;.]+)*$')
# A name goes into alert aliases, metric labels and rules: plain letters, digits, - and _.
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def mailbox_tables(data: Any, base_dir: Path, env: Mapping[str, str]) -> list[Table]:
    """The mailbox tables as written: `[mailbox]` is one, `[[mailbox]]` one per entry, named mailbox[N]."""
    if isinstance(data, list):
        if not data:
            raise ConfigError("mailbox: expected at least one [[mailbox]] table")
        tables = []
        for index, entry in enumerate(data):
            if not isinstance(entry, dict):
                raise ConfigError(f"mailbox[{index}]: expected a table, got {show(entry)}")
            tables.append(Table(f"mailbox[{index}]", entry, base_dir, env))
        return tables
    return [Table("mailbox", data, base_dir, env)]


def read_mailboxes(tables: list[Table]) -> tuple[MailboxSettings, ...]:
    """Every mailbox, checked: names required and unique when there are several, no folder read twice."""
    boxes: list[MailboxSettings] = []
    for table in tables:
        box = _mailbox(table, several=len(tables) > 1)
        for other in boxes:
            if box.name == other.name:
                raise table.error("name", f'"{box.name}" is already the name of another mailbox')
            if box.ledger == other.ledger:
                raise table.error("folder", f'"{box.folder}" of {box.username} at {box.host} is already read by mailbox "{other.name}"')
        boxes.append(box)
    return tuple(boxes)


def addresses(table: Table, key: str) -> tuple[str, ...]:
    """A list of email addresses, lowercased."""
    found = tuple(a.strip().lower() for a in table.strings(key))
    for address in found:
        if not ADDRESS.match(address):
            raise table.expected(key, 'email addresses like ["help@example.com"]', address)
    return found


def _security(table: Table, default: str) -> tuple[str, str]:
    host = table.required("host")
    security = table.choice("security", SECURITY, default)
    if security == "none" and not is_loopback(host):
        raise table.error("security", f'"none" is only allowed for a loopback host, not "{host}"')
    return host, security


def _auth(table: Table) -> tuple[str, OAuth2Settings | None]:
    """`auth` and the oauth2 table it needs (or forbids)."""
    auth = table.choice("auth", AUTH, "password")
    oauth2 = oauth2_table(table)
    if auth == "password" and oauth2 is not None:
        raise ConfigError(f'{table.name}.oauth2: set {table.name}.auth = "oauth2" to sign in with it')
    return auth, read_oauth2(oauth2) if oauth2 is not None else None


def _name(table: Table, several: bool) -> str:
    if "name" not in table.data and not several:
        return "support"
    name = table.string("name", None if several else "support")
    if not name and several:
        raise table.error("name", "required when there are several [[mailbox]] tables")
    if not _NAME.match(name):
        raise table.expected("name", 'a short name of lower-case letters, digits, - or _, like "billing"', name)
    return name


def _mailbox(table: Table, several: bool) -> MailboxSettings:
    name = _name(table, several)
    host, security = _security(table, "tls")
    auth, oauth2 = _auth(table)
    if auth == "oauth2" and oauth2 is None:
        raise ConfigError(f'{table.name}.oauth2: required with {table.name}.auth = "oauth2" (a [{table.name}.oauth2] table)')
    return MailboxSettings(
        host=host,
        port=table.port("port", IMAP_PORTS[security]),
        security=security,
        ca_file=table.optional_path("ca_file"),
        username=table.required("username"),
        password=table.required_secret("password") if auth == "password" else None,
        folder=table.folder("folder", "INBOX"),
        processed_folder=table.folder("processed_folder", "Processed"),
        quarantine_folder=table.folder("quarantine_folder", "Quarantine"),
        idle=table.boolean("idle", True),
        poll_interval=table.duration("poll_interval", "30s", positive=True),
        auth=auth,
        oauth2=oauth2,
        name=name,
        addresses=addresses(table, "addresses"),
    )


def read_smtp(table: Table, mailbox: MailboxSettings) -> SmtpSettings:
    """[smtp]; with OAuth2 and no table of its own it signs in as the (first) mailbox."""
    host, security = _security(table, "starttls")
    auth, oauth2 = _auth(table)
    username = table.string("username", "") or None
    password = None
    if auth == "oauth2":
        oauth2 = oauth2 or mailbox.oauth2  # the mailbox's table, asked for the SMTP scope
        if oauth2 is None:
            raise ConfigError('smtp.oauth2: required with smtp.auth = "oauth2" (an [smtp.oauth2] or [mailbox.oauth2] table)')
        username = username or mailbox.username  # XOAUTH2 names the mailbox it signs in as
    else:
        # Logging in needs a password; the contract's variable is the default place to find it.
        password = table.secret("password", "MAILROOM_SMTP_PASSWORD" if username else None)
    return SmtpSettings(
        host=host,
        port=table.port("port", SMTP_PORTS[security]),
        security=security,
        ca_file=table.optional_path("ca_file"),
        username=username,
        password=password,
        auth=auth,
        oauth2=oauth2,
    )
