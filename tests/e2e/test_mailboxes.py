"""Several mailboxes in one helpdesk: support@ and billing@ read at once, one ticket per mail, each answered from its own address."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from mailroom.demo.dovecot import Dovecot
from mailroom.demo.opsgenie import OpsgenieServer

from .conftest import CUSTOMER, SUPPORT, Mailroom, as_mailboxes, page_when_stuck, status_of
from .conftest import wait_until as _wait
from .mails import body_text, header, mail, reply

BILLING = "billing@example.com"
STALE_AFTER = 8  # seconds; each mailbox is polled every second, and two readers share a loaded machine
RULES_BILLING = """
  - name: the billing mailbox's mail goes to billing
    if: {mailbox: billing}
    then: {team: billing}
"""


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """Dovecot with a billing user beside support, customer and engineer."""
    with Dovecot(users=(*Dovecot.USERS, "billing")) as server:
        yield server


def _billing_rules(room: Mailroom) -> None:
    rules = (room.folder / "rules.yaml").read_text()
    # billing@ is an address of ours now: the billing team is told at its own list.
    rules = rules.replace(f'notify: ["{BILLING}"]', 'notify: ["billing-team@example.com"]')
    room.write_rules(rules.replace("\nrules:\n", "\nrules:\n" + RULES_BILLING, 1))


def _delivered(raw: bytes, to: str) -> bytes:
    """The mail as a local delivery agent puts it into the mailbox of `to`."""
    return f"Return-Path: <{CUSTOMER}>\r\nDelivered-To: {to}\r\n".encode() + raw


def _acks(room: Mailroom, subject: str) -> list[bytes]:
    """The acknowledgements customers (all delivered to Dovecot user customer) got for `subject`."""
    return [m for m in room.dovecot.messages("customer") if subject in (header(m, "Subject") or "")]


def test_billing_mail_is_routed_acknowledged_filed_and_answered_from_billing(mailroom: Mailroom) -> None:
    as_mailboxes(mailroom, "billing")
    _billing_rules(mailroom)
    mailroom.dovecot.append("billing", _delivered(mail(subject="Charged twice", sender=f"Jane <{CUSTOMER}>",
                                                       to=BILLING), BILLING))
    mailroom.dovecot.append("support", _delivered(mail(subject="Login fails", sender="joe@example.org"), SUPPORT))
    assert mailroom.run_once() == 0

    tickets = {t["subject"]: t for t in mailroom.tickets()}
    assert tickets["Charged twice"]["team"] == "billing" and tickets["Login fails"]["team"] != "billing"
    assert (tickets["Charged twice"]["mailbox"], tickets["Charged twice"]["address"]) == ("billing", BILLING)
    assert (tickets["Login fails"]["mailbox"], tickets["Login fails"]["address"]) == ("support", SUPPORT)
    [ack] = _acks(mailroom, "Charged twice")
    assert BILLING in header(ack, "From") and "Example Support" in header(ack, "From")
    assert mailroom.dovecot.count("billing", "Processed") == 1 and mailroom.dovecot.count("billing") == 0
    assert mailroom.dovecot.count("support", "Processed") == 1 and mailroom.dovecot.count("support") == 0

    # The engineer answers the billing ticket from the team's notification: Reply-To billing@.
    notice = next(m for m in mailroom.smtp.messages if "Charged twice" in m.subject and m.rcpt_tos == ["billing-team@example.com"])
    assert header(notice.raw, "Reply-To") == BILLING
    answer = reply(notice.raw, "Hi Jane, we refunded the second charge; it shows within three days.", to=BILLING)
    mailroom.dovecot.append("billing", _delivered(answer, BILLING))
    assert mailroom.run_once() == 0
    relayed = [m for m in mailroom.dovecot.messages("customer") if "refunded the second charge" in body_text(m)]
    assert len(relayed) == 1 and BILLING in header(relayed[0], "From")

    # Mail from an address of ours is never acknowledged: no loop between our own mailboxes.
    before = len(mailroom.smtp.messages)
    mailroom.dovecot.append("support", _delivered(mail(subject="Forwarded by mistake", sender=BILLING), SUPPORT))
    assert mailroom.run_once() == 0
    assert not [m for m in mailroom.smtp.messages[before:] if BILLING in m.rcpt_tos]


@pytest.mark.parametrize("first", [False, True], ids=["support-read-first", "billing-read-first"])
def test_mail_to_two_of_our_mailboxes_is_one_ticket_with_one_acknowledgement(mailroom: Mailroom, first: bool) -> None:
    as_mailboxes(mailroom, "billing", first=first)
    raw = mail(subject="Invoice address wrong", sender=f"Jane <{CUSTOMER}>", to=SUPPORT, headers={"Cc": BILLING})
    mailroom.dovecot.append("support", _delivered(raw, SUPPORT))
    mailroom.dovecot.append("billing", _delivered(raw, BILLING))
    assert mailroom.run_once() == 0

    [ticket] = mailroom.tickets()
    assert len([m for m in ticket["messages"] if m["direction"] == "inbound"]) == 1
    assert ticket["mailbox"] == ("billing" if first else "support")
    assert len(_acks(mailroom, "Invoice address wrong")) == 1
    for user in ("support", "billing"):  # the second copy is recognised and filed too, never left behind
        assert mailroom.dovecot.count(user, "Processed") == 1 and mailroom.dovecot.count(user) == 0
    assert mailroom.dovecot.count("support", "Quarantine") == 0 and mailroom.dovecot.count("billing", "Quarantine") == 0


@pytest.fixture
def paging(mailroom: Mailroom, opsgenie: OpsgenieServer) -> Mailroom:
    """Two mailboxes, billing's in its folder "Billing" with its password in a file; paging OpsGenie when stuck."""
    (mailroom.folder / "billing-password").write_text("not the password\n")
    mailroom.dovecot.append("billing", _delivered(mail(subject="Refund please", sender="cat@example.org", to=BILLING), BILLING), folder="Billing")
    as_mailboxes(mailroom, "billing", keys={"billing": {"password_file": '"billing-password"', "folder": '"Billing"'}})
    page_when_stuck(mailroom, opsgenie.url, STALE_AFTER)
    return mailroom


