"""Earlier answers found: `tickets search`, and similar solved tickets in the team's notification."""

from __future__ import annotations

import json

from .conftest import TEAM, Mailroom
from .mails import body_text, header, mail, reply

ANSWER = (
    "Hi Jane,\n\nthe export stopped at 10,000 rows because of the plan's limit. I raised the "
    "limit for your account; the PDF export works again.\n\nEve"
)


def _notice(room: Mailroom, ticket_id: int) -> bytes:
    tag = f"[Support #{ticket_id}]"
    return next(m for m in room.dovecot.messages("engineer")
                if TEAM in (header(m, "To") or "") and tag in (header(m, "Subject") or ""))


def test_an_earlier_answer_is_found_and_shown_to_the_team_on_a_similar_ticket(mailroom: Mailroom) -> None:
    mailroom.dovecot.append("support", mail(subject="PDF export fails", sender="jane@example.org",
                                            body="Exporting my quarterly report to PDF stops halfway."))
    mailroom.dovecot.append("support", mail(subject="Invoice address", sender="max@example.org",
                                            body="Please change the address on our invoices."))
    assert mailroom.run_once() == 0
    first, other = mailroom.tickets()
    mailroom.dovecot.append("support", reply(_notice(mailroom, first["id"]), "#status solved\n" + ANSWER))
    assert mailroom.run_once() == 0

    found = json.loads(mailroom.cli("tickets", "search", "quarterly", "--json").stdout)
    assert [t["id"] for t in found] == [first["id"]]
    assert found[0]["status"] == "solved" and "raised the limit" in found[0]["last_answer"]
    assert json.loads(mailroom.cli("tickets", "search", "quarterly", "--status", "open", "--json").stdout) == []
    assert f"#{other['id']}" in mailroom.cli("tickets", "search", "invoices").stdout

    mailroom.dovecot.append("support", mail(subject="Export to PDF broken", sender="li@example.org",
                                            body="The PDF export of my report is cut off."))
    assert mailroom.run_once() == 0
    newest = mailroom.tickets()[-1]
    text = body_text(_notice(mailroom, newest["id"]))
    assert "Solved before" in text
    assert f"#{first['id']} PDF export fails (solved)" in text and "raised the limit" in text
    assert f"#{other['id']}" not in text  # not solved, and not alike
