"""Shared setup for the benches: test servers, a mailroom configuration, realistic support mail."""

from __future__ import annotations

import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from types import TracebackType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _sink import SmtpSink  # noqa: E402

from mailroom.demo.dovecot import Dovecot  # noqa: E402
from mailroom.demo.smtp import SmtpServer  # noqa: E402
from tests.e2e.conftest import SUPPORT, TEAM, write_config  # noqa: E402

__all__ = ["ROOT", "SUPPORT", "TEAM", "Daemon", "Mail", "Sandbox", "support_mails", "one_mail", "percentile"]

BASELINE_USER = "baseline"  # a second mailbox holding the same bytes, for the bare-minimum run


class Sandbox:
    """Dovecot (users support and baseline) and an SMTP server, with a mailroom.toml.

    The SMTP server records every mail (parsed, for benches that read what was sent), or with
    `sink=True` only counts and discards them (for throughput, so its own cost stays out of it).
    """

    smtp: SmtpServer | SmtpSink

    def __init__(self, poll_interval: str = "1s", sink: bool = False, database_url: str = "") -> None:
        self.poll_interval = poll_interval
        self.database_url = database_url  # "" : a fresh SQLite file in the data folder
        self.folder = Path(tempfile.mkdtemp(prefix="mailroom-bench-"))
        self.dovecot = Dovecot(users=("support", BASELINE_USER))
        self.smtp = SmtpSink() if sink else SmtpServer()
        self.config = self.folder / "mailroom.toml"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MAILROOM_")}
        self.env.update(MAILROOM_IMAP_PASSWORD=Dovecot.PASSWORD, MAILROOM_SECRET="bench-secret")

    def __enter__(self) -> Sandbox:
        try:
            self.dovecot.start()
            self.smtp.start()
            shutil.copy(ROOT / "rules.yaml", self.folder / "rules.yaml")
            shutil.copytree(ROOT / "templates", self.folder / "templates")
            write_config(self.folder, self.dovecot, self.smtp, database_url=self.database_url)
            text = self.config.read_text()
            # The test configuration polls every second; a bench may want IDLE alone to drive it.
            self.config.write_text(text.replace('poll_interval = "1s"', f'poll_interval = "{self.poll_interval}"'))
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop both servers and remove the temp folder."""
        self.smtp.close()
        self.dovecot.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def recorder(self) -> SmtpServer:
        """The recording SMTP server (not the sink), for benches that read what was sent."""
        assert isinstance(self.smtp, SmtpServer), "this sandbox counts mail with the sink, it keeps none"
        return self.smtp

    def append_all(self, user: str, mails: list[Mail]) -> float:
        """APPEND every mail to user's INBOX in order; answer the seconds it took."""
        start = time.perf_counter()
        for item in mails:
            self.dovecot.append(user, item.raw)
        return time.perf_counter() - start


