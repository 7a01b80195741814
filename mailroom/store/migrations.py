"""The schema's upgrades: each step takes a database from version N-1 to N in place."""

from __future__ import annotations

from collections.abc import Callable

import peewee as pw

from mailroom.store.models import Clock, Event, Message, Ticket, is_postgres
from mailroom.store.search import create_search

SCHEMA_VERSION = 8


def _composite_indexes(db: pw.Database) -> None:
    """Version 4: the composite indexes a year of tickets needs (lists, conversations, clocks, reports)."""
    # create_tables(safe=True) ran just before and makes every index the models name, with
    # IF NOT EXISTS; this step says so explicitly, so an upgrade never depends on that.
    for model in (Ticket, Message, Event, Clock):
        model._schema.create_indexes(safe=True)


def _add_columns(db: pw.Database, table: str, columns: tuple[tuple[str, str], ...]) -> None:
    """Add the columns a table lacks (a step run again finds them there)."""
    present = {c.name for c in db.get_columns(table)}
    for name, kind in columns:
        if name not in present:
            db.execute_sql(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")


def _add_ticket_columns(db: pw.Database) -> None:
    """Version 3: merged tickets, the customer's language, the address of ours they wrote to."""
    _add_columns(db, "ticket", (("merged_into", "INTEGER"), ("language", "VARCHAR(8)"), ("address", "VARCHAR(320)")))


def _add_ticket_mailbox(db: pw.Database) -> None:
    """Version 5: the mailbox a ticket came in on, indexed for `report --mailbox` over a range."""
    _add_columns(db, "ticket", (("mailbox", "VARCHAR(64)"),))
    Ticket._schema.create_indexes(safe=True)


def _stored_search_vector(db: pw.Database) -> None:
    """Version 6: PostgreSQL keeps each inbound mail's text vector in a column, not in an expression index."""
    # Before, every search that ranked a mail made its vector again from the text: a similar
    # ticket search on a new ticket did so for a few hundred mails.
    if not is_postgres(db) or "search_vector" in {c.name for c in db.get_columns("message")}:
        return
    db.execute_sql("DROP INDEX IF EXISTS message_search")  # the index on the expression
    create_search(db)


_PREFIX_INDEXES = ("clock_ticket_id", "event_ticket_id", "message_message_id", "message_ticket_id",
                   "participant_ticket_id", "ticket_status", "ticket_team")


def _no_prefix_indexes(db: pw.Database) -> None:
    """Version 7: no single-column index where a composite one leads with the column (see models.py)."""
    # A new ticket writes some fifteen such index entries (its messages, clocks, events).
    for name in _PREFIX_INDEXES:
        db.execute_sql(f"DROP INDEX IF EXISTS {name}")


# The columns that hold mail, written with every message and every mail sent.
_MAIL_COLUMNS = (("message", "text"), ("message", "new_text"), ("outbox_item", "raw"))


def compress_mail(db: pw.Database) -> None:
    """Version 8: PostgreSQL compresses mail's text and bytes with lz4 where it has it, not pglz."""
    # Compressing the bytes with pglz was most of writing an outbox row (0.33 ms a row, 0.15 ms
    # with lz4, measured on 2 cores). Servers built without lz4 (or before 14) keep pglz.
    if not has_lz4(db):
        return
    for table, column in _MAIL_COLUMNS:
        db.execute_sql(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET COMPRESSION lz4')


def has_lz4(db: pw.Database) -> bool:
    """True when the database is a PostgreSQL server that compresses with lz4."""
    if not is_postgres(db):
        return False
    row = db.execute_sql("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")
    return bool(row.fetchone()[0])


MIGRATIONS: dict[int, Callable[[pw.Database], None]] = {
    2: create_search, 3: _add_ticket_columns, 4: _composite_indexes, 5: _add_ticket_mailbox,
    6: _stored_search_vector, 7: _no_prefix_indexes, 8: compress_mail,
}
