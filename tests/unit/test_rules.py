"""rules.yaml loading: every kind of error with its line and column, all at once; the typed model."""

from datetime import date, timedelta
from pathlib import Path
from textwrap import dedent, indent

import pytest

from mailroom.errors import RulesError
from mailroom.rules.engine import check_tests
from mailroom.rules.routing import Routing
from mailroom.rules.ruleset import Link, load_rules, parse_rules
from mailroom.sla.calendar import Duration
from mailroom.sla.policies import DEFAULT_MIN_WORDS

ROOT = Path(__file__).resolve().parents[2]


def errors(text: str, template_dir: Path | None = None) -> list[str]:
    with pytest.raises(RulesError) as caught:
        parse_rules(dedent(text), "rules.yaml", template_dir)
    return caught.value.errors


def ok(text: str, template_dir: Path | None = None):
    return parse_rules(dedent(text), "rules.yaml", template_dir)


# ---- the shipped example ----------------------------------------------------------------------


def test_shipped_rules_load_and_their_tests_pass():
    rules = load_rules(ROOT / "rules.yaml")
    assert len(rules.rules) >= 8 and len(rules.tests) >= 8
    assert check_tests(rules) == []
    assert set(rules.teams) >= {"general", "enterprise", "security", "billing", "support-mgmt"}
    assert rules.calendars["business"].timezone == "America/Los_Angeles"
    assert date(2026, 11, 26) in rules.calendars["business"].holidays
    assert date(2027, 12, 24) in rules.calendars["business"].holidays
    assert rules.calendars["always"].is_24x7
    assert rules.sla["P1"].escalate and rules.sla["P1"].warn_before == Duration(15, "m")


def test_shipped_rules_name_real_templates_when_a_folder_has_them(tmp_path):
    (tmp_path / "ack.txt.j2").write_text("x")
    load_rules(ROOT / "rules.yaml", tmp_path)


# ---- YAML and shape ---------------------------------------------------------------------------


def test_yaml_syntax_error_has_its_place():
    found = errors("""\
        version: 1
        rules:
          - name: x
            if: {subject: "a"
        """)
    # The wording is libyaml's (or PyYAML's where libyaml is missing); the place is the same.
    assert len(found) == 1 and found[0].startswith("rules.yaml:5:1: YAML syntax error: ")
    assert "flow mapping" in found[0]
    assert errors("version: 1\nrules: x: y\n") == ["rules.yaml:2:9: YAML syntax error: mapping values are not allowed in this context"]


def test_filename_is_the_basename(tmp_path):
    path = tmp_path / "support-rules.yaml"
    path.write_text("version: 3\n")
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    assert caught.value.errors == ["support-rules.yaml:1:10: version: expected 1, got the number 3"]


def test_missing_file_is_a_rules_error(tmp_path):
    with pytest.raises(RulesError) as caught:
        load_rules(tmp_path / "nope.yaml")
    assert caught.value.errors[0].startswith("nope.yaml:1:1: cannot read")


def test_version_must_be_1():
    assert errors("version: 2\n") == ["rules.yaml:1:10: version: expected 1, got the number 2"]
    assert errors("rules: []\n") == ["rules.yaml:1:1: missing 'version: 1'"]


def test_empty_or_non_mapping_file():
    assert errors("") == ["rules.yaml:1:1: expected a mapping of sections starting with 'version: 1', got nothing"]
    assert errors("- a\n") == ["rules.yaml:1:1: expected a mapping of sections starting with 'version: 1', got a list"]


def test_unknown_section_suggests():
    assert errors("version: 1\nrule: []\n") == ["rules.yaml:2:1: unknown section 'rule', did you mean 'rules'?"]


def test_duplicate_key():
    assert errors("version: 1\nrules: []\nrules: []\n") == ["rules.yaml:3:1: duplicate key 'rules'"]


def test_minimal_file_gets_defaults():
    rules = ok("version: 1\n")
    assert rules.defaults.team == "general" and rules.defaults.priority == "P3"
    assert rules.defaults.ack == "ack" and rules.defaults.survey is True
    assert "general" in rules.teams
    assert set(rules.sla) == {"P1", "P2", "P3", "P4", "P5"}
    assert rules.rules == () and rules.tests == ()


