"""Heavy mail and the files mailroom keeps: bounded text, the original kept once, private files."""

from __future__ import annotations

import gzip
import os
import stat
from pathlib import Path

from mailroom.store import queries as store
from mailroom.store.files import original_path
from mailroom.store.models import Message

from .conftest import TEAM, Mailroom, write_config
from .mails import mail

LINE = "The export to CSV fails with error 0x80070005 when the report has more than 1000 rows.\n"


def _limited(room: Mailroom, max_text: str) -> None:
    write_config(room.folder, room.dovecot, room.smtp, extra=f'[limits]\nmax_text = "{max_text}"\n')


def test_a_huge_text_mail_is_stored_cut_with_its_original_kept_and_the_team_told_in_brief(mailroom: Mailroom) -> None:
    _limited(mailroom, "200KB")
    body = "".join(f"{i:06d} {LINE}" for i in range(40_000))  # 3.7 MB of text
    mailroom.dovecot.append("support", mail(subject="Export log", body=body + "THE LAST LINE\n"))
    assert mailroom.run_once() == 0
    store.open_database(str(mailroom.settings().database.url))
    row = Message.get((Message.direction == "inbound") & (Message.subject == "Export log"))
    assert 150_000 < len(row.text) <= 200_000 and row.text.startswith("000000 The export")
    assert len(row.new_text) <= 200_000
    # The whole mail, as it arrived, is kept once beside the database.
    kept = original_path(mailroom.settings().support.data_dir, row.content_key)
    original = gzip.decompress(kept.read_bytes())
    assert b"THE LAST LINE" in original and original == mailroom.dovecot.messages("support", "Processed")[0]
    (notice,) = [m for m in mailroom.smtp.by_recipient(TEAM)]
    assert len(notice.raw) < 150_000  # the team gets an excerpt, not megabytes
    text = notice.message.get_body(("plain",)).get_content()
    assert "The mail goes on" in text and f"mailroom tickets show {row.ticket_id}" in text and str(kept) in text
    assert mailroom.smtp.by_recipient("customer@example.org")  # acknowledged as any other


def _world_or_group_access(folder: Path) -> list[str]:
    found = []
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) & 0o077:
            found.append(f"{path.relative_to(folder)} {oct(stat.S_IMODE(path.stat().st_mode))}")
    return found


def test_nothing_under_the_data_folder_is_anyone_else_s(mailroom: Mailroom) -> None:
    _limited(mailroom, "1KB")
    data = mailroom.folder / "data"
    # A data folder from before: made under a lax umask, a file in it readable by all.
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    (data / "notes.txt").write_text("left here by hand")
    os.chmod(data / "notes.txt", 0o644)
    mailroom.dovecot.append("support", mail(subject="Invoice", attachment=("invoice.pdf", b"%PDF-1.4 x" * 100)))
    mailroom.dovecot.append("support", mail(subject="Long", body=LINE * 100, sender="long@example.org"))
    previous = os.umask(0o022)
    try:
        mailroom.cli("run", "--once")
    finally:
        os.umask(previous)
    names = {p.name for p in data.rglob("*")}
    assert "mailroom.db" in names and "attachments" in names and "originals" in names
    assert _world_or_group_access(data) == []
