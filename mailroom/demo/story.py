"""`python -m mailroom.demo`: mailroom end to end on a local sandbox, from a customer's question to the report."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from mailroom.demo.sandbox import SUPPORT, Sandbox, SandboxError, html_of, text_of

DEFAULT_FOLDER = Path("demo-run")  # in the folder the demo is started from
# What the package ships: the templates and the sample rules the story starts from.
TEMPLATES = Path(__file__).resolve().parents[1] / "compose" / "templates"
SAMPLE_RULES = Path(__file__).resolve().parents[1] / "rules" / "sample.yaml"
MARKER = ".mailroom-demo"  # only a folder carrying this is ever emptied by a later run
STEP_TIMEOUT = 20.0
SHORT_SLA_MINUTES = 10  # the P1 and enterprise first response in the demo's rules
SHORTENED_POLICIES = ("P1", "enterprise")  # an enterprise outage runs on the enterprise policy
TAG = re.compile(r"\[Support #(\d+)\]")

CUSTOMER = "Carol Customer <carol@example.org>"
ENTERPRISE = "Olivia Ops <ops@bigcorp.com>"
ENGINEER = "Erin Engineer <engineer@example.com>"

QUESTION = """\
Hello,

I would like to export last month's usage report as a CSV file for our finance
team, but I can only find the PDF download. Is there a way to get a CSV?

Thanks,
Carol
"""

ANSWER = """\
Hi Carol,

Yes: open Reports, choose the month, then use Export > CSV at the top right of
the report. The CSV has one row per day and the same columns as the PDF, so
your finance team can load it straight into a spreadsheet.

If you need it every month, the Schedule button next to Export mails the CSV to
any address on the first day of each month.

Best regards,
Erin
"""

OUTAGE = """\
Hi,

our shop at https://shop.bigcorp.com returns 502 errors to every visitor since
a few minutes ago. Checkout is completely down and we are losing orders.
Please call our on-call line, +1 555 0100, as soon as you see this.

Olivia
BigCorp Operations
"""

# Substantive (well over 25 words, no holding phrase): it meets the first response.
OUTAGE_ANSWER = """\
Hi Olivia,

the 502 errors came from a failed certificate renewal on our load balancer in
your region. We rolled the certificate back at once and checkout has answered
normally for the last five minutes; orders placed during the outage were queued
and have all been processed. A full incident report follows within two days.

Erin
"""


class DemoError(Exception):
    """A step of the story did not happen as expected."""


class Failed(Exception):
    """The demo stopped at a failed step (already reported)."""


# --- output ------------------------------------------------------------------------------------


def _symbols(stream: TextIO) -> tuple[str, str]:
    """✓ and ✗ where the terminal or log can show them, else plain words."""
    try:
        "✓✗…".encode(stream.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return "ok", "FAILED"
    return "✓", "✗"


class Progress:
    """Numbered steps, one line each with its duration, details indented below: readable in a plain log."""

    def __init__(self, total: int, daemon_log: Path, out: TextIO = sys.stdout) -> None:
        self.total = total
        self.number = 0
        self.daemon_log = daemon_log
        self.out = out
        self.ok, self.bad = _symbols(out)

    def say(self, line: str = "") -> None:
        """A plain line."""
        print(line, file=self.out, flush=True)

    @contextlib.contextmanager
    def step(self, title: str, expected: str) -> Iterator[list[str]]:
        """Run one step: its details are the list yielded; a DemoError or SandboxError fails it."""
        self.number += 1
        details: list[str] = []
        start = time.monotonic()
        try:
            yield details
        except Exception as exc:  # noqa: BLE001 - any error fails the step, reported the same way
            self.say(f"[{self.number:>2}/{self.total}] {self.bad} {title} ({time.monotonic() - start:.1f} s)")
            self.say(f"        expected: {expected}")
            why = str(exc) if isinstance(exc, (DemoError, SandboxError)) else f"{type(exc).__name__}: {exc}"
            for line in why.splitlines():
                self.say(f"        {line}")
            self.say(f"--- the last lines of {self.daemon_log} ---")
            self.say(tail(self.daemon_log))
            raise Failed(title) from exc
        self.say(f"[{self.number:>2}/{self.total}] {self.ok} {title} ({time.monotonic() - start:.1f} s)")
        for line in details:
            self.say(f"        {line}")


def tail(path: Path, lines: int = 30) -> str:
    """The end of a log file, or a note that there is none."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) or "(empty)"
    except OSError:
        return "(no log)"


# --- the demo folder ---------------------------------------------------------------------------


def prepare_folder(folder: Path) -> None:
    """An empty demo folder: a previous demo's is replaced, anything else is never touched."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise DemoError(f"{folder} is not empty and was not made by the demo: choose another with --folder")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("Made by `python -m mailroom.demo`; the next demo run replaces this folder.\n")


def team_addresses(rules: dict[str, Any]) -> list[str]:
    """Every team's notify and member addresses: the engineer's mailbox receives them all."""
    found: list[str] = []
    for team in (rules.get("teams") or {}).values():
        found += [a for a in (team or {}).get("notify", []) + (team or {}).get("members", []) if isinstance(a, str)]
    return found


def demo_rules(rules: dict[str, Any]) -> str:
    """The repository's rules with a short first response for P1 and enterprise, so a breach can be shown."""
    policies = rules.get("sla") or {}
    for name in SHORTENED_POLICIES:
        policy = policies.get(name)
        if isinstance(policy, dict):
            policy["first_response"] = f"{SHORT_SLA_MINUTES}m"
            if "warn_before" in policy:
                policy["warn_before"] = "5m"  # a warning before the due time, not at creation
    header = (
        "# The repository's rules.yaml, for the demo: the first response of the P1 and enterprise\n"
        f"# policies is shortened to {SHORT_SLA_MINUTES}m (warnings 5m before) so that a breach can be shown.\n"
    )
    return header + yaml.safe_dump(rules, sort_keys=False, allow_unicode=True, width=110)


