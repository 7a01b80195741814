"""Peewee models: tickets, messages, attachments, outbox, clocks, events, mailbox ledger."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import peewee as pw

from mailroom.clock import as_utc
from mailroom.rules.routing import Routing
from mailroom.store.prepared import insert_row, update_row

database = pw.DatabaseProxy()


def is_postgres(db: pw.Database | None = None) -> bool:
    """True when the bound database (or `db`) is PostgreSQL (row locks, advisory locks)."""
    return isinstance(db or database.obj, pw.PostgresqlDatabase)


class UtcDateTimeField(pw.DateTimeField):
    """Aware UTC datetimes in Python, naive UTC in the database (portable across engines)."""

    if TYPE_CHECKING:  # peewee has no types: say what an instance's attribute holds
        def __get__(self, instance: Any, owner: Any) -> Any: ...
        def __set__(self, instance: Any, value: Any) -> None: ...

    def db_value(self, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value: Any) -> Any:
        if isinstance(value, str):
            # SQLite hands back text; fromisoformat is ~20x faster than peewee's format probing.
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                value = super().python_value(value)
        return as_utc(value) if isinstance(value, datetime) else value


class JsonField(pw.TextField):
    """A JSON document kept as text, so SQLite and PostgreSQL store it alike."""

    if TYPE_CHECKING:  # peewee has no types: say what an instance's attribute holds
        def __get__(self, instance: Any, owner: Any) -> Any: ...
        def __set__(self, instance: Any, value: Any) -> None: ...

    def db_value(self, value: Any) -> Any:
        return None if value is None else json.dumps(value, sort_keys=True)

    def python_value(self, value: Any) -> Any:
        return None if value is None else json.loads(value)


class RoutingAccessor(pw.FieldAccessor):
    """Reads and writes a ticket's routing as a Routing, whether given one or its JSON object."""

    def __set__(self, instance: Any, value: Any) -> None:
        super().__set__(instance, Routing.from_json(value))


class RoutingField(JsonField):
    """A ticket's routing decision: a Routing in Python, its JSON object in the database."""

    accessor_class = RoutingAccessor

    def db_value(self, value: Any) -> Any:
        return super().db_value(Routing.from_json(value).to_json())

    def python_value(self, value: Any) -> Any:
        return Routing.from_json(super().python_value(value))


# No column has an index of its own where a composite index leads with it (a ticket's messages,
# events, clocks and participants; a Message-ID; a ticket's status or team): it would be one
# more index entry written with every row, and serve no query the composite does not.


class BaseModel(pw.Model):
    """Every model lives in the one configured database."""

    class Meta:
        database = database
        legacy_table_names = False
        # save() writes only the fields that changed: a ticket update never rewrites the
        # whole row (JSON fields are always reassigned, never mutated in place, to stay dirty).
        only_save_dirty = True

    def save(self, force_insert: bool = False, only: Any = None) -> Any:
        """Insert a new row, or write the changed fields, with SQL generated once per shape."""
        meta = self._meta
        if only is not None or not meta.auto_increment:
            return super().save(force_insert=force_insert, only=only)
        pk_name = meta.primary_key.name
        if self._pk is None:  # type: ignore[has-type]
            data = {name: value for name, value in self.__data__.items() if name != pk_name}
            self._populate_unsaved_relations(data)
            self._pk = insert_row(type(self), data)
            self._dirty.clear()
            return 1
        if force_insert:
            return super().save(force_insert=True)
        data = {f.name: self.__data__[f.name] for f in self.dirty_fields if f.name != pk_name}
        self._dirty.clear()
        return update_row(type(self), self._pk, data) if data else False


class Setting(BaseModel):
    """Key/value state every worker shares: schema version, generated secret."""

    key = pw.CharField(primary_key=True, max_length=64)
    value = pw.TextField()


