"""The SMTP adapter: batches of mails over one verified connection, kept open for the next batch."""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import aiosmtplib
import aiosmtplib.protocol
import aiosmtplib.smtp

from mailroom.adapters.signin.tokens import Credentials, Password
from mailroom.adapters.smtpauth import sign_in
from mailroom.config.hosts import is_loopback
from mailroom.errors import ConfigError, SignInError
from mailroom.ports import Item, Result

log = logging.getLogger("mailroom.smtp")

TIMEOUT = 30.0  # seconds per command; a slower server is treated as away and retried
KEEP_OPEN = 10.0  # seconds an unused connection is kept: well under the idle timeouts servers use
QUIT_TIMEOUT = 5.0  # seconds to wait for QUIT's answer on a connection we give up anyway
T = TypeVar("T")


def one_line(text: Any, limit: int = 500) -> str:
    """A server's answer or an exception on one line, capped."""
    return " ".join(str(text).split())[:limit]


_NORMALIZE = aiosmtplib.protocol.normalize_message_line_endings


def crlf_lines(message: bytes) -> bytes:
    """aiosmtplib's line-ending normalisation, returning mail that has CRLF endings only as it is."""
    # aiosmtplib rewrites every line ending with a regex, twice a mail where the server has SIZE,
    # holding the interpreter lock: a third of the sender's share of it, which the ingesting
    # thread waited for (bench/ingest.py). mailroom writes mail with CRLF endings only (mimewrite).
    crlf = message.count(b"\r\n")
    if message.count(b"\n") == crlf == message.count(b"\r"):
        return message if message.endswith(b"\r\n") else message + b"\r\n"
    return _NORMALIZE(message)


# The same bytes for every input (tests/unit/test_smtp_lines.py), found faster; the DATA command
# and the SIZE option each call it by its module-level name.
aiosmtplib.protocol.normalize_message_line_endings = crlf_lines
aiosmtplib.smtp.normalize_message_line_endings = crlf_lines


class _Client(aiosmtplib.SMTP):
    """aiosmtplib's client, noting whether the server accepted the current mail's MAIL FROM."""

    # Cleared before each mail. Until MAIL FROM is accepted nothing of the mail reached the
    # server, so a connection lost before that can be replaced and the mail sent again without
    # any risk of a duplicate.
    mail_accepted = False

    async def mail(self, *args: Any, **kwargs: Any) -> aiosmtplib.SMTPResponse:
        """MAIL FROM, remembering that the server accepted it."""
        response = await super().mail(*args, **kwargs)
        self.mail_accepted = True
        return response


