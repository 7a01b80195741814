"""Address and domain patterns of rules.yaml: exact or `*` globs, a domain covering its subdomains."""

from __future__ import annotations

import re


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def domain_suffixes(domain: str) -> tuple[str, ...]:
    """`eu.bigcorp.com` → (`eu.bigcorp.com`, `bigcorp.com`, `com`): what a domain pattern may name."""
    labels = domain.split(".")
    return tuple(".".join(labels[i:]) for i in range(len(labels)))


class AddressPatterns:
    """Addresses and domains, exact or `*` globs, case-insensitive; a domain covers its subdomains."""

    __slots__ = ("addresses", "address_globs", "domains", "domain_globs")

    def __init__(self, patterns: list[str]) -> None:
        self.addresses: set[str] = set()
        self.domains: set[str] = set()
        self.address_globs: list[tuple[str, re.Pattern[str]]] = []
        self.domain_globs: list[tuple[str, re.Pattern[str]]] = []
        for raw in patterns:
            pattern = raw.strip().lower().removeprefix("@")
            is_address = "@" in pattern
            if "*" in pattern:
                (self.address_globs if is_address else self.domain_globs).append((pattern, _glob(pattern)))
            else:
                (self.addresses if is_address else self.domains).add(pattern)

    def match(self, address: str) -> str | None:
        """The pattern that covers `address` (lowercased), or None."""
        if address in self.addresses:
            return address
        for pattern, rx in self.address_globs:
            if rx.fullmatch(address):
                return pattern
        if self.domains or self.domain_globs:
            return self.match_domain(domain_suffixes(address.rpartition("@")[2]))
        return None

    def match_domain(self, suffixes: tuple[str, ...]) -> str | None:
        """The domain pattern that covers the domain whose suffixes are given, or None."""
        for suffix in suffixes:
            if suffix in self.domains:
                return suffix
        for pattern, rx in self.domain_globs:
            for suffix in suffixes:
                if rx.fullmatch(suffix):
                    return pattern
        return None
