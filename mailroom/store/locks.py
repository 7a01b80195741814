"""Which worker reads a mailbox: a PostgreSQL session advisory lock per mailbox, and a count of live workers."""

from __future__ import annotations

import hashlib
import logging
import os
from typing import Any

import psycopg2

from mailroom.store.models import database, is_postgres

log = logging.getLogger("mailroom")


def own_session(db: Any) -> Any:
    """A PostgreSQL session opened as peewee would open one, but owned by the caller, not peewee's per-thread pool."""
    # Named after the process, so pg_stat_activity tells which worker holds which mailbox.
    params = {"application_name": f"mailroom worker {os.getpid()}", **db.connect_params}
    conn = psycopg2.connect(dbname=db.database, **params)
    conn.autocommit = True  # no transaction left open beside a lock
    with conn.cursor() as cur:
        # Without keepalives a vanished host would keep its locks for hours.
        cur.execute("SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3")
    return conn


class MailboxLock:
    """Which worker polls the mailbox: on PostgreSQL, whoever holds a session advisory lock on its name."""

    # The lock lives on a connection of its own, outside peewee's per-thread connections, so no
    # transaction or reconnect of the jobs can drop it; it goes when this process or that
    # connection dies, and another worker takes the mailbox over. SQLite serves one worker.

    def __init__(self, name: str) -> None:
        self.name = name
        self.key = lock_key(name)  # pg_try_advisory_lock takes a bigint
        self.conn: Any = None
        self.held = False

    def acquire(self) -> bool:
        """True when this worker may poll: the lock is taken now, or still held on a live connection."""
        db = database.obj
        if not is_postgres(db):
            return True
        try:
            if self.conn is None:
                self.conn = own_session(db)
            with self.conn.cursor() as cur:
                if self.held:
                    cur.execute("SELECT 1")  # the session is alive, so the lock is still ours
                    return True
                cur.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
                self.held = bool(cur.fetchone()[0])
        except Exception as exc:  # noqa: BLE001 - the database is away: poll nothing until it is back
            if self.held:
                log.warning("action=mailbox-lost mailbox=%s error=%s", self.name, " ".join(str(exc).split()))
            self.release()
            return False
        if self.held:
            log.info("action=mailbox-held mailbox=%s", self.name)
        return self.held

    def release(self) -> None:
        """Let another worker take the mailbox (closing the session ends the lock)."""
        conn, self.conn, self.held = self.conn, None, False
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - already gone
                log.debug("closing the lock connection failed", exc_info=True)


PRESENCE = "mailroom:workers"  # the shared lock every live worker holds, so each can count the others


def lock_key(name: str) -> int:
    """The bigint advisory lock key of a name: the first 8 bytes of a stable hash."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class Presence:
    """How many workers are alive: each holds a shared advisory lock on PRESENCE, counted in pg_locks."""

    # Like MailboxLock, on a session of its own: a worker that dies drops out of the count
    # when its session ends, so the others take over its share of the mailboxes.

    def __init__(self) -> None:
        self.key = lock_key(PRESENCE)
        self.conn: Any = None

    def workers(self) -> int:
        """The live workers, this one among them; 1 on SQLite or while the database is away."""
        db = database.obj
        if not is_postgres(db):
            return 1
        try:
            if self.conn is None:
                self.conn = own_session(db)
                with self.conn.cursor() as cur:
                    cur.execute("SELECT pg_advisory_lock_shared(%s)", (self.key,))
            unsigned = self.key & 0xFFFFFFFFFFFFFFFF
            with self.conn.cursor() as cur:
                # A bigint key shows in pg_locks as its high and low 32 bits, objsubid 1.
                cur.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    " AND classid = %s AND objid = %s AND objsubid = 1",
                    (unsigned >> 32, unsigned & 0xFFFFFFFF),
                )
                return max(1, int(cur.fetchone()[0]))
        except Exception:  # noqa: BLE001 - the database is away: count on no one else
            log.debug("counting the workers failed", exc_info=True)
            self.leave()
            return 1

    def leave(self) -> None:
        """Drop out of the count (closing the session ends the lock)."""
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - already gone
                log.debug("closing the presence connection failed", exc_info=True)
