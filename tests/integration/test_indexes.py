"""A year's database stays fast: the composite indexes exist (fresh or upgraded) and the hot queries use them.

On SQLite and PostgreSQL alike, the statements that ingestion, the SLA check, the outbox,
`tickets list`, `tickets show` and `report` really run are recorded and each one EXPLAINed,
on enough rows (tickets over a year, three messages each) that a planner without an index would
scan: no statement may scan tickets, messages, clocks, events or the outbox.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import peewee as pw
import pytest

from mailroom.app import cycle
from mailroom.app.context import Context
from mailroom.app.ingest import Placement, ingest
from mailroom.cli import main as cli
from mailroom.config.loader import load_settings
from mailroom.mail.message import parse
from mailroom.rules.ruleset import parse_rules
from mailroom.store import migrations
from mailroom.store import queries as store
from mailroom.store.contentkey import content_key
from mailroom.store.models import Message, Setting, Ticket

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TICKETS = 20_000  # one every 26 minutes: a year
BIG = ("ticket", "message", "clock", "event", "outbox_item")
RULES_YAML = (
    "version: 1\nagents: ['*@example.com']\nteams: {general: {notify: [team@example.com]}}\n"
    "sla:\n  P3: {first_response: 1h, resolution: 1d, calendar: always, escalate: true}\n"
    "defaults: {team: general, priority: P3}\nrules: []\n"
)
RULES = parse_rules(RULES_YAML)
# (table, columns) of every composite index version 2 of the schema brings
COMPOSITE = [
    ("ticket", ("status", "created_at", "id")),
    ("ticket", ("team", "created_at")),
    ("message", ("ticket_id", "received_at", "id")),
    ("event", ("ticket_id", "at", "id")),
    ("clock", ("ticket_id", "state", "due_at")),
]


def _config(tmp_path: Path, url: str) -> Path:
    config = tmp_path / "mailroom.toml"
    (tmp_path / "rules.yaml").write_text(RULES_YAML)
    config.write_text(
        '[mailbox]\nhost = "127.0.0.1"\nusername = "support"\npassword_env = "IMAP_PW"\n'
        '[smtp]\nhost = "127.0.0.1"\n'
        f'[support]\naddress = "support@example.com"\ntemplates = "{ROOT / "templates"}"\ndata_dir = "{tmp_path}"\n'
        f'[database]\nurl = "{url}"\n'
    )
    return config


def _indexes(db: pw.Database) -> set[tuple[str, tuple[str, ...]]]:
    return {(table, tuple(index.columns)) for table in BIG for index in db.get_indexes(table)}


def test_composite_indexes_exist_on_a_fresh_database(database_url: str) -> None:
    db = store.open_database(database_url)
    assert set(COMPOSITE) <= _indexes(db)
    db.close()


def _prefixes(db: pw.Database) -> list[str]:
    """Indexes whose columns a longer index of the same table leads with."""
    found = []
    for table in db.get_tables():
        columns = {index.name: tuple(index.columns) for index in db.get_indexes(table)}
        found += [name for name, mine in columns.items()
                  if any(len(other) > len(mine) and other[: len(mine)] == mine for other in columns.values())]
    return sorted(found)


def test_no_index_is_one_a_longer_index_already_leads_with(database_url: str) -> None:
    # Each would be written with every row of a busy table and serve nothing the longer one does not.
    db = store.open_database(database_url)
    assert _prefixes(db) == []
    for name in migrations._PREFIX_INDEXES:  # as versions before 7 made them: the upgrade drops them
        table, _, column = name.partition("_")
        db.execute_sql(f'CREATE INDEX "{name}" ON "{table}" ({column})')
    assert len(_prefixes(db)) == len(migrations._PREFIX_INDEXES)
    Setting.update(value="6").where(Setting.key == "schema_version").execute()
    db.close()
    db = store.open_database(database_url)
    assert _prefixes(db) == []
    db.close()


def test_an_older_schema_is_upgraded_with_them(database_url: str) -> None:
    db = store.open_database(database_url)
    Ticket.create(requester="a@example.org", created_at=NOW, updated_at=NOW)
    # What version 1 was: the same tables without the composite indexes.
    for table, columns in COMPOSITE:
        for index in db.get_indexes(table):
            if tuple(index.columns) == columns:
                db.execute_sql(f'DROP INDEX "{index.name}"')
    Setting.update(value="1").where(Setting.key == "schema_version").execute()
    db.close()
    db = store.open_database(database_url)
    assert set(COMPOSITE) <= _indexes(db)
    assert Setting.get(Setting.key == "schema_version").value == str(store.SCHEMA_VERSION)
    assert Ticket.select().count() == 1  # the data stays
    db.close()


# --- the hot queries on a year of tickets -------------------------------------------------------


def _minutes(db: pw.Database, base: str, minutes: str) -> str:
    """SQL for `base` (a timestamp literal) plus `minutes` (an integer expression), in this engine."""
    if store.is_postgres(db):
        return f"(TIMESTAMP '{base}' + ({minutes}) * INTERVAL '1 minute')"
    return f"datetime('{base}', '+' || ({minutes}) || ' minutes')"


def _run(db: pw.Database, sql: str) -> None:
    """One statement without parameters (psycopg2 reads % as a placeholder even then)."""
    db.execute_sql(sql.replace("%", "%%") if store.is_postgres(db) else sql)


def _fill(db: pw.Database, analyze: bool = True) -> None:
    """A year of tickets (1% open with running clocks), three messages, two clocks, an event and a mail each.

    On PostgreSQL the planner's statistics are made afterwards, as autovacuum does; with `analyze`
    false they are left missing, as in a young database before autovacuum first comes round.
    """
    numbers = f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {TICKETS}) "
    created = _minutes(db, "2025-12-01 00:00:00", "i * 26")
    open_ = "i % 100 = 0"
    with db.atomic():
        _run(db,
            numbers + "INSERT INTO ticket (id, subject, status, priority, team, tags, requester, requester_name,"
            " source, decision, created_at, updated_at) SELECT i, 'Question ' || i,"
            f" CASE WHEN {open_} THEN 'open' ELSE 'closed' END, 'P3', CASE WHEN i % 3 = 0 THEN 'billing' ELSE"
            f" 'general' END, '[]', 'c' || i || '@example.org', '', 'mail', '{{}}', {created}, {created} FROM n")
        for k, (direction, kind) in enumerate([("inbound", "customer"), ("outbound", "ack"), ("inbound", "agent")]):
            received = _minutes(db, "2025-12-01 00:00:00", f"i * 26 + {k * 10}")
            _run(db,
                numbers + "INSERT INTO message (id, ticket_id, message_id, content_key, direction, kind, from_addr,"
                " from_name, recipients, rcpt, subject, text, new_text, \"references\", date, received_at, ignored)"
                f" SELECT i * 3 + {k}, i, '<m' || i || '.{k}@client.example.org>', 'k' || i, '{direction}',"
                f" '{kind}', 'c' || i || '@example.org', '', '[]', 'c' || i || '@example.org', 'Question ' || i,"
                f" 'text', 'text', '[]', {received}, {received}, false FROM n")
        for metric, hours in (("first_response", 1), ("resolution", 24)):
            # Of the open tickets' clocks, one in ten is past due now; the others run into next year.
            due = (f"CASE WHEN {open_} AND i % 1000 <> 0 THEN {_minutes(db, '2027-01-01 00:00:00', 'i')}"
                   f" ELSE {_minutes(db, '2025-12-01 00:00:00', f'i * 26 + {hours * 60}')} END")
            _run(db,
                numbers + "INSERT INTO clock (ticket_id, metric, started_at, due_at, state, escalate, alert_state)"
                f" SELECT i, '{metric}', {created}, {due}, CASE WHEN {open_} THEN 'running' ELSE 'met' END, true,"
                " 'none' FROM n")
        _run(db, numbers + f"INSERT INTO event (ticket_id, at, actor, action, detail) SELECT i, {created},"
                       " 'rules', 'routed', '' FROM n")
        _run(db,
            numbers + "INSERT INTO outbox_item (kind, ticket_id, recipients, state, attempts, next_attempt_at,"
            f" created_at, sent_at) SELECT 'mail', i, '[]', 'sent', 1, {created}, {created}, {created} FROM n")
    if store.is_postgres(db):
        for table in ("ticket", "message"):
            _run(db, f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    if store.is_postgres(db) and analyze:  # mailroom never runs ANALYZE on SQLite, so nor does this
        _run(db, "ANALYZE")


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, list[Any]]]]:
    """Every SQL statement run (text and parameters) while the test runs, in order."""
    statements: list[tuple[str, list[Any]]] = []
    execute = pw.Database.execute_sql

    def recording(self: pw.Database, sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        statements.append((sql, list(params or [])))
        return execute(self, sql, params, *args, **kwargs)

    monkeypatch.setattr(pw.Database, "execute_sql", recording)
    yield statements


def _problems(db: pw.Database, sql: str, params: list[Any]) -> list[str]:
    """The plan of one statement when it reads a big table without an index, or one ticket's rows by another key."""
    explain = pw.Database.execute_sql  # the recording one: filtered out by the caller
    # One ticket's rows (its clocks, its conversation) are found by the ticket first, never by
    # a state or a date that a year of other tickets shares.
    by_ticket = re.search(r'FROM "\w+" AS "t1" WHERE \(*"t1"\."ticket_id" = ', sql) is not None
    if store.is_postgres(db):
        lines = [row[0] for row in explain(db, "EXPLAIN " + sql, params).fetchall()]
        seq = re.compile(r'Seq Scan on "?(' + "|".join(BIG) + r')\b')
        keyed = any(re.search(r"Index Cond: \(+(t1\.)?ticket_id = ", line) for line in lines)
        return lines if any(seq.search(line) for line in lines) or (by_ticket and not keyed) else []
    names = {alias: table for table, alias in re.findall(r'(?:FROM|JOIN) "(\w+)" AS "(\w+)"', sql)}
    lines = [row[-1] for row in explain(db, "EXPLAIN QUERY PLAN " + sql, params).fetchall()]
    scans = [line for line in lines
             if (match := re.fullmatch(r"SCAN (\w+)", line)) and names.get(match.group(1), match.group(1)) in BIG]
    keyed = any(re.match(r"SEARCH t1 USING (COVERING )?INDEX \w+ \(ticket_id=\?", line) for line in lines)
    return lines if scans or (by_ticket and not keyed) else []


