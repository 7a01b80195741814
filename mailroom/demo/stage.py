"""The demo's folder, its rules and mailroom.toml, and mailroom run as a process beside the sandbox."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mailroom.demo.cast import MARKER, SHORT_SLA_MINUTES, SHORTENED_POLICIES, DemoError
from mailroom.demo.sandbox import SUPPORT, Sandbox

# --- the demo folder ---------------------------------------------------------------------------


def prepare_folder(folder: Path) -> None:
    """An empty demo folder: a previous demo's is replaced, anything else is never touched."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise DemoError(f"{folder} is not empty and was not made by the demo: choose another with --folder")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("Made by `python -m mailroom.demo`; the next demo run replaces this folder.\n")


def team_addresses(rules: dict[str, Any]) -> list[str]:
    """Every team's notify and member addresses: the engineer's mailbox receives them all."""
    found: list[str] = []
    for team in (rules.get("teams") or {}).values():
        found += [a for a in (team or {}).get("notify", []) + (team or {}).get("members", []) if isinstance(a, str)]
    return found


def demo_rules(rules: dict[str, Any]) -> str:
    """The repository's rules with a short first response for P1 and enterprise, so a breach can be shown."""
    policies = rules.get("sla") or {}
    for name in SHORTENED_POLICIES:
        policy = policies.get(name)
        if isinstance(policy, dict):
            policy["first_response"] = f"{SHORT_SLA_MINUTES}m"
            if "warn_before" in policy:
                policy["warn_before"] = "5m"  # a warning before the due time, not at creation
    header = (
        "# The repository's rules.yaml, for the demo: the first response of the P1 and enterprise\n"
        f"# policies is shortened to {SHORT_SLA_MINUTES}m (warnings 5m before) so that a breach can be shown.\n"
    )
    return header + yaml.safe_dump(rules, sort_keys=False, allow_unicode=True, width=110)


def config_text(sandbox: Sandbox) -> str:
    """mailroom.toml for the sandbox: plaintext on loopback, secrets from the environment."""
    assert sandbox.dovecot is not None and sandbox.smtp is not None and sandbox.opsgenie is not None
    return f"""\
# Written by `python -m mailroom.demo` for its local sandbox (every server on 127.0.0.1).
# The passwords come from the environment; the signing secret is generated on the first
# start and kept in the database.

[mailbox]
host = "127.0.0.1"
port = {sandbox.dovecot.port}
security = "none"
username = "support"
password_env = "MAILROOM_IMAP_PASSWORD"
idle = true
poll_interval = "5s"

[smtp]
host = "127.0.0.1"
port = {sandbox.smtp.port}
security = "none"

[support]
address = "{SUPPORT}"
name = "Example Support"
rules = "rules.yaml"
templates = "templates"
data_dir = "data"

[opsgenie]
api_url = "{sandbox.opsgenie.url}"
api_key_env = "OPSGENIE_API_KEY"

[health]
# The demo moves the clock forward past an SLA: polling must not look stuck because of it.
stale_after = "1d"

[survey]
delay = "0s"
"""


# --- the daemon ---------------------------------------------------------------------------------


@dataclass
class Mailroom:
    """The demo's mailroom: the daemon as a process, and the command line against the same config."""

    config: Path
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = field(default=None)

    def start(self) -> None:
        """`mailroom --config … run`, its log in the demo folder."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mailroom", "--config", str(self.config), "run"],
                cwd=self.config.parent, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )

    def check_alive(self) -> None:
        """DemoError when the daemon has exited."""
        if self.proc is not None and self.proc.poll() is not None:
            raise DemoError(f"the mailroom daemon exited with status {self.proc.returncode}")

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM and wait (it flushes for up to 10 s); killed if it does not end."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def cli(self, *args: str) -> str:
        """The output of `mailroom ARGS`; DemoError when it fails."""
        try:
            done = subprocess.run(
                [sys.executable, "-m", "mailroom", "--config", str(self.config), *args],
                cwd=self.config.parent, env=self.env, capture_output=True, text=True, timeout=60,
            )
        except subprocess.TimeoutExpired as exc:
            raise DemoError(f"mailroom {' '.join(args)} did not end within 60 s") from exc
        if done.returncode != 0:
            raise DemoError(f"mailroom {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
        return done.stdout
