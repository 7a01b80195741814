"""Typed reading of one mailroom.toml table: each getter checks its key, and errors name it."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mailroom.config.hosts import is_loopback
from mailroom.config.secrets import Secret, Source
from mailroom.config.units import parse_duration, parse_size
from mailroom.errors import ConfigError

_URL = re.compile(r"^https?://[^\s/]+")


def show(value: Any) -> str:
    """A value as an error message quotes it: TOML's words, strings quoted, on one line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        # json quoting keeps the message on one line whatever the value holds.
        return json.dumps(value if len(value) <= 80 else value[:77] + "...", ensure_ascii=False)
    return str(value)


class Table:
    """One TOML table being read: typed getters whose errors name the key."""

    def __init__(self, name: str, data: dict[str, Any] | None, base_dir: Path, env: Mapping[str, str]) -> None:
        self.name = name
        self.present = data is not None
        self.data = data or {}
        self.base_dir = base_dir
        self.env = env

    def error(self, key: str, message: str) -> ConfigError:
        """A ConfigError for `table.key`."""
        return ConfigError(f"{self.name}.{key}: {message}")

    def expected(self, key: str, what: str, value: Any) -> ConfigError:
        """`table.key: expected WHAT, got VALUE`."""
        return self.error(key, f"expected {what}, got {show(value)}")

    def string(self, key: str, default: str | None = None) -> str:
        """A string, stripped; required when there is no default."""
        value = self.data.get(key, default)
        if value is None:
            raise self.error(key, "required")
        if not isinstance(value, str):
            raise self.expected(key, "a string", value)
        return value.strip()

    def required(self, key: str) -> str:
        """A non-empty string."""
        value = self.string(key)
        if not value:
            raise self.error(key, "required")
        return value

    def choice(self, key: str, allowed: tuple[str, ...], default: str) -> str:
        """One of `allowed`, compared case-insensitively."""
        value = self.string(key, default).lower()
        if value not in allowed:
            options = ", ".join(allowed[:-1]) + f" or {allowed[-1]}"
            raise self.expected(key, options, self.data.get(key, default))
        return value

    def integer(self, key: str, default: int | None, low: int, high: int | None = None) -> int:
        """An integer within `low..high`."""
        value = self.data.get(key, default)
        if value is None:
            raise self.error(key, "required")
        # bool is an int in Python, but `port = true` is a mistake.
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.expected(key, "an integer", value)
        if value < low or (high is not None and value > high):
            bounds = f"{low}-{high}" if high is not None else f"at least {low}"
            raise self.expected(key, f"an integer {bounds}", value)
        return value

    def port(self, key: str, default: int) -> int:
        """A TCP port number."""
        return self.integer(key, default, 1, 65535)

    def folder(self, key: str, default: str) -> str:
        """A non-empty IMAP folder name."""
        value = self.string(key, default)
        if not value:
            raise self.expected(key, "a folder name", value)
        return value

    def boolean(self, key: str, default: bool) -> bool:
        """true or false."""
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.expected(key, "true or false", value)
        return value

    def number(self, key: str, default: float) -> float:
        """A number, integer or decimal."""
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.expected(key, "a number", value)
        return float(value)

    def duration(self, key: str, default: str, positive: bool = False) -> timedelta:
        """A duration string such as "30s" or "4h"."""
        value = self.data.get(key, default)
        try:
            if not isinstance(value, str):
                raise ValueError(f'expected a duration like "90s", "15m", "4h" or "2d", got {show(value)}')
            delta = parse_duration(value)
        except ValueError as exc:
            raise self.error(key, str(exc)) from None
        if positive and delta <= timedelta(0):
            raise self.error(key, f'must be longer than 0s, got "{value}"')
        return delta

    def size(self, key: str, default: str, minimum: int = 0) -> int:
        """A size in bytes, written as "25MB" or a plain integer, at least `minimum`."""
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.expected(key, 'a size like "25MB"', value)
        try:
            size = parse_size(value)
        except ValueError as exc:
            raise self.error(key, str(exc)) from None
        if size < 0:
            raise self.expected(key, 'a size like "25MB"', value)
        if size < minimum:
            raise self.expected(key, f"a size of at least {minimum} bytes", value)
        return size

    def path(self, key: str, default: str) -> Path:
        """A path, relative to the config file's folder."""
        value = self.string(key, default)
        if not value:
            raise self.error(key, "required")
        return (self.base_dir / Path(value).expanduser()).resolve()

    def optional_path(self, key: str) -> Path | None:
        """A path, or None when empty or absent."""
        return self.path(key, "") if self.string(key, "") else None

    def strings(self, key: str) -> tuple[str, ...]:
        """A list of strings, each stripped and lowercased."""
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise self.expected(key, "a list of strings", value)
        items = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.error(f"{key}[{index}]", f"expected a non-empty string, got {show(item)}")
            items.append(item.strip().lower())
        return tuple(items)

    def url(self, key: str, default: str | None = None) -> str:
        """An https URL; http only to a loopback host (the key or the payload would travel in clear)."""
        value = self.string(key, default)
        if not value:
            raise self.error(key, "required")
        if not _URL.match(value):
            raise self.expected(key, "an http:// or https:// URL", value)
        if value.lower().startswith("http://") and not is_loopback(urlsplit(value).hostname or ""):
            raise self.error(key, f"{value} is not encrypted: use https:// (http:// only for a loopback host)")
        return value

    def secret(self, key: str, default_env: str | None = None) -> Secret | None:
        """The secret in `key`, `key_env` or `key_file`; None when none is given and no default."""
        forms: dict[Source, str] = {"inline": key, "env": f"{key}_env", "file": f"{key}_file"}
        given: dict[Source, str] = {}
        for source, name in forms.items():
            if name in self.data:
                value = self.data[name]
                if not isinstance(value, str):
                    raise self.expected(name, "a string", value)
                if value.strip():
                    # Inline secrets are kept exactly; names and paths lose stray blanks.
                    given[source] = value if source == "inline" else value.strip()
        if len(given) > 1:
            names = " and ".join(forms[source] for source in given)
            raise self.error(key, f"give only one of {names}")
        full = f"{self.name}.{key}"
        if given:
            source, where = next(iter(given.items()))
            if source == "file":
                where = str((self.base_dir / Path(where).expanduser()).resolve())
            return Secret(full, source, where, self.env)
        # Writing `key_env = ""` turns a default off; leaving all forms out keeps it.
        if default_env and not any(name in self.data for name in forms.values()):
            return Secret(full, "env", default_env, self.env)
        return None

    def required_secret(self, key: str, default_env: str | None = None) -> Secret:
        """A secret that must be configured."""
        secret = self.secret(key, default_env)
        if secret is None:
            raise self.error(key, f"required (set {key}_env or {key}_file)")
        return secret