class MailSender:
    """Sends batches of mails over one connection, kept open between batches; TLS verified, login when configured.

    One thread at a time: the connection lives on the sender's own event loop, which runs only
    inside a call. Calls from different threads one after the other are fine; a lock makes an
    overlapping call wait for the one running.
    """

    def __init__(self, settings: Any, credentials: Credentials | str | None = None) -> None:
        self.host: str = settings.host
        self.port: int = int(settings.port)
        self.security: str = (settings.security or "starttls").lower()
        self.ca_file = str(settings.ca_file) if getattr(settings, "ca_file", None) else None
        self.username: str | None = getattr(settings, "username", None) or None
        if isinstance(credentials, str):
            origin = getattr(getattr(settings, "password", None), "origin", "smtp.password")
            credentials = Password(origin, credentials)
        self.credentials = credentials if self.username else None
        self.last_connection_error: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: _Client | None = None
        self._used_at = 0.0  # time.monotonic() when the connection last finished a batch
        self._lock = threading.Lock()
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
        return self._run(self._send_all(items))

    @property
    def server(self) -> str:
        """How errors name the server: `smtp HOST:PORT`."""
        return f"smtp {self.host}:{self.port}"

    def close_idle(self) -> None:
        """Quit the connection when no batch used it for KEEP_OPEN seconds, so an idle worker holds none."""
        if self._conn is not None:
            self._run(self._hang_up(idle_only=True))

    def close(self) -> None:
        """Quit the connection and close the event loop; a later batch starts afresh."""
        with self._lock:
            loop, self._loop = self._loop, None
            if loop is None:
                return
            try:
                loop.run_until_complete(self._hang_up())
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
            finally:
                loop.close()

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the sender's loop: the one its connection belongs to."""
        # asyncio.run would make a loop per call and strand the connection on a closed one.
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
            return self._loop.run_until_complete(work)

    # --- the connection ---------------------------------------------------------------------

    def _client(self) -> _Client:
        context = ssl.create_default_context(cafile=self.ca_file) if self.security != "none" else None
        return _Client(
            hostname=self.host,
            port=self.port,
            timeout=TIMEOUT,
            use_tls=self.security == "tls",
            start_tls=self.security == "starttls",  # False: never upgrade by surprise
            tls_context=context,
        )

    def _recently_used(self) -> bool:
        """A batch finished on the connection less than KEEP_OPEN ago."""
        return time.monotonic() - self._used_at < KEEP_OPEN

    async def _connection(self) -> tuple[_Client | None, bool]:
        """The open connection if recently used, else a new one; and whether it is reused."""
        conn = self._conn
        if conn is not None and conn.is_connected and self._recently_used():
            return conn, True
        await self._hang_up()  # idle too long (the server may be about to drop it), or closed
        return await self._connect(), False

    async def _connect(self) -> _Client | None:
        """A new connection, logged in; None (and `last_connection_error`) when that fails."""
        client = self._client()
        try:
            await client.connect()
            if self.username and self.credentials is not None:
                await sign_in(client, self.username, self.credentials, self.server)
            elif self.username:
                await client.login(self.username, "")
        except SignInError as exc:
            self.last_connection_error = str(exc)
            await _quietly_close(client)
            return None
        except aiosmtplib.SMTPAuthenticationError as exc:
            self.last_connection_error = f"{self.server}: login refused: {exc.code} {one_line(exc.message)}"
            await _quietly_close(client)
            return None
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
            self.last_connection_error = f"{self.server}: cannot connect: {_describe(exc)}"
            await _quietly_close(client)
            return None
        self.last_connection_error = None
        self._conn = client
        return client

    async def _hang_up(self, idle_only: bool = False) -> None:
        """QUIT and close the connection (with idle_only, only one unused for KEEP_OPEN)."""
        conn = self._conn
        if conn is None or (idle_only and self._recently_used()):
            return
        self._conn = None
        await _quietly_close(conn, quit_first=True)

    async def _send_all(self, items: list[Item]) -> list[Result]:
        client, reused = await self._connection()
        if client is None:
            return [Result("retry", self.last_connection_error)] * len(items)
        try:
            results = await self._send_each(client, reused, items)
        except BaseException:
            await self._hang_up()  # in an unknown state: the next batch starts on a new one
            raise
        self._used_at = time.monotonic()
        if self._conn is not None and not self._conn.is_connected:
            await self._hang_up()
        return results

    async def _send_each(self, client: _Client, reused: bool, items: list[Item]) -> list[Result]:
        """Each mail in turn; once the connection is lost, the rest is left to be retried."""
        results: list[Result] = []
        for sender, recipients, raw in items:
            client.mail_accepted = False
            result = await _send_one(client, sender, recipients, raw)
            if reused and not results and not client.is_connected and not client.mail_accepted:
                # The server dropped the connection while it sat unused, before this mail
                # began: once more on a new one, so its idle timeout never delays a mail.
                log.info("action=smtp-reconnect reason=%s", result.error)
                await self._hang_up()
                fresh = await self._connect()
                if fresh is None:
                    return [Result("retry", self.last_connection_error)] * len(items)
                client = fresh
                result = await _send_one(client, sender, recipients, raw)
            results.append(result)
            if not client.is_connected:
                break
        if len(results) < len(items):
            lost = f"{self.server}: connection lost: {results[-1].error if results else 'closed'}"
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
    partly = ("refused for " + "; ".join(f"{a}: {m}" for a, m in answers.items())) if answers else None
    return Result("sent", partly, answers, temporary)


async def _quietly_close(client: aiosmtplib.SMTP, quit_first: bool = False) -> None:
    try:
        if quit_first and client.is_connected:
            # Short: a connection that died silently would otherwise hold shutdown for TIMEOUT.
            await client.quit(timeout=QUIT_TIMEOUT)
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
