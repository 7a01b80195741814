"""Pure: the `#` command block at the top of an engineer's mail, parsed and checked."""

# The block is every line at the top that begins with `#` (after optional leading
# whitespace). Blank lines between command lines do not end it: an engineer who
# leaves a gap before `#tag printer` means a command, and ending the block there
# would relay the line to the customer. Every line of the block must be a valid
# command; one bad line refuses the whole mail, so nothing half-applied ever
# happens and a typo such as `#stauts solved` is never sent to a customer. That is
# also why Markdown headings (`# Summary`) and hashtags (`#urgent`) at the very top
# are errors rather than text: the engineer gets a mail saying so and can resend.

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass

from mailroom.mail.addresses import valid_address

STATUSES = ("open", "pending", "solved", "closed")
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")
NAMES = ("status", "priority", "assign", "team", "tag", "note", "holding", "page", "requester", "merge")

_QUOTED_LINE_MAX = 80  # characters of an offending line repeated in an error
_TAG = re.compile(r"[^\s,#\"'<>;]{1,64}")
_PAGE_TEAM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# `#merge 123`, `#merge #123`, or the ticket's tag pasted from a subject: `#merge [Support #123]`.
_MERGE_TARGET = re.compile(r"\[?[^\[\]#\d]{0,40}#?(?P<id>\d{1,12})\]?")
# `#name`, an optional colon (`#priority: P1`), then the rest of the line.
_LINE = re.compile(r"#(?P<name>[^\s:]*)\s*:?\s*(?P<rest>.*)", re.DOTALL)
# Clients turn a typed address into `bob@example.com <mailto:bob@example.com>` or
# `bob@example.com<mailto:…>` in their plain-text part.
_MAILTO_SUFFIX = re.compile(r"\s*<mailto:[^<>]*>$", re.IGNORECASE)


@dataclass(frozen=True)
class Command:
    """One command line: its name, its value, free text after it, and its line number (from 1)."""

    name: str
    argument: str | None = None
    text: str | None = None
    line: int = 0


@dataclass(frozen=True)
class CommandBlock:
    """The commands of a mail and the text left to relay; `error` set means none may be applied."""

    commands: tuple[Command, ...]
    body: str
    error: str | None = None

    @property
    def is_note(self) -> bool:
        """True when the mail is an internal note, never sent to the customer."""
        return any(c.name == "note" for c in self.commands)

    @property
    def is_holding(self) -> bool:
        """True when the reply is relayed but must not count as a first response."""
        return any(c.name == "holding" for c in self.commands)

    @property
    def has_commands(self) -> bool:
        """True when the mail carried at least one valid command."""
        return bool(self.commands)

    @property
    def only_commands(self) -> bool:
        """True when nothing but commands was written (no text to relay)."""
        return not self.body.strip()


class _Invalid(Exception):
    """A command line that cannot be applied, and why."""


