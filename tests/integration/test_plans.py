"""Breaching now and the bounded similar-ticket search read a year of tickets by the indexes meant for them.

On SQLite and on PostgreSQL, the latter both with planner statistics and without them (a young
database before autovacuum first analyzes it), over test_indexes.py's year of tickets with a
breach history: the report's breaching-now list reaches clocks by their state and due time, never
by scanning every clock or ticket; similar solved tickets are sought in the newest solved or closed
tickets' own mail (PostgreSQL: the tickets' status-and-creation index, then each ticket's mail by
its ticket index; SQLite: the same tickets by the same index, then their mail by its ticket index), never in every message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import peewee as pw
import pytest

from mailroom.report.figures import breaching_now
from mailroom.store import queries as store
from mailroom.store.search import earlier_tickets, last_answer, search_tickets

from .test_indexes import NOW, TICKETS, _fill, _run

Statement = tuple[str, list[Any]]
OPEN_PAST_DUE = [i for i in range(1000, TICKETS + 1, 1000)]  # open, their two clocks running and past due


@pytest.fixture(params=["analyzed", "unanalyzed"])
def year(request: pytest.FixtureRequest, database_url: str) -> Iterator[pw.Database]:
    """A year of tickets, one in twenty with both clocks breached and answered since; statistics made or not."""
    db = store.open_database(database_url)
    postgres = store.is_postgres(db)
    if not postgres and request.param == "analyzed":
        db.close()
        pytest.skip("mailroom never runs ANALYZE on SQLite")
    if postgres and request.param == "unanalyzed":
        for table in ("ticket", "message", "clock"):  # autovacuum must not make them meanwhile
            _run(db, f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    _fill(db, analyze=False)
    _run(db, "UPDATE clock SET state = 'breached', breached_at = due_at, met_at = due_at WHERE ticket_id % 20 = 1")
    if postgres and request.param == "analyzed":
        _run(db, "ANALYZE")
    yield db
    db.close()


def _statements(monkeypatch: pytest.MonkeyPatch, run: Callable[[], Any]) -> tuple[Any, list[Statement]]:
    """What `run` answers, and every statement it sent."""
    statements: list[Statement] = []
    execute = pw.Database.execute_sql

    def recording(self: pw.Database, sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        statements.append((sql, list(params or [])))
        return execute(self, sql, params, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(pw.Database, "execute_sql", recording)
        answer = run()
    return answer, statements


def _plan(db: pw.Database, statements: list[Statement], marker: str) -> list[str]:
    """The plan of the one statement that holds `marker`, a line per step."""
    [(sql, params)] = [(sql, params) for sql, params in statements if marker in sql]
    if store.is_postgres(db):
        return [row[0] for row in db.execute_sql("EXPLAIN " + sql, params).fetchall()]
    return [row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]


def _pg_indexes(plan: list[str], table: str) -> set[str]:
    """The indexes a PostgreSQL plan reads `table` by (index, index-only and bitmap index scans)."""
    used = {m.group(1) for line in plan for m in re.finditer(r"(?:Index|Index Only) Scan(?: Backward)? using (\w+) "
                                                            rf"on {table}\b", line)}
    return used | {m.group(1) for line in plan for m in re.finditer(rf"Bitmap Index Scan on ({table}_\w+)", line)}


def _pg_seq_scans(plan: list[str]) -> list[str]:
    return [line for line in plan if re.search(r"Seq Scan on (ticket|message|clock)\b", line)]


def test_breaching_now_reaches_clocks_by_state_and_due_time(
    year: pw.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed, statements = _statements(monkeypatch, lambda: breaching_now(None, NOW))
    assert [entry["ticket"] for entry in listed["tickets"]] == OPEN_PAST_DUE  # most overdue (oldest) first
    assert all(sorted(entry["metrics"]) == ["first_response", "resolution"] for entry in listed["tickets"])
    plan = _plan(year, statements, 'FROM "clock"')
    shown = "\n".join(plan)
    if store.is_postgres(year):
        assert _pg_seq_scans(plan) == [], shown
        # Running and breached clocks by an index led by their state (the planner picks which).
        assert _pg_indexes(plan, "clock") and _pg_indexes(plan, "clock") <= {"clock_state_due_at", "clock_state_warn_at"}, shown
        assert any(re.search(r"Index Cond: \(+state\)::text = 'running'", line) for line in plan), shown
        assert _pg_indexes(plan, "ticket") <= {"ticket_pkey", "ticket_status", "ticket_status_created_at_id"}, shown
        return
    assert not [line for line in plan if re.fullmatch(r"SCAN t[12]\b.*", line)], shown
    assert any(re.match(r"SEARCH t1 USING INDEX clock_state_due_at \(state=\? AND due_at", line) for line in plan), shown
    assert all(re.match(r"SEARCH t1 USING INDEX clock_state_(due_at|warn_at) \(state=", line)
               for line in plan if line.startswith("SEARCH t1")), shown
    assert "SEARCH t2 USING INTEGER PRIMARY KEY (rowid=?)" in plan, shown


def test_similar_tickets_are_sought_in_the_newest_tickets_own_mail(
    year: pw.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    found, statements = _statements(monkeypatch, lambda: search_tickets(
        "question text", limit=3, statuses=("solved", "closed"), any_word=True, recent=200))
    # Every closed ticket's mail matches alike: the newest first (20000 is open, so not a candidate).
    assert [(hit.ticket_id, hit.mails) for hit in found] == [(19999, 2), (19998, 2), (19997, 2)]
    if store.is_postgres(year):
        plan = _plan(year, statements, "ts_rank")
        shown = "\n".join(plan)
        assert _pg_seq_scans(plan) == [], shown
        assert _pg_indexes(plan, "ticket") == {"ticket_status_created_at_id"}, shown
        # Each ticket's mail by its ticket, never by direction, kind or words across the year's mail.
        assert _pg_indexes(plan, "message") <= {"message_ticket_id", "message_ticket_id_received_at_id"}, shown
        assert _pg_indexes(plan, "message") and "message_search" not in shown, shown
        assert any(re.search(r"Index Cond: \(ticket_id = ticket\.id\)", line) for line in plan), shown
        return
    plan = _plan(year, statements, "JOIN message m ON m.ticket_id = t.id")
    shown = "\n".join(plan)
    # The newest tickets by their status index, their mail by its ticket index; the full-text
    # index, whose common words hold a year of rows, is not read at all.
    assert "SEARCH ticket USING COVERING INDEX ticket_status_created_at_id (status=?)" in plan, shown
    assert any(re.fullmatch(r"SEARCH m USING (COVERING )?INDEX message_ticket_id\w* \(ticket_id=\?\)", line)
               for line in plan), shown
    assert not [line for line in plan if re.fullmatch(r"SCAN (m|message|ticket|message_search)\b.*", line)], shown


def test_solved_tickets_last_answers_are_read_by_their_tickets(year: pw.Database, monkeypatch: pytest.MonkeyPatch) -> None:
    # The similar tickets a new ticket's notification shows, with their last answers: one statement,
    # never a walk through a year of engineers' mail by kind and time until a ticket's turns up.
    earlier, statements = _statements(monkeypatch, lambda: earlier_tickets([5, 6, 7]))
    assert sorted(earlier) == [5, 6, 7] and {e.answer for e in earlier.values()} == {"text"}
    assert last_answer(5) == "text"
    assert len(statements) == 1
    plan = _plan(year, statements, 'FROM "message"')
    shown = "\n".join(plan)
    if store.is_postgres(year):
        assert _pg_seq_scans(plan) == [], shown
        assert _pg_indexes(plan, "message") == {"message_ticket_id_received_at_id"}, shown
        return
    assert [line for line in plan if line.startswith(("SEARCH", "SCAN"))] == [
        "SEARCH t1 USING INTEGER PRIMARY KEY (rowid=?)",
        "SEARCH t2 USING INDEX message_ticket_id_received_at_id (ticket_id=?)"], shown
