"""The Prometheus endpoint: what this worker did (counters, latencies) and what the store holds now."""

# Counters and histograms live in this process and count what it did; the outbox, breaches and
# quarantine are read from the database at each scrape, so every worker shows the same state of
# the shared store. A scrape that cannot reach the database shows the counters alone.

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import peewee as pw
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from mailroom import clock
from mailroom.rules.routing import Routing
from mailroom.store.breaches import breaching
from mailroom.store.models import Clock, OutboxItem, Quarantined, Ticket, database

log = logging.getLogger("mailroom.metrics")

# From a minute to a week: first responses are promised in hours, sometimes in days.
RESPONSE_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 604800)
PASS_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    """This worker's meters, labelled with its mailboxes, and the endpoint that serves them."""

    # Reading is counted per mailbox; sending, shared by all of them, under the first one's label.
    def __init__(self, ledgers: tuple[str, ...]) -> None:
        self.mailbox = ledgers[0]
        self.registry = CollectorRegistry()
        r = self.registry
        self.ingested = Counter("mailroom_messages_ingested", "Messages stored from the mailbox", ["mailbox"], registry=r)
        self.duplicates = Counter("mailroom_messages_duplicate", "Messages already stored, skipped", ["mailbox"], registry=r)
        self.quarantined = Counter("mailroom_messages_quarantined", "Messages moved to quarantine", ["mailbox"], registry=r)
        self.sent = Counter("mailroom_mail_sent", "Mail sent, by kind (ack, relay, notification, survey…)",
                            ["mailbox", "kind"], registry=r)
        self.imap_errors = Counter("mailroom_imap_errors", "Failed IMAP connections and passes", ["mailbox"], registry=r)
        self.smtp_errors = Counter("mailroom_smtp_errors", "Outbox flushes the SMTP server failed", ["mailbox"], registry=r)
        self.passes = Histogram("mailroom_ingest_pass_seconds", "One pass over the mailbox, by how it was woken",
                                ["mailbox", "mode"], buckets=PASS_BUCKETS, registry=r)
        self.responses = Histogram("mailroom_first_response_seconds", "From a ticket's opening to its first response",
                                   ["mailbox"], buckets=RESPONSE_BUCKETS, registry=r)
        r.register(StoreCollector(ledgers))
        # Every series exists from the start at 0, so that rates and dashboards see the first event.
        for ledger in ledgers:
            for counter in (self.ingested, self.duplicates, self.quarantined, self.imap_errors):
                counter.labels(ledger)
            for mode in ("poll", "idle"):
                self.passes.labels(ledger, mode)
        self.smtp_errors.labels(self.mailbox)
        for kind in ("ack", "relay", "notification", "survey"):
            self.sent.labels(self.mailbox, kind)
        self.responses.labels(self.mailbox)

    def serve(self, listen: tuple[str, int]) -> None:
        """Serve /metrics in a background thread."""
        host, port = listen
        start_http_server(port, addr=host, registry=self.registry)
        log.info("action=metrics-listening address=%s:%s", host, port)

    # --- what the use-cases count (ports.Meter) ---------------------------------------------------

    def mail_sent(self, kind: str) -> None:
        """One mail sent."""
        self.sent.labels(self.mailbox, kind).inc()

    def first_response(self, seconds: float) -> None:
        """A first response, this long after the ticket opened."""
        self.responses.labels(self.mailbox).observe(max(0.0, seconds))

    # --- what the daemon counts ---------------------------------------------------------------------

    def ingest_pass(self, ledger: str, report: Any, seconds: float, mode: str) -> None:
        """One pass over a mailbox: what it stored, skipped and quarantined, and how long it took."""
        self.ingested.labels(ledger).inc(report.stored)
        self.duplicates.labels(ledger).inc(report.duplicates)
        self.quarantined.labels(ledger).inc(report.quarantined)
        self.passes.labels(ledger, mode).observe(seconds)

    def imap_error(self, ledger: str) -> None:
        """A mailbox could not be reached or read."""
        self.imap_errors.labels(ledger).inc()

    def smtp_error(self) -> None:
        """A flush found the SMTP server away."""
        self.smtp_errors.labels(self.mailbox).inc()


class StoreCollector(Collector):
    """Gauges read from the database at each scrape: outbox, breaches, quarantine."""

    def __init__(self, ledgers: tuple[str, ...]) -> None:
        self.ledgers = ledgers

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The store's state now; nothing when the database cannot be read."""
        try:
            with database.connection_context():
                yield from self._gauges()
        except Exception:  # noqa: BLE001 - a scrape must never fail the worker
            log.debug("metrics: the store could not be read", exc_info=True)

    def _gauges(self) -> Iterator[GaugeMetricFamily]:
        now = clock.now()
        depth = GaugeMetricFamily("mailroom_outbox_depth", "Outbox rows waiting to be sent", labels=["kind"])
        oldest = GaugeMetricFamily("mailroom_outbox_oldest_seconds", "Age of the oldest waiting outbox row",
                                   labels=["kind"])
        for kind in ("mail", "alert"):
            waiting = OutboxItem.select().where((OutboxItem.state == "queued") & (OutboxItem.kind == kind))
            depth.add_metric([kind], waiting.count())
            first = waiting.order_by(OutboxItem.created_at).first()
            oldest.add_metric([kind], (now - first.created_at).total_seconds() if first else 0.0)
        yield depth
        yield oldest
        breaches = GaugeMetricFamily("mailroom_open_breaches", "Unsolved tickets past an SLA due time, by policy",
                                     labels=["policy"])
        for policy, count in open_breaches_by_policy(now).items():
            breaches.add_metric([policy], count)
        yield breaches
        held = GaugeMetricFamily("mailroom_quarantine_size", "Messages in quarantine, not replayed", labels=["mailbox"])
        waiting = (
            Quarantined.select(Quarantined.mailbox, pw.fn.COUNT(Quarantined.id))
            .where(Quarantined.replayed_at.is_null())
            .group_by(Quarantined.mailbox)
            .tuples()
        )
        per_mailbox = dict.fromkeys(self.ledgers, 0) | {ledger: count for ledger, count in waiting}
        for ledger, count in per_mailbox.items():
            held.add_metric([ledger], count)
        yield held


def open_breaches_by_policy(now: datetime) -> dict[str, int]:
    """Tickets breaching now (the rule `status` and the report share), by SLA policy, sorted."""
    counts: dict[str, int] = {}
    breaching_tickets = (
        Ticket.select(Ticket.id, Ticket.priority, Ticket.decision)
        .join(Clock, on=(Clock.ticket == Ticket.id))
        .where(breaching(now))
        .distinct()
    )
    for ticket in breaching_tickets:
        policy = Routing.from_json(ticket.decision).policy_name or ticket.priority
        counts[policy] = counts.get(policy, 0) + 1
    return dict(sorted(counts.items()))
