"""The bounded search on SQLite: the newest tickets' own mail, scored by the words it holds."""

# Not through FTS5: a word a year's mail shares has a doclist of a million rows, and merging a
# dozen of them newest first costs 10-15 ms a search, bm25 ten times that (it counts every row of
# each word). The few hundred candidate mails come by the ticket index instead, and each scores
# the words it holds as the index would read them: one in the subject three times one in the
# text, as the bm25 weights of the full search.

from __future__ import annotations

import re
import sys
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from mailroom.store.models import database

WORD = re.compile(r"\w+")
_SCORED_TEXT = 2000  # characters of a candidate mail's text a bounded search reads its words in
Hit = tuple[int, float, int]  # a ticket, how well it matched (higher is better), how many of its mails did
Candidate = tuple[int, frozenset[str], frozenset[str]]  # a mail's ticket, its subject's words, its text's
_RANKINGS_KEPT = 256  # the rankings kept of one set of candidates, by the words sought


def ranked(
    newest: str, params: list[object], kinds: str, words: list[str], any_word: bool, limit: int
) -> list[Hit]:
    """The tickets of `newest` (SQL of ticket ids) whose own mail holds the words (or any), best first."""
    mails = database.obj.execute_sql(
        f"SELECT m.id, m.content_key, m.ticket_id FROM ({newest}) t JOIN message m ON m.ticket_id = t.id "
        f"WHERE m.direction = 'inbound' AND m.kind IN ({kinds})",
        params,
    ).fetchall()
    wanted = frozenset(_folded(w) for w in words)
    read = _read(mails)
    asked = (wanted, any_word, limit)
    found = read.ranked.get(asked)
    if found is None:
        found = _scored(read.candidates, wanted, any_word, limit)
        if len(read.ranked) < _RANKINGS_KEPT:
            read.ranked[asked] = found
    return list(found)


def _scored(candidates: list[Candidate], wanted: frozenset[str], any_word: bool, limit: int) -> list[Hit]:
    """The tickets whose candidate mails hold the words (or any), best first."""
    best: dict[int, tuple[float, int]] = {}
    for ticket_id, subject_words, text_words in candidates:
        if wanted.isdisjoint(subject_words) and wanted.isdisjoint(text_words):
            continue
        in_subject, in_text = wanted & subject_words, wanted & text_words
        held = in_subject | in_text
        if held and (any_word or held == wanted):
            top, count = best.get(ticket_id, (0.0, 0))
            best[ticket_id] = (max(top, float(3 * len(in_subject) + len(in_text))), count + 1)
    ranked = sorted(best.items(), key=lambda item: (-item[1][0], -item[0]))[:limit]
    return [(ticket_id, score, count) for ticket_id, (score, count) in ranked]


# The words of the mail the bounded search on SQLite last read, by message id and content key:
# consecutive new tickets search the same newest solved tickets' mail, and reading its words
# again was most of a search (about 5 ms a new ticket on a year's database). A message's text
# never changes once stored; the content key tells a reused SQLite rowid (or another database
# of the same process) from the mail it held. Enough for the mail of a few hundred tickets.
_WORDS: OrderedDict[tuple[int, str], tuple[frozenset[str], frozenset[str]]] = OrderedDict()
_WORDS_KEPT = 1000
_WORDS_LOCK = threading.Lock()
_NO_WORDS: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())


@dataclass
class _Read:
    """A bounded search's candidate mails (id, content key, ticket) with their words, and the rankings made of them."""

    rows: list[tuple[Any, ...]]
    candidates: list[Candidate]
    ranked: dict[tuple[frozenset[str], bool, int], list[Hit]] = field(default_factory=dict)


# The last bounded search's: until a ticket is solved, closed or reopened, or mail joins one of
# them, the next new ticket's search reads the same rows. Finding each mail's words again was half
# of what a search cost in Python, and in a flood of mail about one outage the same words are
# sought again and again.
_LAST = _Read([], [])


def _read(mails: list[tuple[Any, ...]]) -> _Read:
    """The candidate mails (id, content key, ticket) with their words: the last search's when the same."""
    global _LAST
    with _WORDS_LOCK:
        last = _LAST
    if mails == last.rows:
        return last
    words = _words_of_mails([(mail_id, key) for mail_id, key, _ in mails])
    read = _Read(mails, [(ticket_id, subject, text) for (_, _, ticket_id), (subject, text) in zip(mails, words, strict=True)])
    with _WORDS_LOCK:
        _LAST = read
    return read


def _words_of_mails(mails: list[tuple[int, str]]) -> list[tuple[frozenset[str], frozenset[str]]]:
    """The subject and text words of each mail (id, content key), read from the database when not known."""
    with _WORDS_LOCK:  # the readers of several mailboxes search from threads of their own
        missing = {mail_id: key for mail_id, key in mails if (mail_id, key) not in _WORDS}
        ids = list(missing)
        for start in range(0, len(ids), 500):  # under SQLite's limit of parameters a statement
            chunk = ids[start:start + 500]
            rows = database.obj.execute_sql(
                f"SELECT id, subject, substr(coalesce(nullif(new_text, ''), text, ''), 1, {_SCORED_TEXT}) "
                f"FROM message WHERE id IN ({', '.join('?' for _ in chunk)})",
                chunk,
            ).fetchall()
            for mail_id, subject, text in rows:
                _WORDS[(mail_id, missing[mail_id])] = (_words_of(subject), _words_of(text))
        for mail in mails:  # the mails of this search become the newest; the oldest are forgotten
            if mail in _WORDS:
                _WORDS.move_to_end(mail)
        while len(_WORDS) > max(_WORDS_KEPT, len(mails)):
            _WORDS.popitem(last=False)
        return [_WORDS.get(mail, _NO_WORDS) for mail in mails]  # none: gone since the first read


def _words_of(text: str | None) -> frozenset[str]:
    """The words of a text as the full-text index reads them: lowercased, accents dropped (interned: shared)."""
    return frozenset(map(sys.intern, WORD.findall(_folded(text or ""))))


def _folded(text: str) -> str:
    """Lowercased, with accents dropped (unicode61's remove_diacritics)."""
    text = text.lower()
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
