"""`python -m mailroom.demo`: mailroom end to end on a local sandbox, from a customer's question to the report."""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import yaml

from mailroom.demo.cast import (
    ANSWER,
    CUSTOMER,
    DEFAULT_FOLDER,
    ENGINEER,
    ENTERPRISE,
    OUTAGE,
    OUTAGE_ANSWER,
    QUESTION,
    SAMPLE_RULES,
    SHORT_SLA_MINUTES,
    STEP_TIMEOUT,
    TEMPLATES,
    DemoError,
    Failed,
)
from mailroom.demo.clients import (
    addresses,
    due_lines,
    first_lines,
    new_mail,
    reply,
    survey_choice,
    ticket_of,
)
from mailroom.demo.output import Progress
from mailroom.demo.sandbox import SUPPORT, Sandbox, SandboxError, html_of, text_of
from mailroom.demo.stage import Mailroom, config_text, demo_rules, prepare_folder, team_addresses

# --- the story ---------------------------------------------------------------------------------


@dataclass
class Story:
    """Everything the steps share, and what they learn on the way."""

    folder: Path
    sandbox: Sandbox
    clock_file: Path
    timeout: float
    source_rules: dict[str, Any]
    mailroom: Mailroom | None = None
    question_id: str = "?"
    ticket_id: int | str = "?"
    notification: EmailMessage | None = None
    good: str = "?"
    mailto: dict[str, str] = field(default_factory=dict)
    outage_id: int | str = "?"
    page_alias: str = "mailroom-ticket-<id>-page"
    breach_alias: str = "mailroom-ticket-<id>-first_response"
    offset: int = 0  # seconds mailroom's clock (and the sandbox's) is ahead of the real time

    @property
    def daemon(self) -> Mailroom:
        """The daemon, once started."""
        if self.mailroom is None:
            raise DemoError("the daemon was not started")
        return self.mailroom

    def alive(self) -> None:
        """Fail a wait at once when the daemon died."""
        if self.mailroom is not None:
            self.mailroom.check_alive()

    def mail_to(self, user: str, match: Any) -> EmailMessage:
        """Wait for a matching mail in a sandbox mailbox; on timeout, say what is there."""
        try:
            return self.sandbox.wait_for_mail(user, match, self.timeout, self.alive)
        except SandboxError as exc:
            subjects = [str(m.get("Subject", "")) for m in self.sandbox.mailbox(user)]
            there = "\n".join(f"  - {s}" for s in subjects) or "  (none)"
            raise DemoError(f"{exc}; {user}'s INBOX holds:\n{there}") from exc

    def alert(self, kind: str, alias: Any) -> Any:
        """Wait for an accepted create or close request at the OpsGenie stand-in."""
        return self.sandbox.wait_for_alert(kind, alias, self.timeout, self.alive)

    def now(self) -> datetime:
        """The story's time: the real time plus how far the clock was moved."""
        return datetime.now(UTC) + timedelta(seconds=self.offset)

    def move_clock(self, seconds: int) -> None:
        """Move mailroom's time forward: written whole, so the daemon never reads half a file."""
        scratch = self.clock_file.with_suffix(".new")
        scratch.write_text(f"+{seconds}\n")
        os.replace(scratch, self.clock_file)
        self.offset = seconds


def start_sandbox(story: Story) -> list[str]:
    """Dovecot, SMTP and OpsGenie on free loopback ports; then the demo's configuration for them."""
    sandbox = story.sandbox.start()
    assert sandbox.dovecot is not None and sandbox.smtp is not None and sandbox.opsgenie is not None
    folder = story.folder
    (folder / "mailroom.toml").write_text(config_text(sandbox))
    (folder / "rules.yaml").write_text(demo_rules(story.source_rules))
    shutil.copytree(TEMPLATES, folder / "templates")
    story.move_clock(0)
    return [
        f"Dovecot (IMAP) 127.0.0.1:{sandbox.dovecot.port}: mailboxes support, customer, engineer",
        f"SMTP 127.0.0.1:{sandbox.smtp.port}: delivers into those mailboxes",
        f"OpsGenie stand-in {sandbox.opsgenie.url}",
    ]


