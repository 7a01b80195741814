"""mailroom.toml: find it, check every key, and hand out typed, frozen settings."""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from mailroom.credentials import Secret, Source
from mailroom.errors import ConfigError
from mailroom.units import parse_duration, parse_size

DEFAULT_CONFIG = "mailroom.toml"
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SECURITY = ("tls", "starttls", "none")
BACKENDS = ("opsgenie", "pagerduty", "webhook")
SCALES = ("good-okay-bad", "1-5")
IMAP_PORTS = {"tls": 993, "starttls": 143, "none": 143}
SMTP_PORTS = {"tls": 465, "starttls": 587, "none": 25}

# Every key each table accepts; secret keys also accept their `_env` and `_file` forms.
KEYS: dict[str, tuple[str, ...]] = {
    "mailbox": ("host", "port", "security", "ca_file", "username", "password", "folder",
                "processed_folder", "quarantine_folder", "idle", "poll_interval"),
    "smtp": ("host", "port", "security", "ca_file", "username", "password"),
    "support": ("address", "name", "ticket_tag", "lists", "rules", "templates", "data_dir",
                "secret", "trusted_authserv_id"),
    "database": ("url", "password"),
    "opsgenie": ("api_url", "api_key", "heartbeat"),
    "escalation": ("backend", "give_up_after"),
    "pagerduty": ("routing_key", "events_url"),
    "webhook": ("url", "secret"),
    "health": ("stale_after",),
    "survey": ("delay", "scale"),
    "limits": ("auto_replies_per_sender_hour", "max_attachment_size", "close_solved_after"),
}
SECRET_KEYS = {"mailbox.password", "smtp.password", "support.secret", "database.password",
               "opsgenie.api_key", "pagerduty.routing_key", "webhook.secret"}

_ADDRESS = re.compile(r'^[^@\s<>",;]+@[^@\s<>",;.]+(\.[^@\s<>",;.]+)*$')
_URL = re.compile(r"^https?://[^\s/]+")
_TOML_POSITION = re.compile(r"^(.*) \(at line (\d+), column (\d+)\)$")


@dataclass(frozen=True, slots=True)
class MailboxSettings:
    """[mailbox]: the support mailbox, over IMAP."""

    host: str
    port: int
    security: str
    ca_file: Path | None
    username: str
    password: Secret
    folder: str
    processed_folder: str
    quarantine_folder: str
    idle: bool
    poll_interval: timedelta


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """[smtp]: where outbound mail is handed over."""

    host: str
    port: int
    security: str
    ca_file: Path | None
    username: str | None
    password: Secret | None


@dataclass(frozen=True, slots=True)
class SupportSettings:
    """[support]: the address, its rules and templates, and where data is kept."""

    address: str
    name: str
    ticket_tag: str
    lists: tuple[str, ...]
    rules: Path
    templates: Path
    data_dir: Path
    secret: Secret | None
    trusted_authserv_id: str


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    """[database]: a SQLite or PostgreSQL URL, the password kept out of it."""

    url: str
    password: Secret | None


@dataclass(frozen=True, slots=True)
class OpsgenieSettings:
    """[opsgenie]: present means breaches page OpsGenie."""

    api_url: str
    api_key: Secret
    heartbeat: str


@dataclass(frozen=True, slots=True)
class EscalationSettings:
    """[escalation]: which backend pages, and when undeliverable mail or alerts are given up."""

    backend: str
    give_up_after: timedelta


@dataclass(frozen=True, slots=True)
class PagerdutySettings:
    """[pagerduty]: the Events API v2 integration."""

    routing_key: Secret
    events_url: str


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """[webhook]: a signed JSON POST per alert."""

    url: str
    secret: Secret


@dataclass(frozen=True, slots=True)
class HealthSettings:
    """[health]: when a stuck poller or sender pages."""

    stale_after: timedelta


@dataclass(frozen=True, slots=True)
class SurveySettings:
    """[survey]: the satisfaction survey after a ticket is solved."""

    delay: timedelta
    scale: str


