"""Which database failures mean the server is away, and which refuse what one mail would write."""

from __future__ import annotations

import sqlite3

import peewee as pw

from mailroom.errors import first_line

# SQLSTATE classes that refuse the data itself: data exception, integrity constraint,
# program limit exceeded (an index entry over PostgreSQL's 2,704 bytes). Every other class,
# and an error with no SQLSTATE at all (a lost connection), is the server's state: retry.
_REFUSING_CLASSES = frozenset({"22", "23", "54"})
# SQLite says so in words: a string or blob over its limit, too many variables or columns.
_SQLITE_REFUSALS = ("too big", "too long", "too many", "datatype mismatch", "constraint failed")


def refusal(exc: BaseException) -> str | None:
    """The database's reason when it refused what was written, else None (the server is away)."""
    if isinstance(exc, pw.InterfaceError):
        return None  # the connection is gone
    cause = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc.__context__
    original = cause if cause is not None else exc
    text = first_line(original)
    code = getattr(original, "pgcode", None)
    if code:
        return f"database refused the mail ({code}): {text}" if code[:2] in _REFUSING_CLASSES else None
    if isinstance(exc, (pw.IntegrityError, pw.DataError)) or isinstance(original, sqlite3.DataError):
        return f"database refused the mail: {text}"
    if isinstance(original, sqlite3.Error) and any(word in text.lower() for word in _SQLITE_REFUSALS):
        return f"database refused the mail: {text}"
    return None
