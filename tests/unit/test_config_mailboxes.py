"""Several mailboxes in mailroom.toml: [[mailbox]] tables, their names and addresses, one-line errors naming the entry."""

from pathlib import Path

import pytest

from tests.unit.test_config import MINIMAL, error, load

SMTP_SUPPORT = """
[smtp]
host = "smtp.example.com"

[support]
address = "support@example.com"
addresses = ["help@example.com"]
"""

TWO = """
[[mailbox]]
name = "support"
host = "imap.example.com"
username = "support@example.com"
password_env = "SUPPORT_PW"
addresses = ["support@example.com", "help@example.com"]

[[mailbox]]
name = "billing"
host = "imap.example.com"
username = "billing@example.com"
password_env = "BILLING_PW"
addresses = ["Billing@Example.com"]
poll_interval = "2m"
idle = false
""" + SMTP_SUPPORT

ENV = {"SUPPORT_PW": "s", "BILLING_PW": "b"}


def test_a_single_mailbox_table_works_as_before_named_support(tmp_path: Path) -> None:
    settings = load(tmp_path, MINIMAL, {"IMAP_PW": "x"})
    assert settings.mailbox_names == ("support",)
    assert settings.all_mailboxes == (settings.mailbox,)
    assert settings.mailbox.ledger == "support@mail.example.com/INBOX"
    assert settings.connection_of(settings.mailbox) == "imap"


def test_every_mailbox_is_read_with_its_own_sign_in_folders_and_timing(tmp_path: Path) -> None:
    settings = load(tmp_path, TWO, ENV)
    support, billing = settings.all_mailboxes
    assert settings.mailbox is support and settings.mailbox_names == ("support", "billing")
    assert billing.password is not None and billing.password.reveal() == "b"
    assert (billing.idle, billing.poll_interval.total_seconds(), support.idle) == (False, 120, True)
    assert billing.addresses == ("billing@example.com",)
    assert settings.mailbox_named("billing") is billing and settings.mailbox_named("sales") is None
    assert [settings.connection_of(box) for box in (support, billing)] == ["imap:support", "imap:billing"]
    # Every mailbox's addresses are ours, beside [support] addresses, each once.
    assert settings.support.all_addresses == ("support@example.com", "help@example.com", "billing@example.com")
    assert settings.first_address_of("billing") == "billing@example.com"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('name = "billing"\n', ""), "mailbox[1].name: required"),
        (('name = "billing"', 'name = "support"'), 'mailbox[1].name: "support" is already the name of another mailbox'),
        (('name = "billing"', 'name = "Billing Team"'), "mailbox[1].name: expected a short name"),
        (('username = "billing@example.com"', 'username = "support@example.com"'),
         'mailbox[1].folder: "INBOX" of support@example.com at imap.example.com is already read by mailbox "support"'),
        (('idle = false', 'idel = false'), 'mailbox[1].idel: unknown key (did you mean "idle"?)'),
        (('password_env = "BILLING_PW"', ""), "mailbox[1].password: required"),
        (('addresses = ["Billing@Example.com"]', 'addresses = ["billing"]'), "mailbox[1].addresses: expected email addresses"),
    ],
)
def test_a_bad_mailbox_entry_is_one_line_naming_it(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    old, new = change
    head, sep, tail = TWO.partition("[[mailbox]]\nname = \"billing\"")
    text = head + (sep + tail).replace(old, new, 1)
    assert error(tmp_path, text, ENV).startswith(expected)


def test_an_empty_or_strange_mailbox_array_is_refused(tmp_path: Path) -> None:
    assert error(tmp_path, "mailbox = []\n" + SMTP_SUPPORT).startswith("mailbox: expected at least one [[mailbox]] table")
    assert error(tmp_path, 'mailbox = ["imap.example.com"]\n' + SMTP_SUPPORT).startswith("mailbox[0]: expected a table")