def start_daemon(story: Story) -> list[str]:
    """`mailroom run` as a process, ready once it has logged in to the support mailbox."""
    sandbox = story.sandbox
    assert sandbox.dovecot is not None and sandbox.opsgenie is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROOM_")}
    env.update(
        MAILROOM_IMAP_PASSWORD=sandbox.dovecot.PASSWORD,
        OPSGENIE_API_KEY=sandbox.opsgenie_key,
        MAILROOM_CLOCK_FILE=str(story.clock_file),
    )
    config = story.folder / "mailroom.toml"
    story.mailroom = Mailroom(config, env, story.folder / "mailroom.log")
    story.mailroom.start()
    dovecot_log = sandbox.dovecot.log_path
    wait_until(lambda: "Login: user=<support>" in _read(dovecot_log), story.timeout, story.alive,
               "the daemon did not log in to Dovecot")
    assert story.mailroom.proc is not None
    return [f"pid {story.mailroom.proc.pid}: mailroom --config {config} run (IMAP IDLE)"]


def send_question(story: Story) -> list[str]:
    """A customer writes to support@example.com."""
    question = new_mail(CUSTOMER, SUPPORT, "How do I export a report to CSV?", QUESTION, story.now())
    story.sandbox.send(question)
    story.question_id = str(question["Message-ID"])
    return [f"From {question['From']}: \"{question['Subject']}\""]


def see_acknowledgement(story: Story) -> list[str]:
    """The acknowledgement answers the question, with the ticket tag and the promised due time."""
    ack = story.mail_to("customer", lambda m: str(m.get("In-Reply-To", "")).strip() == story.question_id)
    ticket_id = ticket_of(ack)
    if ticket_id is None:
        raise DemoError(f"the acknowledgement's subject carries no ticket tag: {ack['Subject']!r}")
    story.ticket_id = ticket_id
    return [f"Subject: {ack['Subject']}", *due_lines(text_of(ack))]


def see_notification(story: Story) -> list[str]:
    """The team hears of the new ticket, with Reply-To support so that "Reply" answers the customer."""
    story.notification = story.mail_to(
        "engineer", lambda m: ticket_of(m) == story.ticket_id and SUPPORT in addresses(m, "Reply-To"))
    return [f"To {', '.join(addresses(story.notification, 'To'))}: {story.notification['Subject']}"]


def relay_answer(story: Story) -> list[str]:
    """The engineer replies to the notification; the customer gets the new text only."""
    assert story.notification is not None
    answer = reply(story.notification, ENGINEER, "#status solved\n\n" + ANSWER, story.now())
    story.sandbox.send(answer, [SUPPORT])
    relay = story.mail_to("customer", lambda m: "Export > CSV" in text_of(m))
    text = text_of(relay)
    quoted = "wrote:" in text or any(line in text for line in first_lines(text_of(story.notification), 2))
    if "#status" in text or quoted:
        raise DemoError(f"the relay carries the command or the quoted notification:\n{text}")
    return [
        f"Engineer: {answer['Subject']} (first line: #status solved, the notification quoted below)",
        f"Customer got: {relay['Subject']}",
        *("| " + line for line in first_lines(text, 3)),
    ]


def see_survey(story: Story) -> list[str]:
    """The solved ticket's survey, with one answer address per rating."""
    survey = story.mail_to("customer", lambda m: "+csat-" in text_of(m) + html_of(m))
    story.good, story.mailto = survey_choice(survey, "Good")
    return [f"Subject: {survey['Subject']}", f"Good: {story.good}"]


def rate_good(story: Story) -> list[str]:
    """The customer clicks Good: their mail client sends the mail its mailto link fills in."""
    click = new_mail(CUSTOMER, story.good, story.mailto.get("subject", ""), story.mailto.get("body", ""),
                     story.now())
    story.sandbox.send(click, [story.good])
    ticket_id = int(story.ticket_id)
    found = wait_until(lambda: _rating(story.daemon, ticket_id), story.timeout, story.alive,
                       f"no rating message on ticket #{ticket_id}")
    return [f"Sent to {story.good}; ticket #{ticket_id} records {found}"]


