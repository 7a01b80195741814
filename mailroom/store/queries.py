"""The database: connecting, creating and upgrading the schema, and the queries the service needs."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import peewee as pw
from playhouse.db_url import connect
from playhouse.db_url import parse as parse_url

from mailroom.errors import ConfigError
from mailroom.store import files
from mailroom.store.migrations import MIGRATIONS, SCHEMA_VERSION, compress_mail
from mailroom.store.models import (
    MODELS,
    Event,
    Message,
    OutboxItem,
    Participant,
    Setting,
    Ticket,
    database,
    is_postgres,
)
from mailroom.store.prepared import insert_row
from mailroom.store.search import create_search

BUSY_TIMEOUT_MS = 15000  # how long an SQLite writer waits for another's lock before "database is locked"
TURN_WAIT = BUSY_TIMEOUT_MS / 1000  # seconds a writer of this process waits for its turn, the same
SCHEMA_LOCK = 0x6D61696C726F6F6D  # pg_advisory_xact_lock key while creating the schema ("mailroom")


class WriterSqlite(pw.SqliteDatabase):
    """SQLite whose transactions take the write lock when they begin (BEGIN IMMEDIATE)."""

    # A transaction that reads and then writes cannot upgrade its snapshot once another
    # connection (a thread of the daemon, a CLI command) has committed meanwhile: SQLite
    # fails it at once with "database is locked", the busy timeout does not apply. Taking
    # the lock at BEGIN makes it wait its turn under the busy timeout instead.
    #
    # Between this process's own threads (ingestion and the sender) the turn is also taken
    # on a Python lock first: SQLite's busy handler waits by sleeping 1, 2, 5 … 100 ms and
    # retrying, so a thread that found the file locked slept milliseconds after the writer
    # had long committed (3.6 ms a transaction on average over 1,000 mails). The Python lock
    # wakes the next writer the moment the last one commits; other processes still wait
    # under the busy timeout.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turn = threading.Lock()
        self._holder = threading.local()

    def begin(self, lock_type: str | None = None) -> None:
        if not getattr(self._holder, "turn", False):
            # Bounded like the busy timeout: a writer held up that long goes on to SQLite's own
            # wait, and fails there as it always did, rather than wait here for ever.
            self._holder.turn = self._turn.acquire(timeout=TURN_WAIT)
        try:
            super().begin(lock_type or "IMMEDIATE")
        except BaseException:
            self._give_turn()
            raise

    def commit(self) -> Any:
        done = super().commit()  # a failed commit is rolled back next, and that gives the turn
        self._give_turn()
        return done

    def rollback(self) -> Any:
        try:
            return super().rollback()
        finally:
            self._give_turn()

    def close(self) -> bool:
        try:
            return super().close()
        finally:
            if not self.in_transaction():
                self._give_turn()

    def turn_taken(self) -> bool:
        """True while a writer of this process holds the turn."""
        return self._turn.locked()

    def _give_turn(self) -> None:
        """Let this process's next writer in."""
        if getattr(self._holder, "turn", False):
            self._holder.turn = False
            self._turn.release()


def open_store(settings: Any) -> pw.Database:
    """The database of these settings opened, with the data folder made private first."""
    files.private_data_dir(Path(settings.support.data_dir))
    db = settings.database
    password = db.password.reveal() if db.password else None
    return open_database(db.url, password, sslmode=db.sslmode, ca_file=db.ca_file)


