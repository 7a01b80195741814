"""Finding earlier tickets by what their mail says, on SQLite (FTS5) and PostgreSQL (text search)."""

from __future__ import annotations

from pathlib import Path

import peewee as pw
import pytest

from mailroom.app.ingest import Placement, ingest
from mailroom.mail.message import parse
from mailroom.store import queries as store
from mailroom.store.contentkey import content_key
from mailroom.store.models import Message, Setting, Ticket
from mailroom.store.search import distinctive_words, search_tickets

from .test_store import NOW, _ctx, _raw


@pytest.fixture
def db(database_url: str) -> pw.Database:
    return store.open_database(database_url)


def _ask(tmp_path: Path, n: int, subject: str, body: str) -> int:
    raw = _raw(subject=subject, message_id=f"<q{n}@client.example.org>", body=body)
    done = ingest(_ctx(tmp_path), parse(raw, NOW), content_key(raw), Placement("box", 1, n))
    assert done.ticket_id is not None
    return done.ticket_id


def test_tickets_are_found_by_words_of_subject_or_body_best_first(db: pw.Database, tmp_path: Path) -> None:
    vpn = _ask(tmp_path, 1, "VPN drops every hour", "The tunnel disconnects; the certificate looks fine.")
    cert = _ask(tmp_path, 2, "Certificate expired", "Our certificate expired and the certificate renewal failed.")
    _ask(tmp_path, 3, "Invoice question", "Why was I charged twice?")

    assert [f.ticket_id for f in search_tickets("certificate")] == [cert, vpn]  # subject and more mentions first
    assert [f.ticket_id for f in search_tickets("certificate tunnel")] == [vpn]  # every word
    assert [f.ticket_id for f in search_tickets("CHARGED")] != []
    assert search_tickets("printer") == [] and search_tickets("  ;; ") == []
    # Our own acknowledgements and notifications say "certificate" too; only people's mail is searched.
    assert Message.select().where((Message.direction == "outbound") & (Message.text.contains("certificate"))).exists()
    assert all(f.mails == 1 for f in search_tickets("certificate tunnel"))


def test_search_narrows_by_status_and_reads_any_word_for_similar_tickets(db: pw.Database, tmp_path: Path) -> None:
    solved = _ask(tmp_path, 1, "Export to PDF fails", "The export button shows an error.")
    Ticket.update(status="solved").where(Ticket.id == solved).execute()
    new = _ask(tmp_path, 2, "PDF export broken", "Exporting gives a blank page.")
    words = distinctive_words("PDF export broken", "Exporting gives a blank page.")
    assert "export" in words and "pdf" in words
    hits = search_tickets(" ".join(words), statuses=("solved", "closed"), exclude=new, any_word=True)
    assert [h.ticket_id for h in hits] == [solved]
    assert search_tickets(" ".join(words), statuses=("solved",), exclude=solved, any_word=True) == []


def test_similar_tickets_are_sought_among_the_latest_solved_ones_only(db: pw.Database, tmp_path: Path) -> None:
    # Bounded: a year of solved tickets sharing a common word is never ranked whole.
    old = _ask(tmp_path, 1, "Export to PDF fails", "The export button shows an error.")
    recent = [_ask(tmp_path, n, f"Export question {n}", "How does the export work?") for n in range(2, 5)]
    Ticket.update(status="solved").where(Ticket.id.in_([old, *recent])).execute()
    new = _ask(tmp_path, 9, "PDF export broken", "Exporting gives a blank page.")
    words = " ".join(distinctive_words("PDF export broken", "Exporting gives a blank page."))
    everything = search_tickets(words, statuses=("solved", "closed"), exclude=new, any_word=True)
    assert {h.ticket_id for h in everything} == {old, *recent}
    bounded = search_tickets(words, statuses=("solved", "closed"), exclude=new, any_word=True, recent=3)
    assert {h.ticket_id for h in bounded} == set(recent)  # the oldest is past the bound
    # The ticket being answered never uses up the bound.
    latest = search_tickets(words, statuses=("solved",), exclude=recent[-1], any_word=True, recent=1)
    assert [h.ticket_id for h in latest] == [recent[-2]]


def test_a_bounded_search_without_any_word_wants_every_word(db: pw.Database, tmp_path: Path) -> None:
    both = _ask(tmp_path, 1, "Export to PDF fails", "The export button shows an error.")
    one = _ask(tmp_path, 2, "Export question", "How does the export work?")
    Ticket.update(status="solved").where(Ticket.id.in_([both, one])).execute()
    assert [h.ticket_id for h in search_tickets("export pdf", statuses=("solved",), recent=10)] == [both]
    found = search_tickets("export pdf", statuses=("solved",), any_word=True, recent=10)
    assert [h.ticket_id for h in found] == [both, one]  # both words rank above one