def page_outage(story: Story) -> list[str]:
    """An enterprise customer's outage: the rules make it P1 and page at once."""
    outage = new_mail(ENTERPRISE, SUPPORT, "Site is down", OUTAGE, story.now())
    story.sandbox.send(outage)
    page = story.alert("create", lambda a: re.fullmatch(r"mailroom-ticket-\d+-page", a) is not None)
    story.page_alias = page.alias
    story.outage_id = int(re.findall(r"\d+", page.alias)[0])
    story.breach_alias = f"mailroom-ticket-{story.outage_id}-first_response"
    return [
        f"From {outage['From']}: \"{outage['Subject']}\" became ticket #{story.outage_id}",
        f"alias {page.alias}, priority {page.json.get('priority')}: {page.json.get('message')}",
    ]


def breach_sla(story: Story) -> list[str]:
    """Time moves past the shortened first response: the breach pages OpsGenie."""
    story.move_clock((SHORT_SLA_MINUTES + 1) * 60)
    breach = story.alert("create", lambda a: a == story.breach_alias)
    return [
        f"clock moved {SHORT_SLA_MINUTES + 1} minutes forward (MAILROOM_CLOCK_FILE)",
        f"alias {breach.alias}, priority {breach.json.get('priority')}: {breach.json.get('message')}",
    ]


def close_alerts(story: Story) -> list[str]:
    """A substantive answer that solves the ticket closes the breach alert and the page."""
    notification = story.mail_to(
        "engineer", lambda m: ticket_of(m) == story.outage_id and SUPPORT in addresses(m, "Reply-To"))
    fix = reply(notification, ENGINEER, "#status solved\n\n" + OUTAGE_ANSWER, story.now())
    story.sandbox.send(fix, [SUPPORT])
    details = [f"Engineer: {fix['Subject']} ({len(OUTAGE_ANSWER.split())} words, #status solved)"]
    for alias in (story.breach_alias, story.page_alias):
        story.alert("close", lambda a, alias=alias: a == alias)
        details.append(f"closed {alias}")
    return details


def print_report(story: Story) -> list[str]:
    """`mailroom report`: SLA achievement and satisfaction."""
    return story.daemon.cli("report").rstrip().splitlines()


@dataclass(frozen=True)
class Step:
    """One step of the story: its title, what it waits for, and what does it."""

    title: str
    expected: str  # formatted with the story's fields
    run: Callable[[Story], list[str]]


STEPS = (
    Step("Sandbox started on loopback", "Dovecot, an SMTP server and the OpsGenie stand-in on 127.0.0.1",
         start_sandbox),
    Step("mailroom daemon started", "the daemon running and logged in to the support mailbox", start_daemon),
    Step("Customer's question sent to support", "the SMTP server to accept the question", send_question),
    Step("Acknowledgement reached the customer", "a mail in the customer's INBOX answering {question_id}",
         see_acknowledgement),
    Step("Team notification reached the engineer",
         "a mail tagged [Support #{ticket_id}] with Reply-To support in the engineer's INBOX", see_notification),
    Step("Engineer's reply relayed to the customer",
         "the engineer's new text alone (no quote, no command) in the customer's INBOX", relay_answer),
    Step("Survey reached the customer", "a mail with support+csat-… answer addresses in the customer's INBOX",
         see_survey),
    Step("Customer rated the answer Good", "a message of kind rating on ticket #{ticket_id} (tickets show --json)",
         rate_good),
    Step("Enterprise outage paged OpsGenie at once",
         "an accepted create request for mailroom-ticket-<id>-page at the OpsGenie stand-in", page_outage),
    Step("SLA breach alert reached OpsGenie", "an accepted create request for {breach_alias}", breach_sla),
    Step("Engineer answered the outage: alerts closed",
         "accepted close requests for {breach_alias} and {page_alias}", close_alerts),
    Step("Report", "`mailroom report` to print the SLA and satisfaction report", print_report),
)