class Daemon:
    """`python -m mailroom --config … run` as a process of its own, its log in the sandbox; SIGTERM on exit."""

    def __init__(self, box: Sandbox) -> None:
        self.log_path = box.folder / "daemon.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen([sys.executable, "-m", "mailroom", "--config", str(box.config), "run"],
                                        env=box.env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
        self.status: int | None = None  # the exit status, once stopped

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        """The daemon's process id."""
        return self.process.pid

    def exited(self) -> bool:
        """Whether the daemon has ended on its own."""
        return self.process.poll() is not None

    def stop(self) -> int:
        """SIGTERM, as systemd stops it; killed after 30 s. Its exit status."""
        if self.status is None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
            try:
                self.status = self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.status = self.process.wait()
            self._log.close()
        return self.status

    def log_tail(self, lines: int = 20) -> str:
        """The last lines the daemon logged."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


# --- realistic support mail -----------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    """One generated mail: its bytes, Message-ID, and whether it opens a ticket or answers one."""

    raw: bytes
    message_id: str
    kind: str  # new | reply
    sender: str
    body: str
    subject: str


FIRST = ["Anna", "Ben", "Carla", "David", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kenji", "Lena",
         "Marco", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tomás", "Uma", "Victor", "Wen", "Yara"]
LAST = ["Andersen", "Baker", "Costa", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ivanova", "Jansen",
        "Kowalski", "Lindqvist", "Moreau", "Nakamura", "O'Brien", "Petrov", "Rossi", "Schmidt", "Tanaka", "Weber"]
COMPANIES = ["northwind", "contoso", "fabrikam", "tailspin", "wingtip", "adventureworks", "litware", "proseware",
             "woodgrove", "lucerne", "alpineski", "coho", "fourthcoffee", "margie", "treyresearch", "wideworld"]
ENTERPRISE = ["bigcorp.com", "globex.com", "initech.com"]  # rules.yaml's enterprise customers

TOPICS: list[tuple[list[str], list[str]]] = [
    (["CSV export stops at 10,000 rows", "How do I export a report to Excel?", "Export of the monthly report is empty"],
     ["When I export the monthly usage report to CSV, the file only contains the first 10,000 rows.",
      "We rely on the export to reconcile our numbers at the end of each month, so this blocks our finance team.",
      "The export button shows a spinner for about a minute and then the download starts, but the file is cut off.",
      "I tried both the CSV and the Excel format and the result is the same in Chrome and in Firefox."]),
    (["Can't log in after password reset", "Locked out of my account", "2FA codes are not accepted"],
     ["Since this morning I cannot sign in to my account, the page just says that my credentials are invalid.",
      "I reset my password twice using the link in the email, and each time the new password is rejected.",
      "My colleagues in the same office can log in without any problem, so it seems to be my account only.",
      "The authenticator app shows a code, but the login page says it has expired as soon as I enter it."]),
    (["Invoice for March shows the wrong VAT number", "We were charged twice this month", "Refund for unused seats"],
     ["Our latest invoice lists the VAT number of our old entity, which our accounting department cannot accept.",
      "The credit card statement shows two identical payments on the same day for our subscription.",
      "We reduced the number of seats from 40 to 25 in the middle of the billing period.",
      "Could you please send a corrected invoice, and tell me whether the second payment will be refunded?"]),
    (["Webhooks not arriving since yesterday", "API returns HTTP 429 on every call", "API token stopped working"],
     ["Our integration receives no webhook events since yesterday afternoon, although the delivery log shows them as sent.",
      "Every request to the API now returns HTTP 429, even though we send fewer than ten requests per minute.",
      "We rotated our API token last week and the new one is rejected with a 401 on the reports endpoint.",
      "Nothing changed on our side: the same code has been running in production for over a year."]),
    (["Dashboard very slow to load", "Charts show no data for last week", "Scheduled report was not sent"],
     ["The main dashboard takes more than thirty seconds to load for everyone in our team.",
      "The charts for last week are empty, while the raw data is visible in the table view.",
      "The weekly report that is scheduled for Monday at 8:00 did not reach any of its recipients.",
      "We have about 200 saved charts; it became slow after we added the new data source on Tuesday."]),
    (["How do I add a user to our team?", "Changing the account owner", "Remove a former employee"],
     ["A new colleague joined our team and I cannot find where to invite her to our workspace.",
      "Our account owner left the company and we need to transfer the ownership to me.",
      "I am an administrator, but the members page only shows a read-only list for me.",
      "Please let me know which steps are needed and whether you need a written confirmation from us."]),
    (["SAML login with Okta fails", "SSO users get a blank page", "SCIM provisioning creates duplicates"],
     ["After we enabled single sign-on with Okta, users are redirected back to the login page in a loop.",
      "The SAML response looks correct in the browser tools and contains the email attribute you require.",
      "New users provisioned through SCIM appear twice in the member list, once with a capitalised address.",
      "We followed the setup guide step by step and double-checked the certificate fingerprint."]),
    (["Feature request: dark mode", "Could you add a Slack integration?", "Suggestion for the report builder"],
     ["Many people in our team work late and would really appreciate a dark theme for the application.",
      "It would be great to receive the alerts directly in a Slack channel instead of by email.",
      "In the report builder it would help a lot to be able to duplicate a chart with all of its filters.",
      "Is anything like this on your roadmap, and is there a workaround we could use in the meantime?"]),
    (["Dashboard not loading for anyone in our office", "Getting 502 errors on every page"],
     ["Since about ten minutes ago nobody in our office can open the dashboard; it shows a 502 error.",
      "We checked our network and other websites work fine, so it looks like a problem on your side.",
      "This blocks our whole operations team, so we would be grateful for a quick update.",
      "The status page still shows all systems as operational."]),
]
TOPIC_WEIGHTS = [14, 14, 12, 12, 14, 12, 8, 10, 4]
GREETINGS = ["Hi,", "Hello,", "Hello support team,", "Good morning,", "Dear support,", "Hi there,"]
CLOSINGS = [
    "Could you please have a look and let me know what we can do? Thanks in advance for your help.",
    "Any help would be much appreciated, as this is holding up our work this week.",
    "Please let me know if you need screenshots, our account ID or anything else from us.",
    "Thank you for your time; I am happy to jump on a call if that is easier.",
]
FOLLOWUPS = [
    "Just checking in on this, as the problem is still there today.",
    "One more detail: it also happens in a private browser window, so it is not a cache problem.",
    "A colleague of mine sees the same thing now, so it is getting more urgent for us.",
    "I attached nothing this time, but I can send the browser console output if that helps.",
]
USER_AGENTS = ["Microsoft Outlook 16.0", "Apple Mail (2.3774)", "Mozilla Thunderbird 115.6", None]


def _person(rng: random.Random, index: int) -> tuple[str, str, str]:
    """(display name, address, company) of a distinct customer."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if rng.random() < 0.03:
        domain = rng.choice(ENTERPRISE)
        company = domain.split(".")[0].title()
    else:
        company = rng.choice(COMPANIES)
        domain = f"{company}{index % 97}.example"
        company = company.title()
    local = f"{first}.{last}".lower().replace("'", "").replace("á", "a").replace("í", "i")
    return f"{first} {last}", f"{local}{index}@{domain}", company


