"""The interpreter: each condition and action, combinators, continue, defaults, tests, explain."""

import dataclasses
import json
from datetime import UTC, datetime
from textwrap import dedent, indent

import pytest

from mailroom.mail.message import Inbound
from mailroom.mail.mime import Attachment
from mailroom.rules.engine import check_tests, decide, explain, format_explain
from mailroom.rules.routing import Routing
from mailroom.rules.ruleset import Link, parse_rules
from mailroom.sla.calendar import Duration

ARRIVED = datetime(2026, 1, 9, 16, 30, tzinfo=UTC)  # a Friday, 08:30 in Los Angeles


def mail(
    from_addr: str = "customer@shop.example.net",
    subject: str = "Hello",
    body: str = "",
    to: tuple[str, ...] = ("support@example.com",),
    cc: tuple[str, ...] = (),
    headers: tuple[tuple[str, str], ...] = (),
    attachment: bool = False,
    text: str | None = None,
    arrived: datetime = ARRIVED,
) -> Inbound:
    return Inbound(
        message_id="<m1@shop.example.net>", in_reply_to=None, references=(), from_addr=from_addr,
        from_name="", reply_to=None, to=to, cc=cc, subject=subject, date=arrived, arrived_at=arrived,
        text=body if text is None else text, new_text=body, headers=(("From", from_addr), *headers),
        attachments=(Attachment("log.txt", "text/plain", 3, b"abc"),) if attachment else (),
    )


HEAD = """\
version: 1
calendars:
  business: {timezone: "America/Los_Angeles", hours: {mon-fri: "09:00-17:00"}, holidays: ["2026-12-25"]}
  always: 24x7
sla:
  gold: {first_response: 30m, calendar: always, escalate: true}
teams:
  general: {notify: ["support-team@example.com"]}
  enterprise: {notify: ["enterprise@example.com"]}
  billing: {}
defaults: {team: general, priority: P3}
rules:
"""


def rules_with(block: str):
    return parse_rules(HEAD + indent(dedent(block), "  "))


def one_rule(condition: str, then: str = "{tags: [hit]}"):
    return rules_with(f"- name: the rule\n  if: {condition}\n  then: {then}\n")


def hits(condition: str, message: Inbound) -> bool:
    return bool(decide(one_rule(condition), message).matched)


# ---- conditions -------------------------------------------------------------------------------


def test_from_exact_case_insensitive_and_glob():
    assert hits('{from: "Alice@Shop.example.net"}', mail("alice@shop.example.net"))
    assert hits('{from: ["x@y.z", "*@shop.example.net"]}', mail("bob@shop.example.net"))
    assert not hits('{from: "*@shop.example.net"}', mail("bob@eu.shop.example.net"))  # an address glob is exact
    assert hits('{from: "noreply@*"}', mail("noreply@github.example.org"))
    assert not hits('{from: "alice@shop.example.net"}', mail("malice@shop.example.net"))


def test_from_with_a_domain_covers_subdomains():
    assert hits('{from: "shop.example.net"}', mail("bob@eu.shop.example.net"))


@pytest.mark.parametrize(
    ("sender", "expected"),
    [
        ("ops@bigcorp.com", True),
        ("ops@eu.bigcorp.com", True),
        ("OPS@EU.BIGCORP.COM", True),
        ("ops@a.b.bigcorp.com", True),
        ("ops@bigcorp.com.evil.net", False),
        ("ops@notbigcorp.com", False),
        ("ops@bigcorp.co", False),
        ("ops@evil.net", False),
        ("", False),
    ],
)
def test_from_domain_covers_subdomains_only(sender, expected):
    assert hits('{from_domain: ["bigcorp.com", "globex.com"]}', mail(sender.lower())) is expected


def test_from_domain_glob_and_reason():
    assert hits('{from_domain: "*.gov"}', mail("clerk@city.state.gov"))
    decision = decide(one_rule('{from_domain: "bigcorp.com"}'), mail("ops@eu.bigcorp.com"))
    assert decision.matched[0].reasons == ("from_domain bigcorp.com matched ops@eu.bigcorp.com",)


