"""`mailroom rules check` and `mailroom rules explain`."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from mailroom import clock
from mailroom.compose.mails import render_check
from mailroom.compose.wording import FAMILIES
from mailroom.errors import MailroomError
from mailroom.mail.message import parse
from mailroom.rules.engine import check_tests, format_explain
from mailroom.rules.engine import explain as explain_message
from mailroom.rules.ruleset import Rules, load_rules

DEFAULT_TEMPLATES = Path(__file__).resolve().parents[1] / "compose" / "templates"  # the shipped ones


def _template_dir(rules_path: Path, settings: Any) -> Path | None:
    if settings is not None:
        return settings.support.templates
    beside = rules_path.resolve().parent / "templates"
    return beside if beside.is_dir() else (DEFAULT_TEMPLATES if DEFAULT_TEMPLATES.is_dir() else None)


def _ours(settings: Any) -> tuple[str, ...] | None:
    """Our addresses from mailroom.toml (rules' `to_address` must name one), when there is a config."""
    return settings.support.all_addresses if settings is not None else None


def _mailboxes(settings: Any) -> tuple[str, ...] | None:
    """The mailbox names of mailroom.toml (rules' `mailbox` must name one), when there is a config."""
    return settings.mailbox_names if settings is not None else None


def _load(rules_path: Path, templates: Path | None, settings: Any) -> Rules:
    """The rules, checked against what mailroom.toml says of our addresses and mailboxes."""
    return load_rules(rules_path, templates, _ours(settings), _mailboxes(settings))


def _rules_path(path: Path | None, settings: Any) -> Path:
    if path is not None:
        return path
    if settings is not None:
        return settings.support.rules
    return Path("rules.yaml")


def _templates_used(rules: Rules) -> set[str]:
    """Every template a rule or the defaults can make mailroom render."""
    names = set(FAMILIES)
    for rule in rules.rules:
        ack = getattr(rule, "ack", None) or getattr(getattr(rule, "then", None), "ack", None)
        if isinstance(ack, str):
            names.add(ack)
    return names


def check(path: Path | None, settings: Any) -> int:
    """Validate the file, render its templates, run its inline tests; exit 1 on any problem."""
    rules_path = _rules_path(path, settings)
    if not rules_path.exists():
        raise MailroomError(f"{rules_path}: no such file")
    templates = _template_dir(rules_path, settings)
    rules = _load(rules_path, templates, settings)
    problems = []
    if templates is not None:
        problems += render_check(templates, sorted(_templates_used(rules) & _available(templates)))
    problems += check_tests(rules)
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        return 1
    print(f"{rules_path.name}: ok ({len(rules.rules)} rules, {len(rules.tests)} tests passed)")
    return 0


def _available(templates: Path) -> set[str]:
    return {p.name.split(".", 1)[0] for p in templates.iterdir() if p.is_file()}


def explain(file: Path, settings: Any, *, as_json: bool, mailbox: str | None = None) -> int:
    """Show which rules match a message (as read from `mailbox`), and the resulting routing and SLA due times."""
    rules_path = _rules_path(None, settings)
    rules = _load(rules_path, _template_dir(rules_path, settings), settings)
    known = _mailboxes(settings)
    if mailbox is not None and known is not None and mailbox not in known:
        raise MailroomError(f"--mailbox: '{mailbox}' is not a mailbox of mailroom.toml ({', '.join(known)})")
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise MailroomError(f"{file}: {exc.strerror}") from exc
    now = clock.now()
    message = replace(parse(raw, now), mailbox=mailbox or "")
    result = explain_message(rules, message, now)
    if as_json:
        print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    else:
        print(format_explain(result))
    return 0
