"""Full-text search over the tickets' mail: SQLite FTS5, or PostgreSQL's text search, ranked."""

# What is searched is what people wrote: inbound mail (customers', engineers', notes), subject
# and new text, never mailroom's own acknowledgements and notifications, which would make
# every ticket look alike. SQLite keeps a contentless FTS5 index filled by triggers, so every
# way a message is stored (ingest, import, replay) is indexed without the code knowing;
# PostgreSQL keeps each inbound mail's text vector in a generated column (GIN-indexed), so it
# is made once when the row is written, never again by a search that ranks it.
# The 'simple' configuration and unicode61 tokenizer know no language: mail comes in many.

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import peewee as pw

from mailroom.store import recent_mail
from mailroom.store.models import Message, Ticket, database
from mailroom.store.prepared import with_ids
from mailroom.store.recent_mail import WORD as _WORD

SEARCHED_KINDS = ("customer", "agent", "note")
_MOST_MATCHES = 10000  # matching mails ranked per search: the best of a common word's are enough
# A bounded search on PostgreSQL gives up after this long and finds nothing, rather than hold up
# ingestion (a safety net: it ranks the mail of a few hundred tickets).
_BOUNDED_MS = 100
_CANCELLED = "57014"  # PostgreSQL's SQLSTATE query_canceled: the statement timeout
_PG_VECTOR_COLUMN = (
    "search_vector tsvector GENERATED ALWAYS AS (CASE WHEN direction = 'inbound' THEN "
    "to_tsvector('simple', coalesce(subject, '') || ' ' || coalesce(nullif(new_text, ''), text, '')) END) STORED"
)
# Words too common in support mail to tell one ticket from another (similar tickets only).
_COMMON = frozenset((
    "all", "and", "any", "are", "but", "can", "con", "das", "del", "der", "des", "die", "for", "get", "had",
    "has", "ich", "ist", "las", "les", "los", "not", "our", "por", "que", "the", "und", "una", "une", "was",
    "you",
    "about", "after", "again", "also", "andere", "auch", "avec", "bitte", "cannot", "could", "dans",
    "danke", "dear", "does", "from", "gracias", "hallo", "have", "hello", "here", "hola", "just", "mais",
    "merci", "nach", "nicht", "please", "pour", "regards", "since", "still", "than", "thank", "thanks",
    "that", "their", "them", "then", "there", "they", "this", "when", "where", "which", "will", "with",
    "would", "your",
))


@dataclass(frozen=True, slots=True)
class Found:
    """One ticket found, with how well it matched (higher is better) and how many of its mails did."""

    ticket_id: int
    score: float
    mails: int


@dataclass(frozen=True, slots=True)
class Earlier:
    """A ticket found, as a new ticket's notification shows it: subject, status and last answer."""

    id: int
    subject: str
    status: str
    answer: str


def create_search(db: pw.Database) -> None:
    """Create the full-text index (and on SQLite its triggers), filling it from the mail already stored."""
    if isinstance(db, pw.PostgresqlDatabase):
        # Adding the column writes every row's vector (a rewrite of the table, once).
        db.execute_sql(f"ALTER TABLE message ADD COLUMN IF NOT EXISTS {_PG_VECTOR_COLUMN}")
        db.execute_sql(
            "CREATE INDEX IF NOT EXISTS message_search ON message USING gin (search_vector) WHERE direction = 'inbound'"
        )
        return
    if db.table_exists("message_search"):
        return  # made already (an upgrade run again): its triggers keep it full
    db.execute_sql(
        "CREATE VIRTUAL TABLE message_search USING fts5("
        "subject, body, content='', tokenize='unicode61 remove_diacritics 2')"
    )
    body_new = "coalesce(nullif(new.new_text, ''), new.text, '')"
    body_old = "coalesce(nullif(old.new_text, ''), old.text, '')"
    db.execute_sql(
        "CREATE TRIGGER IF NOT EXISTS message_search_insert AFTER INSERT ON message WHEN new.direction = 'inbound' "
        f"BEGIN INSERT INTO message_search(rowid, subject, body) VALUES (new.id, new.subject, {body_new}); END"
    )
    # A contentless index forgets a row only when told the words it held.
    db.execute_sql(
        "CREATE TRIGGER IF NOT EXISTS message_search_delete AFTER DELETE ON message WHEN old.direction = 'inbound' "
        "BEGIN INSERT INTO message_search(message_search, rowid, subject, body) "
        f"VALUES ('delete', old.id, old.subject, {body_old}); END"
    )
    db.execute_sql(
        # peewee's save() writes every column: only a real change of the words reindexes.
        "CREATE TRIGGER IF NOT EXISTS message_search_update AFTER UPDATE OF subject, text, new_text ON message "
        "WHEN old.direction = 'inbound' AND (old.subject IS NOT new.subject OR old.text IS NOT new.text "
        "OR old.new_text IS NOT new.new_text) BEGIN "
        "INSERT INTO message_search(message_search, rowid, subject, body) "
        f"VALUES ('delete', old.id, old.subject, {body_old}); "
        f"INSERT INTO message_search(rowid, subject, body) VALUES (new.id, new.subject, {body_new}); END"
    )
    db.execute_sql(
        "INSERT INTO message_search(rowid, subject, body) "
        "SELECT id, subject, coalesce(nullif(new_text, ''), text, '') FROM message WHERE direction = 'inbound'"
    )