def parse_commands(text: str, teams: Collection[str]) -> CommandBlock:
    """Split an engineer's new text into its leading `#` commands and the body."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    team_names = {name.lower(): name for name in teams}
    commands: list[Command] = []
    errors: list[str] = []
    index = 0
    while index < len(lines):
        stripped = lines[index].strip()
        if not stripped:
            index += 1
            continue
        if not stripped.startswith("#"):
            break
        try:
            commands.extend(_parse_line(stripped, index + 1, team_names))
        except _Invalid as why:
            errors.append(f"line {index + 1}: {_quote(stripped)}: {why}")
        index += 1
    body_lines = lines[index:]
    errors.extend(_conflicts(commands))
    # Text after `#note` is the note itself (`#note customer confirmed by phone`):
    # keep it at the top of the body, which a note never relays.
    note_text = [c.text for c in commands if c.name == "note" and c.text]
    body = "\n".join([*note_text, *body_lines]) if note_text else "\n".join(body_lines)
    if errors:
        # Nothing may be applied: an empty tuple makes a half-applied block impossible.
        return CommandBlock(commands=(), body=body, error="; ".join(errors))
    return CommandBlock(commands=tuple(commands), body=body, error=None)


def _parse_line(line: str, number: int, teams: dict[str, str]) -> list[Command]:
    """The command(s) of one `#` line; raises _Invalid with the reason."""
    match = _LINE.fullmatch(line)
    assert match is not None  # the pattern accepts any line starting with "#"
    name = match.group("name").lower()
    rest = match.group("rest").strip()
    if not name:
        raise _Invalid("not a command (write it as #name, e.g. #status solved)")
    if name not in NAMES:
        raise _Invalid(f"unknown command{_suggest(name, NAMES, '#')}")
    if name == "status":
        value = _one_word(name, rest, "open, pending, solved or closed").lower()
        if value not in STATUSES:
            raise _Invalid(f"status must be open, pending, solved or closed{_suggest(value, STATUSES)}")
        return [Command(name, value, None, number)]
    if name == "priority":
        value = _one_word(name, rest, "P1..P5").upper()
        if value not in PRIORITIES:
            raise _Invalid("priority must be P1..P5")
        return [Command(name, value, None, number)]
    if name in ("assign", "requester"):
        return [Command(name, _address(name, rest), None, number)]
    if name == "team":
        value = _one_word(name, rest, "a team name")
        if value.lower() not in teams:
            known = ", ".join(sorted(teams.values())) or "none configured"
            hint = _suggest(value.lower(), list(teams))
            raise _Invalid(f'unknown team "{value}"{hint} (teams: {known})')
        return [Command(name, teams[value.lower()], None, number)]
    if name == "tag":
        tags = [t for t in re.split(r"[\s,]+", rest) if t]
        if not tags:
            raise _Invalid("#tag needs a name")
        bad = [t for t in tags if not _TAG.fullmatch(t)]
        if bad:
            raise _Invalid(f'not a usable tag: "{bad[0]}"')
        return [Command(name, tag, None, number) for tag in dict.fromkeys(tags)]
    if name == "merge":
        target = _MERGE_TARGET.fullmatch(rest)
        if not target:
            raise _Invalid("#merge needs the number of the ticket to merge this one into, e.g. #merge 123")
        return [Command(name, str(int(target.group("id"))), None, number)]
    if name == "note":
        return [Command(name, None, rest or None, number)]
    if name == "holding":
        if rest:
            raise _Invalid("#holding takes no value; put the reply text below the commands")
        return [Command(name, None, None, number)]
    # page: TEAM is any name (an on-call team need not route tickets), text optional.
    team, _, page_text = rest.partition(" ")
    team = team.rstrip(":")
    if not team:
        raise _Invalid("#page needs a team, e.g. #page enterprise database is down")
    if not _PAGE_TEAM.fullmatch(team):
        raise _Invalid(f'not a usable team name: "{team}"')
    return [Command(name, teams.get(team.lower(), team), page_text.strip() or None, number)]


def _one_word(name: str, rest: str, expected: str) -> str:
    """The single value of a command; raises _Invalid when missing or followed by more."""
    words = rest.split()
    if not words:
        raise _Invalid(f"#{name} needs a value: {expected}")
    if len(words) > 1:
        raise _Invalid(f'#{name} takes one value ({expected}), got "{rest}"')
    return words[0]


def _address(name: str, rest: str) -> str:
    """The lowercased address of #assign / #requester; raises _Invalid unless it is usable."""
    value = _MAILTO_SUFFIX.sub("", rest).strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].strip()
    if value.lower().startswith("mailto:"):
        value = value[len("mailto:") :]
    if not value:
        raise _Invalid(f"#{name} needs an address")
    if not valid_address(value) or "." not in value.rpartition("@")[2]:
        raise _Invalid(f'not a valid address: "{value}"')
    return value.lower()


def _conflicts(commands: list[Command]) -> list[str]:
    """Errors for commands that contradict each other in one block."""
    errors: list[str] = []
    first: dict[str, Command] = {}
    for command in commands:
        if command.name in ("tag", "page", "note", "holding"):
            continue  # several tags or pages add up; a repeated flag is harmless
        earlier = first.setdefault(command.name, command)
        if earlier.argument != command.argument:
            errors.append(
                f"line {command.line}: #{command.name} {command.argument} contradicts"
                f" line {earlier.line} (#{command.name} {earlier.argument})"
            )
    note = next((c for c in commands if c.name == "note"), None)
    holding = next((c for c in commands if c.name == "holding"), None)
    if note is not None and holding is not None:
        errors.append(
            f"line {holding.line}: #holding marks a reply to the customer, but line {note.line}"
            " makes the mail an internal #note"
        )
    return errors


def _suggest(word: str, choices: Collection[str], prefix: str = "") -> str:
    """A " (did you mean …?)" hint for a near miss, else ""."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {prefix}{close[0]}?)" if close else ""


def _quote(line: str) -> str:
    """The offending line in double quotes, shortened when long."""
    if len(line) > _QUOTED_LINE_MAX:
        line = line[: _QUOTED_LINE_MAX - 1] + "…"
    return f'"{line}"'
