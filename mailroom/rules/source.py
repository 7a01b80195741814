"""The rules in force: loaded at start, reloaded when the file changes, the last good kept on error."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from mailroom.errors import RulesError
from mailroom.rules.ruleset import Rules, load_rules

log = logging.getLogger("mailroom.rules")


class RulesSource:
    """Watches `rules.yaml`; a bad edit is logged with its line and column and never replaces good rules."""

    def __init__(
        self, path: Path, template_dir: Path | None, ours: tuple[str, ...] | None = None,
        mailboxes: tuple[str, ...] | None = None,
    ) -> None:
        self.path = path
        self.template_dir = template_dir
        self.ours = ours
        self.mailboxes = mailboxes
        self.rules: Rules | None = None
        self.digest: str | None = None
        self.error: str | None = None

    def load(self) -> Rules:
        """First load: a bad file is a start error (RulesError)."""
        data = self.path.read_bytes()
        self.rules = load_rules(self.path, self.template_dir, self.ours, self.mailboxes)
        self.digest = hashlib.sha256(data).hexdigest()
        self.error = None
        return self.rules

    def reload(self) -> bool:
        """Reload when changed; True when new rules took effect."""
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            self._fail(f"{self.path.name}: cannot read: {exc.strerror or exc}")
            return False
        digest = hashlib.sha256(data).hexdigest()
        if digest == self.digest:
            return False
        try:
            rules = load_rules(self.path, self.template_dir, self.ours, self.mailboxes)
        except RulesError as exc:
            self.digest = digest  # report a bad edit once, not every cycle
            self._fail("\n".join(exc.errors))
            return False
        self.rules, self.digest, self.error = rules, digest, None
        log.info("rules reloaded from %s", self.path)
        return True

    def _fail(self, error: str) -> None:
        self.error = error
        for line in error.splitlines():
            log.error("rules not reloaded, keeping the last good rules: %s", line)
