"""Merging duplicate tickets: by `#merge` and `tickets merge`, one conversation, each customer told once."""

from __future__ import annotations

from .conftest import CUSTOMER, TEAM, Mailroom
from .mails import body_text, header, mail, reply


def _notice(room: Mailroom, ticket_id: int) -> bytes:
    tag = f"[Support #{ticket_id}]"
    return next(m for m in room.dovecot.messages("engineer")
                if TEAM in (header(m, "To") or "") and tag in (header(m, "Subject") or ""))


def _ack(room: Mailroom, ticket_id: int) -> bytes:
    tag = f"[Support #{ticket_id}]"
    return next(m for m in room.dovecot.messages("customer") if tag in (header(m, "Subject") or ""))


def test_an_engineer_merges_a_duplicate_and_the_customer_s_next_reply_lands_in_the_survivor(mailroom: Mailroom) -> None:
    mailroom.dovecot.append("support", mail(subject="Printer offline", sender=f"Jane <{CUSTOMER}>"))
    mailroom.dovecot.append("support", mail(subject="Printer still offline!", sender=f"Jane <{CUSTOMER}>",
                                            body="Writing again: the printer on floor 3 is still offline."))
    assert mailroom.run_once() == 0
    first, second = mailroom.tickets()
    before = {t["id"]: t["sla"]["first_response_due"] for t in (first, second)}

    # The first is urgent: made P1 and merged, in one mail, into the second; its earlier due time stays.
    merge = reply(_notice(mailroom, first["id"]), f"#priority P1\n#merge {second['id']}")
    mailroom.dovecot.append("support", merge)
    assert mailroom.run_once() == 0
    merged, survivor = (next(t for t in mailroom.tickets() if t["id"] == i) for i in (first["id"], second["id"]))
    assert merged["status"] == "closed" and merged["merged_into"] == survivor["id"]
    assert any(f"merged into #{survivor['id']}" in e["detail"] for e in merged["events"])
    subjects = [m["subject"] for m in survivor["messages"] if m["direction"] == "inbound" and m["kind"] == "customer"]
    assert sorted(subjects) == ["Printer offline", "Printer still offline!"]
    assert survivor["sla"]["first_response_due"] < before[second["id"]]
    assert merged["messages"] == []

    # The customer hears once, in the survivor's thread.
    notices = [m for m in mailroom.dovecot.messages("customer") if "joined the two" in body_text(m)]
    assert len(notices) == 1
    assert f"[Support #{survivor['id']}]" in header(notices[0], "Subject")

    # Answering the merged ticket's acknowledgement reaches the survivor, not a new ticket.
    mailroom.dovecot.append("support", reply(_ack(mailroom, first["id"]), "It works again after a restart.",
                                             sender=f"Jane <{CUSTOMER}>"))
    assert mailroom.run_once() == 0
    assert len(mailroom.tickets()) == 2
    survivor = next(t for t in mailroom.tickets() if t["id"] == second["id"])
    assert any("It works again" in (m["text"] or "") for m in survivor["messages"])


def test_merging_into_a_closed_or_the_same_ticket_is_refused_with_one_line(mailroom: Mailroom) -> None:
    for subject in ("Login fails", "Cannot sign in", "Password reset"):
        mailroom.dovecot.append("support", mail(subject=subject, sender=f"Jane <{CUSTOMER}>"))
    assert mailroom.run_once() == 0
    one, two, three = (t["id"] for t in mailroom.tickets())
    assert mailroom.cli("tickets", "merge", str(two), str(one)).stdout.strip() == f"merged #{two} into #{one}"

    mailroom.dovecot.append("support", reply(_notice(mailroom, one), "#status closed"))
    assert mailroom.run_once() == 0
    refusals = ((three, one, "is closed"), (three, two, f"was merged into #{one}"), (three, three, "into itself"),
                (three, 999, "no ticket #999"))
    for source, target, why in refusals:
        result = mailroom.cli("tickets", "merge", str(source), str(target), check=False)
        assert result.returncode == 1
        assert len(result.stderr.strip().splitlines()) == 1 and why in result.stderr

    # By mail, the refusal reaches the engineer and changes nothing.
    mailroom.dovecot.append("support", reply(_notice(mailroom, three), f"#merge {one}\nSee the other ticket."))
    assert mailroom.run_once() == 0
    assert next(t for t in mailroom.tickets() if t["id"] == three)["status"] == "new"
    errors = [m for m in mailroom.dovecot.messages("engineer") if f"#merge {one}" in body_text(m) and "closed" in body_text(m)]
    assert len(errors) == 1
