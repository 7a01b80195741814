"""A real SMTP server (aiosmtpd) on 127.0.0.1 for tests: records mail, injects faults, delivers into Dovecot."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import fnmatch
import json
import ssl
import tempfile
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from mailroom.demo.dovecot import self_signed_cert

if TYPE_CHECKING:
    from mailroom.demo.dovecot import Dovecot

HOST = "127.0.0.1"
LINE_LENGTH_LIMIT = 100_000  # real mail (Outlook HTML) has lines far beyond RFC 5321's 1,000
DATA_SIZE_LIMIT = 100 * 1024 * 1024  # a 25 MB attachment is ~34 MB once base64-encoded


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    raw: bytes  # exactly as sent, CRLF line endings, dot-stuffing removed
    message: EmailMessage
    received_at: datetime  # aware, UTC
    peer: tuple[str, int] | None = None
    auth_user: str | None = None  # the login name when the client authenticated
    tls: bool = False  # whether the session was encrypted (STARTTLS or implicit TLS)
    mail_options: list[str] = field(default_factory=list)  # e.g. ["BODY=8BITMIME", "SMTPUTF8"]

    @property
    def subject(self) -> str:
        """The decoded Subject header, "" without one."""
        return str(self.message.get("Subject", ""))


@dataclass
class _Fault:
    remaining: int
    code: int
    text: str
    at: Literal["DATA", "RCPT"]


class _LongLineSMTP(SMTP):
    line_length_limit = LINE_LENGTH_LIMIT


class _Controller(Controller):
    """aiosmtpd's threaded controller, with long lines allowed and port 0 resolved to the real port."""

    def factory(self) -> SMTP:
        return _LongLineSMTP(self.handler, **self.SMTP_kwargs)

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        # aiosmtpd connects to self.port right after binding to check the server works; with
        # port 0 that would go nowhere, so learn the bound port first.
        async def create() -> asyncio.AbstractServer:
            server = await self.loop.create_server(
                self._factory_invoker, host=self.hostname, port=self.port, ssl=self.ssl_context
            )
            self.port = server.sockets[0].getsockname()[1]
            return server

        return create()


class _Handler:
    """aiosmtpd hooks: faults on RCPT/DATA, recording, delivery into Dovecot."""

    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        # AUTH is enforced here rather than with aiosmtpd's auth_required, which warns on every
        # connection when it is combined with plaintext AUTH.
        if (self.owner._auth is not None or self.owner._xoauth2 is not None) and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        answer = self.owner._fault_for(envelope, "RCPT")
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        answer = self.owner._fault_for(envelope, "DATA")
        if answer:
            return answer
        raw = envelope.original_content or b""
        auth = session.auth_data
        record = Received(
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            raw=raw,
            message=email.message_from_bytes(raw, policy=email.policy.default),
            received_at=datetime.now(UTC),
            peer=tuple(session.peer[:2]) if isinstance(session.peer, tuple) else None,
            auth_user=auth.login.decode() if isinstance(auth, LoginPassword) else None,
            # session.ssl is only set by STARTTLS; implicit TLS shows on the transport.
            tls=session.ssl is not None or (server.transport is not None and server.transport.get_extra_info("ssl_object") is not None),
            mail_options=list(envelope.mail_options),
        )
        if self.owner._routes is not None:
            loop = asyncio.get_running_loop()
            try:
                # IMAP is blocking: keep it off the event loop so other sessions go on meanwhile.
                await loop.run_in_executor(None, self.owner._deliver, record)
            except Exception as exc:  # the mailbox is down: the client must keep the mail and retry
                self.owner.delivery_errors.append(f"{type(exc).__name__}: {exc}")
                return "451 4.3.0 Mailbox unavailable, try again later"
        self.owner._record(record)
        return "250 OK"


