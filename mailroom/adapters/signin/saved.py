"""A refresh token the provider rotated, kept (file 0600) in place of the configured one it replaced."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from mailroom.adapters.signin.private import write_private


class SavedRefreshToken:
    """The newest refresh token for one configured one; a changed configuration wins over what was saved."""

    def __init__(self, path: Path, configured: str) -> None:
        self.path = path
        self.configured = configured
        # Saved with the hash of the configured token it descends from: an admin who puts a new
        # token in the config means that one, not an older rotation of the previous.
        self._origin = hashlib.sha256(configured.encode()).hexdigest()

    def current(self) -> str:
        """The rotated token when one was saved for this configured token, else the configured one."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return self.configured
        if isinstance(data, dict) and data.get("origin") == self._origin and isinstance(data.get("refresh_token"), str):
            return str(data["refresh_token"])
        return self.configured

    def save(self, token: str) -> None:
        """Keep a rotated token, atomically, readable by this user alone."""
        if token == self.current():
            return
        write_private(self.path, json.dumps({"origin": self._origin, "refresh_token": token}))
