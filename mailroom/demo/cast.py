"""Who writes in the demo and what, and the demo's fixed settings."""

from __future__ import annotations

import re
from pathlib import Path

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