def _body(rng: random.Random, name: str, company: str, sentences: list[str]) -> str:
    """Greeting, two or three paragraphs on the topic, a closing line and a signature."""
    picked = rng.sample(sentences, k=len(sentences))
    cut = rng.randint(1, len(picked) - 1)
    paragraphs = [" ".join(picked[:cut]), " ".join(picked[cut:]), rng.choice(CLOSINGS)]
    if rng.random() < 0.5:
        paragraphs.insert(2, f"Our account is registered as {company} (account ID {rng.randint(10_000, 99_999)}), "
                             f"and we are on the {rng.choice(['Team', 'Business', 'Enterprise'])} plan.")
    signature = f"Best regards,\n{name}\n{rng.choice(['Operations', 'Finance', 'IT', 'Marketing'])}, {company}\n" \
                f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
    return "\n\n".join([rng.choice(GREETINGS), *paragraphs, signature]) + "\n"


def _html(text: str) -> str:
    """The HTML alternative a mail client writes beside the text."""
    paragraphs = "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in text.split("\n\n"))
    return f'<html><body><div style="font-family: Calibri, sans-serif; font-size: 11pt">{paragraphs}</div></body></html>\n'


def _compose(rng: random.Random, index: int, when: datetime, sender: str, subject: str, body: str,
             in_reply_to: str | None = None, references: list[str] | None = None,
             attachment: tuple[str, str, bytes] | None = None) -> tuple[bytes, str]:
    """One mail as a client sends it: text with an HTML alternative for most, CRLF line ends."""
    msg = EmailMessage()
    message_id = f"<{when:%Y%m%d%H%M%S}.{index}.{rng.getrandbits(40):x}@mail.client.example>"
    msg["From"] = sender
    msg["To"] = f"Example Support <{SUPPORT}>"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = " ".join(references or [in_reply_to])
    agent = rng.choice(USER_AGENTS)
    if agent:
        msg["X-Mailer"] = agent
    msg["MIME-Version"] = "1.0"
    msg.set_content(body)
    if rng.random() < 0.7:
        msg.add_alternative(_html(body), subtype="html")
    if attachment:
        name, ctype, data = attachment
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"), message_id


def _attachment(rng: random.Random, size: int) -> tuple[str, str, bytes]:
    """A screenshot, a PDF or a zipped log of about `size` bytes (incompressible, as real ones are)."""
    name, ctype = rng.choice([("screenshot.png", "image/png"), ("invoice.pdf", "application/pdf"),
                              ("browser-console.zip", "application/zip")])
    return name, ctype, rng.randbytes(size)


def support_mails(count: int, seed: int = 42, big_attachment: int = 0) -> list[Mail]:
    """`count` support mails (a tenth replies, a tenth with 100 KB attached, the middle one `big_attachment` bytes)."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(hours=2)
    mails: list[Mail] = []
    for i in range(count):
        when = start + timedelta(seconds=3 * i)
        earlier = [m for m in mails[-200:] if m.kind == "new"]
        if i % 10 == 5 and earlier:
            original = rng.choice(earlier)
            quoted = "\n".join("> " + line if line else ">" for line in original.body.splitlines())
            first_name = original.sender.split()[0]
            text = (f"{rng.choice(['Hi,', 'Hello again,'])}\n\n{rng.choice(FOLLOWUPS)}\n\nThanks,\n{first_name}\n\n"
                    f"On {format_datetime(when - timedelta(minutes=30))}, {original.sender} wrote:\n{quoted}\n")
            subject = f"Re: {original.subject}"
            raw, mid = _compose(rng, i, when, original.sender, subject, text, original.message_id,
                                [original.message_id])
            mails.append(Mail(raw, mid, "reply", original.sender, text, subject))
            continue
        name, address, company = _person(rng, i)
        subjects, sentences = rng.choices(TOPICS, weights=TOPIC_WEIGHTS)[0]
        subject = rng.choice(subjects)
        body = _body(rng, name, company, sentences)
        attachment = None
        if big_attachment and i == count // 2:
            attachment = ("full-export.zip", "application/zip", rng.randbytes(big_attachment))
        elif i % 10 == 7:
            attachment = _attachment(rng, 100_000)
        sender = formataddr((name, address))
        raw, mid = _compose(rng, i, when, sender, subject, body, attachment=attachment)
        mails.append(Mail(raw, mid, "new", sender, body, subject))
    return mails


def one_mail(index: int, seed: int = 7) -> Mail:
    """A single new question from a customer nobody has seen before."""
    rng = random.Random(seed * 1_000_003 + index)
    name, address, company = _person(rng, 100_000 + index)
    subjects, sentences = rng.choices(TOPICS, weights=TOPIC_WEIGHTS)[0]
    subject = rng.choice(subjects)
    body = _body(rng, name, company, sentences)
    sender = formataddr((name, address))
    raw, mid = _compose(rng, index, datetime.now(UTC), sender, subject, body)
    return Mail(raw, mid, "new", sender, body, subject)


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * pct / 100)) - 1]
