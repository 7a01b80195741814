"""A use-case context for tests that ingest mail without a mailroom.toml: the settings ingest reads."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from mailroom.app.context import Context
from mailroom.rules.ruleset import Rules

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def mail_context(data_dir: Path, rules: Rules, now: datetime, **support: Any) -> Context:
    """Support address support@example.com, the shipped templates; `support` overrides [support] keys."""
    values = dict(
        address="support@example.com", name="Example Support", ticket_tag="[Support #{id}]", lists=(),
        data_dir=data_dir, templates=TEMPLATES, trusted_authserv_id="", spam_score_header="", spam_score_above=5.0,
    )
    chosen = SimpleNamespace(**{**values, **support})
    settings = SimpleNamespace(
        support=chosen,
        first_address_of=lambda name: chosen.address,  # one mailbox, delivered the support address
        limits=SimpleNamespace(auto_replies_per_sender_hour=3, max_attachment_size=25_000_000),
        survey=SimpleNamespace(delay=timedelta(hours=1), scale="good-okay-bad"),
        opsgenie=None, escalation=SimpleNamespace(backend="opsgenie", give_up_after=timedelta(days=5)),
    )
    return Context(settings, rules, "secret", now)