def test_to_and_cc():
    assert hits('{to: "security@example.com"}', mail(to=("Security@Example.com",)))
    assert not hits('{to: "security@example.com"}', mail(cc=("security@example.com",)))
    assert hits('{cc: ["boss@bigcorp.com", "audit@x.org"]}', mail(cc=("dev@x.org", "audit@x.org")))
    assert hits('{cc: "bigcorp.com"}', mail(cc=("cto@eu.bigcorp.com",)))
    assert not hits('{cc: "bigcorp.com"}', mail(cc=()))


def test_subject_is_a_regex_search():
    assert hits('{subject: "(?i)\\\\bdown\\\\b"}', mail(subject="Site is DOWN again"))
    assert not hits('{subject: "(?i)\\\\bdown\\\\b"}', mail(subject="Download link"))
    assert not hits('{subject: "down"}', mail(subject="DOWN"))  # case matters unless (?i)
    decision = decide(one_rule('{subject: "(?i)outage"}'), mail(subject="Big Outage"))
    assert decision.matched[0].reasons == ("subject /(?i)outage/ matched 'Outage'",)


def test_body_looks_at_the_new_text_only():
    quoted = "Thanks!\n> On Monday you wrote: refund please"
    assert not hits('{body: "refund"}', mail(body="Thanks!", text=quoted))
    assert hits('{body: "refund"}', mail(body="I want a refund"))


def test_header_any_value_and_all_names():
    message = mail(headers=(("Received", "from a"), ("Received", "from relay.bigcorp.com"), ("X-Priority", "1")))
    assert hits('{header: {received: "bigcorp"}}', message)  # names are case-insensitive
    assert hits('{header: {Received: "bigcorp", X-Priority: "^1"}}', message)
    assert not hits('{header: {Received: "bigcorp", X-Priority: "^5"}}', message)
    assert not hits('{header: {List-Id: ".*"}}', message)  # absent header never matches
    decision = decide(one_rule('{header: {X-Priority: "1"}}'), message)
    assert decision.matched[0].reasons == ("header X-Priority /1/ matched '1'",)


def test_has_attachment():
    assert hits("{has_attachment: true}", mail(attachment=True))
    assert not hits("{has_attachment: true}", mail())
    assert hits("{has_attachment: false}", mail())


def test_several_keys_must_all_match():
    condition = '{from_domain: bigcorp.com, subject: "(?i)invoice"}'
    assert hits(condition, mail("a@bigcorp.com", "Invoice 12"))
    assert not hits(condition, mail("a@bigcorp.com", "Hello"))
    assert not hits(condition, mail("a@other.com", "Invoice 12"))
    decision = decide(one_rule(condition), mail("a@bigcorp.com", "Invoice 12"))
    assert decision.matched[0].reasons == ("from_domain bigcorp.com matched a@bigcorp.com", "subject /(?i)invoice/ matched 'Invoice'")


def test_all_any_not():
    anything = '{any: [{subject: refund}, {body: refund}]}'
    assert hits(anything, mail(subject="refund"))
    assert hits(anything, mail(body="a refund"))
    assert not hits(anything, mail())
    both = '{all: [{subject: refund}, {from_domain: bigcorp.com}]}'
    assert hits(both, mail("x@bigcorp.com", "refund"))
    assert not hits(both, mail("x@other.com", "refund"))
    negated = '{not: {from_domain: bigcorp.com}}'
    assert hits(negated, mail("x@other.com"))
    assert not hits(negated, mail("x@bigcorp.com"))
    nested = '{subject: help, not: {any: [{has_attachment: true}, {cc: "*@bigcorp.com"}]}}'
    assert hits(nested, mail(subject="help"))
    assert not hits(nested, mail(subject="help", attachment=True))
    decision = decide(one_rule(negated), mail("x@other.com"))
    assert decision.matched[0].reasons == ("not (from_domain bigcorp.com) did not match",)


# ---- actions and their merging ----------------------------------------------------------------