def test_a_bounded_search_reads_mail_stored_or_replaced_since_the_last(db: pw.Database, tmp_path: Path) -> None:
    first = _ask(tmp_path, 1, "Export to PDF fails", "The export button shows an error.")
    Ticket.update(status="solved").where(Ticket.id == first).execute()
    assert [h.ticket_id for h in search_tickets("export", statuses=("solved",), recent=10)] == [first]
    later = _ask(tmp_path, 2, "Printer jams", "The printer jams on every page.")
    Ticket.update(status="solved").where(Ticket.id == later).execute()
    assert [h.ticket_id for h in search_tickets("printer", statuses=("solved",), recent=10)] == [later]
    # A mail gone and another stored in its place (SQLite may reuse its id): its own words count.
    Message.delete().where(Message.ticket == later).execute()
    Ticket.delete().where(Ticket.id == later).execute()
    again = _ask(tmp_path, 3, "Scanner is slow", "The scanner takes minutes a page.")
    Ticket.update(status="solved").where(Ticket.id == again).execute()
    assert search_tickets("printer", statuses=("solved",), recent=10) == []
    assert [h.ticket_id for h in search_tickets("scanner", statuses=("solved",), recent=10)] == [again]


def test_the_same_words_sought_again_find_what_was_solved_since(db: pw.Database, tmp_path: Path) -> None:
    # A flood about one outage: each new ticket seeks the same words in the same newest solved tickets.
    first = _ask(tmp_path, 1, "Login page times out", "The login page times out since the update.")
    Ticket.update(status="solved").where(Ticket.id == first).execute()
    seek = {"statuses": ("solved", "closed"), "any_word": True, "recent": 10}
    assert [h.ticket_id for h in search_tickets("login timeout", **seek)] == [first]
    assert [h.ticket_id for h in search_tickets("login timeout", **seek)] == [first]
    assert [h.ticket_id for h in search_tickets("login timeout", limit=0, **seek)] == []
    second = _ask(tmp_path, 2, "Login fails", "Login fails with a timeout, twice the login page.")
    assert [h.ticket_id for h in search_tickets("login timeout", **seek)] == [first]  # not solved yet
    Ticket.update(status="solved").where(Ticket.id == second).execute()
    assert [h.ticket_id for h in search_tickets("login timeout", **seek)] == [second, first]
    Ticket.update(status="open").where(Ticket.id == first).execute()  # reopened: no longer a solved one
    assert [h.ticket_id for h in search_tickets("login timeout", **seek)] == [second]


def test_a_version_1_database_is_upgraded_in_place_and_its_mail_found(db: pw.Database, tmp_path: Path) -> None:
    ticket = _ask(tmp_path, 1, "Calendar not syncing", "Outlook calendar stopped syncing yesterday.")
    if isinstance(db, pw.PostgresqlDatabase):
        db.execute_sql("DROP INDEX message_search")
        db.execute_sql("ALTER TABLE message DROP COLUMN search_vector")
    else:
        for name in ("message_search_insert", "message_search_delete", "message_search_update"):
            db.execute_sql(f"DROP TRIGGER {name}")
        db.execute_sql("DROP TABLE message_search")
    db.execute_sql("ALTER TABLE ticket DROP COLUMN merged_into")  # as version 1 made it
    Setting.update(value="1").where(Setting.key == "schema_version").execute()
    store.upgrade_schema(db)
    assert [f.ticket_id for f in search_tickets("syncing")] == [ticket]
    assert Setting.get(Setting.key == "schema_version").value == str(store.SCHEMA_VERSION)
    assert "merged_into" in {c.name for c in db.get_columns("ticket")}


def test_postgres_search_uses_its_index(db: pw.Database, tmp_path: Path) -> None:
    if not isinstance(db, pw.PostgresqlDatabase):
        pytest.skip("SQLite's FTS5 table is the index itself")
    _ask(tmp_path, 1, "VPN drops", "The tunnel disconnects.")
    # Enough mail that reading every row would cost more than the index: the planner's own choice.
    Message.insert_many(
        [dict(message_id=f"<bulk{i}@x>", content_key="k", direction="inbound", kind="customer", subject=f"Order {i}",
              text=f"Question number {i} about invoices", date=NOW, received_at=NOW) for i in range(2000)]
    ).execute()
    # As autovacuum would: statistics, and the index's pending entries merged into it.
    db.execute_sql("VACUUM ANALYZE message")
    plan = "\n".join(r[0] for r in db.execute_sql(
        "EXPLAIN SELECT id FROM message m WHERE m.direction = 'inbound' AND "
        "m.search_vector @@ to_tsquery('simple', 'tunnel')"
    ).fetchall())
    assert "message_search" in plan
