"""What every job of one cycle needs to know: settings, the rules in force, the secret, the time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailroom.ports import Meter
from mailroom.rules.ruleset import Rules


@dataclass(frozen=True)
class Context:
    """The settings, the last good rules and the HMAC secret, with the instant of this step."""

    settings: Any
    rules: Rules
    secret: str
    now: datetime
    language_of: Callable[[str], str | None] | None = None  # tells a text's language; None: not told
    meter: Meter | None = None  # counts for the metrics endpoint; None: nothing counted

    @property
    def support_address(self) -> str:
        """The support address; customers write here, all outbound mail comes from here."""
        return self.settings.support.address

    @property
    def our_addresses(self) -> tuple[str, ...]:
        """Every address of ours: the support address first, then its aliases."""
        support = self.settings.support
        # Settings built by hand (tests, tools) may have no aliases.
        return tuple(dict.fromkeys([support.address, *getattr(support, "addresses", ())]))

    def is_agent_address(self, address: str) -> bool:
        """True when the address belongs to an engineer (never one of ours)."""
        return bool(address) and self.rules.is_agent(address, self.our_addresses)
