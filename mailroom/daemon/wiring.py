"""Wiring for every command that works on the mailbox: the store, rules and secret; an IMAP session."""

from __future__ import annotations

import threading
import time
from typing import Any

from mailroom.adapters.imap import MailboxConnection
from mailroom.adapters.signin.build import build_signins, mailbox_credentials
from mailroom.adapters.signin.tokens import Credentials
from mailroom.backoff import doubling
from mailroom.clock import as_utc
from mailroom.config.units import iso
from mailroom.daemon.service import Service
from mailroom.errors import SignInError, TransientError
from mailroom.rules.source import RulesSource
from mailroom.store import queries as store
from mailroom.store.signins import SignInState

CONNECT_TRIES = 3


def build_service(settings: Any) -> Service:
    """Open the store, load the rules and the secret: everything a worker needs."""
    store.open_store(settings)
    configured = settings.support.secret.reveal_optional() if settings.support.secret else None
    secret = store.shared_secret(configured)
    rules = RulesSource(settings.support.rules, settings.support.templates, settings.support.all_addresses,
                        mailboxes=settings.mailbox_names)
    rules.load()
    return Service(settings, rules, secret)


__all__ = ["build_service", "build_signins", "connect_mailbox", "signin_state"]


def connect_mailbox(settings: Any, stop: threading.Event | None = None, tries: int = CONNECT_TRIES,
                    credentials: Credentials | None = None, box: Any = None) -> MailboxConnection:
    """A signed-in IMAP session to `box` (the first mailbox by default), retried with backoff; TransientError after the last try."""
    box = box or settings.mailbox
    credentials = credentials or mailbox_credentials(settings, box)
    for attempt in range(1, tries + 1):
        conn = MailboxConnection(box, credentials)
        try:
            conn.connect()
            return conn
        except TransientError as exc:
            # A refused sign-in was asked of the token endpoint or the server already: asking
            # again at once changes nothing, and a hanging endpoint would hold each try.
            if isinstance(exc, SignInError) or attempt == tries or (stop is not None and stop.is_set()):
                raise
            (stop.wait if stop else time.sleep)(doubling(attempt, 0.5, 30.0))
    raise AssertionError("unreachable")


def signin_state(connection: str, creds: Credentials) -> SignInState:
    """What status and the health check keep of a connection's sign-in: never a secret."""
    expires = creds.expires_at
    return SignInState(
        connection=connection,
        method=creds.describe(),
        key=creds.key,
        token_expires_at=iso(as_utc(expires)) if expires else None,
        failing_since=iso(creds.failing_since) if creds.failing_since else None,
        error=creds.last_error,
        recovered_at=iso(creds.recovered_at) if creds.recovered_at else None,
    )
