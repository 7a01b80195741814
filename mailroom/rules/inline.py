"""The `tests:` section of rules.yaml: each inline test's message and expectations, read and checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from mailroom.rules.conditions import language_codes, mailbox_names
from mailroom.rules.yamlmarks import Mark, MarkedList, MarkedMap, Problems, kind, suggest

MESSAGE_KEYS = ("from", "to", "cc", "subject", "body", "headers", "has_attachment", "language", "mailbox")
EXPECT_KEYS = (
    "team", "priority", "tags", "ignore", "ack", "page", "assign", "sla", "notify", "survey", "matched", "language",
)


@dataclass(frozen=True)
class SampleMessage:
    """The message of an inline test."""

    from_addr: str = "customer@example.net"
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    subject: str = ""
    body: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    has_attachment: bool = False
    language: str | None = None  # as if detected in the mail
    mailbox: str = ""  # the mailbox it is read from, by its name in mailroom.toml


@dataclass(frozen=True)
class Expectation:
    """One `expect:` key of an inline test, with its place for failure lines."""

    key: str
    value: Any
    line: int
    col: int


@dataclass(frozen=True)
class InlineTest:
    """An inline test: a message and what the rules must decide for it."""

    number: int  # 1-based, as admins count
    message: SampleMessage
    expect: tuple[Expectation, ...]
    line: int
    col: int
    name: str | None = None


class ActionValues(Protocol):
    """The rules reader's checks of single values, so `expect:` accepts exactly what `then:` does."""

    problems: Problems

    def team(self, value: Any, mark: Mark) -> str | None: ...

    def priority(self, value: Any, mark: Mark) -> str | None: ...

    def ack(self, value: Any, mark: Mark) -> str | bool | None: ...

    def sla_action(self, value: Any, at: Mark) -> dict[str, Any]: ...


def read_tests(reader: ActionValues, value: Any, mark: Mark, rule_names: set[str]) -> list[InlineTest]:
    """Every inline test of the section, recording each problem with the reader's and carrying on."""
    problems = reader.problems
    if not isinstance(value, MarkedList):
        problems.add(mark, f"tests: expected a list of tests, got {kind(value)}")
        return []
    tests = []
    for index, item in enumerate(value):
        mapping = problems.mapping(item, value.at(index), f"test {index + 1}")
        if mapping is None:
            continue
        problems.known_keys(mapping, ("name", "message", "expect"), "test key")
        for needed in ("message", "expect"):
            if needed not in mapping:
                problems.add(mapping.mark, f"test {index + 1} needs '{needed}'")
        message = _sample(problems, mapping.get("message"), mapping.at("message"))
        expect = _expectations(reader, mapping.get("expect"), mapping.at("expect"), rule_names)
        name = mapping.get("name") if isinstance(mapping.get("name"), str) else None
        tests.append(InlineTest(index + 1, message, expect, mapping.mark.line, mapping.mark.col, name))
    return tests


def _sample(p: Problems, value: Any, mark: Mark) -> SampleMessage:
    mapping = p.mapping(value, mark, "message") or MarkedMap()
    p.known_keys(mapping, MESSAGE_KEYS, "message key")
    f: dict[str, Any] = {}
    for key, v in mapping.items():
        at = mapping.at(key)
        if key == "from":
            f["from_addr"] = next(iter(p.addresses(v, at, key)), "")
        elif key in ("to", "cc"):
            f[key] = tuple(p.addresses(v, at, key))
        elif key in ("subject", "body"):
            f[key] = "" if v is None else str(v)
        elif key == "has_attachment":
            f[key] = bool(p.flag(v, at, key))
        elif key == "language":
            f[key] = next(iter(language_codes(p, v, at, key)), None)
        elif key == "mailbox":
            f[key] = next(iter(mailbox_names(p, v, at, key)), "")
        elif key == "headers":
            headers = p.mapping(v, at, key) or MarkedMap()
            f[key] = tuple(
                (str(name), text)
                for name, values in headers.items()
                for text, _ in p.texts(values, headers.at(name), f"headers {name}")
            )
    return SampleMessage(**{k: v for k, v in f.items() if k in MESSAGE_KEYS or k == "from_addr"})


def _expectations(reader: ActionValues, value: Any, mark: Mark, rule_names: set[str]) -> tuple[Expectation, ...]:
    p = reader.problems
    mapping = p.mapping(value, mark, "expect") or MarkedMap()
    p.known_keys(mapping, EXPECT_KEYS, "expect key")
    found = []
    for key, v in mapping.items():
        at = mapping.at(key)
        wanted: Any = v
        if key == "team":
            wanted = reader.team(v, at)
        elif key == "priority":
            wanted = reader.priority(v, at)
        elif key in ("tags", "notify", "matched"):
            wanted = tuple(text.strip() for text, _ in p.texts(v, at, key))
            for name in wanted if key == "matched" else ():
                if name not in rule_names:
                    p.add(at, f"unknown rule '{name}'{suggest(name, rule_names)}")
        elif key in ("ignore", "page", "survey"):
            wanted = p.flag(v, at, key)
        elif key == "ack":
            wanted = reader.ack(v, at)
        elif key == "language":
            wanted = next(iter(language_codes(p, v, at, key)), None)
        elif key == "assign":
            wanted = None if v is None else next(iter(p.addresses(v, at, key)), None)
        elif key == "sla":
            wanted = reader.sla_action(v, at)
            wanted = wanted.get("sla_override") or wanted.get("sla")
        if key in EXPECT_KEYS and (wanted is not None or key == "assign"):
            found.append(Expectation(key, wanted, mapping.key_at(key).line, mapping.key_at(key).col))
    return tuple(found)
