"""Which hosts are this machine: the only ones plain, unencrypted connections may go to."""

from __future__ import annotations

import ipaddress

# Names under .localhost (RFC 6761) are not promised to resolve to loopback by every resolver;
# only these names are.
_LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


def is_loopback(host: str) -> bool:
    """True for `localhost` and for loopback addresses (127.0.0.0/8, ::1), bracketed or not."""
    host = host.strip().strip("[]").lower().rstrip(".")
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
