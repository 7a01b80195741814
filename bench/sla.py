"""One SLA check over a million tickets: 100 clocks fall due among two million that do not.

Builds the tickets and their clocks with bulk inserts (about 97% closed, 2% open with running
resolution clocks, 1% solved and waiting to close), then times `check_sla_once` finding the 100
due clocks, raising their alerts. Each timed run is rolled back, so every run finds the same 100.
The baseline, in the same run, is the bare indexed SELECT of those 100 clocks: the floor any
check pays. Target: the check under 50 ms.

    .venv/bin/python bench/sla.py [--tickets 1000000] [--postgres postgresql://postgres@127.0.0.1/bench]
    .venv/bin/python bench/sla.py --solved-index   # also time with an index on Ticket(status, solved_at)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _bulk import chunks, finish, inserter  # noqa: E402

from mailroom.app import clocks, cycle  # noqa: E402
from mailroom.app.context import Context  # noqa: E402
from mailroom.rules.ruleset import parse_rules  # noqa: E402
from mailroom.store import queries as store  # noqa: E402
from mailroom.store.models import Clock, Ticket  # noqa: E402

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DUE = 100
CHUNK = 5000
RULES = """
version: 1
sla:
  P1: {first_response: 1h, resolution: 1d, calendar: always, escalate: true, warn_before: 15m}
teams:
  general: {notify: ["support-team@example.com"], opsgenie_responders: [{type: team, name: "Support"}]}
defaults: {team: general, priority: P1}
"""
TICKET_COLUMNS = ("id", "subject", "status", "priority", "team", "tags", "requester", "requester_name",
                  "source", "decision", "created_at", "updated_at", "first_response_at", "solved_at", "closed_at")
CLOCK_COLUMNS = ("ticket_id", "metric", "started_at", "due_at", "warn_at", "state", "met_at", "warned_at",
                 "escalate", "alert_state")


def _plan(count: int, span: timedelta | None = None,
          open_share: float = 0.02) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """Each ticket's row and its clocks' rows; times as naive UTC, as the store keeps them.

    Without `span`, creation times cycle over the last 69 days; with it, they spread evenly over
    that span, oldest first, as a helpdesk's ids grow with time.
    """
    now = NOW.replace(tzinfo=None)
    open_from = count - int(count * open_share)  # the last 2% are open
    solved_from = open_from - count // 100  # the 1% before them are solved, not yet closed
    for n in range(1, count + 1):
        if span is None:
            created = now - timedelta(minutes=n % 100_000 + 30)
        else:
            created = (now - span * ((count - n) / count) - timedelta(minutes=30)).replace(microsecond=0)
        first = created + timedelta(minutes=20)
        fr_due, res_due = created + timedelta(hours=1), created + timedelta(days=1)
        clock_rows = []
        if n > count - DUE:  # unanswered and due within the last half hour
            created = now - timedelta(hours=1, minutes=n % 30)
            fr_due, res_due = created + timedelta(hours=1), created + timedelta(days=1)
            status, first, solved, closed = "new", None, None, None
            clock_rows.append((n, "first_response", created, fr_due, fr_due - timedelta(minutes=15), "running",
                               None, fr_due - timedelta(minutes=15), True, "none"))
        else:
            clock_rows.append((n, "first_response", created, fr_due, fr_due - timedelta(minutes=15), "met",
                               first, None, True, "none"))
            if n > open_from:
                status, solved, closed = "open", None, None
            elif n > solved_from:
                status, solved, closed = "solved", now - timedelta(hours=n % 72), None
            else:
                status, solved, closed = "closed", created + timedelta(hours=5), created + timedelta(days=4)
        resolution_running = status in ("new", "open")
        if resolution_running:
            res_due = max(res_due, now + timedelta(hours=1))  # running, not yet due nor warned
        clock_rows.append((n, "resolution", created, res_due, res_due - timedelta(minutes=15),
                           "running" if resolution_running else "met", solved, None, True, "none"))
        ticket = (n, f"Bench ticket {n}", status, "P1", "general", "[]", f"customer{n}@example.org", "",
                  "mail", '{"policy_name": "P1"}', created, created, first, solved, closed)
        yield ticket, clock_rows


def build(db: Any, count: int) -> None:
    """Fill an empty database with `count` tickets and their clocks."""
    insert = inserter(db)
    for chunk in chunks(_plan(count), CHUNK):
        with db.atomic():
            insert("ticket", TICKET_COLUMNS, [ticket for ticket, _ in chunk])
            insert("clock", CLOCK_COLUMNS, [row for _, rows in chunk for row in rows])
    finish(db, ("ticket", "clock"))


def timed(run: Callable[[], Any], times: int, rollback: Any = None) -> tuple[list[float], Any]:
    found = []
    result = None
    for _ in range(times):
        if rollback is not None:
            with rollback.atomic() as txn:
                start = time.perf_counter()
                result = run()
                found.append(time.perf_counter() - start)
                txn.rollback()
        else:
            start = time.perf_counter()
            result = run()
            found.append(time.perf_counter() - start)
    return found, result


def context() -> Context:
    """The SLA check's context at NOW: OpsGenie configured, P1 escalating, solved tickets closing after 4 days."""
    settings = SimpleNamespace(
        escalation=SimpleNamespace(backend="opsgenie", give_up_after=timedelta(days=5)),
        opsgenie=SimpleNamespace(heartbeat=""),
        limits=SimpleNamespace(close_solved_after=timedelta(days=4)),
    )
    return Context(settings, parse_rules(RULES), "s" * 32, NOW)


