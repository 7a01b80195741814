"""The `mailroom` command as a user runs it: help, one-line errors, rules, tickets, quarantine."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT, Mailroom
from .mails import mail


def _run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailroom", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=60)


def test_help_lists_every_command() -> None:
    out = _run("--help").stdout
    for command in ("run", "rules", "tickets", "report", "quarantine", "status", "import"):
        assert command in out


def test_missing_config_is_one_line_naming_the_file(tmp_path: Path) -> None:
    result = _run("--config", str(tmp_path / "missing.toml"), "run", "--once")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "missing.toml" in lines[0]
    # --config is accepted after the command too.
    after = _run("run", "--once", "--config", str(tmp_path / "missing.toml"))
    assert after.returncode != 0 and "missing.toml" in after.stderr


def test_bad_port_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "mailroom.toml"
    config.write_text(
        '[mailbox]\nhost = "127.0.0.1"\nport = "abc"\nusername = "support"\npassword_env = "X"\n'
        '[smtp]\nhost = "127.0.0.1"\n[support]\naddress = "support@example.com"\n'
    )
    result = _run("--config", str(config), "run", "--once")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == ['mailroom: mailbox.port: expected an integer, got "abc"']


def test_rules_check_passes_on_the_shipped_file_and_names_lines_on_a_broken_one(tmp_path: Path) -> None:
    ok = _run("rules", "check", "rules.yaml")
    assert ok.returncode == 0, ok.stderr
    broken = tmp_path / "rules.yaml"
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    text = (ROOT / "rules.yaml").read_text()
    text = text.replace("if: {from_domain:", "if: {from_domian:", 1).replace("priority: P1\n", "priority: P9\n", 1)
    broken.write_text(text)
    bad = _run("rules", "check", str(broken))
    assert bad.returncode == 1
    errors = bad.stderr.strip().splitlines()
    assert len(errors) >= 2
    assert all(line.startswith("rules.yaml:") for line in errors)
    assert any("from_domian" in line and "did you mean" in line for line in errors)
    assert any("P9" in line for line in errors)


def test_rules_check_refuses_a_template_with_an_undefined_variable(tmp_path: Path) -> None:
    shutil.copy(ROOT / "rules.yaml", tmp_path / "rules.yaml")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    ack = next((tmp_path / "templates").glob("ack.txt*"))
    ack.write_text(ack.read_text() + "\n{{ no_such_variable }}\n")
    result = _run("rules", "check", str(tmp_path / "rules.yaml"))
    assert result.returncode == 1
    assert "no_such_variable" in result.stderr


def test_rules_explain_names_the_matching_rules() -> None:
    text = _run("rules", "explain", "tests/data/sample.eml")
    assert text.returncode == 0, text.stderr
    assert "enterprise customers" in text.stdout and "outages are P1" in text.stdout
    data = json.loads(_run("rules", "explain", "tests/data/sample.eml", "--json").stdout)
    assert data["priority"] == "P1" and data["team"] == "enterprise"


def test_tickets_and_quarantine_commands(mailroom: Mailroom) -> None:
    mailroom.dovecot.append("support", mail(subject="Where is my invoice?"))
    mailroom.dovecot.append("support", b"\r\n")  # nothing usable at all: quarantined
    assert mailroom.run_once() == 0
    [ticket] = mailroom.tickets()
    shown = json.loads(mailroom.cli("tickets", "show", str(ticket["id"]), "--json").stdout)
    assert shown["id"] == ticket["id"] and shown["messages"][0]["direction"] == "inbound"
    assert {"id", "subject", "status", "priority", "team", "tags", "requester", "assignee", "created_at",
            "first_response_at", "sla", "messages", "events"} <= set(shown)
    [line] = mailroom.cli("tickets", "list").stdout.splitlines()
    assert re.fullmatch(rf"#{ticket['id']} +new +P\d  \w+ +{re.escape(ticket['created_at'])}  "
                        rf"{re.escape(ticket['requester'])} +Where is my invoice\?", line), line
    assert mailroom.cli("tickets", "list", "--status", "new").stdout.splitlines() == [line]
    assert mailroom.cli("tickets", "list", "--status", "open").stdout == ""
    assert json.loads(mailroom.cli("tickets", "list", "--status", "closed", "--json").stdout) == []

    held = json.loads(mailroom.cli("quarantine", "list", "--json").stdout)
    assert len(held) == 1 and held[0]["reason"]
    mailroom.cli("quarantine", "replay", str(held[0]["uid"]))
    assert mailroom.dovecot.count("support", "INBOX") == 1
    assert mailroom.run_once() == 0
    assert mailroom.dovecot.count("support", "Quarantine") == 1
    assert len(mailroom.tickets()) == 1


def test_run_once_exits_1_naming_the_server_it_cannot_reach(mailroom: Mailroom) -> None:
    mailroom.dovecot.stop()
    result = mailroom.cli("run", "--once", check=False)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("mailroom: IMAP 127.0.0.1:") and str(mailroom.dovecot.port) in last


def test_rules_name_mailboxes_of_the_config_and_explain_reads_a_mail_as_from_one(tmp_path: Path) -> None:
    config = tmp_path / "mailroom.toml"
    config.write_text(
        '[mailbox]\nhost = "127.0.0.1"\nusername = "support"\npassword_env = "X"\n'
        '[smtp]\nhost = "127.0.0.1"\n[support]\naddress = "support@example.com"\n'
    )
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    rules = (
        "version: 1\nteams: {general: {}, billing: {}}\ndefaults: {team: general, priority: P3}\nrules:\n"
        "  - name: read from the support mailbox\n    if: {mailbox: support}\n    then: {tags: [front-desk]}\n"
    )
    (tmp_path / "rules.yaml").write_text(rules + "  - name: billing\n    if: {mailbox: billing}\n    then: {team: billing}\n")
    bad = _run("--config", str(config), "rules", "check")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "rules.yaml:9:19: mailbox: 'billing' is not a mailbox of mailroom.toml (support)"
    ]

    (tmp_path / "rules.yaml").write_text(rules)
    assert _run("--config", str(config), "rules", "check").returncode == 0
    shown = _run("--config", str(config), "rules", "explain", "tests/data/sample.eml", "--mailbox", "support")
    assert shown.returncode == 0, shown.stderr
    assert "read from mailbox support" in shown.stdout and "mailbox:   support" in shown.stdout
    data = json.loads(_run("--config", str(config), "rules", "explain", "tests/data/sample.eml", "--json").stdout)
    assert data["mailbox"] is None and data["tags"] == []
    wrong = _run("--config", str(config), "rules", "explain", "tests/data/sample.eml", "--mailbox", "billing")
    assert wrong.returncode == 1
    assert wrong.stderr.strip() == "mailroom: --mailbox: 'billing' is not a mailbox of mailroom.toml (support)"


def test_tickets_say_where_they_came_in_and_the_report_cuts_by_mailbox(mailroom: Mailroom, tmp_path: Path) -> None:
    mailroom.dovecot.append("support", mail(subject="Refund for order 1182"))
    assert mailroom.run_once() == 0
    [listed] = mailroom.tickets()
    contract = ["id", "subject", "status", "priority", "team", "tags", "requester", "assignee", "created_at",
                "first_response_at", "sla", "messages", "events"]
    keys = list(listed)
    # Added after every key of the contract, which keep their order.
    assert [k for k in keys if k in contract] == contract and keys[-2:] == ["mailbox", "address"]
    assert (listed["mailbox"], listed["address"]) == ("support", "support@example.com")
    shown = json.loads(mailroom.cli("tickets", "show", str(listed["id"]), "--json").stdout)
    assert (shown["mailbox"], shown["address"]) == ("support", "support@example.com")
    assert "came in on mailbox support, written to support@example.com" in mailroom.cli("tickets", "show", str(listed["id"])).stdout
    [found] = json.loads(mailroom.cli("tickets", "search", "refund", "--json").stdout)
    assert (found["mailbox"], found["address"]) == ("support", "support@example.com")

    assert json.loads(mailroom.cli("report", "--mailbox", "support", "--json").stdout)["tickets"] == 1
    assert json.loads(mailroom.cli("report", "--mailbox", "billing", "--json").stdout)["tickets"] == 0
    assert "mailbox billing;" in mailroom.cli("report", "--mailbox", "billing").stdout
    page = tmp_path / "report.html"
    mailroom.cli("report", "--mailbox", "billing", "--html", str(page))
    assert "mailbox billing." in page.read_text()
