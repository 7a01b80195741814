"""An SMTP sink for throughput benches: accepts every mail and discards it unparsed, counting DATA only."""

from __future__ import annotations

import asyncio
import contextlib
import threading

HOST = "127.0.0.1"
LIMIT = 256 * 1024 * 1024  # the largest mail the sink takes whole (a bench's 20 MB attachment, base64)
END = b"\r\n.\r\n"


class SmtpSink:
    """A raw asyncio SMTP server in a thread: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; nothing parsed.

    A recording server (aiosmtpd with email.message_from_bytes per mail) caps a session at a few
    hundred mails/s on this machine, which would slow the baseline as much as mailroom and hide
    mailroom's own cost; this one costs a search for the end of DATA.
    """

    def __init__(self) -> None:
        self.host = HOST
        self.port = 0
        self.count = 0  # mails accepted since the last clear()
        self.bytes = 0
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SmtpSink:
        """Listen on a free port of 127.0.0.1 (known in `port` once this returns)."""
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(
                asyncio.start_server(self._session, HOST, 0, limit=LIMIT))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            self._server.close()
            loop.run_until_complete(self._server.wait_closed())
            loop.close()

        self._thread = threading.Thread(target=run, name="smtp-sink", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def close(self) -> None:
        """Stop listening."""
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    def clear(self) -> None:
        """Start counting from zero."""
        with self._cond:
            self.count = 0
            self.bytes = 0

    def wait_for(self, n: int, timeout: float = 60.0) -> int:
        """Block until at least n mails were accepted; answer the count (which may be short on timeout)."""
        with self._cond:
            self._cond.wait_for(lambda: self.count >= n, timeout)
            return self.count

    def _accepted(self, size: int) -> None:
        with self._cond:
            self.count += 1
            self.bytes += size
            self._cond.notify_all()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One client: answer each command; after DATA, skip to the lone dot and count the mail."""
        writer.write(b"220 sink ESMTP\r\n")
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            while True:
                line = await reader.readuntil(b"\r\n")
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(b"250-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 268435456\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 go ahead\r\n")
                    body = await reader.readuntil(END)
                    self._accepted(len(body))
                    writer.write(b"250 OK discarded\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    await writer.drain()
                    break
                else:  # HELO MAIL RCPT RSET NOOP: all fine
                    writer.write(b"250 OK\r\n")
                await writer.drain()
        writer.close()
