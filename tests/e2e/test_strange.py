"""Strange mail never stops the daemon: each is stored or quarantined, and the next customer is answered."""

from __future__ import annotations

from mailroom.store import queries as store
from mailroom.store.models import Message, Quarantined

from .conftest import CUSTOMER, Mailroom
from .mails import mail
from .strange import deep_nesting, many_parts


def test_ten_thousand_parts_and_a_hundred_levels_are_kept_and_the_next_mail_is_acknowledged(mailroom: Mailroom) -> None:
    mailroom.dovecot.append("support", many_parts(10_000))
    mailroom.dovecot.append("support", deep_nesting(100))
    mailroom.dovecot.append("support", mail(subject="An ordinary question"))
    assert mailroom.run_once() == 0
    store.open_database(str(mailroom.settings().database.url))
    for message_id in ("<many-parts@example.org>", "<deep-nesting@example.org>"):
        stored = Message.select().where(Message.message_id == message_id).exists()
        quarantined = Quarantined.select().where(Quarantined.message_id == message_id).exists()
        assert stored or quarantined, message_id
    assert mailroom.dovecot.count("support") == 0  # nothing left behind, nothing dropped
    assert mailroom.dovecot.count("support", "Processed") + mailroom.dovecot.count("support", "Quarantine") == 3
    acks = [m for m in mailroom.smtp.by_recipient(CUSTOMER) if "An ordinary question" in m.subject]
    assert acks and acks[0].message["Auto-Submitted"] == "auto-replied"
