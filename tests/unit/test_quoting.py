"""new_text: quoted history and signatures stripped from replies in the clients' real formats."""

from pathlib import Path

import pytest

from mailroom.mail.quoting import new_text

REPLIES = Path(__file__).parent.parent / "data" / "replies"
CASES = sorted(p.name[: -len(".txt")] for p in REPLIES.glob("*.txt") if not p.name.endswith(".new.txt"))


def test_the_fixtures_cover_every_client_format():
    wanted = {"gmail", "outlook_original_message", "outlook_underscore", "apple_mail", "german_gmail"}
    wanted |= {"french_gmail", "signature_dashdash", "signature_iphone_only", "commands_gmail"}
    assert wanted <= set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_reply_is_stripped_to_exactly_its_new_text(name):
    text = (REPLIES / f"{name}.txt").read_text(encoding="utf-8")
    expected = (REPLIES / f"{name}.new.txt").read_text(encoding="utf-8").rstrip("\n")
    assert new_text(text) == expected


@pytest.mark.parametrize("name", ["gmail", "outlook_underscore", "commands_gmail"])
def test_crlf_line_endings_give_the_same_new_text(name):
    text = (REPLIES / f"{name}.txt").read_text(encoding="utf-8")
    expected = (REPLIES / f"{name}.new.txt").read_text(encoding="utf-8").rstrip("\n")
    assert new_text(text.replace("\n", "\r\n")) == expected


def test_top_posted_command_lines_are_kept_above_any_history():
    text = "#priority P2\n#assign bob@example.com\n\nOn Tue, 1 Dec 2026 at 10:00, Bob <b@x.org> wrote:\n> help\n"
    assert new_text(text) == "#priority P2\n#assign bob@example.com"


def test_a_command_only_reply_keeps_its_command():
    assert new_text("#status solved\n\n-- \nJane\n") == "#status solved"


def test_prose_mentioning_wrote_is_not_history():
    text = "On reflection, the vendor wrote:\nthe patch is safe.\n\nThanks"
    assert new_text(text) == text


def test_from_line_in_prose_is_not_an_outlook_header_block():
    text = "From: the log file\nThe error is a timeout.\n"
    assert new_text(text) == text.rstrip("\n")


def test_text_without_new_content_is_empty():
    assert new_text("> only a quote\n> nothing new\n") == ""
    assert new_text("") == ""


def test_interleaved_answers_below_a_quote_are_kept():
    text = "> Which version?\n4.2\n> Which OS?\nDebian 12\n"
    assert new_text(text) == text.rstrip("\n")


def test_many_attribution_lookalikes_stay_linear():
    text = ("On " + "x" * 80 + "\n") * 20_000
    assert new_text(text) == text.rstrip("\n")


def test_a_greeting_above_the_attribution_is_the_answer():
    text = "Hi,\nOn Tue, 1 Dec 2026 at 10:00, Bob <bob@customer.org> wrote:\n> Which port?\n\nPort 8443.\n"
    assert new_text(text) == "Hi,\n> Which port?\n\nPort 8443."


def test_a_quoted_line_wrapped_without_its_marker_stays_quoted():
    text = ("Fixed in 4.2.\n\nOn Mon, 30 Nov 2026, Bob <bob@customer.org> wrote:\n"
            "> The export stops after the first page and the log says nothing at all about\n"
            "it, nor about the rest\n>\n> Bob\n")
    assert new_text(text) == "Fixed in 4.2."


def test_an_answer_below_a_long_quoted_question_is_kept():
    text = ("> Which version of the agent do you run on the production servers at the moment?\n"
            "4.2 on all of them\n> And the OS?\nDebian 12\n")
    assert new_text(text) == text.rstrip("\n")


@pytest.mark.parametrize("attribution", [
    "---- On Wed, 24 Feb 2021 14:02:50 +0530 bob@customer.org wrote ----",  # Zoho
    "30.09.2017, 18.30, \"Bob - Customer\" <bob@customer.org>:",  # no verb: a date and a sender
    "On Wed, 14 Nov 2018 08:14:43 -0200 Bob <bob@customer.org> wrote",  # no colon
])
def test_attributions_over_unquoted_history_end_the_answer(attribution):
    assert new_text(f"Restarted, try now.\n\n{attribution}\n\nIt is down again.\n") == "Restarted, try now."


def test_a_phone_signature_ends_the_answer_above_unquoted_history():
    text = "Restarted, try now.\n\nGesendet von Outlook für Android<https://aka.ms/AAb9ysg>\n\nIt is down again.\n"
    assert new_text(text) == "Restarted, try now."


def test_a_sentence_that_starts_like_a_phone_signature_is_kept():
    text = "Restarted, try now.\n\nSent from my desk, where the logs are easier to read.\n"
    assert new_text(text) == text.rstrip("\n")


@pytest.mark.parametrize("delimiter", ["—", "—————", "__"])
def test_em_dash_rules_and_list_footers_end_the_answer(delimiter):
    text = f"Restarted, try now.\n\n{delimiter}\nJane Doe\nSupport\n"
    assert new_text(text) == "Restarted, try now."


def test_a_header_block_takes_the_separators_above_it():
    text = ("Restarted, try now.\n\n====\n\nMessage du : 12/12/2016 13:20\nDe : Bob <bob@customer.org>\n"
            "A : support@example.com\nSujet : Panne\n\nIt is down again.\n")
    assert new_text(text) == "Restarted, try now."


def test_a_phone_signature_of_two_sentences_is_removed():
    text = "Restarted, try now.\n\nSent from my Android device with K-9 Mail. Please excuse my brevity.\n"
    assert new_text(text) == "Restarted, try now."


def test_a_short_paragraph_starting_like_a_signature_but_naming_no_device_keeps_what_follows():
    text = "The label is printed.\n\nSent via DHL\n\nThe parcel leaves today.\n"
    assert new_text(text) == text.rstrip("\n")
