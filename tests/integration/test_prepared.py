"""The statements kept in `store/prepared.py` return and write what the peewee queries they stand for do.

On SQLite and PostgreSQL, with NULLs, ties in the ordering and several tickets in the data.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import peewee as pw
import pytest

from mailroom.app import ingest, outbound
from mailroom.store.models import (
    MODELS,
    Clock,
    Message,
    OutboxItem,
    Participant,
    Quarantined,
    Ticket,
)
from mailroom.store.prepared import Prepared, insert_row, update_row
from mailroom.store.queries import open_database

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
ZURICH = ZoneInfo("Europe/Zurich")
MINUTE = timedelta(minutes=1)


@pytest.fixture
def db(database_url: str) -> Iterator[None]:
    """An empty, opened database."""
    conn = open_database(database_url)
    for model in reversed(MODELS):
        model.delete().execute()
    yield
    conn.close()


def _ticket(subject: str) -> int:
    return Ticket.create(subject=subject, requester=f"{subject}@example.org", created_at=T0, updated_at=T0).id


def _message(ticket: int | None, n: int, kind: str, at: datetime, **extra: Any) -> None:
    fields = {"message_id": f"<m{n}@example.org>", "content_key": f"k{n}", "direction": "outbound",
              "kind": kind, "date": at, "received_at": at, **extra}
    Message.insert(ticket=ticket, **fields).execute()


@pytest.fixture
def history(db: None) -> dict[str, int]:
    """Three tickets whose messages and clocks hold the edge cases; their ids by name."""
    ids = {name: _ticket(name) for name in ("busy", "quiet", "empty")}
    busy, quiet = ids["busy"], ids["quiet"]
    # Ties: three messages of one ticket received at the same instant, inserted out of kind order.
    _message(busy, 1, "customer", T0, direction="inbound", mailbox="INBOX", uidvalidity=7, uid=1)
    _message(busy, 2, "ack", T0 + MINUTE, rcpt="jane@example.org")
    _message(busy, 3, "notification", T0 + MINUTE, rcpt="team@example.com")
    _message(busy, 4, "relay", T0 + MINUTE, rcpt="jane@example.org")
    _message(busy, 5, "survey", T0 + 2 * MINUTE, rcpt="jane@example.org")
    # NULLs: no recipient, no mailbox place; a message in no ticket; a shared Message-ID.
    _message(quiet, 6, "ack", T0 + 3 * MINUTE, rcpt=None)
    _message(None, 7, "ack", T0 + 3 * MINUTE, rcpt="jane@example.org", mailbox="INBOX", uidvalidity=None, uid=None)
    _message(quiet, 8, "customer", T0, direction="inbound", message_id="<m1@example.org>",
             mailbox="INBOX", uidvalidity=7, uid=2)
    Quarantined.insert(mailbox="INBOX", uidvalidity=7, uid=9, content_key="q", reason="bad", at=T0).execute()
    clocks = [
        (busy, "first_response", "breached", T0 + 60 * MINUTE, None),
        (busy, "first_response", "running", T0 + 90 * MINUTE, None),  # the later one of two
        (busy, "next_response", "running", T0 + 30 * MINUTE, None),
        (busy, "resolution", "running", T0 + 30 * MINUTE, None),  # a tie on due_at
        (busy, "next_response", "running", None, None),  # running without a due time
        (quiet, "first_response", "met", T0 + 60 * MINUTE, T0 + 5 * MINUTE),
        (quiet, "next_response", "paused", T0, None),
    ]
    for ticket, metric, state, due, met in clocks:
        Clock.insert(ticket=ticket, metric=metric, state=state, started_at=T0, due_at=due, met_at=met).execute()
    return ids


def _plain(rows: Iterator[Any]) -> list[Any]:
    """Rows as comparable values: a model's field values, or the tuple itself."""
    return [dict(r.__data__) if isinstance(r, pw.Model) else r for r in rows]


