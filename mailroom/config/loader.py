"""mailroom.toml: find it, check every key, and hand out typed, frozen settings."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mailroom.config.connections import (
    ADDRESS,
    addresses,
    mailbox_tables,
    read_mailboxes,
    read_smtp,
)
from mailroom.config.hosts import is_loopback
from mailroom.config.settings import (
    DatabaseSettings,
    EscalationSettings,
    HealthSettings,
    LimitsSettings,
    MetricsSettings,
    OpsgenieSettings,
    PagerdutySettings,
    Settings,
    SupportSettings,
    SurveySettings,
    WebhookSettings,
)
from mailroom.config.tomlkeys import Table, show
from mailroom.errors import ConfigError

DEFAULT_CONFIG = "mailroom.toml"
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
BACKENDS = ("opsgenie", "pagerduty", "webhook")
SCALES = ("good-okay-bad", "1-5")
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")

# Every key each table accepts; secret keys also accept their `_env` and `_file` forms.
KEYS: dict[str, tuple[str, ...]] = {
    "mailbox": ("host", "port", "security", "ca_file", "username", "password", "folder",
                "processed_folder", "quarantine_folder", "idle", "poll_interval", "auth", "oauth2",
                "name", "addresses"),
    "smtp": ("host", "port", "security", "ca_file", "username", "password", "auth", "oauth2"),
    "support": ("address", "name", "ticket_tag", "lists", "rules", "templates", "data_dir",
                "secret", "trusted_authserv_id", "spam_score_header", "spam_score_above", "addresses"),
    "database": ("url", "password", "sslmode", "ca_file"),
    "opsgenie": ("api_url", "api_key", "heartbeat"),
    "escalation": ("backend", "give_up_after"),
    "pagerduty": ("routing_key", "events_url"),
    "webhook": ("url", "secret"),
    "health": ("stale_after",),
    "survey": ("delay", "scale"),
    "limits": ("auto_replies_per_sender_hour", "max_attachment_size", "close_solved_after", "max_text"),
    "metrics": ("listen",),
}
SECRET_KEYS = {"mailbox.password", "smtp.password", "support.secret", "database.password",
               "opsgenie.api_key", "pagerduty.routing_key", "webhook.secret"}

_TOML_POSITION = re.compile(r"^(.*) \(at line (\d+), column (\d+)\)$")


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
    tables = {name: Table(name, data.get(name), base_dir, env) for name in KEYS if name != "mailbox"}

    # Built in file order, so the first bad key reported is the first one a reader meets.
    mailboxes = read_mailboxes(mailbox_tables(data.get("mailbox"), base_dir, env))
    mailbox = mailboxes[0]
    smtp = read_smtp(tables["smtp"], mailbox)
    support = _support(tables["support"])
    # Every mailbox's addresses are ours too: the loop guard and agent detection know them all.
    delivered = [a for box in mailboxes for a in box.addresses]
    support = replace(support, addresses=tuple(dict.fromkeys([*support.addresses, *delivered])))
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
        mailboxes=mailboxes,
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
            max_text=tables["limits"].size("max_text", "1MB", 1_000),
        ),
        metrics=_metrics(tables["metrics"]),
    )


def _metrics(table: Table) -> MetricsSettings:
    listen = table.string("listen", "").strip()
    if listen:
        host, _, port = listen.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise table.expected("listen", 'HOST:PORT, like "127.0.0.1:9464"', listen)
    return MetricsSettings(listen=listen)


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
    for name, value in data.items():
        if name not in KEYS:
            raise _unknown(name, "table", name, list(KEYS))
        entries = list(enumerate(value)) if name == "mailbox" and isinstance(value, list) else [(None, value)]
        for index, table in entries:
            where = name if index is None else f"{name}[{index}]"
            if not isinstance(table, dict):
                raise ConfigError(f"{where}: expected a table, got {show(table)}")
            known = _known(name)
            for key in table:
                if key not in known:
                    raise _unknown(f"{where}.{key}", "key", key, known)



def _support(table: Table) -> SupportSettings:
    address = table.required("address").lower()
    if not ADDRESS.match(address):
        raise table.expected("address", 'an email address like "support@example.com"', address)
    tag = table.string("ticket_tag", "[Support #{id}]")
    if "{id}" not in tag:
        raise table.error("ticket_tag", f"must contain {{id}}, got {show(tag)}")
    try:
        tag.format(id=1)
    except (KeyError, IndexError, ValueError):
        raise table.error("ticket_tag", f"only {{id}} may appear in braces, got {show(tag)}") from None
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
        spam_score_header=_header_name(table, "spam_score_header"),
        spam_score_above=table.number("spam_score_above", 5.0),
        addresses=addresses(table, "addresses"),
    )


def _header_name(table: Table, key: str) -> str:
    name = table.string(key, "").strip()
    if name and not re.fullmatch(r"[!-9;-~]+", name):
        raise table.expected(key, 'a header name like "X-Spam-Score"', name)
    return name


def _database(table: Table, data_dir: Path) -> DatabaseSettings:
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
    sslmode = None
    if url.startswith("postgres"):
        # Beyond loopback the server's certificate is checked, name and all: libpq's own
        # default ("prefer") falls back to plaintext for anyone in the path who asks it to.
        parts = urlsplit(url)
        host = parts.hostname or ""
        # A socket folder or loopback stays as it was; so does a URL that names its own sslmode.
        local = not host or host.startswith("/") or is_loopback(host) or "sslmode=" in parts.query
        default = "" if local else "verify-full"
        sslmode = table.choice("sslmode", SSLMODES, default) if "sslmode" in table.data or default else None
    return DatabaseSettings(
        url=url, password=table.secret("password"), sslmode=sslmode or None, ca_file=table.optional_path("ca_file")
    )


def _opsgenie(table: Table) -> OpsgenieSettings | None:
    if not table.present:
        return None
    return OpsgenieSettings(
        api_url=table.url("api_url", "https://api.opsgenie.com"),
        api_key=table.required_secret("api_key", "OPSGENIE_API_KEY"),
        heartbeat=table.string("heartbeat", ""),
    )


def _pagerduty(table: Table) -> PagerdutySettings | None:
    if not table.present:
        return None
    return PagerdutySettings(
        routing_key=table.required_secret("routing_key", "PAGERDUTY_ROUTING_KEY"),
        events_url=table.url("events_url", PAGERDUTY_EVENTS_URL),
    )


def _webhook(table: Table) -> WebhookSettings | None:
    if not table.present:
        return None
    return WebhookSettings(
        url=table.url("url"),
        secret=table.required_secret("secret", "MAILROOM_WEBHOOK_SECRET"),
    )