def open_database(
    url: str, password: str | None = None, *, sslmode: str | None = None, ca_file: Path | None = None
) -> pw.Database:
    """Connect to `url` (sqlite:///… or postgresql://…), bind the models, create/upgrade the schema."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = Path(parsed.path)
        files.private_folder(path.parent, only_missing=True)
        if str(path) != ":memory:":
            # The database holds customer mail and the secret that signs mailroom's ids: 0600.
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, files.FILE_MODE))
            os.chmod(path, files.FILE_MODE)
        # WAL lets readers (CLI, reports) run beside the daemon; the busy timeout covers
        # the brief moments two processes write at once.
        db = WriterSqlite(
            **parse_url(url),
            pragmas={
                "journal_mode": "wal",
                "busy_timeout": BUSY_TIMEOUT_MS,
                "foreign_keys": 1,
                "synchronous": "normal",
            },
        )
    elif parsed.scheme in ("postgresql", "postgres"):
        kwargs: dict[str, str] = {"password": password} if password else {}
        if sslmode:
            kwargs["sslmode"] = sslmode
            if sslmode.startswith("verify"):
                # libpq reads ~/.postgresql/root.crt by default; "system" is the host's CA store.
                kwargs["sslrootcert"] = str(ca_file) if ca_file else "system"
        db = connect(url.replace("postgres://", "postgresql://", 1), **kwargs)
    else:
        raise ConfigError(f'database.url: expected sqlite:/// or postgresql://, got "{url}"')
    database.initialize(db)
    try:
        db.connect(reuse_if_open=True)
    except pw.OperationalError as exc:
        raise ConfigError(f"database.url: cannot connect: {str(exc).strip().splitlines()[0]}") from exc
    upgrade_schema(db)
    return db


def survivor(ticket_id: int) -> int:
    """The ticket that mail to `ticket_id` belongs to now: itself, or the one it was merged into."""
    seen = {ticket_id}
    while True:
        row = Ticket.select(Ticket.merged_into).where(Ticket.id == ticket_id).first()
        if row is None or row.merged_into is None or row.merged_into in seen:
            return ticket_id
        ticket_id = row.merged_into
        seen.add(ticket_id)


def upgrade_schema(db: pw.Database) -> None:
    """Create the tables on first start; run the migrations a newer version brings, all in one transaction."""
    if _schema_version(db) == SCHEMA_VERSION:
        return  # current: no DDL, whose table locks would block (or deadlock) running workers
    with db.atomic():
        if is_postgres(db):
            # Workers starting together take turns; the first creates, the others find it made.
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        # Only the tables that are missing: an index the models name on a column that a step
        # below adds cannot be made before that step has run.
        db.create_tables([model for model in MODELS if not model.table_exists()], safe=True)
        row = Setting.get_or_none(Setting.key == "schema_version")
        version = int(row.value) if row else 0
        if version == 0:
            create_search(db)
            compress_mail(db)
            Setting.insert(key="schema_version", value=str(SCHEMA_VERSION)).on_conflict_ignore().execute()
            return
        for step in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[step](db)
            Setting.update(value=str(step)).where(Setting.key == "schema_version").execute()
        # Every index the models name, now that every column they cover is there.
        db.create_tables(MODELS, safe=True)


def _schema_version(db: pw.Database) -> int:
    """The schema version recorded in the database; 0 before the first start."""
    if not db.table_exists(Setting._meta.table_name):
        return 0
    row = Setting.get_or_none(Setting.key == "schema_version")
    return int(row.value) if row else 0


def shared_secret(configured: str | None) -> str:
    """The HMAC secret: the configured one, else one generated once and kept for every worker."""
    if configured:
        return configured
    Setting.insert(key="secret", value=secrets.token_hex(32)).on_conflict_ignore().execute()
    return Setting.get(Setting.key == "secret").value


def tickets_of_message_ids(ids: Iterable[str]) -> dict[str, int]:
    """Map each known Message-ID (inbound or outbound) to its ticket."""
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    rows = (
        Message.select(Message.message_id, Message.ticket)
        .where(Message.message_id.in_(wanted) & Message.ticket.is_null(False))
        .tuples()
    )
    return {mid: ticket for mid, ticket in rows}


def tickets_answered_on_agent_side(ids: Iterable[str], kinds: Iterable[str]) -> set[int]:
    """The tickets of those Message-IDs that name mail we wrote to the engineers (`kinds` of outbound rows)."""
    wanted = [i for i in ids if i]
    if not wanted:
        return set()
    rows = (
        Message.select(Message.ticket)
        .where(Message.message_id.in_(wanted) & (Message.direction == "outbound")
               & Message.kind.in_(list(kinds)) & Message.ticket.is_null(False))
        .tuples()
    )
    return {ticket for (ticket,) in rows}


def is_participant(ticket_id: int, address: str) -> bool:
    """True when `address` took part in the ticket (requester, copied customer, agent)."""
    return (
        Participant.select()
        .where((Participant.ticket == ticket_id) & (Participant.address == address.lower()))
        .exists()
    )


def add_participants(ticket_id: int, addresses: Iterable[str], role: str = "customer") -> None:
    """Record addresses as taking part in the ticket."""
    for address in sorted({a.lower() for a in addresses if a}):
        insert_row(Participant, {"ticket": ticket_id, "address": address, "role": role}, unless_present=True)


def record_event(
    ticket_id: int, at: datetime, actor: str, action: str, detail: str = "", data: dict | None = None
) -> None:
    """Append to the ticket's audit log."""
    Event.create(ticket=ticket_id, at=at, actor=actor, action=action, detail=detail, data=data)


def queue(
    *,
    kind: str,
    now: datetime,
    ticket_id: int | None = None,
    recipients: list[str] | None = None,
    raw: bytes | None = None,
    action: str | None = None,
    alias: str | None = None,
    payload: dict | None = None,
    message_id: int | None = None,
) -> OutboxItem:
    """Put a mail or an alert request in the outbox (inside the caller's transaction)."""
    return OutboxItem.create(
        kind=kind,
        ticket=ticket_id,
        message=message_id,
        recipients=recipients or [],
        raw=raw,
        action=action,
        alias=alias,
        payload=payload,
        next_attempt_at=now,
        created_at=now,
    )


def claim_due(kind: str, now: datetime, limit: int = 100, lease: timedelta = timedelta(seconds=90)) -> list[OutboxItem]:
    """Claim queued rows that are due, so no other worker sends them while this one does.

    The lease is short so that mail a killed worker had claimed goes out soon after; a batch
    sends well within it.

    PostgreSQL: `FOR UPDATE SKIP LOCKED` lets several workers claim disjoint rows at once.
    SQLite: its transactions take the write lock at BEGIN, so the claim is a single writer's.
    """
    db = database.obj
    postgres = is_postgres(db)
    with db.atomic():
        query = (
            OutboxItem.select(OutboxItem.id)
            .where(
                (OutboxItem.state == "queued")
                & (OutboxItem.kind == kind)
                & (OutboxItem.next_attempt_at <= now)
                & (OutboxItem.claimed_until.is_null() | (OutboxItem.claimed_until < now))
            )
            .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
            .limit(limit)
        )
        if postgres:
            query = query.for_update("FOR UPDATE SKIP LOCKED")
        ids = [row.id for row in query]
        if not ids:
            return []
        OutboxItem.update(claimed_until=now + lease).where(OutboxItem.id.in_(ids)).execute()
    return list(OutboxItem.select().where(OutboxItem.id.in_(ids)).order_by(OutboxItem.id))