def _cases(ids: dict[str, int]) -> Iterator[tuple[str, Prepared, dict[str, Any], pw.SelectBase]]:
    """Each prepared select, values to bind, and the peewee query it stands for with those values."""
    for name, ticket in ids.items():
        yield (f"chain {name}", outbound._CHAIN, {"ticket": ticket},
               Message.select(Message.message_id).where(Message.ticket == ticket)
               .order_by(Message.received_at, Message.id).tuples())
        yield (f"customer chain {name}", outbound._CUSTOMER_CHAIN, {"ticket": ticket},
               Message.select(Message.message_id)
               .where((Message.ticket == ticket) & Message.kind.in_(outbound.CUSTOMER_KINDS))
               .order_by(Message.received_at, Message.id).tuples())
        yield (f"first response {name}", outbound._FIRST_RESPONSE, {"ticket": ticket},
               Clock.select().where((Clock.ticket == ticket) & (Clock.metric == "first_response"))
               .order_by(Clock.id.desc()).limit(1))
        yield (f"next due {name}", outbound._NEXT_DUE, {"ticket": ticket},
               Clock.select().where((Clock.ticket == ticket) & (Clock.state == "running") & Clock.due_at.is_null(False))
               .order_by(Clock.due_at).limit(1))
    # The middle two fall on a row exactly; the last is the same instant written in another zone.
    for since in (T0 - MINUTE, T0 + MINUTE, T0 + 3 * MINUTE, (T0 + MINUTE).astimezone(ZURICH)):
        for address in ("jane@example.org", "team@example.com", "nobody@example.org"):
            yield (f"auto-replies to {address} since {since.isoformat()}", outbound._AUTO_REPLIES,
                   {"address": address, "since": since},
                   Message.select(pw.fn.COUNT(Message.id))
                   .where((Message.rcpt == address) & Message.kind.in_(outbound.AUTO_REPLY_KINDS)
                          & (Message.received_at > since)).tuples())
    for model, prepared in ((Message, ingest._AT_UID), (Quarantined, ingest.at_uid(Quarantined))):
        for uidvalidity, uid in ((7, 1), (7, 2), (7, 9), (8, 1), (7, 99)):
            yield (f"{model.__name__} at uid {uidvalidity}/{uid}", prepared,
                   {"mailbox": "INBOX", "uidvalidity": uidvalidity, "uid": uid},
                   model.select(pw.SQL("1")).where((model.mailbox == "INBOX") & (model.uidvalidity == uidvalidity)
                                                   & (model.uid == uid)).limit(1).tuples())
    for message_id, key, legacy in (("<m1@example.org>", "k1", "nope"), ("<m1@example.org>", "nope", "k1"),
                                    ("<m1@example.org>", "k8", "k8"), ("<m7@example.org>", "k7", "nope"),
                                    ("<m1@example.org>", "nope", "never")):
        yield (f"same mail {message_id} {key} {legacy}", ingest._SAME_MAIL,
               {"message_id": message_id, "key": key, "legacy": legacy},
               Message.select(Message.ticket, Message.mailbox)
               .where((Message.message_id == message_id) & Message.content_key.in_([key, legacy]))
               .limit(1).tuples())


def test_every_prepared_select_returns_the_rows_of_its_peewee_query(history: dict[str, int]) -> None:
    cases = list(_cases(history))
    answered = 0
    for name, prepared, values, query in cases:
        expected = _plain(iter(query))
        assert _plain(prepared.rows(**values)) == expected, name
        # Twice: the second call runs the kept SQL text with other values bound.
        assert _plain(prepared.rows(**values)) == expected, name
        answered += bool(expected) and expected != [(0,)]
    assert answered >= 12  # the data gives rows to many questions, not just "nothing"


