"""YAML with the line and column of every value, and the collecting of `file:LINE:COL: message` errors."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import yaml


@dataclass(frozen=True, order=True)
class Mark:
    """A place in the file, 1-based."""

    line: int
    col: int

    @classmethod
    def of(cls, node: yaml.Node | yaml.Mark) -> Mark:
        """The start of a node (or a PyYAML mark), made 1-based."""
        mark = node.start_mark if isinstance(node, yaml.Node) else node
        return cls(mark.line + 1, mark.column + 1)


class MarkedMap(dict[Any, Any]):
    """A mapping that remembers where it, each of its keys and each of its values start."""

    def __init__(self, *args: Any, mark: Mark | None = None) -> None:
        super().__init__(*args)
        self.mark = mark or Mark(1, 1)
        self.key_marks: dict[Any, Mark] = {}
        self.value_marks: dict[Any, Mark] = {}

    def key_at(self, key: Any) -> Mark:
        """Where `key` is written."""
        return self.key_marks.get(key, self.mark)

    def at(self, key: Any) -> Mark:
        """Where the value of `key` starts."""
        return self.value_marks.get(key, self.mark)


class MarkedList(list[Any]):
    """A list that remembers where it and each of its items start."""

    def __init__(self, *args: Any, mark: Mark | None = None) -> None:
        super().__init__(*args)
        self.mark = mark or Mark(1, 1)
        self.item_marks: list[Mark] = []

    def at(self, index: int) -> Mark:
        """Where item `index` starts."""
        return self.item_marks[index] if index < len(self.item_marks) else self.mark


_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")
_PATTERN = re.compile(r"^[^@\s]*@?[^@\s]+$")


# libyaml's parser is several times faster and reports the same marks; PyYAML's is the fallback.
_SafeBase: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeBase):  # type: ignore[misc]  # PyYAML's loaders are untyped
    """SafeLoader whose mappings and lists carry marks; duplicate keys are noted, not dropped silently."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[Mark, str]] = []


def _map(loader: _Loader, node: yaml.MappingNode) -> MarkedMap:
    loader.flatten_mapping(node)
    result = MarkedMap(mark=Mark.of(node))
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, list | dict):
            key = str(key)
        if key in result:
            loader.duplicates.append((Mark.of(key_node), f"duplicate key '{key}'"))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_marks[key] = Mark.of(key_node)
        result.value_marks[key] = Mark.of(value_node)
    return result


def _list(loader: _Loader, node: yaml.SequenceNode) -> MarkedList:
    result = MarkedList((loader.construct_object(child, deep=True) for child in node.value), mark=Mark.of(node))
    result.item_marks = [Mark.of(child) for child in node.value]
    return result


_Loader.add_constructor("tag:yaml.org,2002:map", _map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _list)


