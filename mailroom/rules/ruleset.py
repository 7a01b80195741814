"""rules.yaml → typed, validated rules: conditions compiled once, actions kept as data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailroom.errors import RulesError
from mailroom.mail.addresses import Ours, is_support
from mailroom.rules.conditions import Condition, domain_gate, language_codes, read_condition
from mailroom.rules.inline import InlineTest, read_tests
from mailroom.rules.patterns import AddressPatterns
from mailroom.rules.policies import (
    Team,
    read_calendars,
    read_policies,
    read_policy_keys,
    read_teams,
)
from mailroom.rules.yamlmarks import (
    Mark,
    MarkedList,
    MarkedMap,
    Problems,
    kind,
    load_marked,
    suggest,
)
from mailroom.sla.calendar import Calendar
from mailroom.sla.policies import PRIORITIES, Policy, override

SECTIONS = ("version", "calendars", "sla", "agents", "teams", "defaults", "rules", "tests")
ACTIONS = ("team", "priority", "tags", "assign", "notify", "sla", "ack", "links", "survey", "page", "ignore", "language")

# ---- the model -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A documentation page offered in the acknowledgement."""

    title: str
    url: str


@dataclass(frozen=True)
class Actions:
    """What a rule decides when it matches; None (or empty) is 'says nothing about it'."""

    team: str | None = None
    priority: str | None = None
    tags: tuple[str, ...] = ()
    assign: str | None = None
    notify: tuple[str, ...] = ()
    sla: str | None = None  # a policy name
    sla_override: Mapping[str, Any] | None = None  # inline metrics, JSON-ready as written
    ack: str | bool | None = None  # a template name, or False for no acknowledgement
    links: tuple[Link, ...] = ()
    survey: bool | None = None
    page: bool | None = None
    ignore: bool | None = None
    language: str | None = None  # the customer's language, for the templates, whatever was detected


@dataclass(frozen=True)
class Rule:
    """One rule: a condition (None matches every message) and its actions."""

    name: str
    condition: Condition | None
    then: Actions
    continue_: bool = False
    line: int = 0
    col: int = 0
    gate: frozenset[str] | None = field(default=None, repr=False)  # sender domains it needs, if any


@dataclass(frozen=True)
class Defaults:
    """What no rule decided."""

    team: str = "general"
    priority: str = "P3"
    ack: str | None = "ack"
    survey: bool = True


@dataclass(frozen=True)
class Rules:
    """A validated rules file."""

    calendars: dict[str, Calendar]
    sla: dict[str, Policy]
    agents: tuple[str, ...]
    teams: dict[str, Team]
    defaults: Defaults
    rules: tuple[Rule, ...]
    tests: tuple[InlineTest, ...] = ()
    filename: str = "rules.yaml"
    agent_patterns: AddressPatterns = field(default_factory=lambda: AddressPatterns([]), repr=False, compare=False)

    def is_agent(self, address: str, support_address: Ours) -> bool:
        """True for an engineer's address: `agents` or any team's members; never the support address."""
        address = address.strip().lower()
        if not address or is_support(address, support_address):
            return False
        return self.agent_patterns.match(address) is not None

    def resolve_policy(self, priority: str, name: str | None = None, inline: Mapping[str, Any] | None = None) -> Policy:
        """The policy `name` (else the priority's), with inline overrides applied key by key."""
        base = self.sla.get(name or priority) or self.sla.get(priority) or self.sla["P3"]
        return override(base, inline)

    def calendar_for(self, policy: Policy) -> Calendar:
        """The calendar a policy counts in (24x7 if the rules no longer define it)."""
        return self.calendars.get(policy.calendar) or Calendar.always(policy.calendar)




# ---- loading -------------------------------------------------------------------------------------


def load_rules(
    path: Path, template_dir: Path | None = None, ours: tuple[str, ...] | None = None,
    mailboxes: tuple[str, ...] | None = None,
) -> Rules:
    """Read and validate a rules file; raises RulesError listing every problem."""
    # `ours` and `mailboxes`: mailroom.toml's addresses and mailbox names, when known; the
    # `to_address` and `mailbox` conditions must name one of them.
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError([f"{Path(path).name}:1:1: cannot read: {getattr(exc, 'strerror', None) or exc}"]) from exc
    return parse_rules(text, Path(path).name, template_dir, ours, mailboxes)


def parse_rules(
    text: str, filename: str = "rules.yaml", template_dir: Path | None = None, ours: tuple[str, ...] | None = None,
    mailboxes: tuple[str, ...] | None = None,
) -> Rules:
    """Validate rules text; raises RulesError with every `file:LINE:COL: message` at once."""
    problems = Problems(filename, ours, mailboxes)
    data = load_marked(text, problems)
    rules = None if problems else _Reader(problems, template_dir, filename).document(data)
    if problems or rules is None:
        raise RulesError(problems.lines())
    return rules