def test_every_action():
    then = (
        '{team: billing, priority: P2, tags: [a, b, a], assign: Alice@Example.com, notify: [ceo@example.com], '
        'ack: vip, links: ["https://docs.example.com/a", {title: B, url: "https://docs.example.com/b"}], '
        "survey: false, page: true}"
    )
    rules = one_rule("{subject: x}", then)
    d = decide(rules, mail(subject="x"))
    assert (d.team, d.priority, d.tags, d.assign, d.notify) == ("billing", "P2", ("a", "b"), "alice@example.com", ("ceo@example.com",))
    assert d.ack == "vip" and d.survey is False and d.page is True and d.ignore is False
    assert d.links == (Link("https://docs.example.com/a", "https://docs.example.com/a"), Link("B", "https://docs.example.com/b"))
    assert d.policy.name == "P2" and d.policy_name == "P2"


def test_defaults_fill_what_no_rule_decided():
    d = decide(one_rule("{subject: never}"), mail())
    assert (d.team, d.priority, d.tags, d.assign, d.notify) == ("general", "P3", (), None, ())
    assert d.ack == "ack" and d.survey is True and d.page is False and d.ignore is False
    assert d.matched == () and d.links == ()
    assert d.policy.name == "P3" and d.policy.calendar == "business"


def test_ignore_and_ack_false():
    assert decide(one_rule("{subject: x}", "{ignore: true}"), mail(subject="x")).ignore
    assert decide(one_rule("{subject: x}", "{ack: false}"), mail(subject="x")).ack is None


def test_first_match_stops():
    rules = rules_with("""\
        - name: first
          if: {subject: x}
          then: {team: billing, tags: [one]}
        - name: second
          if: {subject: x}
          then: {team: enterprise, tags: [two]}
    """)
    d = decide(rules, mail(subject="x"))
    assert [h.name for h in d.matched] == ["first"] and d.team == "billing" and d.tags == ("one",)


def test_continue_adds_up_lists_and_last_scalar_wins():
    rules = rules_with("""\
        - name: enterprise
          if: {from_domain: bigcorp.com}
          then: {team: enterprise, priority: P2, tags: [enterprise, vip], notify: [a@example.com], links: ["https://x.example/1"]}
          continue: true
        - name: unmatched
          if: {subject: nothing}
          then: {priority: P5}
        - name: outage
          if: {subject: down}
          then: {priority: P1, tags: [outage, vip], notify: [b@example.com], links: ["https://x.example/2", "https://x.example/1"], page: true}
        - name: after the stop
          if: {subject: down}
          then: {priority: P4}
    """)
    d = decide(rules, mail("ops@bigcorp.com", "site down"))
    assert [h.name for h in d.matched] == ["enterprise", "outage"]
    assert d.team == "enterprise" and d.priority == "P1" and d.page
    assert d.tags == ("enterprise", "vip", "outage")
    assert d.notify == ("a@example.com", "b@example.com")
    assert [link.url for link in d.links] == ["https://x.example/1", "https://x.example/2"]
    assert d.policy.name == "P1"


def test_catch_all_rule_matches_everything():
    rules = rules_with("""\
        - name: tag everything
          then: {tags: [seen]}
          continue: true
        - name: billing
          if: {subject: invoice}
          then: {team: billing}
    """)
    d = decide(rules, mail(subject="invoice"))
    assert d.matched[0].reasons == ("matches every message",)
    assert d.tags == ("seen",) and d.team == "billing"


def test_sla_by_name_and_inline_override():
    rules = rules_with("""\
        - name: gold customers
          if: {from_domain: bigcorp.com}
          then: {sla: gold}
          continue: true
        - name: faster first answer for outages
          if: {subject: down}
          then: {priority: P1, sla: {first_response: 15m, warn_before: 5m}}
    """)
    d = decide(rules, mail("ops@bigcorp.com", "down"))
    assert d.policy_name == "gold" and d.priority == "P1"
    assert d.policy.first_response == Duration(15, "m") and d.policy.calendar == "always" and d.policy.escalate
    assert d.policy.warn_before == Duration(5, "m")
    assert d.sla_override == {"first_response": "15m", "warn_before": "5m"}
    assert Routing.of(d).policy(rules, d.priority) == d.policy  # what the ticket keeps gives the same policy
    plain = decide(rules, mail("x@other.org", "down"))
    assert plain.policy_name == "P1" and plain.policy.first_response == Duration(15, "m")
    assert plain.policy.next_response == rules.sla["P1"].next_response  # other keys stay the priority's