def search_tickets(
    text: str,
    *,
    limit: int = 20,
    statuses: tuple[str, ...] = (),
    exclude: int | None = None,
    any_word: bool = False,
    recent: int = 0,
) -> list[Found]:
    """Tickets whose mail holds every word of `text` (any word with any_word), best first.

    With `recent`, only the mail of the latest `recent` tickets is ranked: the work stays bounded
    however many of a year's mails share a common word, where ranking them all takes seconds.
    """
    words = _WORD.findall(text.lower())
    if not words:
        return []
    db = database.obj
    kinds = ", ".join(f"'{k}'" for k in SEARCHED_KINDS)
    if recent:
        if isinstance(db, pw.PostgresqlDatabase):
            return _pg_recent(db, words, any_word, kinds, statuses, exclude, int(recent), limit)
        return _sqlite_recent(words, any_word, kinds, statuses, exclude, int(recent), limit)
    where = [f"m.kind IN ({kinds})", "m.ticket_id IS NOT NULL"]
    params: list[object] = []
    if statuses:
        where.append(f"t.status IN ({', '.join('?' for _ in statuses)})")
        params.extend(statuses)
    if exclude is not None:
        where.append("m.ticket_id <> ?")
        params.append(exclude)
    if isinstance(db, pw.PostgresqlDatabase):
        sql = (
            "SELECT m.ticket_id, max(ts_rank(m.search_vector, q)) AS score, count(*) "
            "FROM message m JOIN ticket t ON t.id = m.ticket_id, to_tsquery('simple', %s) q "
            f"WHERE m.direction = 'inbound' AND m.search_vector @@ q AND {' AND '.join(where)} "
            "GROUP BY m.ticket_id ORDER BY score DESC, m.ticket_id DESC LIMIT %s"
        ).replace("?", "%s")
        rows = db.execute_sql(sql, [_pg_query(words, any_word), *params, limit]).fetchall()
        return [Found(int(r[0]), float(r[1]), int(r[2])) for r in rows]
    query = (" OR " if any_word else " ").join(f'"{w}"' for w in words)
    # bm25 is lower for a better match; a word in the subject counts three times one in the body.
    # The inner ORDER BY and LIMIT keep SQLite from folding bm25 into the grouped query, where
    # FTS5 cannot compute it, and bound the work on a very common word.
    sql = (
        "SELECT m.ticket_id, -min(hit.rank) AS score, count(*) FROM ("
        "SELECT rowid AS id, bm25(message_search, 3.0, 1.0) AS rank FROM message_search WHERE message_search MATCH ? "
        f"ORDER BY rank LIMIT {_MOST_MATCHES}) hit JOIN message m ON m.id = hit.id JOIN ticket t ON t.id = m.ticket_id "
        f"WHERE {' AND '.join(where)} "
        "GROUP BY m.ticket_id ORDER BY score DESC, m.ticket_id DESC LIMIT ?"
    )
    rows = db.execute_sql(sql, [query, *params, limit]).fetchall()
    return [Found(int(r[0]), float(r[1]), int(r[2])) for r in rows]


def _sqlite_recent(
    words: list[str], any_word: bool, kinds: str, statuses: tuple[str, ...], exclude: int | None, recent: int,
    limit: int,
) -> list[Found]:
    """SQLite: the newest `recent` tickets' own mail (of those statuses) that holds the words (or any), best first."""
    newest, params = _newest_tickets(statuses, exclude, recent, "?")
    return [Found(*hit) for hit in recent_mail.ranked(newest, params, kinds, words, any_word, limit)]


def _pg_query(words: list[str], any_word: bool) -> str:
    """The tsquery text of the words: all of them, or any."""
    return (" | " if any_word else " & ").join(words)


