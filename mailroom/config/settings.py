"""The typed, frozen settings mailroom.toml describes, one dataclass per table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from mailroom.config.secrets import Secret


@dataclass(frozen=True, slots=True)
class OAuth2Settings:
    """[mailbox.oauth2] or [smtp.oauth2]: where sign-in tokens come from."""

    key: str  # the table as written, "mailbox.oauth2": errors name their keys under it
    provider: str  # microsoft | google | generic
    flow: str  # client_credentials | device_code (microsoft) | refresh_token (generic)
    tenant: str
    client_id: str
    client_secret: Secret | None
    certificate_file: Path | None
    certificate_thumbprint: str
    authority: str
    service_account_file: Path | None
    authorized_user_file: Path | None
    token_url: str
    scope: str
    refresh_token: Secret | None
    ca_file: Path | None
    timeout: timedelta


@dataclass(frozen=True, slots=True)
class MailboxSettings:
    """[mailbox] or one [[mailbox]]: a support mailbox, over IMAP."""

    host: str
    port: int
    security: str
    ca_file: Path | None
    username: str
    password: Secret | None  # None with auth = "oauth2"
    folder: str
    processed_folder: str
    quarantine_folder: str
    idle: bool
    poll_interval: timedelta
    auth: str = "password"  # password | oauth2
    oauth2: OAuth2Settings | None = None
    name: str = "support"  # how rules, status, reports and alerts name it
    addresses: tuple[str, ...] = ()  # addresses of ours delivered into it; () = the support address

    @property
    def ledger(self) -> str:
        """The name its reading is recorded and locked under: user@host/folder."""
        return f"{self.username}@{self.host}/{self.folder}"


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """[smtp]: where outbound mail is handed over."""

    host: str
    port: int
    security: str
    ca_file: Path | None
    username: str | None
    password: Secret | None
    auth: str = "password"  # password | oauth2
    oauth2: OAuth2Settings | None = None  # its own table, else the mailbox's


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
    spam_score_header: str = ""  # the MX's score header, e.g. "X-Spam-Score"; "" = none
    spam_score_above: float = 5.0  # a score above this holds back automatic mail
    addresses: tuple[str, ...] = ()  # further addresses of ours (aliases delivered into the mailbox)

    @property
    def all_addresses(self) -> tuple[str, ...]:
        """Every address of ours: the support address first."""
        return tuple(dict.fromkeys([self.address, *self.addresses]))


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    """[database]: a SQLite or PostgreSQL URL, the password kept out of it."""

    url: str
    password: Secret | None
    sslmode: str | None = None  # libpq's sslmode; None leaves libpq's default (loopback only)
    ca_file: Path | None = None  # the CA that signed the server's certificate; else the system's


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
    max_text: int = 1_000_000  # characters of a mail's text that tickets, rules and notifications read


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    """[metrics]: where Prometheus scrapes the daemon; "" = no metrics endpoint."""

    listen: str = ""

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) of `listen`; an IPv6 host may be written in brackets."""
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)


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
    metrics: MetricsSettings = MetricsSettings()
    mailboxes: tuple[MailboxSettings, ...] = ()  # every mailbox read; () = just `mailbox`

    @property
    def all_mailboxes(self) -> tuple[MailboxSettings, ...]:
        """Every mailbox read, the first (`mailbox`) first."""
        return self.mailboxes or (self.mailbox,)

    @property
    def mailbox_names(self) -> tuple[str, ...]:
        """The names of every mailbox read."""
        return tuple(box.name for box in self.all_mailboxes)

    def connection_of(self, box: MailboxSettings) -> str:
        """How status and sign-in records name a mailbox's IMAP connection: "imap", or "imap:NAME" beside others."""
        return "imap" if len(self.all_mailboxes) == 1 else f"imap:{box.name}"

    def mailbox_named(self, name: str) -> MailboxSettings | None:
        """The mailbox of that name, if one is read."""
        return next((box for box in self.all_mailboxes if box.name == name), None)

    def first_address_of(self, name: str) -> str:
        """Where mail read from mailbox `name` was delivered when no header says: its first address."""
        box = self.mailbox_named(name)
        return box.addresses[0] if box is not None and box.addresses else self.support.address

    def require_connection_secrets(self) -> None:
        """Read every secret a connecting command needs; ConfigError naming the first unreadable key."""
        for oauth2 in (*(box.oauth2 for box in self.all_mailboxes), self.smtp.oauth2):
            for secret in (oauth2.client_secret, oauth2.refresh_token) if oauth2 else ():
                if secret is not None:
                    secret.reveal()
        for box in self.all_mailboxes:
            if box.password is not None:
                box.password.reveal()
        if self.smtp.auth == "password" and self.smtp.username and self.smtp.password is not None:
            self.smtp.password.reveal()
        backend = self.escalation.backend
        if backend == "opsgenie" and self.opsgenie is not None:
            self.opsgenie.api_key.reveal()
        elif backend == "pagerduty" and self.pagerduty is not None:
            self.pagerduty.routing_key.reveal()
        elif backend == "webhook" and self.webhook is not None:
            self.webhook.secret.reveal()