@dataclass(frozen=True, slots=True)
class LimitsSettings:
    """[limits]: rate and size limits."""

    auto_replies_per_sender_hour: int
    max_attachment_size: int
    close_solved_after: timedelta


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything in mailroom.toml, checked and typed."""

    path: Path
    base_dir: Path
    mailbox: MailboxSettings
    smtp: SmtpSettings
    support: SupportSettings
    database: DatabaseSettings
    opsgenie: OpsgenieSettings | None
    escalation: EscalationSettings
    pagerduty: PagerdutySettings | None
    webhook: WebhookSettings | None
    health: HealthSettings
    survey: SurveySettings
    limits: LimitsSettings

    def require_connection_secrets(self) -> None:
        """Read every secret a connecting command needs; ConfigError naming the first unreadable key."""
        self.mailbox.password.reveal()
        if self.smtp.username and self.smtp.password is not None:
            self.smtp.password.reveal()
        backend = self.escalation.backend
        if backend == "opsgenie" and self.opsgenie is not None:
            self.opsgenie.api_key.reveal()
        elif backend == "pagerduty" and self.pagerduty is not None:
            self.pagerduty.routing_key.reveal()
        elif backend == "webhook" and self.webhook is not None:
            self.webhook.secret.reveal()


def resolve_config_path(cli_path: str | None, env: Mapping[str, str]) -> Path:
    """`--config PATH`, else `$MAILROOM_CONFIG`, else `./mailroom.toml`."""
    chosen = cli_path or env.get("MAILROOM_CONFIG") or DEFAULT_CONFIG
    return Path(chosen).expanduser()


def load_settings(path: Path, env: Mapping[str, str] = os.environ) -> Settings:
    """Read and check `path`; ConfigError with one line naming the first bad key."""
    path = Path(path)
    absolute = path.expanduser().resolve()
    data = _read_toml(path, absolute)
    base_dir = absolute.parent
    _check_known_keys(data)
    tables = {name: _Table(name, data.get(name), base_dir, env) for name in KEYS}

    # Built in file order, so the first bad key reported is the first one a reader meets.
    mailbox = _mailbox(tables["mailbox"])
    smtp = _smtp(tables["smtp"])
    support = _support(tables["support"])
    database = _database(tables["database"], support.data_dir)
    opsgenie = _opsgenie(tables["opsgenie"])
    escalation = EscalationSettings(
        backend=tables["escalation"].choice("backend", BACKENDS, "opsgenie"),
        give_up_after=tables["escalation"].duration("give_up_after", "5d", positive=True),
    )
    for backend in ("pagerduty", "webhook"):
        if escalation.backend == backend and not tables[backend].present:
            raise ConfigError(
                f'{backend}: the [{backend}] table is required when escalation.backend = "{backend}"')
    return Settings(
        path=absolute,
        base_dir=base_dir,
        mailbox=mailbox,
        smtp=smtp,
        support=support,
        database=database,
        opsgenie=opsgenie,
        escalation=escalation,
        pagerduty=_pagerduty(tables["pagerduty"]),
        webhook=_webhook(tables["webhook"]),
        health=HealthSettings(stale_after=tables["health"].duration("stale_after", "10m", positive=True)),
        survey=SurveySettings(
            delay=tables["survey"].duration("delay", "1h"),
            scale=tables["survey"].choice("scale", SCALES, "good-okay-bad"),
        ),
        limits=LimitsSettings(
            auto_replies_per_sender_hour=tables["limits"].integer("auto_replies_per_sender_hour", 3, 0),
            max_attachment_size=tables["limits"].size("max_attachment_size", "25MB"),
            close_solved_after=tables["limits"].duration("close_solved_after", "4d"),
        ),
    )


def _read_toml(path: Path, absolute: Path) -> dict[str, Any]:
    try:
        raw = absolute.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path.name}: no such file: {absolute}") from None
    except OSError as exc:
        raise ConfigError(f"{path.name}: cannot read {absolute}: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.match(message)
        if match:
            raise ConfigError(f"{path}:{match[2]}:{match[3]}: {match[1]}") from None
        raise ConfigError(f"{path}: {message}") from None


def _known(table: str) -> list[str]:
    keys: list[str] = []
    for key in KEYS[table]:
        keys.append(key)
        if f"{table}.{key}" in SECRET_KEYS:
            keys += [f"{key}_env", f"{key}_file"]
    return keys


def _unknown(where: str, kind: str, name: str, known: list[str]) -> ConfigError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    return ConfigError(f"{where}: unknown {kind}{hint}")


def _check_known_keys(data: dict[str, Any]) -> None:
    # Typos are checked first: a misspelt key otherwise surfaces as a confusing "required".
    for name, table in data.items():
        if name not in KEYS:
            raise _unknown(name, "table", name, list(KEYS))
        if not isinstance(table, dict):
            raise ConfigError(f"{name}: expected a table, got {_show(table)}")
        known = _known(name)
        for key in table:
            if key not in known:
                raise _unknown(f"{name}.{key}", "key", key, known)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        # json quoting keeps the message on one line whatever the value holds.
        return json.dumps(value if len(value) <= 80 else value[:77] + "...", ensure_ascii=False)
    return str(value)


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Table:
    """One TOML table being read: typed getters whose errors name the key."""

    def __init__(self, name: str, data: dict[str, Any] | None, base_dir: Path, env: Mapping[str, str]) -> None:
        self.name = name
        self.present = data is not None
        self.data = data or {}
        self.base_dir = base_dir
        self.env = env

    def error(self, key: str, message: str) -> ConfigError:
        """A ConfigError for `table.key`."""
        return ConfigError(f"{self.name}.{key}: {message}")

    def expected(self, key: str, what: str, value: Any) -> ConfigError:
        """`table.key: expected WHAT, got VALUE`."""
        return self.error(key, f"expected {what}, got {_show(value)}")

    def string(self, key: str, default: str | None = None) -> str:
        """A string, stripped; required when there is no default."""
        value = self.data.get(key, default)
        if value is None:
            raise self.error(key, "required")
        if not isinstance(value, str):
            raise self.expected(key, "a string", value)
        return value.strip()

    def required(self, key: str) -> str:
        """A non-empty string."""
        value = self.string(key)
        if not value:
            raise self.error(key, "required")
        return value

    def choice(self, key: str, allowed: tuple[str, ...], default: str) -> str:
        """One of `allowed`, compared case-insensitively."""
        value = self.string(key, default).lower()
        if value not in allowed:
            options = ", ".join(allowed[:-1]) + f" or {allowed[-1]}"
            raise self.expected(key, options, self.data.get(key, default))
        return value

    def integer(self, key: str, default: int | None, low: int, high: int | None = None) -> int:
        """An integer within `low..high`."""
        value = self.data.get(key, default)
        if value is None:
            raise self.error(key, "required")
        # bool is an int in Python, but `port = true` is a mistake.
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.expected(key, "an integer", value)
        if value < low or (high is not None and value > high):
            bounds = f"{low}-{high}" if high is not None else f"at least {low}"
            raise self.expected(key, f"an integer {bounds}", value)
        return value

    def port(self, key: str, default: int) -> int:
        """A TCP port number."""
        return self.integer(key, default, 1, 65535)

    def folder(self, key: str, default: str) -> str:
        """A non-empty IMAP folder name."""
        value = self.string(key, default)
        if not value:
            raise self.expected(key, "a folder name", value)
        return value

    def boolean(self, key: str, default: bool) -> bool:
        """true or false."""
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.expected(key, "true or false", value)
        return value

    def duration(self, key: str, default: str, positive: bool = False) -> timedelta:
        """A duration string such as "30s" or "4h"."""
        value = self.data.get(key, default)
        try:
            if not isinstance(value, str):
                raise ValueError(f'expected a duration like "90s", "15m", "4h" or "2d", got {_show(value)}')
            delta = parse_duration(value)
        except ValueError as exc:
            raise self.error(key, str(exc)) from None
        if positive and delta <= timedelta(0):
            raise self.error(key, f'must be longer than 0s, got "{value}"')
        return delta

    def size(self, key: str, default: str) -> int:
        """A size in bytes, written as "25MB" or a plain integer."""
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.expected(key, 'a size like "25MB"', value)
        try:
            size = parse_size(value)
        except ValueError as exc:
            raise self.error(key, str(exc)) from None
        if size < 0:
            raise self.expected(key, 'a size like "25MB"', value)
        return size

    def path(self, key: str, default: str) -> Path:
        """A path, relative to the config file's folder."""
        value = self.string(key, default)
        if not value:
            raise self.error(key, "required")
        return (self.base_dir / Path(value).expanduser()).resolve()

    def optional_path(self, key: str) -> Path | None:
        """A path, or None when empty or absent."""
        return self.path(key, "") if self.string(key, "") else None

    def strings(self, key: str) -> tuple[str, ...]:
        """A list of strings, each stripped and lowercased."""
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise self.expected(key, "a list of strings", value)
        items = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.error(f"{key}[{index}]", f"expected a non-empty string, got {_show(item)}")
            items.append(item.strip().lower())
        return tuple(items)

    def url(self, key: str, default: str | None = None) -> str:
        """An http(s) URL."""
        value = self.string(key, default)
        if not value:
            raise self.error(key, "required")
        if not _URL.match(value):
            raise self.expected(key, "an http:// or https:// URL", value)
        return value

    def secret(self, key: str, default_env: str | None = None) -> Secret | None:
        """The secret in `key`, `key_env` or `key_file`; None when none is given and no default."""
        forms = {"inline": key, "env": f"{key}_env", "file": f"{key}_file"}
        given: dict[Source, str] = {}
        for source, name in forms.items():
            if name in self.data:
                value = self.data[name]
                if not isinstance(value, str):
                    raise self.expected(name, "a string", value)
                if value.strip():
                    # Inline secrets are kept exactly; names and paths lose stray blanks.
                    given[source] = value if source == "inline" else value.strip()
        if len(given) > 1:
            names = " and ".join(forms[source] for source in given)
            raise self.error(key, f"give only one of {names}")
        full = f"{self.name}.{key}"
        if given:
            source, where = next(iter(given.items()))
            if source == "file":
                where = str((self.base_dir / Path(where).expanduser()).resolve())
            return Secret(full, source, where, self.env)
        # Writing `key_env = ""` turns a default off; leaving all forms out keeps it.
        if default_env and not any(name in self.data for name in forms.values()):
            return Secret(full, "env", default_env, self.env)
        return None

    def required_secret(self, key: str, default_env: str | None = None) -> Secret:
        """A secret that must be configured."""
        secret = self.secret(key, default_env)
        if secret is None:
            raise self.error(key, f"required (set {key}_env or {key}_file)")
        return secret


