"""Fixtures for the real servers tests talk to: Dovecot (IMAP), aiosmtpd (SMTP), SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailroom.demo.dovecot import Dovecot
from mailroom.demo.opsgenie import OpsgenieServer
from mailroom.demo.smtp import SmtpServer
from tests.harness.database import (
    PostgresUnavailable,
    create_database,
    drop_database,
    reset_schema,
    sqlite_url,
)

# -- IMAP --------------------------------------------------------------------------------------
# Function scope: a Dovecot start plus stop costs ~60 ms here, little more than emptying a shared
# instance's mailboxes, and a fresh one leaves nothing behind (folders, flags, UIDs, sessions,
# a server a test stopped) for the next test.


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A running Dovecot on a free port, users support/customer/engineer, password Dovecot.PASSWORD, no TLS."""
    with Dovecot() as server:
        yield server


@pytest.fixture
def dovecot_tls() -> Iterator[Dovecot]:
    """Dovecot with TLS: STARTTLS on .port, implicit TLS on .tls_port, verifiable with .cert_path as CA file."""
    with Dovecot(tls=True) as server:
        yield server


# -- SMTP --------------------------------------------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """aiosmtpd on a free port of 127.0.0.1, no TLS, no AUTH; records what it accepts."""
    with SmtpServer() as server:
        yield server


# -- databases ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _pg_database() -> Iterator[str]:
    """A PostgreSQL database created for this session and dropped after it."""
    try:
        url = create_database()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def pg_url(_pg_database: str) -> str:
    """postgresql://postgres@127.0.0.1:5432/<session db>, emptied (schema public recreated) for this test."""
    reset_schema(_pg_database)
    return _pg_database


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: a fresh SQLite file under tmp_path, then the emptied session PostgreSQL database."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "mailroom.db")
    # Looked up only here, so running just the SQLite cases does not need PostgreSQL.
    return str(request.getfixturevalue("pg_url"))


# -- OpsGenie ----------------------------------------------------------------------------------
@pytest.fixture
def opsgenie() -> Iterator[OpsgenieServer]:
    """A local server speaking OpsGenie's alert API (and PagerDuty Events v2 and a webhook), one per test."""
    with OpsgenieServer(api_key="test-key") as server:
        yield server
    assert server.errors == []
