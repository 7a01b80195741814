"""A local mail sandbox on loopback for the demo: Dovecot, SMTP delivering into it, an OpsGenie stand-in."""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import smtplib
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mailroom.demo.dovecot import Dovecot
    from mailroom.demo.opsgenie import OpsgenieServer
    from mailroom.demo.smtp import SmtpServer

SUPPORT = "support@example.com"
USERS = ("support", "customer", "engineer")


class SandboxError(RuntimeError):
    """The sandbox could not start, or a wait ran out."""



def routes(team_addresses: Iterable[str]) -> dict[str, str]:
    """Recipient → mailbox: support mail to `support`, customers to `customer`, engineers to `engineer`."""
    table = {SUPPORT: "support", "support+*@example.com": "support"}
    table.update({"*@example.org": "customer", "*@bigcorp.com": "customer"})
    table["engineer@example.com"] = "engineer"
    table.update({address.lower(): "engineer" for address in team_addresses})
    # Globs are tried in order: the support sub-addresses above win over this catch-all.
    table["*@example.com"] = "engineer"
    return table


def nobody_can_reach(folder: Path) -> bool:
    """Whether every folder above `folder` lets others in: Dovecot's mail processes run as nobody."""
    return all(os.stat(parent).st_mode & 0o001 for parent in folder.resolve().parents)


def parse(raw: bytes) -> EmailMessage:
    """A raw mail as an EmailMessage."""
    return email.message_from_bytes(raw, policy=email.policy.default)


def text_of(msg: EmailMessage) -> str:
    """The plain-text body of a mail ("" when it has none)."""
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def html_of(msg: EmailMessage) -> str:
    """The HTML body of a mail ("" when it has none)."""
    part = msg.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else ""


class StampedDelivery:
    """Dovecot as the SMTP server's delivery target, each mail's arrival stamped at the sandbox's clock."""

    # mailroom times mail by its IMAP arrival: when the demo moves mailroom's clock forward, the
    # sandbox's mail server must live in that same time, as a real one does in real time.

    def __init__(self, dovecot: Dovecot, now: Callable[[], datetime]) -> None:
        self.dovecot = dovecot
        self.now = now

    def append(self, user: str, raw: bytes, folder: str = "INBOX", flags: Iterable[str | bytes] = (),
               msg_time: datetime | None = None) -> int | None:
        """Dovecot's append, at the sandbox's time unless one is given."""
        return self.dovecot.append(user, raw, folder, flags, msg_time or self.now())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.dovecot, name)


class Sandbox:
    """Dovecot (support, customer, engineer), an SMTP server delivering into it, and OpsGenie, on loopback."""

    def __init__(self, folder: Path, team_addresses: Iterable[str], opsgenie_key: str,
                 now: Callable[[], datetime] | None = None) -> None:
        self.folder = folder
        self.team_addresses = tuple(team_addresses)
        self.opsgenie_key = opsgenie_key
        self.now = now or (lambda: datetime.now(UTC))
        self.dovecot: Dovecot | None = None
        self.smtp: SmtpServer | None = None
        self.opsgenie: OpsgenieServer | None = None
        self._temp_dovecot = False

    def start(self) -> Sandbox:
        """Start the three servers on free ports; SandboxError with the reason when one cannot start."""
        if os.geteuid() != 0:
            raise SandboxError("the demo runs Dovecot as user nobody and must run as root (sudo ./run.sh demo)")
        from mailroom.demo.dovecot import Dovecot
        from mailroom.demo.opsgenie import OpsgenieServer
        from mailroom.demo.smtp import SmtpServer

        # The mailboxes stay in the demo folder for a look afterwards, where nobody can reach it;
        # elsewhere (a private temp folder) Dovecot gets a temp folder of its own.
        mail_folder = self.folder / "dovecot"
        self._temp_dovecot = not nobody_can_reach(mail_folder)
        if not self._temp_dovecot:
            mail_folder.mkdir(parents=True, exist_ok=True)
        try:
            self.dovecot = Dovecot(users=USERS, folder=None if self._temp_dovecot else mail_folder).start()
        except (RuntimeError, OSError) as exc:
            raise SandboxError(f"Dovecot did not start: {exc}") from exc
        self.smtp = SmtpServer().start()
        self.smtp.deliver_to(StampedDelivery(self.dovecot, self.now), routes(self.team_addresses))  # type: ignore[arg-type]
        try:
            self.opsgenie = OpsgenieServer(api_key=self.opsgenie_key).start()
        except FileNotFoundError as exc:
            raise SandboxError(f"the OpsGenie stand-in cannot start: {exc}") from exc
        return self

    def stop(self) -> None:
        """Stop every server started; the mailboxes stay in the demo folder."""
        if self.opsgenie is not None:
            with contextlib.suppress(Exception):
                self.opsgenie.stop()
        if self.smtp is not None:
            with contextlib.suppress(Exception):
                self.smtp.close()
        if self.dovecot is not None:
            with contextlib.suppress(Exception):
                if self._temp_dovecot:
                    self.dovecot.close()
                else:
                    self.dovecot.stop()

    # --- mail -----------------------------------------------------------------------------------

    def send(self, msg: EmailMessage, recipients: list[str] | None = None) -> None:
        """Submit a mail through the sandbox's SMTP server, as a mail client does."""
        assert self.smtp is not None
        with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=30) as client:
            client.send_message(msg, to_addrs=recipients)

    def mailbox(self, user: str) -> list[EmailMessage]:
        """Every mail in user's INBOX, oldest first."""
        assert self.dovecot is not None
        return [parse(raw) for raw in self.dovecot.messages(user)]

    def wait_for_mail(self, user: str, match: Callable[[EmailMessage], bool], timeout: float,
                      alive: Callable[[], None] | None = None) -> EmailMessage:
        """The first mail in user's INBOX that matches, polled until timeout (SandboxError then)."""
        assert self.dovecot is not None
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            # Only a changed message count is worth fetching and parsing again.
            count = self.dovecot.count(user)
            if count != seen:
                seen = count
                for msg in self.mailbox(user):
                    if match(msg):
                        return msg
            if alive is not None:
                alive()
            if time.monotonic() > deadline:
                raise SandboxError(f"nothing matching in {user}'s INBOX after {timeout:.0f} s ({seen} mails there)")
            time.sleep(0.1)

    def wait_for_alert(self, kind: str, alias: Callable[[str], bool], timeout: float,
                       alive: Callable[[], None] | None = None) -> Any:
        """The first accepted OpsGenie request of `kind` (create, close) whose alias matches."""
        opsgenie = self.opsgenie
        assert opsgenie is not None
        deadline = time.monotonic() + timeout
        while True:
            requests = opsgenie.requests
            for request in requests:
                if request.kind == kind and 200 <= request.status < 300 and alias(request.alias or ""):
                    return request
            if alive is not None:
                alive()
            if time.monotonic() > deadline:
                raise SandboxError(f"no accepted {kind} request for that alias at the OpsGenie stand-in after {timeout:.0f} s")
            # Woken by the next request, or after a short while to check the daemon is still alive.
            seen = len(requests)
            opsgenie.wait_for(lambda: len(opsgenie.requests) > seen, 0.5)  # noqa: B023 - used at once