# ---- conditions and actions -------------------------------------------------------------------

HEAD = """\
version: 1
teams: {general: {}, billing: {}}
rules:
"""


def with_rules(block: str) -> str:
    """HEAD followed by rules written flush left in the test."""
    return HEAD + indent(dedent(block), "  ")


def test_unknown_condition_suggests_with_place():
    text = HEAD + "  - name: x\n    if: {subjet: \"x\"}\n    then: {tags: [a]}\n"
    assert errors(text) == ["rules.yaml:5:10: unknown condition 'subjet', did you mean 'subject'?"]


def test_unknown_condition_in_block_style():
    text = HEAD + "  - name: x\n    if:\n      from: a@b.com\n      bodyy: x\n    then: {tags: [a]}\n"
    assert errors(text) == ["rules.yaml:7:7: unknown condition 'bodyy', did you mean 'body'?"]


def test_unknown_action_and_rule_key():
    text = HEAD + "  - name: x\n    iff: {subject: a}\n    then: {tema: billing}\n"
    assert errors(text) == [
        "rules.yaml:5:5: unknown rule key 'iff', did you mean 'if'?",
        "rules.yaml:6:12: unknown action 'tema', did you mean 'team'?",
    ]


def test_bad_regular_expressions():
    text = HEAD + '  - name: x\n    if: {subject: "(unclosed", header: {X-Tag: "[a-"}}\n    then: {tags: [a]}\n'
    assert errors(text) == [
        "rules.yaml:5:19: bad regular expression '(unclosed': missing ), unterminated subpattern at position 0",
        "rules.yaml:5:48: bad regular expression '[a-': unterminated character set at position 0",
    ]


def test_wrong_types():
    text = with_rules("""\
          - name: x
            if: {has_attachment: "yes", header: {X-Spam-Flag: YES}, any: []}
            then: {page: 1, tags: {a: b}}
            continue: "no"
        """)
    assert errors(text) == [
        "rules.yaml:5:26: has_attachment: expected true or false, got 'yes'",
        "rules.yaml:5:55: header X-Spam-Flag: expected text, got true (put it in quotes)",
        "rules.yaml:5:66: any: expected a non-empty list of conditions, got an empty list",
        "rules.yaml:6:18: page: expected true or false, got the number 1",
        "rules.yaml:6:27: tags: expected text, got a mapping",
        "rules.yaml:7:15: continue: expected true or false, got 'no'",
    ]


def test_unknown_team_priority_policy():
    text = HEAD + "  - name: x\n    if: {subject: a}\n    then: {team: biling, priority: P7, sla: gold}\n"
    assert errors(text) == [
        "rules.yaml:6:18: unknown team 'biling', did you mean 'billing'?",
        "rules.yaml:6:36: unknown priority 'P7': expected P1, P2, P3, P4 or P5",
        "rules.yaml:6:45: unknown SLA policy 'gold'",
    ]


def test_from_domain_takes_domains_and_addresses_are_checked():
    text = HEAD + '  - name: x\n    if: {from_domain: ["ops@bigcorp.com"]}\n    then: {notify: ["nobody"], assign: "x"}\n'
    assert errors(text) == [
        "rules.yaml:5:24: from_domain: 'ops@bigcorp.com' is an address; give a domain like bigcorp.com",
        "rules.yaml:6:21: notify: 'nobody' is not an email address",
        "rules.yaml:6:40: assign: 'x' is not an email address",
    ]


def test_links_need_http_urls():
    text = HEAD + '  - name: x\n    if: {subject: a}\n    then: {links: ["ftp://x", {title: T}]}\n'
    assert errors(text) == [
        "rules.yaml:6:20: links: 'ftp://x' is not an http(s) URL",
        "rules.yaml:6:31: url: expected text, got nothing",
    ]


