"""The corpus of real replies under tests/data/replies: each reply beside the new text it holds.

A case is `NAME.txt` (a plain-text reply) or `NAME.html` (the HTML part of one) with `NAME.new.txt`,
what a perfect reader keeps: the engineer's words alone, empty when there are none. Sub-folders
hold replies gathered from other projects' published test suites, each with its SOURCE.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from mailroom.mail.message import parse

REPLIES = Path(__file__).parent / "data" / "replies"


@dataclass(frozen=True)
class Case:
    """One reply of the corpus and the new text it holds."""

    path: Path

    @property
    def name(self) -> str:
        """Its name: folder/file without the extension."""
        return str(self.path.relative_to(REPLIES).with_suffix(""))

    @property
    def expected(self) -> str:
        """The new text a perfect reader keeps."""
        return self.path.with_suffix(".new.txt").read_text(encoding="utf-8")

    def mail(self) -> bytes:
        """The reply as an engineer's client sends it: text/plain, or text/html alone."""
        msg = EmailMessage()
        msg["From"] = "Eve Engineer <engineer@example.com>"
        msg["To"] = "support@example.com"
        msg["Subject"] = "Re: [Support #1] Export fails"
        content = self.path.read_text(encoding="utf-8")
        if self.path.suffix == ".html":
            msg.set_content(content, subtype="html", cte="quoted-printable")
        else:
            msg.set_content(content, cte="quoted-printable")
        return msg.as_bytes()

    def read(self) -> str:
        """The new text mailroom reads from the reply, through its whole parser."""
        return parse(self.mail(), datetime(2026, 12, 1, tzinfo=UTC)).new_text


def cases() -> list[Case]:
    """Every case of the corpus, in name order."""
    found = [p for p in REPLIES.rglob("*") if p.suffix in (".txt", ".html") and not p.name.endswith(".new.txt")]
    return sorted((Case(p) for p in found if p.with_suffix(".new.txt").exists()), key=lambda c: c.name)


def same(read: str, expected: str) -> bool:
    """True when two texts are the same but for whitespace."""
    return read.split() == expected.split()
