"""A whole mailroom against the real servers: Dovecot, aiosmtpd delivering into it, OpsGenie."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mailroom import clock
from mailroom.config.loader import load_settings
from mailroom.daemon.wiring import build_service
from mailroom.daemon.worker import Worker
from mailroom.demo.dovecot import Dovecot
from mailroom.demo.smtp import SmtpServer
from tests.harness.tokens import CLIENT_ID, CLIENT_SECRET, TENANT, TokenServer

ROOT = Path(__file__).resolve().parents[2]
SUPPORT = "support@example.com"
CUSTOMER = "customer@example.org"
ENGINEER = "engineer@example.com"
TEAM = "support-team@example.com"


@dataclass
class Mailroom:
    """A configured mailroom in a temp folder, run in-process or as a process."""

    folder: Path
    config: Path
    dovecot: Any
    smtp: Any
    env: dict[str, str] = field(default_factory=dict)

    def settings(self) -> Any:
        """Load the settings as `mailroom` would."""
        return load_settings(self.config, self.env)

    def run_once(self) -> int:
        """One full cycle in-process (`mailroom run --once`)."""
        settings = self.settings()
        worker = Worker(settings, build_service(settings))
        return worker.once()

    def cli(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run the `mailroom` command with this config."""
        result = subprocess.run(
            [sys.executable, "-m", "mailroom", "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
            cwd=ROOT,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"mailroom {' '.join(args)} exited {result.returncode}: {result.stderr}")
        return result

    def popen(self, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
        """Start `mailroom ARGS` as a process (daemon tests)."""
        return subprocess.Popen(
            [sys.executable, "-m", "mailroom", "--config", str(self.config), *args],
            env=self.env,
            cwd=ROOT,
            text=True,
            **kwargs,
        )

    def tickets(self) -> list[dict[str, Any]]:
        """`tickets list --json` through the CLI."""
        import json

        return json.loads(self.cli("tickets", "list", "--json").stdout)

    def write_rules(self, text: str) -> None:
        """Replace rules.yaml."""
        (self.folder / "rules.yaml").write_text(text)


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `predicate` until it returns something true; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.1)


def write_config(folder: Path, dovecot: Any, smtp: Any, extra: str = "", database_url: str = "") -> Path:
    """A mailroom.toml for the test servers (plaintext on loopback, secrets from the environment)."""
    db = f'url = "{database_url}"' if database_url else ""
    text = f"""
[mailbox]
host = "127.0.0.1"
port = {dovecot.port}
security = "none"
username = "support"
password_env = "MAILROOM_IMAP_PASSWORD"
poll_interval = "1s"

[smtp]
host = "127.0.0.1"
port = {smtp.port}
security = "none"

[support]
address = "{SUPPORT}"
name = "Example Support"
rules = "rules.yaml"
templates = "templates"
data_dir = "data"
secret_env = "MAILROOM_SECRET"

[database]
{db}

[survey]
delay = "0s"

{extra}
"""
    path = folder / "mailroom.toml"
    path.write_text(text)
    return path


@pytest.fixture
def mailroom(tmp_path: Path, dovecot: Any, smtp_server: Any) -> Iterator[Mailroom]:
    """mailroom configured against this test's Dovecot and SMTP servers, mail delivered to Dovecot."""
    shutil.copy(ROOT / "rules.yaml", tmp_path / "rules.yaml")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    config = write_config(tmp_path, dovecot, smtp_server)
    smtp_server.deliver_to(
        dovecot,
        {
            SUPPORT: "support",
            "support+*@example.com": "support",
            CUSTOMER: "customer",
            "*@example.org": "customer",
            "*@bigcorp.com": "customer",
            ENGINEER: "engineer",
            TEAM: "engineer",
            "*@example.com": "engineer",
        },
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROOM_")}
    env.update(MAILROOM_IMAP_PASSWORD=dovecot.PASSWORD, MAILROOM_SECRET="test-secret")
    old = {k: os.environ.get(k) for k in ("MAILROOM_IMAP_PASSWORD", "MAILROOM_SECRET")}
    os.environ.update(MAILROOM_IMAP_PASSWORD=dovecot.PASSWORD, MAILROOM_SECRET="test-secret")
    try:
        yield Mailroom(tmp_path, config, dovecot, smtp_server, env)
    finally:
        clock.set_now(None)
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def page_when_stuck(room: Mailroom, opsgenie_url: str, stale_after: int) -> None:
    """Make the room page the OpsGenie test server when a part is stuck for `stale_after` seconds."""
    with room.config.open("a") as fh:
        fh.write(f'\n[health]\nstale_after = "{stale_after}s"\n'
                 f'\n[opsgenie]\napi_url = "{opsgenie_url}"\napi_key_env = "OPSGENIE_API_KEY"\n')
    room.env["OPSGENIE_API_KEY"] = "test-key"


def status_of(room: Mailroom) -> dict[str, Any]:
    """`mailroom status --json`."""
    return json.loads(room.cli("status", "--json").stdout)


def as_mailboxes(room: Mailroom, *others: str, first: bool = False, keys: dict[str, dict[str, str]] | None = None,
                 route: bool = True) -> None:
    """Turn the room's [mailbox] into [[mailbox]] "support" beside one more per Dovecot user in `others`.

    Each other mailbox is NAME@example.com, delivered into Dovecot user NAME; `first` puts them
    before support in the file (read first); `keys` sets TOML values in the mailbox of that name
    (a password_* key replaces the password from the environment); `route=False` leaves the SMTP
    server's delivery alone.
    """
    text = room.config.read_text()
    start = text.index("[mailbox]\n")
    end = text.index("\n[", start + 1)
    lines = text[start:end].splitlines()[1:]
    boxes = []
    for name in ("support", *others):
        wanted = {"name": f'"{name}"', "username": f'"{name}"', "addresses": f'["{name}@example.com"]',
                  **(keys or {}).get(name, {})}
        kept = [line for line in lines if line.split("=")[0].strip() not in wanted
                and not (line.startswith("password") and any(k.startswith("password") for k in wanted))]
        boxes.append("\n".join(["[[mailbox]]", *kept, *(f"{k} = {v}" for k, v in wanted.items())]))
        if name != "support" and route:
            room.smtp.add_route(f"{name}@example.com", name)
    boxes = [*boxes[1:], boxes[0]] if first else boxes
    room.config.write_text(text[:start] + "\n\n".join(boxes) + "\n" + text[end:])


def oauth2_table(kind: str, idp: TokenServer, folder: Path, timeout: str = "2s") -> str:
    """The [mailbox.oauth2] table for one kind of provider, against the test identity provider."""
    common = f'ca_file = "{idp.ca_path}"\ntimeout = "{timeout}"\n'
    if kind == "microsoft-device":  # a user signs in with `mailroom auth login`: no client secret
        return (f'provider = "microsoft"\nflow = "device_code"\ntenant = "{TENANT}"\nclient_id = "{CLIENT_ID}"\n'
                f'authority = "{idp.url}"\n' + common)
    if kind == "microsoft":
        return (f'provider = "microsoft"\ntenant = "{TENANT}"\nclient_id = "{CLIENT_ID}"\n'
                f'client_secret_env = "MAILROOM_OAUTH_SECRET"\nauthority = "{idp.url}"\n' + common)
    if kind == "microsoft-certificate":
        cert, thumbprint = idp.certificate_file(folder)
        return (f'provider = "microsoft"\ntenant = "{TENANT}"\nclient_id = "{CLIENT_ID}"\n'
                f'certificate_file = "{cert}"\ncertificate_thumbprint = "{thumbprint}"\nauthority = "{idp.url}"\n' + common)
    if kind == "google-service-account":
        return f'provider = "google"\nservice_account_file = "{idp.service_account_file(folder)}"\n' + common
    if kind == "google-authorized-user":
        return f'provider = "google"\nauthorized_user_file = "{idp.authorized_user_file(folder)}"\n' + common
    assert kind == "generic"
    (folder / "refresh-token").write_text(idp.add_refresh_token() + "\n")
    return (f'provider = "generic"\ntoken_url = "{idp.url}/generic/token"\ngrant = "refresh_token"\n'
            f'refresh_token_file = "refresh-token"\n' + common)


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[TokenServer]:
    """The identity provider: tokens that live three seconds."""
    folder = tmp_path / "idp"
    folder.mkdir()
    server = TokenServer(folder, lifetime=3.0)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def oauth_room(tmp_path: Path, idp: TokenServer) -> Iterator[Callable[..., Mailroom]]:
    """A factory: mailroom signing in to Dovecot (oauth2 passdb) and SMTP (XOAUTH2) with one kind of provider."""
    made: list[Any] = []

    def make(kind: str, extra: str = "", timeout: str = "2s") -> Mailroom:
        dovecot = Dovecot(introspection_url=idp.introspection_url).start()
        smtp = SmtpServer().start()
        made.extend([dovecot, smtp])
        smtp.require_xoauth2(idp.smtp_check)
        smtp.deliver_to(dovecot, {SUPPORT: "support", CUSTOMER: "customer", "*@example.org": "customer", "*@example.com": "engineer"})
        shutil.copy(ROOT / "rules.yaml", tmp_path / "rules.yaml")
        shutil.copytree(ROOT / "templates", tmp_path / "templates", dirs_exist_ok=True)
        config = write_config(tmp_path, dovecot, smtp, extra)
        text = config.read_text().replace('password_env = "MAILROOM_IMAP_PASSWORD"', 'auth = "oauth2"')
        text = text.replace("[smtp]\n", '[smtp]\nauth = "oauth2"\n', 1)
        config.write_text(text + "\n[mailbox.oauth2]\n" + oauth2_table(kind, idp, tmp_path, timeout))
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROOM_")}
        env.update(MAILROOM_SECRET="test-secret", MAILROOM_OAUTH_SECRET=CLIENT_SECRET)
        return Mailroom(tmp_path, config, dovecot, smtp, env)

    yield make
    for server in reversed(made):
        server.close()


def no_secret_in(idp: TokenServer, *texts: str) -> None:
    """Fail when a secret, token or refresh token the identity provider knows appears in any of `texts`."""
    for secret in idp.secrets_seen():
        for text in texts:
            assert secret not in text, "a secret or token appears in the output"
