"""Several addresses of ours in one helpdesk: each customer answered From the address they wrote to."""

from __future__ import annotations

from .conftest import CUSTOMER, TEAM, Mailroom
from .mails import body_text, header, mail, reply

RULES_BILLING = """
  - name: billing mail goes to billing
    if: {to_address: billing@example.com}
    then: {team: billing}
"""


def _with_alias(room: Mailroom) -> None:
    room.config.write_text(room.config.read_text().replace(
        'name = "Example Support"', 'name = "Example Support"\naddresses = ["billing@example.com"]'))
    rules = (room.folder / "rules.yaml").read_text()
    # billing@ is now an address of ours: the billing team is told at its own list.
    rules = rules.replace('notify: ["billing@example.com"]', 'notify: ["billing-team@example.com"]')
    room.write_rules(rules.replace("\nrules:\n", "\nrules:\n" + RULES_BILLING, 1))


def test_a_customer_who_wrote_to_an_alias_is_answered_from_it_end_to_end(mailroom: Mailroom) -> None:
    _with_alias(mailroom)
    mailroom.dovecot.append("support", mail(subject="Invoice twice", sender=f"Jane <{CUSTOMER}>",
                                            to="Billing <billing@example.com>"))
    mailroom.dovecot.append("support", mail(subject="Login fails", sender="joe@example.org"))
    assert mailroom.run_once() == 0
    tickets = {t["subject"]: t for t in mailroom.tickets()}
    assert tickets["Invoice twice"]["team"] == "billing" and tickets["Login fails"]["team"] == "general"

    acks = {header(m, "Subject") or "": m for m in mailroom.dovecot.messages("customer")}
    billing_ack = next(m for s, m in acks.items() if "Invoice twice" in s)
    assert "billing@example.com" in header(billing_ack, "From") and "Example Support" in header(billing_ack, "From")
    other_ack = next(m for s, m in acks.items() if "Login fails" in s)
    assert "support@example.com" in header(other_ack, "From")

    # The team answers the alias; the engineer's reply is an engineer's, not a customer's, though
    # billing@example.com matches the agents' pattern *@example.com.
    notice = next(m for m in mailroom.dovecot.messages("engineer") if "Invoice twice" in (header(m, "Subject") or ""))
    assert header(notice, "Reply-To") == "billing@example.com"
    assert TEAM not in (header(notice, "To") or "")  # billing's own notify address
    answer = reply(notice, "#status solved\nHi Jane, we refunded the second charge; it shows within three days.",
                   to="billing@example.com")
    mailroom.dovecot.append("support", answer)
    assert mailroom.run_once() == 0
    relayed = [m for m in mailroom.dovecot.messages("customer") if "refunded the second charge" in body_text(m)]
    assert len(relayed) == 1 and "billing@example.com" in header(relayed[0], "From")
    survey = next(m for m in mailroom.dovecot.messages("customer") if "How did we do?" in (header(m, "Subject") or ""))
    assert "billing@example.com" in header(survey, "From") and "billing+csat-" in body_text(survey)
    # A mail from an address of ours never gets an automatic answer: no loop between our own addresses.
    mailroom.dovecot.append("support", mail(subject="Forwarded by mistake", sender="billing@example.com"))
    assert mailroom.run_once() == 0
    assert not [m for m in mailroom.dovecot.messages("engineer") if "billing@example.com" in (header(m, "To") or "")
                and "Forwarded by mistake" in (header(m, "Subject") or "") and "Re:" in (header(m, "Subject") or "")]


def test_rules_check_names_a_to_address_that_is_not_ours_with_its_place(mailroom: Mailroom) -> None:
    _with_alias(mailroom)
    rules = (mailroom.folder / "rules.yaml").read_text().replace("billing@example.com", "bil1ing@example.com")
    (mailroom.folder / "rules.yaml").write_text(rules)
    result = mailroom.cli("rules", "check", check=False)
    assert result.returncode == 1
    line = next(n for n, text in enumerate(rules.splitlines(), 1) if "bil1ing@example.com" in text)
    assert f"rules.yaml:{line}:" in result.stderr
    assert "to_address: 'bil1ing@example.com' is not one of our addresses (support@example.com, billing@example.com)" in result.stderr