def test_links_parse():
    rules = ok(HEAD + '  - name: x\n    then: {links: ["https://a.example/", {title: Guide, url: "https://b.example/"}]}\n')
    assert rules.rules[0].then.links == (Link("https://a.example/", "https://a.example/"), Link("Guide", "https://b.example/"))


def test_rule_after_catch_all_can_never_match():
    text = with_rules("""\
          - name: everything
            then: {tags: [a]}
          - name: later
            if: {subject: x}
            then: {tags: [b]}
        """)
    assert errors(text) == [
        "rules.yaml:6:5: rule 'later' can never match: rule 'everything' on line 4 matches every message and does not continue"
    ]


def test_empty_if_is_a_catch_all_but_continue_keeps_later_rules():
    text = HEAD + "  - name: all\n    if: {}\n    then: {tags: [a]}\n  - name: b\n    then: {tags: [b]}\n"
    assert errors(text)[0].startswith("rules.yaml:7:5: rule 'b' can never match")
    text = HEAD + "  - name: all\n    if: {}\n    then: {tags: [a]}\n    continue: true\n  - name: b\n    then: {tags: [b]}\n"
    assert len(ok(text).rules) == 2


def test_rule_with_bad_condition_is_not_taken_for_a_catch_all():
    text = HEAD + "  - name: a\n    if: {subjet: x}\n    then: {}\n  - name: b\n    then: {}\n"
    assert errors(text) == ["rules.yaml:5:10: unknown condition 'subjet', did you mean 'subject'?"]


def test_duplicate_rule_names_and_missing_then():
    text = HEAD + "  - name: a\n    if: {subject: x}\n  - name: a\n    if: {subject: y}\n    then: {}\n"
    assert errors(text) == [
        "rules.yaml:4:5: rule 'a' needs 'then' (what to do when it matches)",
        "rules.yaml:6:5: rule name 'a' is used twice (first on line 4)",
    ]


# ---- templates --------------------------------------------------------------------------------


def test_ack_template_must_exist(tmp_path):
    (tmp_path / "ack.txt.j2").write_text("x")
    (tmp_path / "security.html.j2").write_text("x")
    (tmp_path / "vip.j2").write_text("x")
    text = with_rules("""\
          - name: a
            if: {subject: a}
            then: {ack: security}
          - name: b
            if: {subject: b}
            then: {ack: vip}
          - name: c
            if: {subject: c}
            then: {ack: securty}
          - name: d
            if: {subject: d}
            then: {ack: false}
        """)
    assert errors(text, tmp_path) == ["rules.yaml:12:17: unknown template 'securty', did you mean 'security'?"]
    assert errors(text.replace("securty", "thanks"), tmp_path) == [
        f"rules.yaml:12:17: unknown template 'thanks' (no thanks.* file in {tmp_path})"
    ]
    assert ok(text).rules[2].then.ack == "securty"  # no template folder: not checked


def test_ack_must_be_a_name_or_false():
    text = HEAD + "  - name: a\n    if: {subject: a}\n    then: {ack: true}\n"
    assert errors(text) == ["rules.yaml:6:17: ack: expected a template name or false, got true"]


# ---- calendars and policies -------------------------------------------------------------------


def test_calendar_errors():
    text = dedent("""\
        version: 1
        calendars:
          business: {timezone: "Mars/Olympus", hours: {mon-fri: "9-5"}}
          weekend: {timezone: UTC, hours: {weekdays: "09:00-17:00", sat: "10:00-12:00,11:00-13:00"}}
          nights: {timezone: UTC, hours: {mon: "18:00-09:00"}, holidays: ["2026-13-01"]}
          nozone: {hours: {mon: "09:00-17:00"}}
          odd: 7x5
        """)
    assert errors(text) == [
        "rules.yaml:3:24: unknown timezone 'Mars/Olympus'",
        'rules.yaml:3:57: bad hours "9-5": expected ranges like "09:00-17:00" or "09:00-12:00,13:00-17:00"',
        "rules.yaml:4:36: bad day 'weekdays': expected names like mon-fri, sat or mon,wed",
        'rules.yaml:4:66: bad hours "10:00-12:00,11:00-13:00": the ranges overlap',
        'rules.yaml:5:40: bad hours "18:00-09:00": 18:00-09:00 ends before it starts',
        "rules.yaml:5:67: bad holiday '2026-13-01': expected a date like 2026-12-25",
        'rules.yaml:6:11: calendar \'nozone\' needs a timezone (e.g. "America/Los_Angeles")',
        "rules.yaml:7:8: calendar 'odd': expected \"24x7\" or a mapping with timezone and hours, got '7x5'",
    ]


