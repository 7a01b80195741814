"""The satisfaction survey: sent once a ticket is solved, answered with one click, counted in the report."""

from __future__ import annotations

import json
import re

from .conftest import CUSTOMER, TEAM, Mailroom
from .mails import body_text, header, mail, reply

ANSWER = (
    "Hi Jane,\n\nyour export failed because the report had more than 10,000 rows. I raised the limit "
    "for your account and exported it again; the PDF is in your downloads now.\n\nEve"
)


def _solve(room: Mailroom, sender: str, subject: str) -> int:
    room.dovecot.append("support", mail(subject=subject, sender=sender))
    assert room.run_once() == 0
    ticket = room.tickets()[-1]
    tag = f"[Support #{ticket['id']}]"
    notice = [m for m in room.dovecot.messages("engineer") if TEAM in (header(m, "To") or "") and tag in header(m, "Subject")][0]
    room.dovecot.append("support", reply(notice, "#status solved\n" + ANSWER))
    assert room.run_once() == 0
    return ticket["id"]


def _survey_links(room: Mailroom, ticket_id: int) -> dict[str, str]:
    surveys = [
        m for m in room.dovecot.messages("customer")
        if f"#{ticket_id}]" in header(m, "Subject") and "csat-" in body_text(m)
    ]
    assert len(surveys) == 1
    links = re.findall(r"support\+csat-([a-z0-9]+)-(\w+)@example\.com", body_text(surveys[0]))
    return {rating: f"support+csat-{token}-{rating}@example.com" for token, rating in links}


def test_survey_answered_with_one_click_counts_in_the_report(mailroom: Mailroom) -> None:
    ticket_id = _solve(mailroom, f"Jane Customer <{CUSTOMER}>", "Export to PDF fails")
    links = _survey_links(mailroom, ticket_id)
    assert set(links) >= {"good", "okay", "bad"}

    # What the mailto: link sends: a mail to the rating address, subject and body as the link set them.
    mailroom.smtp.clear()
    mailroom.dovecot.append("support", mail(subject="Good", body="", sender=CUSTOMER, to=links["good"]))
    assert mailroom.run_once() == 0
    report = json.loads(mailroom.cli("report", "--json").stdout)
    assert report["csat"] == {**report["csat"], "responses": 1, "satisfied": 1, "score": 1.0}
    [ticket] = [t for t in mailroom.tickets() if t["id"] == ticket_id]
    assert ticket["status"] == "solved"
    assert mailroom.smtp.messages == []  # a rating gets no acknowledgement


def test_forged_rating_for_another_ticket_is_rejected(mailroom: Mailroom) -> None:
    first = _solve(mailroom, f"<{CUSTOMER}>", "Export to PDF fails")
    links = _survey_links(mailroom, first)
    # Someone else uses the first customer's token to rate their ticket.
    mailroom.dovecot.append("support", mail(subject="Bad", body="", sender="mallory@example.net", to=links["bad"]))
    assert mailroom.run_once() == 0
    report = json.loads(mailroom.cli("report", "--json").stdout)
    assert report["csat"]["responses"] == 0
    [ticket] = [t for t in mailroom.tickets() if t["id"] == first]
    assert any("forged" in e["detail"] or "forged" in e["action"] for e in ticket["events"])