def test_decision_is_frozen():
    d = decide(one_rule("{subject: x}"), mail())
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.team = "other"  # type: ignore[misc]


# ---- inline tests -----------------------------------------------------------------------------


def test_check_tests_reports_line_column_and_values():
    rules = parse_rules(HEAD + dedent("""\
          - name: enterprise
            if: {from_domain: bigcorp.com}
            then: {team: enterprise, tags: [enterprise]}
            continue: true
          - name: outage
            if: {subject: "(?i)down"}
            then: {priority: P1, page: true}
        tests:
          - message: {from: ops@bigcorp.com, subject: Site is down}
            expect: {team: enterprise, priority: P1, page: true, tags: [enterprise], matched: [enterprise, outage]}
          - message: {from: ops@bigcorp.com, subject: Hello}
            expect: {priority: P1, tags: [enterprise, urgent], ack: false, sla: P1}
          - name: headers count
            message: {from: x@y.org, headers: {X-Outage: "yes"}}
            expect: {ignore: true, assign: bob@example.com, survey: false}
        """))
    assert check_tests(rules) == [
        "rules.yaml:24:14: test 2 expected priority P1, got P3",
        "rules.yaml:24:28: test 2 expected tags enterprise, urgent, got enterprise",
        "rules.yaml:24:56: test 2 expected ack false, got ack",
        "rules.yaml:24:68: test 2 expected sla P1, got P3",
        "rules.yaml:27:14: test 3 (headers count) expected ignore true, got false",
        "rules.yaml:27:28: test 3 (headers count) expected assign bob@example.com, got none",
        "rules.yaml:27:53: test 3 (headers count) expected survey false, got true",
    ]


def test_inline_test_messages_carry_headers_attachments_and_addresses():
    rules = parse_rules(HEAD + dedent("""\
          - name: listed
            if: {header: {List-Id: ".+"}, has_attachment: true, to: support@example.com, cc: "*@bigcorp.com"}
            then: {ignore: true}
        tests:
          - message:
              from: a@b.org
              to: support@example.com
              cc: [x@bigcorp.com]
              headers: {List-Id: "<l.b.org>"}
              has_attachment: true
            expect: {ignore: true, sla: {first_response: 1d, calendar: business}}
        """))
    assert check_tests(rules) == []


# ---- explain ----------------------------------------------------------------------------------


def test_explain_lists_rules_reasons_and_due_times():
    rules = rules_with("""\
        - name: enterprise customers
          if: {from_domain: bigcorp.com}
          then: {team: enterprise, tags: [enterprise], notify: [cto@example.com], links: ["https://docs.example.com/"]}
          continue: true
        - name: billing
          if: {subject: "(?i)invoice"}
          then: {priority: P2}
    """)
    now = datetime(2026, 1, 9, 23, 0, tzinfo=UTC)
    message = mail("ops@eu.bigcorp.com", "Invoice wrong", arrived=datetime(2026, 1, 10, 0, 30, tzinfo=UTC))  # Fri 16:30 LA
    result = explain(rules, message, now)
    json.dumps(result)  # JSON-ready
    assert [m["name"] for m in result["matched"]] == ["enterprise customers", "billing"]
    assert result["matched"][0]["reasons"] == ["from_domain bigcorp.com matched ops@eu.bigcorp.com"]
    assert (result["team"], result["priority"], result["tags"]) == ("enterprise", "P2", ["enterprise"])
    assert result["notify"] == ["enterprise@example.com", "cto@example.com"]
    assert result["ack"] == "ack" and result["acknowledge"] is True
    assert result["links"] == [{"title": "https://docs.example.com/", "url": "https://docs.example.com/"}]
    sla = result["sla"]
    assert sla["policy"] == "P2" and sla["calendar"] == "business" and sla["timezone"] == "America/Los_Angeles"
    # 4 working hours from Friday 16:30 in Los Angeles: 30 minutes Friday, 3.5 hours Monday → 12:30 PST.
    assert sla["metrics"]["first_response"] == {"duration": "4h", "due": "2026-01-12T20:30:00Z"}
    assert sla["start"] == "2026-01-10T00:30:00Z" and result["evaluated_at"] == "2026-01-09T23:00:00Z"

    text = format_explain(result)
    assert "enterprise customers" in text and "billing" in text
    assert "from_domain bigcorp.com matched ops@eu.bigcorp.com" in text
    assert "2026-01-12T20:30:00Z" in text