class Problems:
    """Every error found in one file, reported together as `file:LINE:COL: message`, in file order."""

    def __init__(
        self, filename: str, ours: tuple[str, ...] | None = None, mailboxes: tuple[str, ...] | None = None
    ) -> None:
        self.filename = filename
        self.found: list[tuple[Mark, str]] = []
        self.ours = ours  # the addresses of ours from mailroom.toml, when known: `to_address` must name one
        self.mailboxes = mailboxes  # the mailbox names of mailroom.toml, when known: `mailbox` must name one

    def add(self, mark: Mark, message: str) -> None:
        """Record one error at `mark`."""
        self.found.append((mark, message))

    def lines(self) -> list[str]:
        """The errors, sorted by place, each `file:LINE:COL: message`."""
        ordered = sorted(enumerate(self.found), key=lambda item: (item[1][0], item[0]))
        return [f"{self.filename}:{m.line}:{m.col}: {text}" for _, (m, text) in ordered]

    def __bool__(self) -> bool:
        return bool(self.found)

    # The typed readers below record an error and answer None when the value has the wrong type.

    def mapping(self, value: Any, mark: Mark, what: str) -> MarkedMap | None:
        """`value` when it is a mapping (null counts as an empty one)."""
        if value is None:
            return MarkedMap(mark=mark)
        if isinstance(value, MarkedMap):
            return value
        self.add(mark, f"{what}: expected a mapping, got {kind(value)}")
        return None

    def items(self, value: Any, mark: Mark, what: str) -> MarkedList | None:
        """`value` when it is a list; a single value counts as a list of one."""
        if isinstance(value, MarkedList):
            return value
        if value is None:
            self.add(mark, f"{what}: expected a list, got nothing")
            return None
        single = MarkedList([value], mark=mark)
        single.item_marks = [mark]
        return single

    def text(self, value: Any, mark: Mark, what: str) -> str | None:
        """`value` when it is non-empty text."""
        if isinstance(value, str) and value.strip():
            return value
        # YAML reads unquoted yes/no/on/off, numbers and dates as other types: say how to keep text.
        hint = " (put it in quotes)" if isinstance(value, bool | int | float | date) else ""
        self.add(mark, f"{what}: expected text, got {kind(value)}{hint}")
        return None

    def texts(self, value: Any, mark: Mark, what: str) -> list[tuple[str, Mark]]:
        """A text or a list of texts, each with its place; bad items are reported and skipped."""
        found = self.items(value, mark, what)
        if found is None:
            return []
        result = []
        for index, item in enumerate(found):
            item_text = self.text(item, found.at(index), what)
            if item_text is not None:
                result.append((item_text, found.at(index)))
        return result

    def flag(self, value: Any, mark: Mark, what: str) -> bool | None:
        """`value` when it is true or false."""
        if isinstance(value, bool):
            return value
        self.add(mark, f"{what}: expected true or false, got {kind(value)}")
        return None

    def known_keys(self, mapping: MarkedMap, allowed: Iterable[str], what: str) -> None:
        """Report every key not in `allowed`, suggesting the closest allowed one."""
        allowed = list(allowed)
        for key in mapping:
            if key not in allowed:
                self.add(mapping.key_at(key), f"unknown {what} '{key}'{suggest(str(key), allowed)}")

    def addresses(self, value: Any, mark: Mark, what: str) -> list[str]:
        """Email addresses (one or a list), lowercased; bad ones are reported and skipped."""
        found = []
        for text, at in self.texts(value, mark, what):
            if _ADDRESS.match(text.strip()):
                found.append(text.strip().lower())
            else:
                self.add(at, f"{what}: '{text}' is not an email address")
        return found

    def patterns(self, value: Any, mark: Mark, what: str, domains: bool = False) -> list[str]:
        """Address or domain patterns (`*` globs allowed); with `domains`, addresses are refused."""
        found = []
        for text, at in self.texts(value, mark, what):
            text = text.strip()
            if domains and "@" in text:
                self.add(at, f"{what}: '{text}' is an address; give a domain like bigcorp.com")
            elif not _PATTERN.match(text):
                self.add(at, f"{what}: '{text}' is not an address, domain or * pattern")
            else:
                found.append(text)
        return found


def load_marked(text: str, problems: Problems) -> Any:
    """Parse YAML into plain values with marks; a syntax error is recorded and answers None."""
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Mark.of(mark) if mark is not None else Mark(1, 1)
        problem = exc.problem or "cannot parse"
        context = f" ({exc.context})" if exc.context and exc.context != problem else ""
        problems.add(where, f"YAML syntax error: {problem}{context}")
        return None
    except yaml.YAMLError as exc:
        problems.add(Mark(1, 1), f"YAML syntax error: {exc}")
        return None
    finally:
        loader.dispose()
    for place, message in loader.duplicates:
        problems.add(place, message)
    return data


def suggest(word: str, choices: Iterable[str]) -> str:
    """`, did you mean 'subject'?` when a choice is close to `word`, else an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f", did you mean '{close[0]}'?" if close else ""


def kind(value: Any) -> str:
    """How a YAML value reads to an admin, for error messages."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, datetime | date):
        return f"the date {value.isoformat()}"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, str) and not value.strip():
        return "empty text"
    return f"'{value}'"