class Ticket(BaseModel):
    """A customer's request and everything that happened to it."""

    subject = pw.TextField(default="")
    status = pw.CharField(max_length=16, default="new")  # indexed by (status, created_at, id), below
    priority = pw.CharField(max_length=2, default="P3")
    team = pw.CharField(max_length=64, default="general")  # indexed by (team, created_at)
    tags = JsonField(default=list)
    requester = pw.CharField(max_length=320, index=True)
    requester_name = pw.CharField(max_length=320, default="")
    reply_to = pw.CharField(max_length=320, null=True)
    assignee = pw.CharField(max_length=320, null=True)
    source = pw.CharField(max_length=16, default="mail")  # mail | agent | import
    decision = RoutingField(default=dict)  # the routing decision: ack, links, survey, notify, policy
    linked_ticket = pw.IntegerField(null=True)
    merged_into = pw.IntegerField(null=True)  # set when merged: its mail now threads into that ticket
    language = pw.CharField(max_length=8, null=True)  # the customer's language: their mail's templates
    address = pw.CharField(max_length=320, null=True)  # the address of ours the customer wrote to
    mailbox = pw.CharField(max_length=64, null=True)  # the mailbox it came in on, by its name in mailroom.toml
    created_at = UtcDateTimeField(index=True)
    updated_at = UtcDateTimeField()
    first_response_at = UtcDateTimeField(null=True)
    solved_at = UtcDateTimeField(null=True)
    closed_at = UtcDateTimeField(null=True)

    class Meta:
        indexes = (
            (("status", "solved_at"), False),  # auto-close of solved tickets
            (("status", "created_at", "id"), False),  # `tickets list --status S`, in its order
            (("team", "created_at"), False),  # `report --team T` over a range
            (("mailbox", "created_at"), False),  # `report --mailbox NAME` over a range
        )


class Participant(BaseModel):
    """An address that took part in a ticket's conversation (may use its tag)."""

    ticket = pw.ForeignKeyField(Ticket, backref="participants", on_delete="CASCADE", index=False)
    address = pw.CharField(max_length=320)
    role = pw.CharField(max_length=16, default="customer")  # customer | agent

    class Meta:
        indexes = ((("ticket", "address"), True),)


class Message(BaseModel):
    """One mail, inbound or outbound, stored exactly once."""

    ticket = pw.ForeignKeyField(Ticket, backref="messages", null=True, on_delete="CASCADE", index=False)
    message_id = pw.CharField(max_length=998)
    content_key = pw.CharField(max_length=64)  # tells apart different mails sharing a Message-ID
    direction = pw.CharField(max_length=8)  # inbound | outbound
    kind = pw.CharField(max_length=16)  # customer agent note ack notification relay survey rating system
    from_addr = pw.CharField(max_length=320, default="")
    from_name = pw.CharField(max_length=320, default="")
    recipients = JsonField(default=list)
    rcpt = pw.CharField(max_length=320, null=True)  # outbound: the first recipient, for the hourly limit
    subject = pw.TextField(default="")
    text = pw.TextField(default="")
    new_text = pw.TextField(default="")
    in_reply_to = pw.CharField(max_length=998, null=True)
    references = JsonField(default=list)
    thread_index = pw.CharField(max_length=512, null=True)
    date = UtcDateTimeField()
    received_at = UtcDateTimeField(index=True)  # IMAP arrival time (inbound) or queue time
    machine_reason = pw.TextField(null=True)  # why it is machine mail, or why no auto-reply went
    ignored = pw.BooleanField(default=False)  # a rule said ignore: stored, no ticket
    mailbox = pw.CharField(max_length=255, null=True)
    uidvalidity = pw.BigIntegerField(null=True)
    uid = pw.BigIntegerField(null=True)

    class Meta:
        indexes = (
            (("message_id", "content_key"), True),
            (("mailbox", "uidvalidity", "uid"), True),
            (("direction", "kind", "received_at"), False),
            (("rcpt", "kind", "received_at"), False),
            (("ticket", "received_at", "id"), False),  # a ticket's conversation, in order
        )


class Attachment(BaseModel):
    """A file that came with a message; stored content-addressed, or recorded only when too big."""

    message = pw.ForeignKeyField(Message, backref="attachments", on_delete="CASCADE")
    filename = pw.TextField()
    content_type = pw.CharField(max_length=255)
    size = pw.BigIntegerField()
    sha256 = pw.CharField(max_length=64, null=True)  # None: over the size limit, not stored


class Event(BaseModel):
    """The ticket's audit log: who did what, when, and why."""

    ticket = pw.ForeignKeyField(Ticket, backref="events", on_delete="CASCADE", index=False)
    at = UtcDateTimeField()
    actor = pw.CharField(max_length=320)
    action = pw.CharField(max_length=64)
    detail = pw.TextField(default="")
    data = JsonField(null=True)

    class Meta:
        indexes = ((("ticket", "at", "id"), False),)  # a ticket's audit log, in order