def _pg_recent(
    db: pw.Database, words: list[str], any_word: bool, kinds: str, statuses: tuple[str, ...], exclude: int | None,
    recent: int, limit: int,
) -> list[Found]:
    """PostgreSQL: rank the matching mail of the newest `recent` tickets (of those statuses), and no other.

    The plan is fixed by the query's shape, not left to statistics: on a young database, or one
    whose statistics lag, the planner otherwise reads every inbound mail and computes its text
    vector, then joins the newest tickets to it. The newest tickets come by index walks
    (_newest_tickets); OFFSET 0 keeps each ticket's mail a subquery of its own that only the
    ticket can select (so only the message's ticket index serves it), and each searched mail's
    stored text vector among those few rows is read once, for the match and the rank.
    """
    tickets, params = _newest_tickets(statuses, exclude, recent, "%s")
    sql = (
        "SELECT m.ticket_id, max(ts_rank(m.vector, q)) AS score, count(*) FROM to_tsquery('simple', %s) q, "
        f"({tickets}) t, "
        f"LATERAL (SELECT m.ticket_id, CASE WHEN m.direction = 'inbound' AND m.kind IN ({kinds}) "
        "THEN m.search_vector END AS vector FROM message m WHERE m.ticket_id = t.id OFFSET 0) m "
        "WHERE m.vector @@ q GROUP BY m.ticket_id ORDER BY score DESC, m.ticket_id DESC LIMIT %s"
    )
    rows = _within(db, _BOUNDED_MS, sql, [_pg_query(words, any_word), *params, limit])
    return [Found(int(r[0]), float(r[1]), int(r[2])) for r in rows]


def _newest_tickets(statuses: tuple[str, ...], exclude: int | None, count: int, mark: str) -> tuple[str, list[object]]:
    """SQL for the ids of the newest `count` tickets of these statuses (any without), and its parameters."""
    # One index walk per status, newest first, merged: `status IN (...) ORDER BY created_at`
    # cannot be read off the (status, created_at, id) index in order, and sorting every solved
    # ticket of a year to keep 200 costs seconds.
    parts: list[str] = []
    params: list[object] = []
    for status in statuses or (None,):
        conditions = [f"status = {mark}"] if status is not None else []
        conditions += [f"id <> {mark}"] if exclude is not None else []
        where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
        parts.append(f"SELECT * FROM (SELECT id, created_at FROM ticket {where}"
                     f"ORDER BY created_at DESC, id DESC LIMIT {int(count)}) s{len(parts)}")
        params += [status] if status is not None else []
        params += [exclude] if exclude is not None else []
    merged = " UNION ALL ".join(parts)
    return f"SELECT id FROM ({merged}) newest ORDER BY created_at DESC, id DESC LIMIT {int(count)}", params


def _within(db: pw.Database, ms: int, sql: str, params: list[object]) -> list[tuple[Any, ...]]:
    """The rows of a PostgreSQL query given `ms` milliseconds; none when it takes longer."""
    try:
        with db.atomic():  # a savepoint: a cancelled search leaves the caller's transaction whole
            previous = db.execute_sql("SELECT current_setting('statement_timeout')").fetchone()[0]
            db.execute_sql("SELECT set_config('statement_timeout', %s, true)", (f"{ms}ms",))
            rows = db.execute_sql(sql, params).fetchall()
            db.execute_sql("SELECT set_config('statement_timeout', %s, true)", (previous,))
            return list(rows)
    except Exception as exc:
        if getattr(exc, "pgcode", None) != _CANCELLED:  # psycopg2 raises this one unwrapped by peewee
            raise
        return []


def distinctive_words(subject: str, text: str, most: int = 12) -> list[str]:
    """The words that tell a mail's matter: its subject's and opening's, long and not common."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(f"{subject} {text[:600]}".lower()):
        if len(word) >= 3 and not word.isdigit() and word not in _COMMON:
            seen.setdefault(word, None)
    return list(seen)[:most]


def last_answer(ticket_id: int) -> str:
    """The last thing an engineer wrote on a ticket (how it was solved), or ""."""
    earlier = earlier_tickets([ticket_id]).get(ticket_id)
    return earlier.answer if earlier is not None else ""


def _earlier(ids: pw.SQL) -> pw.Query:
    # Kind and direction as expressions, not columns: given those two equalities and the order,
    # the planner (SQLite's, and PostgreSQL's with or without statistics) otherwise walks the
    # (direction, kind, received_at) index newest first through a year of engineers' mail until
    # it meets this ticket's (9 ms a lookup, two a new ticket's notification); the ticket's own
    # index finds its few messages at once.
    answer = (
        Message.select(Message.new_text)
        .where((Message.ticket == Ticket.id) & (Message.kind.concat("") == "agent")
               & (Message.direction.concat("") == "inbound"))
        .order_by(Message.received_at.desc(), Message.id.desc())
        .limit(1)
    )
    return Ticket.select(Ticket.id, Ticket.subject, Ticket.status, answer).where(Ticket.id.in_(ids)).tuples()


def earlier_tickets(ids: list[int]) -> dict[int, Earlier]:
    """These tickets with their last answers, by id, in one statement (a new ticket's notification shows three)."""
    if not ids:
        return {}
    rows = with_ids(Ticket, "earlier tickets", _earlier, ids).fetchall()
    return {int(r[0]): Earlier(int(r[0]), r[1], r[2], r[3] or "") for r in rows}


def tickets_by_id(ids: list[int]) -> dict[int, Ticket]:
    """The tickets of these ids."""
    return {t.id: t for t in Ticket.select().where(Ticket.id.in_(ids))} if ids else {}
