"""The files mailroom keeps under data_dir: attachments and originals, private and written whole."""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import os
from collections.abc import Iterator
from pathlib import Path

FOLDER_MODE = 0o700  # customer mail: readable by mailroom's user alone, whatever the umask
FILE_MODE = 0o600


def private_folder(path: Path, only_missing: bool = False) -> Path:
    """`path` and its missing parents made mode 0700; `path` itself made 0700 too unless only_missing."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode is masked by the umask
    if not only_missing:
        os.chmod(path, FOLDER_MODE)
    return path


def private_data_dir(path: Path) -> Path:
    """The data folder made private; one that others could read has everything in it made private too."""
    if path.exists() and path.stat().st_mode & 0o077:
        # A data folder from before (or made by hand): what is in it may be readable as well.
        for folder, _, names in os.walk(path):
            for name in (folder, *(os.path.join(folder, n) for n in names)):
                mode = os.lstat(name).st_mode
                if mode & 0o077 and not os.path.islink(name):
                    os.chmod(name, mode & 0o700)
    return private_folder(path)


@contextlib.contextmanager
def _writing_in(folder: Path) -> Iterator[None]:
    """The folder's lock held: one writer at a time, in every process, until the block ends."""
    # Attachments and originals are content-addressed, so two workers (or a worker and an import)
    # storing the same mail write the same name: unlocked, one truncates the other's temporary
    # copy and renames it from under it. flock ends with its holder, so a crash leaves no stale lock.
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def keep(path: Path, data: bytes, *, once: bool = False) -> None:
    """Write `data` to `path` as one whole file of mode 0600 (a crash leaves the old file or none).

    With `once`, a file already at `path` is left as it is: its name says its content.
    """
    if once and path.exists():  # the common case, decided without taking the lock
        return
    private_folder(path.parent)
    with _writing_in(path.parent):
        if once and path.exists():  # written by another writer while this one waited
            return
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), FILE_MODE)  # an existing file keeps its mode through O_CREAT
            out.write(data)
        tmp.replace(path)


def attachment_path(data_dir: Path, sha256: str) -> Path:
    """Where an attachment's bytes live: content-addressed, so duplicates are stored once."""
    return Path(data_dir) / "attachments" / sha256[:2] / sha256


def original_path(data_dir: Path, content_key: str) -> Path:
    """Where the whole original of a mail whose text was cut is kept, compressed."""
    return Path(data_dir) / "originals" / content_key[:2] / f"{content_key}.eml.gz"


def keep_original(data_dir: Path, content_key: str, raw: bytes) -> Path:
    """Keep the raw mail once (gzip): the text in the database is cut, this has the rest."""
    path = original_path(data_dir, content_key)
    if not path.exists():  # kept already: not compressed again
        keep(path, gzip.compress(raw, compresslevel=6), once=True)
    return path


def read_original(data_dir: Path, content_key: str) -> bytes | None:
    """The kept original of a mail, or None when none was kept."""
    path = original_path(data_dir, content_key)
    return gzip.decompress(path.read_bytes()) if path.is_file() else None
