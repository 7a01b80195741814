"""The `#` command block of an engineer's mail: each command, its errors, and the body left."""

from pathlib import Path

import pytest

from mailroom.mail.commands import Command, parse_commands

TEAMS = ("general", "enterprise", "Billing")
REPLIES = Path(__file__).resolve().parents[1] / "data" / "replies"


def one(text: str) -> Command:
    block = parse_commands(text, TEAMS)
    assert block.error is None, block.error
    assert len(block.commands) == 1
    return block.commands[0]


@pytest.mark.parametrize("value", ["open", "pending", "solved", "closed", "SOLVED", "Pending"])
def test_status_values(value):
    command = one(f"#status {value}")
    assert (command.name, command.argument, command.line) == ("status", value.lower(), 1)


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("#status", "#status needs a value: open, pending, solved or closed"),
        ("#status new", "status must be open, pending, solved or closed"),
        ("#status sovled", "status must be open, pending, solved or closed (did you mean solved?)"),
        ("#status solved now", '#status takes one value (open, pending, solved or closed), got "solved now"'),
    ],
)
def test_status_errors(line, why):
    block = parse_commands(line + "\nHello", TEAMS)
    assert block.error == f'line 1: "{line}": {why}'
    assert block.commands == ()


@pytest.mark.parametrize(("value", "expected"), [("P1", "P1"), ("p5", "P5"), ("P3", "P3")])
def test_priority(value, expected):
    assert one(f"#priority {value}").argument == expected


@pytest.mark.parametrize("value", ["P9", "P0", "high", "3", "P"])
def test_priority_errors(value):
    block = parse_commands(f"#priority {value}", TEAMS)
    assert block.error == f'line 1: "#priority {value}": priority must be P1..P5'


@pytest.mark.parametrize(
    "value",
    [
        "Bob@Example.COM",
        "<bob@example.com>",
        "mailto:bob@example.com",
        "bob@example.com <mailto:bob@example.com>",
        "bob@example.com<mailto:bob@example.com>",
    ],
)
def test_assign_takes_an_address_lowercased(value):
    command = one(f"#assign {value}")
    assert (command.name, command.argument) == ("assign", "bob@example.com")


@pytest.mark.parametrize("value", ["bob", "bob@", "bob@localhost", "bob smith@example.com", "@example.com"])
def test_assign_refuses_what_is_not_an_address(value):
    block = parse_commands(f"#assign {value}", TEAMS)
    assert block.error == f'line 1: "#assign {value}": not a valid address: "{value}"'


def test_assign_without_an_address():
    assert parse_commands("#assign", TEAMS).error == 'line 1: "#assign": #assign needs an address'


def test_requester():
    command = one("#requester Jane.Doe@Customer.example.org")
    assert (command.name, command.argument) == ("requester", "jane.doe@customer.example.org")
    assert parse_commands("#requester jane", TEAMS).error == 'line 1: "#requester jane": not a valid address: "jane"'


def test_team_must_be_known_and_takes_its_configured_spelling():
    assert one("#team ENTERPRISE").argument == "enterprise"
    assert one("#team billing").argument == "Billing"
    block = parse_commands("#team enterprize", TEAMS)
    assert block.error == (
        'line 1: "#team enterprize": unknown team "enterprize" (did you mean enterprise?)'
        " (teams: Billing, enterprise, general)"
    )


def test_team_with_no_teams_configured():
    block = parse_commands("#team ops", ())
    assert block.error == 'line 1: "#team ops": unknown team "ops" (teams: none configured)'


def test_tags_one_or_several():
    assert one("#tag printer") == Command("tag", "printer", None, 1)
    block = parse_commands("#tag printer, hardware  printer", TEAMS)
    assert [c.argument for c in block.commands] == ["printer", "hardware"]
    assert parse_commands("#tag", TEAMS).error == 'line 1: "#tag": #tag needs a name'
    assert parse_commands('#tag "x"', TEAMS).error == 'line 1: "#tag "x"": not a usable tag: ""x""'


def test_note_makes_the_mail_internal():
    block = parse_commands("#note\nThe customer is on the old plan.", TEAMS)
    assert block.is_note and not block.is_holding
    assert block.body == "The customer is on the old plan."


def test_note_text_on_its_line_is_kept_in_the_body():
    block = parse_commands("#status solved\n#note customer confirmed by phone\nClosing this one.", TEAMS)
    assert block.is_note
    assert block.commands[1] == Command("note", None, "customer confirmed by phone", 2)
    assert block.body == "customer confirmed by phone\nClosing this one."


def test_holding():
    block = parse_commands("#holding\nWe are looking into it.", TEAMS)
    assert block.is_holding and not block.is_note
    assert block.body == "We are looking into it."
    error = parse_commands("#holding we are on it", TEAMS).error
    assert error == 'line 1: "#holding we are on it": #holding takes no value; put the reply text below the commands'


def test_note_and_holding_contradict():
    block = parse_commands("#note\n#holding\ntext", TEAMS)
    assert block.error == (
        "line 2: #holding marks a reply to the customer, but line 1 makes the mail an internal #note"
    )