def _security(table: _Table, default: str) -> tuple[str, str]:
    host = table.required("host")
    security = table.choice("security", SECURITY, default)
    if security == "none" and not _is_loopback(host):
        raise table.error("security", f'"none" is only allowed for a loopback host, not "{host}"')
    return host, security


def _mailbox(table: _Table) -> MailboxSettings:
    host, security = _security(table, "tls")
    return MailboxSettings(
        host=host,
        port=table.port("port", IMAP_PORTS[security]),
        security=security,
        ca_file=table.optional_path("ca_file"),
        username=table.required("username"),
        password=table.required_secret("password"),
        folder=table.folder("folder", "INBOX"),
        processed_folder=table.folder("processed_folder", "Processed"),
        quarantine_folder=table.folder("quarantine_folder", "Quarantine"),
        idle=table.boolean("idle", True),
        poll_interval=table.duration("poll_interval", "30s", positive=True),
    )


def _smtp(table: _Table) -> SmtpSettings:
    host, security = _security(table, "starttls")
    username = table.string("username", "") or None
    # Logging in needs a password; the contract's variable is the default place to find it.
    password = table.secret("password", "MAILROOM_SMTP_PASSWORD" if username else None)
    return SmtpSettings(
        host=host,
        port=table.port("port", SMTP_PORTS[security]),
        security=security,
        ca_file=table.optional_path("ca_file"),
        username=username,
        password=password,
    )


