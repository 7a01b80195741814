"""Wiring for every command that works on the mailbox: the store, rules and secret; an IMAP session."""

from __future__ import annotations

import threading
import time
from typing import Any

from mailroom.adapters.imap import MailboxConnection
from mailroom.backoff import doubling
from mailroom.daemon.service import Service
from mailroom.errors import TransientError
from mailroom.rules.source import RulesSource
from mailroom.store import queries as store

CONNECT_TRIES = 3


def build_service(settings: Any) -> Service:
    """Open the store, load the rules and the secret: everything a worker needs."""
    store.open_store(settings)
    configured = settings.support.secret.reveal_optional() if settings.support.secret else None
    secret = store.shared_secret(configured)
    rules = RulesSource(settings.support.rules, settings.support.templates, settings.support.all_addresses)
    rules.load()
    return Service(settings, rules, secret)


def connect_mailbox(settings: Any, stop: threading.Event | None = None, tries: int = CONNECT_TRIES) -> MailboxConnection:
    """A logged-in IMAP session, retried with backoff; TransientError after the last try."""
    for attempt in range(1, tries + 1):
        conn = MailboxConnection(settings.mailbox, settings.mailbox.password.reveal())
        try:
            conn.connect()
            return conn
        except TransientError:
            if attempt == tries or (stop is not None and stop.is_set()):
                raise
            (stop.wait if stop else time.sleep)(doubling(attempt, 0.5, 30.0))
    raise AssertionError("unreachable")
