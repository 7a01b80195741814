"""A whole mailroom against the real servers: Dovecot, aiosmtpd delivering into it, OpsGenie."""

from __future__ import annotations

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


def as_mailboxes(room: Mailroom, *others: str, first: bool = False, keys: dict[str, dict[str, str]] | None = None) -> None:
    """Turn the room's [mailbox] into [[mailbox]] "support" beside one more per Dovecot user in `others`.

    Each other mailbox is NAME@example.com, delivered into Dovecot user NAME; `first` puts them
    before support in the file (read first); `keys` sets TOML values in the mailbox of that name
    (a password_* key replaces the password from the environment).
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
        if name != "support":
            room.smtp.add_route(f"{name}@example.com", name)
    boxes = [*boxes[1:], boxes[0]] if first else boxes
    room.config.write_text(text[:start] + "\n\n".join(boxes) + "\n" + text[end:])
