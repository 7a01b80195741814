"""The SMTP adapter: several mails over one verified connection, each answered sent, retry or failed."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import ssl
from dataclasses import dataclass, field
from typing import Any, Literal

import aiosmtplib

from mailroom.errors import ConfigError

log = logging.getLogger("mailroom.smtp")

TIMEOUT = 30.0  # seconds per command; a slower server is treated as away and retried
State = Literal["sent", "retry", "failed"]
Item = tuple[str, list[str], bytes]  # envelope sender, recipients, the mail's bytes


@dataclass(frozen=True)
class Result:
    """What became of one mail: sent, retry (for now) or failed (permanent), with a one-line error.

    `refused` holds the recipients the server refused (address → "code message"); a mail can be
    sent to some recipients and refused for others.
    """

    state: State
    error: str | None = None
    refused: dict[str, str] = field(default_factory=dict)
    temporary: tuple[str, ...] = ()  # refused recipients worth another try (4xx)


def one_line(text: Any, limit: int = 500) -> str:
    """A server's answer or an exception on one line, capped."""
    return " ".join(str(text).split())[:limit]


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses: the only hosts plain SMTP may talk to."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class MailSender:
    """Sends batches of mails over one connection per batch, TLS verified, login when configured."""

    def __init__(self, settings: Any, password: str | None = None) -> None:
        self.host: str = settings.host
        self.port: int = int(settings.port)
        self.security: str = (settings.security or "starttls").lower()
        self.ca_file = str(settings.ca_file) if getattr(settings, "ca_file", None) else None
        self.username: str | None = getattr(settings, "username", None) or None
        self._password = password
        self.last_connection_error: str | None = None
        if self.security not in ("tls", "starttls", "none"):
            raise ConfigError(f'smtp.security: expected tls, starttls or none, got "{self.security}"')
        if self.security == "none" and not is_loopback(self.host):
            raise ConfigError(f'smtp.security: "none" is only allowed for loopback hosts, not "{self.host}"')

    def __repr__(self) -> str:  # never shows the password
        return f"MailSender({self.host}:{self.port}, {self.security}, user={self.username!r})"

    def send_batch(self, items: list[Item]) -> list[Result]:
        """Send each mail; a connection failure leaves every unsent mail to be retried."""
        if not items:
            return []
        return asyncio.run(self._send_all(items))

    def close(self) -> None:
        """Nothing stays open between batches; kept so callers can close every adapter alike."""

    # --- one connection ---------------------------------------------------------------------

    def _client(self) -> aiosmtplib.SMTP:
        context = ssl.create_default_context(cafile=self.ca_file) if self.security != "none" else None
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            timeout=TIMEOUT,
            use_tls=self.security == "tls",
            start_tls=self.security == "starttls",  # False: never upgrade by surprise
            tls_context=context,
        )

    async def _send_all(self, items: list[Item]) -> list[Result]:
        where = f"smtp {self.host}:{self.port}"
        client = self._client()
        try:
            await client.connect()
            if self.username:
                await client.login(self.username, self._password or "")
        except aiosmtplib.SMTPAuthenticationError as exc:
            self.last_connection_error = f"{where}: login refused: {exc.code} {one_line(exc.message)}"
            await _quietly_close(client)
            return [Result("retry", self.last_connection_error)] * len(items)
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
            self.last_connection_error = f"{where}: cannot connect: {_describe(exc)}"
            await _quietly_close(client)
            return [Result("retry", self.last_connection_error)] * len(items)
        self.last_connection_error = None
        results: list[Result] = []
        try:
            for sender, recipients, raw in items:
                result = await _send_one(client, sender, recipients, raw)
                results.append(result)
                if not client.is_connected:
                    break
        finally:
            await _quietly_close(client, quit_first=True)
        if len(results) < len(items):
            lost = f"{where}: connection lost: {results[-1].error if results else 'closed'}"
            results += [Result("retry", lost)] * (len(items) - len(results))
        return results


async def _send_one(client: aiosmtplib.SMTP, sender: str, recipients: list[str], raw: bytes) -> Result:
    """One mail transaction: 2xx sent, 4xx or a dropped connection retry, 5xx failed."""
    try:
        refused, _ = await client.sendmail(sender, recipients, raw)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        answers = {r.recipient: f"{r.code} {one_line(r.message)}" for r in exc.recipients}
        temporary = tuple(r.recipient for r in exc.recipients if 400 <= r.code < 500)
        error = "recipients refused: " + "; ".join(f"{a}: {m}" for a, m in answers.items())
        return Result("retry" if temporary else "failed", error, answers, temporary)
    except aiosmtplib.SMTPResponseException as exc:
        answer = f"{exc.code} {one_line(exc.message)}"
        return Result("failed" if 500 <= exc.code < 600 else "retry", answer)
    except (aiosmtplib.SMTPException, OSError) as exc:
        return Result("retry", _describe(exc))
    except ValueError as exc:  # an address aiosmtplib will not put in an envelope
        return Result("failed", one_line(exc))
    answers = {address: f"{r.code} {one_line(r.message)}" for address, r in refused.items()}
    temporary = tuple(a for a, r in refused.items() if 400 <= r.code < 500)
    error = ("refused for " + "; ".join(f"{a}: {m}" for a, m in answers.items())) if answers else None
    return Result("sent", error, answers, temporary)


async def _quietly_close(client: aiosmtplib.SMTP, quit_first: bool = False) -> None:
    try:
        if quit_first and client.is_connected:
            await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        pass
    finally:
        if client.is_connected:
            client.close()


def _describe(exc: BaseException) -> str:
    """The reason a connection failed, in words an operator acts on."""
    cause: BaseException | None = exc
    for _ in range(5):  # aiosmtplib wraps the socket's error; look a few causes down
        if cause is None:
            break
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, ssl.SSLCertVerificationError):
            return one_line(f"certificate not trusted: {cause.verify_message or cause}")
        cause = cause.__cause__ or cause.__context__
    return one_line(str(exc) or type(exc).__name__)