def test_calendar_day_keys_and_ranges():
    rules = ok("""\
        version: 1
        calendars:
          shop:
            timezone: Europe/Berlin
            hours: {"mon,wed": "09:00-12:00,13:00-17:00", tue-thu: "10:00-16:00", sat: "10:00-14:00"}
            holidays: [2026-12-24, "2026-12-31"]
        """.replace("tue-thu", "tue").replace('"mon,wed"', '"mon,wed-thu"'))
    shop = rules.calendars["shop"]
    assert shop.week[0] == ((540, 720), (780, 1020))
    assert shop.week[1] == ((600, 960),)
    assert shop.week[3] == ((540, 720), (780, 1020))
    assert shop.week[5] == ((600, 840),) and shop.week[6] == () and shop.week[4] == ()
    assert shop.holidays == {date(2026, 12, 24), date(2026, 12, 31)}


def test_day_given_twice():
    text = 'version: 1\ncalendars:\n  c: {timezone: UTC, hours: {mon-fri: "09:00-17:00", fri: "09:00-12:00"}}\n'
    assert errors(text) == ["rules.yaml:3:54: fri is given hours twice"]


def test_policy_errors():
    text = dedent("""\
        version: 1
        calendars: {business: {timezone: "America/Los_Angeles", hours: {mon-fri: "09:00-17:00"}}}
        sla:
          P1: {first_response: 4 hours, calendar: bussiness, escalate: "yes", min_words: -1}
          gold: {first_respons: 1h, holding_replies: ["(on it"], warn_before: 0m}
        """)
    assert errors(text) == [
        'rules.yaml:4:24: first_response: expected a duration like "90s", "15m", "4h" or "2d", got "4 hours"',
        "rules.yaml:4:43: unknown calendar 'bussiness', did you mean 'business'?",
        "rules.yaml:4:64: escalate: expected true or false, got 'yes'",
        "rules.yaml:4:82: min_words: expected a whole number of words, got the number -1",
        "rules.yaml:5:10: unknown sla key 'first_respons', did you mean 'first_response'?",
        "rules.yaml:5:47: bad regular expression '(on it': missing ), unterminated subpattern at position 0",
        'rules.yaml:5:71: warn_before: expected a duration above zero, got "0m"',
    ]


def test_policies_fill_from_defaults():
    rules = ok("""\
        version: 1
        calendars: {business: {timezone: "America/Los_Angeles", hours: {mon-fri: "09:00-17:00"}}}
        sla:
          P2: {first_response: 2h}
          gold: {first_response: 30m, calendar: always, escalate: true}
        """)
    assert rules.sla["P1"].first_response == Duration(1, "h") and rules.sla["P1"].calendar == "always"
    assert rules.sla["P1"].escalate
    p2 = rules.sla["P2"]
    assert p2.first_response == Duration(2, "h") and p2.next_response is not None and p2.calendar == "business"
    assert rules.sla["P3"].first_response == Duration(1, "d") and rules.sla["P5"].first_response == Duration(5, "d")
    gold = rules.sla["gold"]
    assert gold.first_response == Duration(30, "m") and gold.resolution is None and gold.escalate
    assert gold.min_words == DEFAULT_MIN_WORDS


def test_policies_without_a_business_calendar_count_around_the_clock():
    rules = ok("version: 1\n")
    assert {p.calendar for p in rules.sla.values()} == {"always"}
    assert rules.calendar_for(rules.sla["P3"]).is_24x7


