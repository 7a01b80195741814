"""Throwaway databases for tests: a fresh PostgreSQL database per session, a fresh SQLite file per test."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.extensions

from mailroom.errors import first_line

# The server that runs before the test session; override for another one.
ADMIN_URL = os.environ.get("MAILROOM_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


class PostgresUnavailable(RuntimeError):
    """PostgreSQL could not be reached or refused to create the test database."""


def _connect(url: str) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(url, connect_timeout=5)
    conn.autocommit = True  # CREATE/DROP DATABASE cannot run inside a transaction
    return conn


def url_for(name: str, admin_url: str = ADMIN_URL) -> str:
    """The admin URL with its database replaced by name."""
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def sqlite_url(path: Path) -> str:
    """sqlite:////abs/path for a database file."""
    return f"sqlite:///{Path(path).resolve()}"


def create_database(admin_url: str = ADMIN_URL, *, name: str | None = None, template: str | None = None) -> str:
    """CREATE DATABASE `name` (mailroom_test_<random>), a copy of `template` if given; its URL. PostgresUnavailable when that fails."""
    name = name or f"mailroom_test_{secrets.token_hex(4)}"
    try:
        conn = _connect(admin_url)
    except psycopg2.OperationalError as exc:
        detail = first_line(exc)
        raise PostgresUnavailable(
            f"PostgreSQL is not reachable at {admin_url} ({detail}); the PostgreSQL tests need it running "
            "(set MAILROOM_TEST_POSTGRES to another server's URL)"
        ) from exc
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    except psycopg2.Error as exc:
        raise PostgresUnavailable(f"cannot create a test database on {admin_url}: {exc}".strip()) from exc
    finally:
        conn.close()
    return url_for(name, admin_url)


def _terminate_others(cur: psycopg2.extensions.cursor, name: str) -> None:
    cur.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )


def drop_database(url: str, admin_url: str = ADMIN_URL) -> None:
    """Drop the database at url, ending connections still open to it first."""
    name = urlsplit(url).path.lstrip("/")
    conn = _connect(admin_url)
    try:
        with conn.cursor() as cur:
            _terminate_others(cur, name)
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        conn.close()


def reset_schema(url: str) -> None:
    """Empty the database: drop and recreate schema public, after ending what a previous test left connected."""
    name = urlsplit(url).path.lstrip("/")
    conn = _connect(url)
    try:
        with conn.cursor() as cur:
            # A connection a previous test left open (maybe inside a transaction) would hold locks
            # and make DROP SCHEMA wait forever; end it, and never wait long for a lock anyway.
            _terminate_others(cur, name)
            cur.execute("SET lock_timeout = '10s'")
            cur.execute("DROP SCHEMA public CASCADE")
            cur.execute("CREATE SCHEMA public")
    finally:
        conn.close()