def _support(table: _Table) -> SupportSettings:
    address = table.required("address").lower()
    if not _ADDRESS.match(address):
        raise table.expected("address", 'an email address like "support@example.com"', address)
    tag = table.string("ticket_tag", "[Support #{id}]")
    if "{id}" not in tag:
        raise table.error("ticket_tag", f"must contain {{id}}, got {_show(tag)}")
    try:
        tag.format(id=1)
    except (KeyError, IndexError, ValueError):
        raise table.error("ticket_tag", f"only {{id}} may appear in braces, got {_show(tag)}") from None
    return SupportSettings(
        address=address,
        name=table.string("name", "Example Support"),
        ticket_tag=tag,
        lists=table.strings("lists"),
        rules=table.path("rules", "rules.yaml"),
        templates=table.path("templates", "templates"),
        data_dir=table.path("data_dir", "data"),
        secret=table.secret("secret", "MAILROOM_SECRET"),
        trusted_authserv_id=table.string("trusted_authserv_id", ""),
    )


def _database(table: _Table, data_dir: Path) -> DatabaseSettings:
    url = table.string("url", "")
    if not url:
        url = f"sqlite:///{data_dir / 'mailroom.db'}"
    elif url.startswith("sqlite:///"):
        # sqlite:///rel/x.db is relative, sqlite:////abs/x.db absolute; relative means the config folder.
        rest, mark, query = url[len("sqlite:///"):].partition("?")
        if not rest:
            raise table.expected("url", "sqlite:///PATH", url)
        if rest != ":memory:" and not rest.startswith("/"):
            url = f"sqlite:///{(table.base_dir / rest).resolve()}{mark}{query}"
    elif not url.startswith(("postgresql://", "postgres://")):
        raise table.expected("url", "sqlite:///PATH or postgresql://USER@HOST:PORT/DB", url)
    return DatabaseSettings(url=url, password=table.secret("password"))


def _opsgenie(table: _Table) -> OpsgenieSettings | None:
    if not table.present:
        return None
    return OpsgenieSettings(
        api_url=table.url("api_url", "https://api.opsgenie.com"),
        api_key=table.required_secret("api_key", "OPSGENIE_API_KEY"),
        heartbeat=table.string("heartbeat", ""),
    )


def _pagerduty(table: _Table) -> PagerdutySettings | None:
    if not table.present:
        return None
    return PagerdutySettings(
        routing_key=table.required_secret("routing_key", "PAGERDUTY_ROUTING_KEY"),
        events_url=table.url("events_url", PAGERDUTY_EVENTS_URL),
    )


def _webhook(table: _Table) -> WebhookSettings | None:
    if not table.present:
        return None
    return WebhookSettings(
        url=table.url("url"),
        secret=table.required_secret("secret", "MAILROOM_WEBHOOK_SECRET"),
    )