def due_clocks() -> int:
    """The bare indexed SELECT of the due clocks, as models: the floor any check pays."""
    due = Clock.select().where((Clock.state == "running") & (Clock.due_at <= NOW)).order_by(Clock.due_at)
    return len(list(due.limit(clocks.BATCH)))


def measure(db: Any, runs: int) -> dict[str, float]:
    """Baseline SELECT, the solved-ticket SELECT, and the whole check, in milliseconds (medians)."""
    ctx = context()
    settings = ctx.settings

    def solved() -> int:
        limit = NOW - settings.limits.close_solved_after
        return len(list(Ticket.select().where((Ticket.status == "solved") & (Ticket.solved_at <= limit))))

    def driver() -> int:
        sql, params = Clock.select().where((Clock.state == "running") & (Clock.due_at <= NOW)).order_by(
            Clock.due_at).limit(clocks.BATCH).sql()
        return len(db.execute_sql(sql, params).fetchall())

    base, found = timed(due_clocks, runs)
    assert found == DUE, f"the baseline found {found} due clocks, not {DUE}"
    raw, _ = timed(driver, runs)
    stale, _ = timed(solved, runs)
    check, report = timed(lambda: cycle.check_sla_once(ctx), runs, rollback=db)
    assert report["breached"] == DUE and report["alerts"] == DUE and report["closed"] == 0, report
    ms = 1000.0
    return {"baseline": statistics.median(base) * ms, "driver": statistics.median(raw) * ms,
            "solved_select": statistics.median(stale) * ms,
            "check": statistics.median(check) * ms, "check_first": check[0] * ms}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--postgres", metavar="URL", help="an empty PostgreSQL database to fill (else SQLite)")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--solved-index", action="store_true", help="time again with an index on (status, solved_at)")
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory(prefix="mailroom-bench-")
    url = args.postgres or f"sqlite:///{folder.name}/bench.db"
    db = store.open_database(url)
    if Ticket.select().exists():
        print("the database is not empty; give an empty one", file=sys.stderr)
        return 2
    started = time.perf_counter()
    build(db, args.tickets)
    clock_count = Clock.select().count()
    print(f"built {args.tickets:,} tickets, {clock_count:,} clocks in {time.perf_counter() - started:.1f} s "
          f"({'PostgreSQL' if store.is_postgres(db) else 'SQLite'})")
    result = measure(db, args.runs)
    _print(result)
    if args.solved_index:
        db.execute_sql("CREATE INDEX bench_ticket_status_solved_at ON ticket (status, solved_at)")
        print("with an index on ticket (status, solved_at):")
        _print(measure(db, args.runs))
    db.close()
    folder.cleanup()
    return 0 if result["check"] < 50 else 1


def _print(result: dict[str, float]) -> None:
    ratio = result["check"] / result["baseline"] if result["baseline"] else float("inf")
    print(f"  baseline SELECT of the {DUE} due clocks: {result['baseline']:.2f} ms as models "
          f"({result['driver']:.2f} ms as the driver's bare rows)")
    print(f"  solved tickets waiting to close SELECT:  {result['solved_select']:.2f} ms")
    print(f"  check_sla_once ({DUE} breaches, {DUE} alerts): {result['check']:.2f} ms median "
          f"(first run {result['check_first']:.2f} ms), {ratio:.1f}x the baseline "
          f"({result['check'] / max(result['driver'], 1e-6):.0f}x the bare rows); target < 50 ms")


if __name__ == "__main__":
    sys.exit(main())