def test_page_any_team_with_optional_text():
    assert one("#page oncall-db database is down") == Command("page", "oncall-db", "database is down", 1)
    assert one("#page Enterprise") == Command("page", "enterprise", None, 1)
    assert one("#page sre: disk full") == Command("page", "sre", "disk full", 1)
    assert parse_commands("#page", TEAMS).error == (
        'line 1: "#page": #page needs a team, e.g. #page enterprise database is down'
    )
    assert parse_commands("#page @@@ help", TEAMS).error == 'line 1: "#page @@@ help": not a usable team name: "@@@"'


def test_command_names_are_case_insensitive_and_may_be_indented_or_have_a_colon():
    block = parse_commands("  #STATUS Solved\n\t#Priority: p2\n#TaG Printer\nDone.", TEAMS)
    assert block.error is None
    assert [(c.name, c.argument, c.line) for c in block.commands] == [
        ("status", "solved", 1),
        ("priority", "P2", 2),
        ("tag", "Printer", 3),
    ]
    assert block.body == "Done."


def test_body_has_the_commands_removed_and_leading_blank_lines_trimmed():
    text = "\n\n#priority P2\n#assign bob@example.com\n\n\nHi Bob,\n\n#1 on my list.\n"
    block = parse_commands(text, TEAMS)
    assert block.error is None and block.has_commands and not block.only_commands
    assert block.body == "Hi Bob,\n\n#1 on my list.\n"
    assert [c.line for c in block.commands] == [3, 4]


def test_blank_lines_between_commands_do_not_end_the_block():
    block = parse_commands("#status pending\n\n#tag printer\nHello", TEAMS)
    assert [c.name for c in block.commands] == ["status", "tag"]
    assert block.body == "Hello"


def test_only_the_top_block_counts():
    block = parse_commands("Thanks for waiting.\n#status solved\n#1 customer\n", TEAMS)
    assert block.commands == () and block.error is None
    assert not block.has_commands
    assert block.body == "Thanks for waiting.\n#status solved\n#1 customer\n"


def test_no_commands_at_all():
    block = parse_commands("Hello there", TEAMS)
    assert (block.commands, block.body, block.error) == ((), "Hello there", None)
    assert not block.only_commands
    assert parse_commands("", TEAMS).only_commands


def test_only_commands():
    block = parse_commands("#status solved\n#tag done\n\n", TEAMS)
    assert block.only_commands and block.has_commands and block.body == ""


def test_unknown_command_with_a_suggestion_names_its_line():
    block = parse_commands("#priority P2\n#stauts solved\nHello", TEAMS)
    assert block.error == 'line 2: "#stauts solved": unknown command (did you mean #status?)'
    assert block.commands == ()  # none is applied when any line is invalid
    assert block.body == "Hello"


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("#urgent", "unknown command"),
        ("#1 customer", "unknown command"),
        ("# Summary", "not a command (write it as #name, e.g. #status solved)"),
        ("#", "not a command (write it as #name, e.g. #status solved)"),
        ("#asign bob@example.com", "unknown command (did you mean #assign?)"),
    ],
)
def test_headings_and_hashtags_at_the_top_are_errors(line, why):
    assert parse_commands(f"{line}\nHello", TEAMS).error == f'line 1: "{line}": {why}'


def test_every_bad_line_is_reported():
    block = parse_commands("#priority P9\n#status done\n#tag ok", TEAMS)
    assert block.error == (
        'line 1: "#priority P9": priority must be P1..P5; '
        'line 2: "#status done": status must be open, pending, solved or closed'
    )


def test_contradicting_values_are_an_error_and_repeats_are_not():
    block = parse_commands("#status open\n#status solved", TEAMS)
    assert block.error == "line 2: #status solved contradicts line 1 (#status open)"
    assert parse_commands("#status solved\n#status Solved", TEAMS).error is None
    assert parse_commands("#page a\n#page b\n#note\n#note", TEAMS).error is None


def test_a_long_bad_line_is_shortened_in_the_error():
    line = "#" + "x" * 200
    error = parse_commands(line, TEAMS).error
    assert error is not None and error.startswith('line 1: "#xxx') and '…": unknown command' in error
    assert len(error) < 120


def test_crlf_text():
    block = parse_commands("#status solved\r\nDone.\r\n", TEAMS)
    assert block.error is None and block.body == "Done.\n"


@pytest.mark.parametrize("name", ["commands_gmail", "commands_outlook_signature"])
def test_real_replies(name):
    block = parse_commands((REPLIES / f"{name}.new.txt").read_text(encoding="utf-8"), TEAMS)
    assert block.error is None
    assert block.has_commands and not block.body.lstrip().startswith("#")


@pytest.mark.parametrize("line", ["#merge 123", "#merge #123", "#merge: 0123", "#merge [Support #123]", "#MERGE Ticket #123"])
def test_merge_names_the_ticket_to_merge_into(line):
    assert one(line) == Command("merge", "123", None, 1)


@pytest.mark.parametrize("line", ["#merge", "#merge soon", "#merge 12 13", "#merge 12abc"])
def test_merge_without_one_ticket_number_refuses_the_mail(line):
    block = parse_commands(line + "\nThanks", TEAMS)
    assert block.commands == () and "#merge needs the number" in (block.error or "")


def test_two_different_merges_contradict():
    block = parse_commands("#merge 5\n#merge 6\n", TEAMS)
    assert block.error and "contradicts" in block.error
