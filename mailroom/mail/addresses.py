"""Mail addresses: which can be written verbatim, and which are the support mailbox's own."""

from __future__ import annotations

import re
from collections.abc import Iterable

_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def valid_address(address: str | None) -> bool:
    """True for a plain ASCII `local@domain` address that can go in a header and an envelope."""
    return bool(address) and len(address or "") <= 320 and bool(_ADDRESS.match(address or ""))


Ours = str | Iterable[str]  # the support address, or every address of ours


def ours_of(ours: Ours) -> tuple[str, ...]:
    """The addresses of ours, lowercased, the main one first."""
    return (ours,) if isinstance(ours, str) else tuple(ours)


def is_support(address: str, ours: Ours) -> bool:
    """An address of ours, or one of its `support+…@` forms (ticket and survey sub-addresses)."""
    return our_address(address, ours) is not None


def our_address(address: str, ours: Ours) -> str | None:
    """Which of our addresses `address` is (its `+…` form included), lowercased; None when none."""
    local, _, domain = address.strip().lower().rpartition("@")
    for candidate in ours_of(ours):
        s_local, _, s_domain = candidate.strip().lower().rpartition("@")
        if s_local and domain == s_domain and local.split("+", 1)[0] == s_local.split("+", 1)[0]:
            return candidate.strip().lower()
    return None
