"""The IMAP adapter: one seam where the connection is made; fetch, move, IDLE."""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import imapclient
from imapclient.exceptions import IMAPClientError

from mailroom.adapters.signin.tokens import Credentials, Password
from mailroom.clock import as_utc
from mailroom.errors import SignInError, TransientError

log = logging.getLogger("mailroom.imap")

# A batch is bounded by count and by bytes, so a run of 20 MB attachments never sits in
# memory together while small mail still moves in large, cheap batches.
BATCH_COUNT = 200
BATCH_BYTES = 24_000_000
IDLE_RENEW = 25 * 60  # RFC 2177: servers may drop IDLE after 30 minutes
IDLE_SEGMENT = 5.0  # seconds in IDLE before DONE and a fresh IDLE
FIRST_SEGMENT = 0.3  # seconds of the first one: mail that came just before IDLE shows only after DONE

CONNECTION_ERRORS = (OSError, socket.error, IMAPClientError, ssl.SSLError, EOFError)


@dataclass(frozen=True)
class Fetched:
    """One message as the server holds it."""

    uid: int
    raw: bytes
    arrived_at: datetime


def _tls_context(ca_file: Any) -> ssl.SSLContext:
    """Certificates are always verified: the system's CAs, or the configured private CA."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


class MailboxConnection:
    """A logged-in IMAP session on the support mailbox."""

    def __init__(self, mailbox: Any, credentials: Credentials | str, timeout: float = 30.0) -> None:
        self.cfg = mailbox
        origin = getattr(getattr(mailbox, "password", None), "origin", "mailbox.password")
        self.credentials = Password(origin, credentials) if isinstance(credentials, str) else credentials
        self.timeout = timeout
        self.client: imapclient.IMAPClient | None = None
        self.folder: str | None = None
        self.uidvalidity: int | None = None
        self.signed_in_until: datetime | None = None

    def __repr__(self) -> str:
        return f"<MailboxConnection {self.cfg.username}@{self.cfg.host}:{self.cfg.port}>"

    def connect(self) -> None:
        """Connect, secure the channel, log in, create missing folders; TransientError when away."""
        cfg = self.cfg
        try:
            context = _tls_context(cfg.ca_file)
            client = imapclient.IMAPClient(
                cfg.host,
                port=cfg.port,
                ssl=cfg.security == "tls",
                ssl_context=context if cfg.security == "tls" else None,
                timeout=self.timeout,
            )
            # Ours from here, so a failed STARTTLS or login closes it rather than leaking it.
            self.client = client
            if cfg.security == "starttls":
                client.starttls(context)
            self._sign_in(client)
            client.normalise_times = False
            for folder in (cfg.processed_folder, cfg.quarantine_folder):
                if not client.folder_exists(folder):
                    client.create_folder(folder)
        except SignInError:
            self.close()
            raise
        except CONNECTION_ERRORS as exc:
            self.close()
            raise TransientError(f"IMAP {cfg.host}:{cfg.port}: {exc or type(exc).__name__}") from exc

    def _sign_in(self, client: imapclient.IMAPClient) -> None:
        """LOGIN with the password, or AUTHENTICATE XOAUTH2; a refused token is renewed and tried once more."""
        cfg, creds = self.cfg, self.credentials
        what = "the token" if creds.method == "oauth2" else "the password"
        try:
            secret = creds.secret()
            for attempt in (1, 2):
                try:
                    if creds.method == "oauth2":
                        client.oauth2_login(cfg.username, secret)
                    else:
                        client.login(cfg.username, secret)
                    break
                except imapclient.exceptions.LoginError as exc:
                    # A token that should still be good was refused: revoked, or the clocks
                    # disagree. One new token, one more try; a password is not tried twice.
                    if attempt == 2 or creds.method != "oauth2":
                        raise SignInError(f"{creds.key}: IMAP {cfg.host}:{cfg.port} refused {what} for {cfg.username}: {_answer(exc)}") from None
                    log.info("action=token-refused server=imap retry=forced-renewal")
                    secret = creds.secret(force=True)
        except SignInError as exc:
            creds.failed(str(exc))
            raise
        creds.worked()
        # Signed in until the token expires: IDLE ends before then, so the next pass signs in anew.
        self.signed_in_until = creds.expires_at

    def signin_due(self) -> bool:
        """True when this session's token is about to expire: close it and sign in again."""
        return self.credentials.renewal_due()

    def close(self) -> None:
        """Log out, ignoring a connection that is already gone."""
        client, self.client, self.folder = self.client, None, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - the connection may already be dead; nothing to save
            with contextlib.suppress(Exception):
                client.shutdown()

    def _client(self) -> imapclient.IMAPClient:
        if self.client is None:
            self.connect()
        assert self.client is not None
        return self.client

    def select(self, folder: str) -> int:
        """Select a folder; return its UIDVALIDITY."""
        with self._guard():
            info = self._client().select_folder(folder)
        self.folder = folder
        self.uidvalidity = int(info[b"UIDVALIDITY"])
        return self.uidvalidity

    def uids(self) -> list[int]:
        """Every UID in the selected folder, oldest first."""
        with self._guard():
            return sorted(self._client().search("ALL"))

    def batches(self, uids: list[int]) -> Iterator[list[Fetched]]:
        """Fetch messages in batches bounded by count and size, with BODY.PEEK (never sets \\Seen)."""
        with self._guard():
            sizes = self._client().fetch(uids, ["RFC822.SIZE"]) if uids else {}
        batch: list[int] = []
        total = 0
        for uid in uids:
            size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
            if batch and (len(batch) >= BATCH_COUNT or total + size > BATCH_BYTES):
                yield self._fetch(batch)
                batch, total = [], 0
            batch.append(uid)
            total += size
        if batch:
            yield self._fetch(batch)

    def _fetch(self, uids: list[int]) -> list[Fetched]:
        with self._guard():
            data = self._client().fetch(uids, ["BODY.PEEK[]", "INTERNALDATE"])
        out = []
        for uid in uids:
            item = data.get(uid)
            if not item or b"BODY[]" not in item:
                continue  # expunged by someone else meanwhile
            arrived = item.get(b"INTERNALDATE") or datetime.now(UTC)
            arrived = as_utc(arrived)
            out.append(Fetched(uid, bytes(item[b"BODY[]"]), arrived))
        return out

    def move(self, uids: list[int], folder: str) -> None:
        """Move messages out of the selected folder (MOVE, else COPY + \\Deleted + UID EXPUNGE)."""
        if not uids:
            return
        with self._guard():
            client = self._client()
            if client.has_capability("MOVE"):
                client.move(uids, folder)
                return
            client.copy(uids, folder)
            client.delete_messages(uids)
            if client.has_capability("UIDPLUS"):
                client.uid_expunge(uids)
            else:
                client.expunge()

    def fetch_all(self, folder: str) -> list[Fetched]:
        """Every message of a folder (small folders: quarantine)."""
        self.select(folder)
        return [item for batch in self.batches(self.uids()) for item in batch]

    def can_idle(self) -> bool:
        """True when the server offers IDLE."""
        with self._guard():
            return self._client().has_capability("IDLE")

    def idle_wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Wait in IDLE up to `timeout` seconds (or until `stop`); True when new mail is there."""
        deadline = time.monotonic() + min(timeout, IDLE_RENEW)
        with self._guard():
            client = self._client()
            # Mail that arrived during the last pass was announced in responses imaplib kept to
            # itself, and Dovecot does not announce it again in IDLE: look before waiting.
            if client.search("ALL"):
                return True
            length = FIRST_SEGMENT
            while time.monotonic() < deadline and not (stop and stop.is_set()) and not self.signin_due():
                client.idle()
                try:
                    # Dovecot announces in IDLE only mail that arrives after IDLE began; what
                    # came between the search above and IDLE it reports after DONE. So a short
                    # first segment catches that gap, and later short segments bound the one
                    # between two segments and keep shutdown prompt.
                    segment = time.monotonic() + min(length, max(0.05, deadline - time.monotonic()))
                    length = IDLE_SEGMENT
                    while time.monotonic() < segment and not (stop and stop.is_set()) and not self.signin_due():
                        responses = client.idle_check(timeout=min(1.0, max(0.05, segment - time.monotonic())))
                        if _announces_mail(responses):
                            return True
                finally:
                    done = client.idle_done()
                if _announces_mail(done[1] if isinstance(done, tuple) and len(done) > 1 else []):
                    return True
                # Mail that came in IDLE's last half second Dovecot announces neither in IDLE
                # (it waits that long to batch) nor at DONE, nor in the next IDLE: NOOP does.
                if _announces_mail(client.noop()[1]):
                    return True
        return False

    def _guard(self) -> _Guard:
        return _Guard(self)


def _answer(exc: BaseException) -> str:
    """The server's refusal on one line (imaplib wraps it in bytes reprs)."""
    text = str(exc)
    for prefix in ("b'", 'b"'):
        text = text.replace(prefix, "")
    return " ".join(text.replace("'", "").split())[:300] or type(exc).__name__


def _announces_mail(responses: Any) -> bool:
    """True when IDLE responses announce a new message."""
    return any(isinstance(r, tuple) and len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses or [])


class _Guard:
    """Turns a dropped connection into TransientError and forgets the dead session."""

    def __init__(self, conn: MailboxConnection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or isinstance(exc, TransientError):
            return
        if isinstance(exc, CONNECTION_ERRORS):
            self.conn.close()
            cfg = self.conn.cfg
            raise TransientError(f"IMAP {cfg.host}:{cfg.port}: {exc or type(exc).__name__}") from exc