def play(story: Story, progress: Progress, steps: tuple[Step, ...] = STEPS) -> None:
    """The story, step by step; Failed at the first step that does not happen."""
    for step in steps:
        expected = step.expected.format_map(vars(story))
        with progress.step(step.title, expected) as details:
            details += step.run(story)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _rating(mailroom: Mailroom, ticket_id: int) -> str | None:
    """What the ticket records of the customer's rating, or None yet."""
    ticket = json.loads(mailroom.cli("tickets", "show", str(ticket_id), "--json"))
    for message in ticket.get("messages", []):
        if message.get("kind") == "rating":
            return f"a rating message from {message.get('from')}"
    return None


def wait_until(check: Any, timeout: float, alive: Any, failure: str) -> Any:
    """Poll `check` until it returns something truthy; DemoError(failure) after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        alive()
        if time.monotonic() > deadline:
            raise DemoError(f"{failure} after {timeout:.0f} s")
        time.sleep(0.2)


# --- the command -------------------------------------------------------------------------------


def _stop_on_sigterm() -> None:
    """SIGTERM ends the demo like Ctrl-C: through the clean-up, never leaving servers behind."""

    def handler(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None, steps: tuple[Step, ...] = STEPS) -> int:
    """Run the demo; 0 when every step happened, 1 at the first that did not."""
    parser = argparse.ArgumentParser(prog="python -m mailroom.demo", description=__doc__)
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER,
                        help=f"where the demo writes its configuration, database, logs and mail (default {DEFAULT_FOLDER})")
    parser.add_argument("--timeout", type=float, default=STEP_TIMEOUT, help="seconds each step may take (default 20)")
    args = parser.parse_args(argv)
    folder: Path = args.folder.resolve()
    started = time.monotonic()
    progress = Progress(len(steps), folder / "mailroom.log")
    try:
        prepare_folder(folder)
        source_rules = yaml.safe_load(SAMPLE_RULES.read_text())
    except (DemoError, OSError, yaml.YAMLError) as exc:
        progress.say(f"demo: {exc}")
        return 1
    _stop_on_sigterm()
    progress.say(f"mailroom demo: a support mailbox end to end on a local sandbox (folder {folder})")
    sandbox = Sandbox(folder, team_addresses(source_rules), secrets.token_hex(16))
    story = Story(folder, sandbox, folder / "clock", args.timeout, source_rules)
    sandbox.now = story.now
    code = 1
    try:
        play(story, progress, steps)
        code = 0
    except Failed as exc:
        progress.say(f"The demo failed at: {exc}")
    except KeyboardInterrupt:
        progress.say("The demo was interrupted.")
        code = 130
    finally:
        # A second Ctrl-C or SIGTERM must not cut the clean-up short and leave servers behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if story.mailroom is not None:
            status = story.mailroom.stop()
            if code == 0 and status not in (0, None):
                progress.say(f"The daemon exited with status {status} on SIGTERM; see {folder / 'mailroom.log'}")
                code = 1
        sandbox.stop()
    where = os.path.relpath(folder) if folder.is_relative_to(Path.cwd()) else str(folder)
    progress.say("")
    progress.say(f"{'Done' if code == 0 else 'Stopped'} in {time.monotonic() - started:.1f} s; every server is stopped.")
    progress.say(f"Everything the demo made is in {where}/ (replaced by the next run):")
    progress.say("  mailroom.toml, rules.yaml, templates/  the configuration")
    progress.say("  data/mailroom.db                       the tickets")
    progress.say("  mailroom.log                           the daemon's log")
    if (folder / "dovecot" / "mail").is_dir():
        progress.say("  dovecot/mail/<user>/Maildir/           every mail (support, customer, engineer)")
    progress.say(f"Look at the tickets: ./run.sh --config {where}/mailroom.toml tickets list")
    return code


if __name__ == "__main__":
    sys.exit(main())

