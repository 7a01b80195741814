"""Mail addresses: which can be written verbatim, and which are the support mailbox's own."""

from __future__ import annotations

import re

_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def valid_address(address: str | None) -> bool:
    """True for a plain ASCII `local@domain` address that can go in a header and an envelope."""
    return bool(address) and len(address or "") <= 320 and bool(_ADDRESS.match(address or ""))


def is_support(address: str, support_address: str) -> bool:
    """The support address itself, or one of its `support+…@` forms (ticket and survey sub-addresses)."""
    local, _, domain = address.strip().lower().rpartition("@")
    s_local, _, s_domain = support_address.strip().lower().rpartition("@")
    return bool(s_local) and domain == s_domain and local.split("+", 1)[0] == s_local.split("+", 1)[0]
