"""The health check's verdicts on sign-in and polling: one cause, one page, and none when it is over."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from mailroom import clock
from mailroom.adapters.signin.tokens import Password
from mailroom.daemon.health import stuck
from mailroom.daemon.wiring import signin_state
from mailroom.store import queries as store
from mailroom.store import signins
from mailroom.store.models import Mailbox

NOW = datetime(2026, 12, 8, 3, 0, tzinfo=UTC)
STALE = timedelta(minutes=5)
BOX = SimpleNamespace(name="support", ledger="support@imap.example.com/INBOX")
SETTINGS = SimpleNamespace(all_mailboxes=(BOX,), connection_of=lambda box: "imap")


@pytest.fixture(autouse=True)
def _real_time_after() -> Iterator[None]:
    yield
    clock.set_now(None)


def _signed_in(creds: Password) -> None:
    """What the daemon records after each sign-in."""
    signins.save([signin_state("imap", creds)])


def test_a_mailbox_whose_sign_in_works_again_is_not_paged_as_polling_before_it_could_poll(
    database_url: str,
) -> None:
    store.open_database(database_url)
    started = NOW - timedelta(hours=2)
    # Its last good poll was an hour ago; sign-in has failed since.
    Mailbox.create(name=BOX.ledger, last_uid=0, last_poll_at=NOW - timedelta(hours=1))
    creds = Password("mailbox.password_file", "secret")
    clock.set_now(NOW - timedelta(minutes=50))
    creds.failed("IMAP refused the password for support")
    _signed_in(creds)
    failing = stuck(NOW, STALE, started, SETTINGS)
    assert failing["poll"] is None and failing["auth"] and "refused the password" in failing["auth"]

    # The admin fixes it: sign-in works, the first poll since is still reading the backlog.
    clock.set_now(NOW)
    creds.worked()
    _signed_in(creds)
    assert creds.recovered_at == NOW
    assert stuck(NOW + timedelta(seconds=30), STALE, started, SETTINGS) == {"poll": None, "outbox": None, "auth": None}

    # A mailbox that signs in but never polls is paged once it has had its time.
    later = stuck(NOW + STALE + timedelta(seconds=1), STALE, started, SETTINGS)
    assert later["poll"] and later["poll"].startswith("no successful poll since") and later["auth"] is None

