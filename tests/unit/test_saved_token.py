"""A rotated refresh token kept on disk: private from the start, replaced whole, outranked by a new configuration."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mailroom.adapters.signin.saved import SavedRefreshToken


def test_a_rotated_token_is_kept_private_and_used_next(tmp_path: Path) -> None:
    path = tmp_path / "signin" / "imap.token"
    old = os.umask(0)  # the file must be 0600 whatever the umask lets through
    try:
        SavedRefreshToken(path, "configured-1").save("rotated-1")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert SavedRefreshToken(path, "configured-1").current() == "rotated-1"
    assert sorted(p.name for p in path.parent.iterdir()) == ["imap.token"]  # no temporary file left


def test_a_new_configured_token_wins_over_an_older_rotation(tmp_path: Path) -> None:
    path = tmp_path / "imap.token"
    SavedRefreshToken(path, "configured-1").save("rotated-1")
    assert SavedRefreshToken(path, "configured-2").current() == "configured-2"
    SavedRefreshToken(path, "configured-2").save("rotated-2")
    assert SavedRefreshToken(path, "configured-2").current() == "rotated-2"
