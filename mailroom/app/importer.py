"""`mailroom import PATH`: past support mail from an mbox or Maildir, exactly once, no mail sent."""

from __future__ import annotations

import mailbox
import sys
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from mailroom import clock
from mailroom.app.ingest import Placement, ingest
from mailroom.errors import MailroomError
from mailroom.mail.message import parse
from mailroom.store.contentkey import content_key


def _messages(path: Path) -> Iterator[bytes]:
    """Raw messages of an mbox file or a Maildir folder, in file order."""
    if path.is_dir():
        if not (path / "cur").is_dir() and not (path / "new").is_dir():
            raise MailroomError(f"{path}: not a Maildir (no cur/ or new/)")
        box: Any = mailbox.Maildir(str(path), factory=None, create=False)
        keys = sorted(box.keys())
    elif path.is_file():
        box = mailbox.mbox(str(path), factory=None, create=False)
        keys = list(box.keys())
    else:
        raise MailroomError(f"{path}: no such file or folder")
    try:
        for key in keys:
            yield box.get_bytes(key)
    finally:
        box.close()  # an mbox keeps its file open until closed


def _arrival(raw: bytes) -> datetime:
    """History has no IMAP arrival time: the Date header stands in, else now."""
    head = raw[:16384].decode("latin-1", "replace")
    for line in head.splitlines():
        if not line.strip():
            break
        if line.lower().startswith("date:"):
            try:
                value = parsedate_to_datetime(line[5:].strip())
                return clock.as_utc(value)
            except (TypeError, ValueError):
                break
    return clock.now()


def import_command(service: Any, settings: Any, path: Path) -> int:
    """Import every message once into `service`'s store: tickets closed, no SLA clocks, no mail sent."""
    # A reply joins its question's ticket only when the question is stored already, and file
    # order is no time order (Maildir names, exports grouped by thread): oldest first, ties in
    # file order.
    dated = sorted(((_arrival(raw), raw) for raw in _messages(path)), key=lambda pair: pair[0])
    total = len(dated)
    counts = {"stored": 0, "duplicate": 0, "ignored": 0, "failed": 0}
    source = f"import:{path.resolve()}"
    for done, (arrived, raw) in enumerate(dated, 1):
        ctx = service.context()
        try:
            message = parse(raw, arrived, settings.limits.max_attachment_size, settings.limits.max_text)
            key = content_key(raw, settings.support.spam_score_header)
            result = ingest(ctx, message, key, Placement(source), imported=True, raw=raw)
            counts[result.outcome] += 1
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop a migration
            counts["failed"] += 1
            print(f"\nmessage {done}: not imported: {exc}", file=sys.stderr)
        if sys.stderr.isatty() or done == total or done % 100 == 0:
            width = 30
            filled = width * done // max(total, 1)
            print(f"\rimporting [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    print(
        f"imported {counts['stored']} message(s), {counts['duplicate']} already present, "
        f"{counts['ignored']} ignored by rules, {counts['failed']} failed"
    )
    return 1 if counts["failed"] else 0