class _Reader:
    """Reads one document section by section, recording every problem and carrying on."""

    def __init__(self, problems: Problems, template_dir: Path | None, filename: str) -> None:
        self.problems, self.filename = problems, filename
        self.template_dir, self.templates = template_dir, _template_names(template_dir)
        self.teams: dict[str, Team] = {}
        self.sla: dict[str, Policy] = {}
        self.calendars: set[str] = set()

    def document(self, data: Any) -> Rules | None:
        p = self.problems
        if not isinstance(data, MarkedMap):
            where = getattr(data, "mark", Mark(1, 1))
            p.add(where, f"expected a mapping of sections starting with 'version: 1', got {kind(data)}")
            return None
        p.known_keys(data, SECTIONS, "section")
        if "version" not in data:
            p.add(data.mark, "missing 'version: 1'")
        elif data["version"] != 1 or isinstance(data["version"], bool):
            p.add(data.at("version"), f"version: expected 1, got {kind(data['version'])}")
        calendars = read_calendars(p, data.get("calendars"), data.at("calendars"))
        self.calendars = set(calendars)
        self.sla = read_policies(p, data.get("sla"), data.at("sla"), self.calendars)
        self.teams = read_teams(p, data.get("teams"), data.at("teams"))
        agents = self.problems.patterns(data["agents"], data.at("agents"), "agents") if data.get("agents") is not None else []
        defaults = self.read_defaults(data)
        rules = self.read_rules(data["rules"], data.at("rules")) if data.get("rules") is not None else ()
        names = {rule.name for rule in rules}
        tests = read_tests(self, data["tests"], data.at("tests"), names) if data.get("tests") is not None else ()
        members = [m for team in self.teams.values() for m in team.members]
        return Rules(
            calendars, self.sla, tuple(agents), self.teams, defaults, tuple(rules), tuple(tests),
            self.filename, AddressPatterns(agents + members),
        )

    # -- teams, agents, defaults

    def read_defaults(self, data: MarkedMap) -> Defaults:
        p = self.problems
        mapping = p.mapping(data.get("defaults"), data.at("defaults"), "defaults") or MarkedMap()
        p.known_keys(mapping, ("team", "priority", "ack", "survey"), "defaults key")
        fields: dict[str, Any] = {}
        if "team" in mapping:
            fields["team"] = self.team(mapping["team"], mapping.at("team"))
        elif "general" not in self.teams:
            if self.teams:
                p.add(mapping.mark if "defaults" in data else data.mark, "defaults: give a team (there is no team 'general')")
            self.teams["general"] = Team("general")  # a file with no teams at all still routes somewhere
        if "priority" in mapping:
            fields["priority"] = self.priority(mapping["priority"], mapping.at("priority"))
        if "ack" in mapping:
            ack = self.ack(mapping["ack"], mapping.at("ack"))
            fields["ack"] = None if ack is False else ack
        if "survey" in mapping:
            fields["survey"] = p.flag(mapping["survey"], mapping.at("survey"), "survey")
        return Defaults(**{k: v for k, v in fields.items() if v is not None or k == "ack"})

    # -- single values

    def team(self, value: Any, mark: Mark) -> str | None:
        name = self.problems.text(value, mark, "team")
        if name is not None and name not in self.teams:
            self.problems.add(mark, f"unknown team '{name}'{suggest(name, self.teams)}")
            return None
        return name

    def priority(self, value: Any, mark: Mark) -> str | None:
        if value in PRIORITIES:
            return str(value)
        self.problems.add(mark, f"unknown priority {kind(value)}: expected P1, P2, P3, P4 or P5")
        return None

    def ack(self, value: Any, mark: Mark) -> str | bool | None:
        if value is False:
            return False
        if not isinstance(value, str) or not value.strip():
            self.problems.add(mark, f"ack: expected a template name or false, got {kind(value)}")
            return None
        if self.templates is not None and value not in self.templates:
            hint = suggest(value, self.templates) or f" (no {value}.* file in {self.template_dir})"
            self.problems.add(mark, f"unknown template '{value}'{hint}")
            return None
        return value

    # -- rules

    def read_rules(self, value: Any, mark: Mark) -> list[Rule]:
        if not isinstance(value, MarkedList):
            self.problems.add(mark, f"rules: expected a list of rules, got {kind(value)}")
            return []
        rules: list[Rule] = []
        first_seen: dict[str, Mark] = {}
        catch_all: Rule | None = None
        for index, item in enumerate(value):
            found = self.rule(item, value.at(index), index + 1)
            if found is None:
                continue
            rule, matches_all = found
            at = Mark(rule.line, rule.col)
            if rule.name in first_seen:
                self.problems.add(at, f"rule name '{rule.name}' is used twice (first on line {first_seen[rule.name].line})")
            first_seen.setdefault(rule.name, at)
            if catch_all is not None:
                self.problems.add(
                    at,
                    f"rule '{rule.name}' can never match: rule '{catch_all.name}' on line {catch_all.line} "
                    "matches every message and does not continue",
                )
            elif matches_all and not rule.continue_:
                catch_all = rule
            rules.append(rule)
        return rules

    def rule(self, value: Any, mark: Mark, number: int) -> tuple[Rule, bool] | None:
        """The rule, and whether it matches every message (no `if`, or an empty one)."""
        p = self.problems
        mapping = p.mapping(value, mark, f"rule {number}")
        if mapping is None:
            return None
        p.known_keys(mapping, ("name", "if", "then", "continue"), "rule key")
        name = f"rule {number}"
        if "name" in mapping:
            name = p.text(mapping["name"], mapping.at("name"), "name") or name
        condition = None
        matches_all = mapping.get("if") is None or mapping["if"] == {}
        if not matches_all:
            condition = read_condition(self.problems, mapping["if"], mapping.at("if"), "if")
        if "then" not in mapping:
            p.add(mapping.mark, f"rule '{name}' needs 'then' (what to do when it matches)")
        then = self.actions(mapping.get("then"), mapping.at("then"))
        cont = bool(p.flag(mapping["continue"], mapping.at("continue"), "continue")) if "continue" in mapping else False
        rule = Rule(name, condition, then or Actions(), cont, mapping.mark.line, mapping.mark.col, domain_gate(condition))
        return rule, matches_all

    def actions(self, value: Any, mark: Mark) -> Actions | None:
        p = self.problems
        mapping = p.mapping(value, mark, "then")
        if mapping is None:
            return None
        p.known_keys(mapping, ACTIONS, "action")
        f: dict[str, Any] = {}
        for key, v in mapping.items():
            at = mapping.at(key)
            if key == "team":
                f[key] = self.team(v, at)
            elif key == "priority":
                f[key] = self.priority(v, at)
            elif key == "tags":
                f[key] = tuple(dict.fromkeys(text.strip() for text, _ in p.texts(v, at, key)))
            elif key == "assign":
                f[key] = next(iter(self.problems.addresses(v, at, key)), None) if isinstance(v, str) else p.text(v, at, key)
            elif key == "notify":
                f[key] = tuple(self.problems.addresses(v, at, key))
            elif key == "sla":
                f.update(self.sla_action(v, at))
            elif key == "ack":
                f[key] = self.ack(v, at)
            elif key == "links":
                f[key] = self.links(v, at)
            elif key in ("survey", "page", "ignore"):
                f[key] = p.flag(v, at, key)
            elif key == "language":
                f[key] = next(iter(language_codes(p, v, at, key)), None)
        return Actions(**{k: v for k, v in f.items() if k in Actions.__dataclass_fields__})

    def sla_action(self, value: Any, at: Mark) -> dict[str, Any]:
        if isinstance(value, MarkedMap):
            return {"sla_override": read_policy_keys(self.problems, value, self.calendars, "sla") or None}
        name = self.problems.text(value, at, "sla")
        if name is not None and name not in self.sla:
            self.problems.add(at, f"unknown SLA policy '{name}'{suggest(name, self.sla)}")
            return {}
        return {"sla": name}

    def links(self, value: Any, mark: Mark) -> tuple[Link, ...]:
        found = self.problems.items(value, mark, "links") or MarkedList()
        links = []
        for index, item in enumerate(found):
            at = found.at(index)
            if isinstance(item, MarkedMap):
                self.problems.known_keys(item, ("title", "url"), "link key")
                url = self.problems.text(item.get("url"), item.at("url"), "url")
                title = self.problems.text(item.get("title", url or "link"), item.at("title"), "title")
            else:
                url = title = self.problems.text(item, at, "links")
            if url is not None and not url.startswith(("https://", "http://")):
                self.problems.add(at, f"links: '{url}' is not an http(s) URL")
            elif url is not None and title is not None:
                links.append(Link(title, url))
        return tuple(links)


def _template_names(template_dir: Path | None) -> set[str] | None:
    """Names a rule may give to `ack:`: every `NAME.…` file in the folder (None: not checked)."""
    if template_dir is None:
        return None
    try:
        return {p.name.split(".", 1)[0] for p in Path(template_dir).iterdir() if p.is_file() and "." in p.name}
    except OSError:
        return set()