def test_holding_replies():
    rules = ok('version: 1\nsla:\n  P1: {holding_replies: ["(?i)hang tight"], min_words: 5}\n')
    p1, p3 = rules.sla["P1"], rules.sla["P3"]
    assert p1.is_holding("Hang tight, folks!")
    assert not p1.is_holding("We are on it")  # the file's list replaces the built-in one
    assert not p1.is_holding("hang tight, the fix is deploying to all regions now")  # long enough
    for text in ("We are on it!", "Thanks for reaching out.", "We're looking into this.",
                 "We have received your request and will get back to you shortly."):
        assert p3.is_holding(text), text
    assert not p3.is_holding("Restart the worker with --reset and the queue drains.")


def test_a_tickets_routing_gives_its_policy_and_resolve_policy_falls_back():
    rules = ok("""\
        version: 1
        sla:
          gold: {first_response: 30m, escalate: true}
        """)
    routing = Routing.from_json({"policy_name": "gold", "sla_override": {"first_response": "10m"}})
    policy = routing.policy(rules, "P2")
    assert policy.name == "gold" and policy.first_response == Duration(10, "m") and policy.escalate
    # A priority recorded as the policy follows the ticket's current priority.
    assert Routing.from_json({"policy_name": "P3"}).policy(rules, "P1").name == "P1"
    assert Routing.from_json({}).policy(rules, "P4").name == "P4"
    assert rules.resolve_policy("P4").name == "P4"
    assert rules.resolve_policy("P4", "gone-after-reload").name == "P4"


# ---- teams and agents -------------------------------------------------------------------------


def test_teams_and_agents():
    rules = ok("""\
        version: 1
        agents: ["*@example.com", "contractors.example.net"]
        teams:
          general: {notify: ["Support-Team@example.com"]}
          enterprise:
            members: ["dana@partner.example.org"]
            opsgenie_responders: [{type: team, name: Enterprise}]
        defaults: {team: enterprise, priority: P2, ack: false, survey: false}
        """)
    assert rules.teams["general"].notify == ("support-team@example.com",)
    assert rules.teams["enterprise"].opsgenie_responders == ({"type": "team", "name": "Enterprise"},)
    assert rules.defaults.team == "enterprise" and rules.defaults.ack is None and rules.defaults.survey is False
    support = "support@example.com"
    assert rules.is_agent("alice@example.com", support)
    assert rules.is_agent("ALICE@Example.COM", support)
    assert rules.is_agent("Dana@partner.example.org", support)  # a team member
    assert rules.is_agent("x@eu.contractors.example.net", support)  # a domain covers subdomains
    assert not rules.is_agent(support, support)
    assert not rules.is_agent("Support@Example.com", support)
    assert not rules.is_agent("support+42@example.com", support)
    assert not rules.is_agent("alice@example.com.evil.net", support)
    assert not rules.is_agent("", support)


def test_team_errors():
    text = dedent("""\
        version: 1
        teams:
          general: {notify: ["not-an-address"], membres: []}
          ops: {opsgenie_responders: [{type: squad, name: x}, {type: user}]}
        defaults: {team: genral}
        """)
    assert errors(text) == [
        "rules.yaml:3:22: notify: 'not-an-address' is not an email address",
        "rules.yaml:3:41: unknown team key 'membres', did you mean 'members'?",
        "rules.yaml:4:38: opsgenie_responders: type must be one of team, user, escalation, schedule, got 'squad'",
        "rules.yaml:4:55: opsgenie_responders: a responder needs a name, id or username",
        "rules.yaml:5:18: unknown team 'genral', did you mean 'general'?",
    ]


def test_defaults_need_a_team_when_there_is_no_general():
    assert errors("version: 1\nteams: {ops: {}}\n") == [
        "rules.yaml:1:1: defaults: give a team (there is no team 'general')"
    ]


# ---- inline tests -----------------------------------------------------------------------------


def test_inline_test_errors():
    text = HEAD + dedent("""\
          - name: billing
            if: {subject: invoice}
            then: {team: billing}
        tests:
          - message: {from: "a@b.com", subjct: "x"}
            expect: {prio: P1, team: billng, matched: [biling]}
          - expect: {}
        """)
    assert errors(text) == [
        "rules.yaml:8:32: unknown message key 'subjct', did you mean 'subject'?",
        "rules.yaml:9:14: unknown expect key 'prio', did you mean 'priority'?",
        "rules.yaml:9:30: unknown team 'billng', did you mean 'billing'?",
        "rules.yaml:9:47: unknown rule 'biling', did you mean 'billing'?",
        "rules.yaml:10:5: test 2 needs 'message'",
    ]