class OutboxItem(BaseModel):
    """A mail or an alert request that must follow a commit; senders work from here."""

    kind = pw.CharField(max_length=8)  # mail | alert
    ticket = pw.ForeignKeyField(Ticket, backref="outbox", null=True, on_delete="CASCADE")
    message = pw.ForeignKeyField(Message, null=True, on_delete="SET NULL")
    recipients = JsonField(default=list)
    raw = pw.BlobField(null=True)  # the mail as sent, same bytes on every attempt
    action = pw.CharField(max_length=16, null=True)  # alerts: open | close | ping
    alias = pw.CharField(max_length=255, null=True, index=True)
    payload = JsonField(null=True)
    state = pw.CharField(max_length=12, default="queued")  # queued | sent | failed
    attempts = pw.IntegerField(default=0)
    next_attempt_at = UtcDateTimeField()
    claimed_until = UtcDateTimeField(null=True)
    last_error = pw.TextField(null=True)
    created_at = UtcDateTimeField()
    sent_at = UtcDateTimeField(null=True)

    class Meta:
        indexes = ((("state", "kind", "next_attempt_at"), False),)


class Clock(BaseModel):
    """One SLA metric of a ticket: when it is due and how it ended."""

    ticket = pw.ForeignKeyField(Ticket, backref="clocks", on_delete="CASCADE", index=False)
    metric = pw.CharField(max_length=32)  # first_response | next_response | resolution
    started_at = UtcDateTimeField()
    due_at = UtcDateTimeField(null=True)
    warn_at = UtcDateTimeField(null=True)
    state = pw.CharField(max_length=12, default="running")  # running paused met breached stopped
    paused_at = UtcDateTimeField(null=True)
    met_at = UtcDateTimeField(null=True)
    breached_at = UtcDateTimeField(null=True)
    warned_at = UtcDateTimeField(null=True)
    escalate = pw.BooleanField(default=False)
    alert_alias = pw.CharField(max_length=255, null=True)
    alert_state = pw.CharField(max_length=12, default="none")  # none open closed failed
    alert_error = pw.TextField(null=True)

    class Meta:
        indexes = (
            (("state", "due_at"), False),
            (("state", "warn_at"), False),
            (("ticket", "metric"), False),
            (("ticket", "state", "due_at"), False),  # a ticket's next running clock
        )


class Page(BaseModel):
    """An alert raised at once for a ticket (a rule's `page: true` or an engineer's `#page`)."""

    ticket = pw.ForeignKeyField(Ticket, backref="pages", on_delete="CASCADE")
    alias = pw.CharField(max_length=255, unique=True)
    team = pw.CharField(max_length=64)
    state = pw.CharField(max_length=12, default="open")  # open closed failed
    created_at = UtcDateTimeField()
    last_error = pw.TextField(null=True)


class Mailbox(BaseModel):
    """The ledger of one IMAP folder: UIDVALIDITY, how far we read, last good poll."""

    name = pw.CharField(max_length=255, primary_key=True)
    uidvalidity = pw.BigIntegerField(null=True)
    last_uid = pw.BigIntegerField(default=0)
    last_poll_at = UtcDateTimeField(null=True)
    last_error = pw.TextField(null=True)
    waiting = pw.IntegerField(default=0)


class Quarantined(BaseModel):
    """A message that could not be processed and was moved to the quarantine folder."""

    mailbox = pw.CharField(max_length=255)
    uidvalidity = pw.BigIntegerField(null=True)
    uid = pw.BigIntegerField(null=True)
    message_id = pw.CharField(max_length=998, default="")
    content_key = pw.CharField(max_length=64, index=True)
    subject = pw.TextField(default="")
    from_addr = pw.CharField(max_length=320, default="")
    reason = pw.TextField()
    at = UtcDateTimeField()
    replayed_at = UtcDateTimeField(null=True)

    class Meta:
        indexes = ((("mailbox", "uidvalidity", "uid"), True),)


class Rating(BaseModel):
    """A customer's answer to the satisfaction survey; the latest counts, comments kept."""

    ticket = pw.ForeignKeyField(Ticket, backref="ratings", on_delete="CASCADE")
    rating = pw.CharField(max_length=8, null=True)  # good okay bad | 1..5
    satisfied = pw.BooleanField(null=True)
    comment = pw.TextField(null=True)
    at = UtcDateTimeField(index=True)


class Survey(BaseModel):
    """The satisfaction survey of a ticket: at most one, sent after a delay once solved."""

    ticket = pw.ForeignKeyField(Ticket, backref="surveys", unique=True, on_delete="CASCADE")
    due_at = UtcDateTimeField(index=True)
    state = pw.CharField(max_length=12, default="scheduled")  # scheduled sent cancelled
    token = pw.CharField(max_length=32)
    sent_at = UtcDateTimeField(null=True)


MODELS: list[type[BaseModel]] = [
    Setting,
    Ticket,
    Participant,
    Message,
    Attachment,
    Event,
    OutboxItem,
    Clock,
    Page,
    Mailbox,
    Quarantined,
    Rating,
    Survey,
]
