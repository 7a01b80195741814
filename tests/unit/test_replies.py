"""The corpus of real replies: none lost, and nearly all read as exactly the engineer's new text."""

from __future__ import annotations

import pytest

from tests.corpus import REPLIES, Case, cases, same

CASES = cases()
EXACT = 0.97  # share of the corpus read as exactly its new text


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_no_reply_is_lost(case: Case) -> None:
    read, expected = case.read(), case.expected
    if expected.strip():
        assert read.strip(), "the engineer's answer was read as empty: it would never reach the customer"
        # Nothing the engineer wrote is dropped: every word of the answer is in what is relayed.
        missing = [word for word in expected.split() if word not in read.split()]
        assert not missing, f"words of the answer dropped: {missing[:10]}"
    else:
        assert not read.strip(), "history read as an answer"


def test_the_corpus_is_read_as_exactly_the_new_text() -> None:
    wrong = [c.name for c in CASES if not same(c.read(), c.expected)]
    share = 1 - len(wrong) / len(CASES)
    assert share >= EXACT, f"{share:.1%} exact; not: {', '.join(wrong)}"


def test_the_corpus_spans_the_clients_and_languages_it_must() -> None:
    names = {c.name for c in CASES}
    assert len(CASES) >= 130
    assert {"gmail", "outlook_original_message", "apple_mail", "german_outlook"} <= names
    gathered = {"crisp/email_russian", "crisp/email_finnish", "crisp/email_german_outlook", "crisp/email_zoho",
                "crisp/email_ios_outlook_fr", "willdurand/email_zimbra_free_fr", "github/email_1_8"}
    assert gathered <= names


def test_every_gathered_reply_names_its_source_and_licence() -> None:
    folders = {c.path.parent for c in CASES} - {REPLIES}
    assert {folder.name for folder in folders} >= {"crisp", "willdurand", "github"}
    for folder in folders:
        source = (folder / "SOURCE.md").read_text(encoding="utf-8")
        assert "https://github.com/" in source and "Commit:" in source, folder.name
        assert "Permission is hereby granted" in source and "Copyright (c)" in source, folder.name