def test_hot_queries_use_indexes_on_a_year_of_tickets(
    database_url: str, tmp_path: Path, recorded: list[tuple[str, list[Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    db = store.open_database(database_url)
    _fill(db)
    config = _config(tmp_path, database_url)
    settings = load_settings(config, {"IMAP_PW": "pw", "MAILROOM_SECRET": "s" * 32})
    ctx = Context(settings, RULES, "s" * 32, NOW)
    del recorded[:]

    # Ingestion: a new question, then the customer's reply to it, threaded by In-Reply-To.
    new = (b"From: Jane <jane@example.org>\r\nTo: support@example.com\r\nSubject: Export is empty\r\n"
           b"Message-ID: <new1@client.example.org>\r\nDate: Mon, 30 Nov 2026 09:00:00 -0800\r\n\r\nHelp.\r\n")
    reply = (b"From: Jane <jane@example.org>\r\nTo: support@example.com\r\nSubject: Re: Export is empty\r\n"
             b"Message-ID: <new2@client.example.org>\r\nIn-Reply-To: <new1@client.example.org>\r\n"
             b"Date: Mon, 30 Nov 2026 09:05:00 -0800\r\n\r\nStill empty.\r\n")
    for uid, raw in ((1, new), (2, reply)):
        assert ingest(ctx, parse(raw, NOW), content_key(raw), Placement("INBOX", 7, uid)).outcome == "stored"
    opened = Message.get(Message.message_id == "<new1@client.example.org>").ticket_id
    assert Message.get(Message.message_id == "<new2@client.example.org>").ticket_id == opened
    store.claim_due("mail", NOW)
    with db.atomic():
        cycle.check_sla_once(ctx)
    for argv in (["tickets", "list", "--status", "open"], ["tickets", "show", str(opened), "--json"],
                 ["tickets", "show", "200", "--json"],
                 ["report", "--since", "2026-06-01", "--until", "2026-06-01", "--json"],
                 ["report", "--since", "2026-06-01", "--until", "2026-06-01", "--team", "billing", "--json"]):
        assert cli.main(["--config", str(config), *argv]) == 0
    out = capsys.readouterr().out
    assert "#100 " in out and "#200 " in out and "#150 " not in out  # the open tickets, only they

    db = store.open_database(database_url)  # the CLI bound its own connection; EXPLAIN on a live one
    checked = [(sql, params) for sql, params in recorded
               if sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE"))
               and any(f'"{table}"' in sql for table in BIG)]
    assert len(checked) > 30  # ingestion, the cycle and the commands ran their queries
    scans = {sql[:200]: found for sql, params in dict(checked).items() if (found := _problems(db, sql, params))}
    assert scans == {}, "\n".join(f"{sql}\n  " + "\n  ".join(plan) for sql, plan in scans.items())
    db.close()