def _box(status: dict[str, Any], name: str) -> dict[str, Any]:
    return next(box for box in status["mailboxes"] if box["name"] == name)


def test_a_failing_mailbox_holds_up_no_other_and_pages_by_name(paging: Mailroom, opsgenie: OpsgenieServer) -> None:
    room = paging
    room.dovecot.append("support", _delivered(mail(subject="Export is empty", sender="ann@example.org"), SUPPORT))
    once = room.cli("run", "--once", check=False)
    assert once.returncode == 1
    [line] = [x for x in once.stderr.strip().splitlines() if x.startswith("mailroom: ")] or [once.stderr]
    assert line.startswith("mailroom: mailbox billing: ") and "not the password" not in once.stderr
    assert len(_acks(room, "Export is empty")) == 1  # support's mail was read and answered all the same

    log = (room.folder / "daemon.log").open("w")
    proc = room.popen("run", stdout=subprocess.DEVNULL, stderr=log)
    try:
        room.dovecot.append("support", _delivered(mail(subject="Report times out", sender="bob@example.org"), SUPPORT))
        _wait(lambda: _acks(room, "Report times out"), 120, "support's mail to be acknowledged")
        status = status_of(room)
        billing, support = _box(status, "billing"), _box(status, "support")
        assert billing["state"] == "error" and billing["error"] and billing["waiting"] is None
        assert support["state"] == "ok" and support["last_error"] is None and support["waiting"] == 0
        # A refused sign-in is a sign-in failure: the sign-in alert names the mailbox, and no poll alert too.
        [auth] = _wait(lambda: opsgenie.creates("mailroom-health-auth"), 120, "the sign-in alert")
        assert "imap:billing" in auth.json["description"] and "not the password" not in json.dumps(auth.json)
        assert status_of(room)["health_alerts"]["auth"] == "open"

        (room.folder / "billing-password").write_text(room.dovecot.PASSWORD)
        _wait(lambda: opsgenie.closes("mailroom-health-auth"), 120, "the sign-in alert to close")
        _wait(lambda: _acks(room, "Refund please"), 120, "billing's waiting mail to be acknowledged")

        # billing's folder gone: polling billing is stuck, support's goes on; its own alert, by name.
        raised = len(opsgenie.creates("mailroom-health-poll-billing"))
        with room.dovecot.client("billing") as imap:
            imap.delete_folder("Billing")
        poll = _wait(lambda: opsgenie.creates("mailroom-health-poll-billing")[raised:], 120, "billing's poll alert")[0]
        assert "billing" in poll.json["message"]
        room.dovecot.append("support", _delivered(mail(subject="Still here", sender="dan@example.org"), SUPPORT))
        _wait(lambda: _acks(room, "Still here"), 120, "support's mail while billing is stuck")
        stuck = status_of(room)
        assert stuck["health_alerts"]["poll-billing"] == "open" and stuck["health_alerts"]["poll-support"] == "closed"
        closed = len(opsgenie.closes("mailroom-health-poll-billing"))
        with room.dovecot.client("billing") as imap:
            imap.create_folder("Billing")
        _wait(lambda: opsgenie.closes("mailroom-health-poll-billing")[closed:], 120, "billing's poll alert to close")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        log.close()
    assert code == 0
    assert opsgenie.creates("mailroom-health-poll-support") == []
    assert "not the password" not in (room.folder / "daemon.log").read_text()