def test_first_and_scalar_are_the_first_row_and_its_first_column(history: dict[str, int]) -> None:
    busy, empty = history["busy"], history["empty"]
    chain = [r[0] for r in Message.select(Message.message_id).where(Message.ticket == busy)
             .order_by(Message.received_at, Message.id).tuples()]
    assert chain == [f"<m{n}@example.org>" for n in range(1, 6)]  # the tie kept in insertion order
    assert outbound._CHAIN.first(ticket=busy) == ("<m1@example.org>",)
    assert outbound._CHAIN.first(ticket=empty) is None
    assert outbound._CHAIN.scalar(ticket=empty) is None
    assert outbound._AUTO_REPLIES.scalar(address="jane@example.org", since=T0) == 3  # acks and surveys only
    assert outbound._AUTO_REPLIES.scalar(address="jane@example.org", since=T0 + MINUTE) == 2
    assert outbound._AUTO_REPLIES.scalar(address="jane@example.org", since=(T0 + MINUTE).astimezone(ZURICH)) == 2
    later = outbound._FIRST_RESPONSE.first(ticket=busy)
    assert (later.state, later.due_at) == ("running", T0 + 90 * MINUTE)


def _row(model: type[pw.Model], pk: Any) -> dict[str, Any]:
    data = dict(model.select().where(model._meta.primary_key == pk).dicts().get())
    data.pop(model._meta.primary_key.name)
    return data


def test_insert_row_writes_what_peewee_insert_writes(db: None) -> None:
    ticket = _ticket("outbox")
    values = {"kind": "mail", "ticket": ticket, "message": None, "recipients": ["a@example.org", "b@example.org"],
              "raw": b"Subject: x\r\n\r\n\x00\xff", "action": None, "alias": None, "payload": {"b": [1, None], "a": "é"},
              "state": "queued", "attempts": 0, "next_attempt_at": T0, "claimed_until": None, "last_error": None,
              "created_at": T0 + MINUTE, "sent_at": None}
    mine = insert_row(OutboxItem, values)
    theirs = OutboxItem.insert(**values).execute()
    assert mine != theirs
    assert _row(OutboxItem, mine) == _row(OutboxItem, theirs)
    stored = OutboxItem.get_by_id(mine)
    assert (bytes(stored.raw), stored.payload, stored.sent_at) == (values["raw"], values["payload"], None)


def test_insert_row_unless_present_skips_a_duplicate_like_on_conflict_ignore(db: None) -> None:
    ticket = _ticket("participants")
    first = insert_row(Participant, {"ticket": ticket, "address": "a@example.org", "role": "customer"},
                       unless_present=True)
    assert first is not None
    again = insert_row(Participant, {"ticket": ticket, "address": "a@example.org", "role": "agent"}, unless_present=True)
    assert again is None
    Participant.insert(ticket=ticket, address="a@example.org", role="agent").on_conflict_ignore().execute()
    assert list(Participant.select(Participant.address, Participant.role).tuples()) == [("a@example.org", "customer")]
    with pytest.raises(pw.IntegrityError), Participant._meta.database.atomic():
        insert_row(Participant, {"ticket": ticket, "address": "a@example.org", "role": "agent"})


def test_update_row_changes_what_peewee_update_changes_and_respects_its_guard(db: None) -> None:
    ticket = _ticket("updates")
    values = {"kind": "mail", "ticket": ticket, "next_attempt_at": T0, "created_at": T0, "last_error": "refused"}
    mine, theirs = (OutboxItem.insert(**values).execute() for _ in range(2))
    changes = {"state": "sent", "sent_at": T0 + MINUTE, "last_error": None, "attempts": 1}
    assert update_row(OutboxItem, mine, changes, state="queued") == 1
    pk = OutboxItem._meta.primary_key
    assert OutboxItem.update(**changes).where((pk == theirs) & (OutboxItem.state == "queued")).execute() == 1
    assert _row(OutboxItem, mine) == _row(OutboxItem, theirs)
    # Settled already: the guard no longer holds, nothing changes, as with peewee's update.
    assert update_row(OutboxItem, mine, {"state": "failed"}, state="queued") == 0
    assert OutboxItem.update(state="failed").where((pk == theirs) & (OutboxItem.state == "queued")).execute() == 0
    assert _row(OutboxItem, mine) == _row(OutboxItem, theirs)
    assert update_row(OutboxItem, 10_000_000, {"state": "failed"}) == 0
