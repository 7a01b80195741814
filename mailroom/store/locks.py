"""Which worker reads a mailbox: a PostgreSQL session advisory lock per mailbox name."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import psycopg2

from mailroom.store.models import database
from mailroom.store.queries import is_postgres

log = logging.getLogger("mailroom")


class MailboxLock:
    """Which worker polls the mailbox: on PostgreSQL, whoever holds a session advisory lock on its name."""

    # The lock lives on a connection of its own, outside peewee's per-thread connections, so no
    # transaction or reconnect of the jobs can drop it; it goes when this process or that
    # connection dies, and another worker takes the mailbox over. SQLite serves one worker.

    def __init__(self, name: str) -> None:
        self.name = name
        # pg_try_advisory_lock takes a bigint: the first 8 bytes of a stable hash of the name.
        self.key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        self.conn: Any = None
        self.held = False

    def acquire(self) -> bool:
        """True when this worker may poll: the lock is taken now, or still held on a live connection."""
        db = database.obj
        if not is_postgres(db):
            return True
        try:
            if self.conn is None:
                # Opened as peewee would open one, but owned here, not by peewee's per-thread pool.
                self.conn = psycopg2.connect(dbname=db.database, **db.connect_params)
                self.conn.autocommit = True  # no transaction left open beside the lock
                with self.conn.cursor() as cur:
                    # Without keepalives a vanished host would keep the mailbox for hours.
                    cur.execute("SET tcp_keepalives_idle = 30; SET tcp_keepalives_interval = 10;"
                                " SET tcp_keepalives_count = 3")
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
