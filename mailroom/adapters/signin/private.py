"""A file that holds a token: replaced whole, readable by this user alone from the moment it exists."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically; the file is made 0600, never widened then narrowed."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # A name of its own: the daemon and `mailroom auth login` may write at the same moment, and
    # O_EXCL makes a new file, so the mode given here is the one it has (an old file's is not kept).
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