def config_text(sandbox: Sandbox) -> str:
    """mailroom.toml for the sandbox: plaintext on loopback, secrets from the environment."""
    assert sandbox.dovecot is not None and sandbox.smtp is not None and sandbox.opsgenie is not None
    return f"""\
# Written by `python -m mailroom.demo` for its local sandbox (every server on 127.0.0.1).
# The passwords come from the environment; the signing secret is generated on the first
# start and kept in the database.

[mailbox]
host = "127.0.0.1"
port = {sandbox.dovecot.port}
security = "none"
username = "support"
password_env = "MAILROOM_IMAP_PASSWORD"
idle = true
poll_interval = "5s"

[smtp]
host = "127.0.0.1"
port = {sandbox.smtp.port}
security = "none"

[support]
address = "{SUPPORT}"
name = "Example Support"
rules = "rules.yaml"
templates = "templates"
data_dir = "data"

[opsgenie]
api_url = "{sandbox.opsgenie.url}"
api_key_env = "OPSGENIE_API_KEY"

[health]
# The demo moves the clock forward past an SLA: polling must not look stuck because of it.
stale_after = "1d"

[survey]
delay = "0s"
"""


# --- the daemon ---------------------------------------------------------------------------------


@dataclass
class Mailroom:
    """The demo's mailroom: the daemon as a process, and the command line against the same config."""

    config: Path
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = field(default=None)

    def start(self) -> None:
        """`mailroom --config … run`, its log in the demo folder."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "mailroom", "--config", str(self.config), "run"],
                cwd=self.config.parent, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )

    def check_alive(self) -> None:
        """DemoError when the daemon has exited."""
        if self.proc is not None and self.proc.poll() is not None:
            raise DemoError(f"the mailroom daemon exited with status {self.proc.returncode}")

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM and wait (it flushes for up to 10 s); killed if it does not end."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def cli(self, *args: str) -> str:
        """The output of `mailroom ARGS`; DemoError when it fails."""
        try:
            done = subprocess.run(
                [sys.executable, "-m", "mailroom", "--config", str(self.config), *args],
                cwd=self.config.parent, env=self.env, capture_output=True, text=True, timeout=60,
            )
        except subprocess.TimeoutExpired as exc:
            raise DemoError(f"mailroom {' '.join(args)} did not end within 60 s") from exc
        if done.returncode != 0:
            raise DemoError(f"mailroom {' '.join(args)} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
        return done.stdout


# --- mail as clients write it ------------------------------------------------------------------


def new_mail(sender: str, to: str, subject: str, body: str, when: datetime) -> EmailMessage:
    """A fresh mail as a mail client writes it, at `when`."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or "example.org")
    msg.set_content(body)
    return msg


def reply(original: EmailMessage, sender: str, top: str, when: datetime) -> EmailMessage:
    """What "Reply" in a mail client makes: to Reply-To, `Re:` subject, threaded, the original quoted below."""
    to = original.get("Reply-To") or original.get("From") or SUPPORT
    subject = str(original.get("Subject", ""))
    quoted = "\n".join(f"> {line}".rstrip() for line in text_of(original).rstrip().splitlines())
    sent = original.get("Date") or format_datetime(when)
    body = f"{top.rstrip()}\n\nOn {sent}, {original.get('From')} wrote:\n{quoted}\n"
    msg = new_mail(sender, str(to), subject if subject.lower().startswith("re:") else f"Re: {subject}", body, when)
    message_id = str(original.get("Message-ID", "")).strip()
    if message_id:
        msg["In-Reply-To"] = message_id
        msg["References"] = " ".join([*str(original.get("References", "")).split(), message_id])
    return msg


def addresses(msg: EmailMessage, *headers: str) -> list[str]:
    """The lowercase addresses in the named headers."""
    values = [str(v) for h in headers for v in msg.get_all(h, [])]
    return [addr.lower() for _name, addr in getaddresses(values) if addr]


def ticket_of(msg: EmailMessage) -> int | None:
    """The ticket id in a mail's subject tag."""
    found = TAG.search(str(msg.get("Subject", "")))
    return int(found.group(1)) if found else None


def due_lines(text: str) -> list[str]:
    """The lines of an acknowledgement that promise the first answer, in the customer's terms."""
    lines = [line.strip() for line in text.splitlines()]
    picked = [line for line in lines if "first answer" in line or "business hours" in line or "closed right now" in line]
    return picked or [line for line in lines if re.search(r"\b\d{1,2}:\d{2}\b", line)][:2]


def survey_choice(msg: EmailMessage, label: str) -> tuple[str, dict[str, str]]:
    """The answer address of one survey button, and the subject/body its mailto link fills in."""
    for href, text in re.findall(r'href="(mailto:[^"]+)"[^>]*>\s*([^<]*?)\s*<', html_of(msg)):
        if text.strip().lower() == label.lower():
            parts = urlsplit(href.replace("&amp;", "&"))
            fields = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            return unquote(parts.path), fields
    found = re.search(rf"^\s*{re.escape(label)}:\s*(\S+@\S+)", text_of(msg), re.MULTILINE | re.IGNORECASE)
    if found:
        return found.group(1), {}
    raise DemoError(f"the survey has no {label} choice:\n{text_of(msg)}")


def first_lines(text: str, count: int = 4) -> list[str]:
    """The first non-empty lines of a text, for a glance."""
    return [line for line in (raw.rstrip() for raw in text.splitlines()) if line][:count]


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