def test_explain_without_a_match_and_ignored_mail():
    rules = one_rule('{header: {List-Id: ".+"}}', "{ignore: true}")
    plain = explain(rules, mail(), ARRIVED)
    assert plain["matched"] == [] and "No rule matched" in format_explain(plain)
    ignored = explain(rules, mail(headers=(("List-Id", "<x>"),)), ARRIVED)
    assert ignored["ignore"] is True and ignored["acknowledge"] is False
    assert "not sent" in format_explain(ignored)


def test_the_routing_a_ticket_keeps_is_stored_as_the_same_json_object_and_read_back_alike():
    rules = parse_rules(dedent("""\
        version: 1
        rules:
        - name: billing
          if: {subject: invoice}
          then: {ack: billing_ack, survey: false, notify: [cfo@example.com], sla: {first_response: 2h},
                 links: [{title: Billing FAQ, url: "https://example.com/faq"}]}
        """))
    kept = Routing.of(decide(rules, mail("a@example.org", "invoice overdue")))
    stored = kept.to_json()
    assert stored == {
        "ack": "billing_ack", "links": [{"title": "Billing FAQ", "url": "https://example.com/faq"}],
        "survey": False, "notify": ["cfo@example.com"], "page": False, "policy_name": "P3",
        "sla_override": {"first_response": "2h"}, "rules": ["billing"],
    }
    assert Routing.from_json(json.loads(json.dumps(stored))) == kept
    assert kept.acknowledges and kept.ack_template == "billing_ack"
    # A ticket that never recorded one (older rows) takes every default, and stays stored as {}.
    empty = Routing.from_json({})
    assert empty.acknowledges and empty.ack_template == "ack" and empty.to_json() == {}
    assert not Routing.from_json({"ack": None}).acknowledges


def test_mailbox_condition_routes_by_the_mailbox_a_mail_was_read_from_and_explain_says_so():
    rules = one_rule("{mailbox: [billing, invoices]}", "{team: billing}")
    read = dataclasses.replace(mail(), mailbox="billing")
    assert decide(rules, read).team == "billing"
    assert decide(rules, dataclasses.replace(mail(), mailbox="support")).team == "general"
    assert decide(rules, mail()).team == "general"  # imported mail was read from no mailbox
    result = explain(rules, read, ARRIVED)
    assert result["mailbox"] == "billing"
    assert result["matched"] == [{"name": "the rule", "reasons": ["read from mailbox billing"]}]
    assert "mailbox:   billing" in format_explain(result)
    assert "not (mailbox billing, invoices)" in str(one_rule("{not: {mailbox: [billing, invoices]}}").rules[0].condition)


def test_inline_tests_can_say_which_mailbox_the_mail_is_read_from():
    rules = parse_rules(HEAD + indent(dedent("""\
        - name: billing mailbox
          if: {mailbox: billing}
          then: {team: billing}
        """), "  ") + dedent("""\
        tests:
          - message: {from: a@example.org, mailbox: billing}
            expect: {team: billing}
          - message: {from: a@example.org}
            expect: {team: billing}
        """), mailboxes=("support", "billing"))
    assert [line.split(": ", 1)[1] for line in check_tests(rules)] == ["test 2 expected team billing, got general"]
