"""`mailroom quarantine list|replay`: what could not be processed, why, and sending it round again."""

from __future__ import annotations

import json
from typing import Any

from mailroom import clock
from mailroom.config.units import iso
from mailroom.daemon.wiring import connect_mailbox
from mailroom.errors import MailroomError
from mailroom.store.contentkey import content_keys
from mailroom.store.models import Quarantined


def chosen(settings: Any, name: str | None, *, one: bool) -> list[Any]:
    """The mailboxes a quarantine command works on: the one named, else every one (or the only one)."""
    boxes = settings.all_mailboxes
    if name is None:
        if one and len(boxes) > 1:
            raise MailroomError(f"quarantine replay: --mailbox is required with several mailboxes ({', '.join(settings.mailbox_names)})")
        return list(boxes)
    box = settings.mailbox_named(name)
    if box is None:
        raise MailroomError(f'--mailbox: no mailbox named "{name}" in mailroom.toml ({", ".join(settings.mailbox_names)})')
    return [box]


def entries(settings: Any, name: str | None = None) -> list[dict[str, Any]]:
    """Every message in the quarantine folders, with the reason recorded when it was put there."""
    out = []
    for box in chosen(settings, name, one=False):
        out += [{"mailbox": box.name, **row} for row in _held(settings, box)]
    return out


def _held(settings: Any, box: Any) -> list[dict[str, Any]]:
    conn = connect_mailbox(settings, box=box)
    try:
        held = conn.fetch_all(box.quarantine_folder)
    finally:
        conn.close()
    out = []
    for item in held:
        # Recorded under the key of its day: before version 5, the legacy one.
        why = (
            Quarantined.select()
            .where(Quarantined.content_key.in_(content_keys(item.raw, settings.support.spam_score_header)))
            .order_by(Quarantined.at.desc())
            .first()
        )
        out.append(
            {
                "uid": item.uid,
                "message_id": why.message_id if why else "",
                "from": why.from_addr if why else "",
                "subject": why.subject if why else "",
                "reason": why.reason if why else "moved here by hand (no reason recorded)",
                "quarantined_at": iso(why.at) if why else None,
                "arrived_at": iso(item.arrived_at),
                "size": len(item.raw),
            }
        )
    return out


def list_command(settings: Any, *, as_json: bool, mailbox: str | None = None) -> int:
    """Print the quarantine."""
    rows = entries(settings, mailbox)
    if as_json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        print("quarantine is empty")
    for row in rows:
        where = f"{row['mailbox']:10}  " if len(settings.all_mailboxes) > 1 else ""
        print(f"{where}{row['uid']:>6}  {row['quarantined_at'] or '-':20}  {row['from'][:30]:30}  {row['subject'][:40]:40}  {row['reason']}")
    return 0


def replay_command(settings: Any, which: str, mailbox: str | None = None) -> int:
    """Move one quarantined message (by UID) or all back to the mailbox's folder for another try."""
    [box] = chosen(settings, mailbox, one=True)
    conn = connect_mailbox(settings, box=box)
    try:
        conn.select(box.quarantine_folder)
        present = conn.uids()
        if which == "all":
            uids = present
        else:
            try:
                uids = [int(which)]
            except ValueError:
                raise MailroomError(f'quarantine replay: expected a UID or "all", got "{which}"') from None
            if uids[0] not in present:
                raise MailroomError(f"quarantine replay: no message with UID {which} in {box.quarantine_folder}")
        spam = settings.support.spam_score_header
        keys = [key for batch in conn.batches(uids) for item in batch for key in content_keys(item.raw, spam)]
        conn.move(uids, box.folder)
    finally:
        conn.close()
    if keys:
        Quarantined.update(replayed_at=clock.now()).where(Quarantined.content_key.in_(keys)).execute()
    print(f"replayed {len(uids)} message(s) to {box.folder}")
    return 0