class _OAuthHandler(_Handler):
    """The recording handler plus AUTH XOAUTH2, the bearer token checked by the owner's function."""

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        initial = args[1] if len(args) > 1 else ""
        try:
            fields = dict(
                part.split("=", 1) for part in base64.b64decode(initial).decode().split("\x01") if "=" in part
            )
        except (ValueError, UnicodeDecodeError):
            fields = {}
        user, bearer = fields.get("user", ""), fields.get("auth", "")
        check = self.owner._xoauth2
        if check is not None and bearer.startswith("Bearer ") and check(user, bearer[len("Bearer "):]):
            return AuthResult(success=True, handled=False, auth_data=LoginPassword(user.encode(), b""))
        # As Gmail and Outlook do: a JSON challenge, then 535 once the client answers it.
        await server.challenge_auth(json.dumps({"status": "401", "schemes": "bearer"}))
        return AuthResult(success=False, handled=False)


class SmtpServer:
    """aiosmtpd on 127.0.0.1 (port chosen at start, kept across restarts) recording every accepted message."""

    def __init__(self, tls: Literal["starttls", "implicit"] | None = None, folder: Path | None = None) -> None:
        self.host = HOST
        self.port = 0
        self.tls = tls
        self.messages: list[Received] = []
        self.delivery_errors: list[str] = []  # why a delivery into Dovecot failed (answered 451)
        self.faults_served = 0  # how many RCPT/DATA commands were answered with an injected fault
        self.cert_path: Path | None = None
        self._folder = folder
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._faults: list[_Fault] = []
        self._auth: tuple[str, str] | None = None
        self._xoauth2: Callable[[str, str], bool] | None = None
        self._routes: dict[str, str] | None = None
        self._dovecot: Dovecot | None = None
        self._controller: _Controller | None = None
        self._cond = threading.Condition()
        self._tls_context: ssl.SSLContext | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the server accepts connections."""
        return self._controller is not None

    def start(self) -> SmtpServer:
        """Start listening (on the same port as before when it ran already)."""
        if self._controller is not None:
            return self
        if self.tls and self._tls_context is None:
            self._tls_context = self._make_tls_context()
        kwargs: dict[str, Any] = dict(
            data_size_limit=DATA_SIZE_LIMIT,
            enable_SMTPUTF8=True,
            decode_data=False,  # bytes, and 8BITMIME is offered
        )
        if self.tls == "starttls":
            kwargs.update(tls_context=self._tls_context, require_starttls=False)
        if self._auth is not None:
            kwargs.update(auth_require_tls=False, authenticator=self._authenticate)
        if self._xoauth2 is not None:
            kwargs.update(auth_require_tls=False)
        controller = _Controller(
            (_OAuthHandler if self._xoauth2 is not None else _Handler)(self), hostname=self.host, port=self.port,
            ssl_context=self._tls_context if self.tls == "implicit" else None, **kwargs,
        )
        controller.start()
        self._controller = controller
        self.port = controller.port
        return self

    def stop(self) -> None:
        """Stop listening and end every open session."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def close(self) -> None:
        """Stop and remove the temp files (certificate)."""
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _restart(self) -> None:
        if self._controller is not None:
            self.stop()
            self.start()

    def _make_tls_context(self) -> ssl.SSLContext:
        folder = self._folder
        if folder is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="smtp-")
            folder = Path(self._tmp.name)
        self.cert_path, key = self_signed_cert(folder, "smtp")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_path, key)
        return context

    # -- what was received -----------------------------------------------------------------------

    def _record(self, record: Received) -> None:
        with self._cond:
            self.messages.append(record)
            self._cond.notify_all()

    def wait_for(self, n: int = 1, timeout: float = 60.0) -> list[Received]:
        """Block until at least n messages were accepted and return them all; AssertionError on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.messages) >= n, timeout):
                raise AssertionError(f"{len(self.messages)} messages received after {timeout}s, expected {n}")
            return list(self.messages)

    def clear(self) -> None:
        """Forget every received message and delivery error."""
        with self._cond:
            self.messages.clear()
            self.delivery_errors.clear()

    def by_recipient(self, addr: str) -> list[Received]:
        """The messages whose envelope recipients include addr (case-insensitive)."""
        wanted = addr.lower()
        return [m for m in list(self.messages) if wanted in (r.lower() for r in m.rcpt_tos)]

    # -- delivery into Dovecot -------------------------------------------------------------------

    def deliver_to(self, dovecot: Dovecot, routes: dict[str, str]) -> None:
        """Append each accepted message to the INBOX of the Dovecot user its recipients route to.

        routes maps a lowercase address, or an fnmatch glob ("*@example.com", "support+*@example.com"),
        to a user; exact addresses win over globs, globs are tried in order. A user gets one copy of a
        message however many of its recipients route to it, as a real mailbox does. Delivery happens
        before the 250 answer, so a message is in the mailbox once the client's send returns.
        """
        self._dovecot = dovecot
        self._routes = {k.lower(): v for k, v in routes.items()}

    def add_route(self, addr: str, user: str) -> None:
        """When delivering into Dovecot, deliver mail for `addr` (exact, so it wins over globs) to `user`."""
        if self._routes is not None:  # a server that only records keeps doing so
            self._routes = {addr.lower(): user, **self._routes}

    def route(self, addr: str) -> str | None:
        """The Dovecot user addr is delivered to, or None."""
        routes = self._routes or {}
        addr = addr.lower()
        if addr in routes:
            return routes[addr]
        for pattern, user in routes.items():
            if fnmatch.fnmatchcase(addr, pattern):
                return user
        return None

    def _deliver(self, record: Received) -> None:
        assert self._dovecot is not None
        users: dict[str, str] = {}
        for rcpt in record.rcpt_tos:
            user = self.route(rcpt)
            if user is not None:
                users.setdefault(user, rcpt)
        for user, rcpt in users.items():
            # What a local delivery agent adds: the envelope sender and the address delivered to.
            header = f"Return-Path: <{record.mail_from}>\r\nDelivered-To: {rcpt}\r\n".encode()
            self._dovecot.append(user, header + record.raw)

    # -- faults ----------------------------------------------------------------------------------

    def refuse_connections(self, on: bool) -> None:
        """on: close the listening socket, so connecting fails (ECONNREFUSED); off: listen again on the same port."""
        if on:
            self.stop()
        else:
            self.start()

    def fail_next(self, n: int = 1, code: int = 451, message: str = "4.3.0 Try again later",
                  at: Literal["DATA", "RCPT"] = "DATA") -> None:
        """Answer `code message` for the next n messages, at DATA or at every RCPT of the transaction.

        451 is a temporary failure the client must retry; 550 a permanent refusal.
        """
        with self._cond:
            self._faults.append(_Fault(n, code, message, at))

    def _fault_for(self, envelope: Envelope, stage: str) -> str | None:
        with self._cond:
            # A RCPT fault refuses every recipient of the transaction it was first used in.
            fault: _Fault | None = getattr(envelope, "_harness_fault", None) if stage == "RCPT" else None
            if fault is None:
                fault = next((f for f in self._faults if f.at == stage and f.remaining > 0), None)
                if fault is None:
                    return None
                fault.remaining -= 1
                self._faults = [f for f in self._faults if f.remaining > 0]
                if stage == "RCPT":
                    envelope._harness_fault = fault  # type: ignore[attr-defined]
            self.faults_served += 1
            return f"{fault.code} {fault.text}"

    # -- authentication --------------------------------------------------------------------------

    def require_auth(self, user: str | None, password: str = "") -> None:
        """Require AUTH PLAIN/LOGIN with these credentials (plaintext allowed); None: no AUTH."""
        self._auth = (user, password) if user is not None else None
        self._restart()

    def require_xoauth2(self, check: Callable[[str, str], bool] | None) -> None:
        """Require AUTH XOAUTH2 whose (user, token) `check` accepts (plaintext allowed); None: no AUTH."""
        self._xoauth2 = check
        self._restart()

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = (
            self._auth is not None
            and isinstance(auth_data, LoginPassword)
            and auth_data.login.decode(errors="replace") == self._auth[0]
            and auth_data.password.decode(errors="replace") == self._auth[1]
        )
        # handled=False makes aiosmtpd answer 535 itself on failure.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