def test_inline_tests_parse():
    rules = ok(HEAD + dedent("""\
          - name: billing
            if: {subject: invoice}
            then: {team: billing}
        tests:
          - name: invoice
            message:
              from: A@B.com
              to: [support@example.com]
              subject: Invoice
              headers: {X-Thing: [one, two]}
              has_attachment: true
            expect: {team: billing, tags: []}
        """))
    test = rules.tests[0]
    assert test.number == 1 and test.name == "invoice" and (test.line, test.col) == (8, 5)
    assert test.message.from_addr == "a@b.com" and test.message.to == ("support@example.com",)
    assert test.message.headers == (("X-Thing", "one"), ("X-Thing", "two")) and test.message.has_attachment
    assert [(e.key, e.value, e.line, e.col) for e in test.expect] == [("team", "billing", 15, 14), ("tags", (), 15, 29)]


# ---- all at once ------------------------------------------------------------------------------


def test_every_error_is_reported_at_once_in_file_order():
    text = dedent("""\
        version: 1
        calendars:
          business: {timezone: "Nowhere/Town", hours: {mon-fri: "09:00-17:00"}}
        sla:
          P2: {first_response: soon}
        teams: {general: {}}
        rules:
          - name: a
            if: {subject: "(", form: x@y.com}
            then: {team: nobody, priority: P0}
        tests:
          - message: {from: x@y.com}
            expect: {colour: red}
        """)
    found = errors(text)
    assert [line.split(": ", 1)[0] for line in found] == [
        "rules.yaml:3:24", "rules.yaml:5:24", "rules.yaml:9:19", "rules.yaml:9:24",
        "rules.yaml:10:18", "rules.yaml:10:36", "rules.yaml:13:14",
    ]
    assert "did you mean 'from'?" in found[3]


def test_rules_error_message_joins_every_line():
    with pytest.raises(RulesError) as caught:
        parse_rules("version: 2\nrule: []\n")
    assert str(caught.value) == "\n".join(caught.value.errors)
    assert len(caught.value.errors) == 2


def test_durations_keep_their_unit():
    rules = ok('version: 1\nsla:\n  P3: {first_response: "1.5d", resolution: 2w, next_response: 90m}\n')
    p3 = rules.sla["P3"]
    assert p3.first_response == Duration(1.5, "d") and p3.resolution == Duration(2, "w")
    assert rules.calendar_for(p3).duration(p3.next_response) == timedelta(minutes=90)


def test_a_mailbox_condition_must_name_a_mailbox_of_the_config_with_its_place():
    text = dedent("""\
        version: 1
        rules:
          - name: billing
            if: {mailbox: [support, biling]}
            then: {team: general}
        tests:
          - message: {from: a@example.org, mailbox: invoices}
            expect: {team: general}
        """)
    with pytest.raises(RulesError) as caught:
        parse_rules(text, "rules.yaml", mailboxes=("support", "billing"))
    assert caught.value.errors == [
        "rules.yaml:4:29: mailbox: 'biling' is not a mailbox of mailroom.toml (support, billing), did you mean 'billing'?",
        "rules.yaml:7:45: mailbox: 'invoices' is not a mailbox of mailroom.toml (support, billing)",
    ]
    # Without a config (rules check of a lone file) any name is taken.
    assert ok(text).rules[0].name == "billing"
    # An empty list is an error, never a condition that vanishes and lets the rule match every mail.
    for key in ("mailbox", "to_address", "language", "from"):
        assert errors(f"version: 1\nrules:\n  - name: x\n    if: {{{key}: []}}\n    then: {{team: general}}\n") == [
            f"rules.yaml:4:{len(key) + 12}: {key}: an empty list matches nothing; name at least one"
        ]
