"""Secrets named in mailroom.toml: read on demand from the environment, a file, or the config itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from mailroom.errors import ConfigError

Source = Literal["env", "file", "inline"]


@dataclass(frozen=True, slots=True)
class Secret:
    """Where a secret lives; `reveal()` reads it, and no repr or str ever shows it."""

    key: str
    source: Source
    # The environment variable's name, the file's absolute path, or the inline value itself.
    where: str = field(repr=False)
    # Read at reveal time, so commands that never connect never need the secret set.
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def origin(self) -> str:
        """The key as written in mailroom.toml: `mailbox.password_env`, `…_file` or the bare key."""
        return self.key if self.source == "inline" else f"{self.key}_{self.source}"

    def reveal(self) -> str:
        """The secret's value; ConfigError naming the key when it cannot be read or is empty."""
        if self.source == "inline":
            return self.where
        if self.source == "env":
            value = self.env.get(self.where)
            if value is None:
                raise ConfigError(f'{self.origin}: environment variable "{self.where}" is not set')
            if not value:
                raise ConfigError(f'{self.origin}: environment variable "{self.where}" is empty')
            return value
        try:
            value = Path(self.where).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f'{self.origin}: cannot read "{self.where}": {exc.strerror or exc}') from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f'{self.origin}: "{self.where}" is not UTF-8 text') from exc
        # Files written by editors and `echo` end with a newline that is not part of the secret.
        value = value.rstrip("\r\n")
        if not value:
            raise ConfigError(f'{self.origin}: "{self.where}" is empty')
        return value

    def reveal_optional(self) -> str | None:
        """Like `reveal()`, but None when the environment variable is not set (or empty)."""
        if self.source == "env" and not self.env.get(self.where):
            return None
        return self.reveal()

    def __repr__(self) -> str:
        shown = "***" if self.source == "inline" else f'"{self.where}"'
        return f"Secret({self.origin}={shown})"

    __str__ = __repr__
