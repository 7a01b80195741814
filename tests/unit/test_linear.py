"""Every parser of untrusted text takes time linear in its input and fails only with mailroom's errors.

Each property feeds a parser adversarial text built from a short hypothesis-chosen unit repeated to
100 KB and to 1 MB, and compares the two times measured in this run: a linear parser takes about
10x as long for 10x the input, a quadratic one about 100x. The bound (40x, plus a small constant
for the machine's noise) separates the two without depending on how fast the machine is.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from mailroom.errors import MailroomError
from mailroom.mail.authresults import parse_header
from mailroom.mail.commands import parse_commands
from mailroom.mail.htmlclean import answer_html
from mailroom.mail.htmlquote import mark_history
from mailroom.mail.htmltext import decode_words, html_to_text
from mailroom.mail.message import parse
from mailroom.mail.quoting import new_text
from mailroom.mail.threader import tagged_ticket

SMALL, LARGE = 100_000, 1_000_000
# Units that hit the places a backtracking regex or a rescan would: separators, quotes, brackets.
PIECES = st.sampled_from([
    "a", "=", ";", '"', "(", ")", "\\", " ", "\n", "> ", "#", "@", "<", ">", ".", "/", "=?utf-8?q?", "?=",
    "<div>", "<blockquote>", "Sent from my iPhone", " wrote", "<a@b.c>:", "__", '<div id="divRplyFwdMsg">', '<div class="gmail_quote">', "</div>", "<hr>", "On Monday wrote:", "dkim", "header.d", ",", "[Support #", "]", "x" * 7,
])
UNITS = st.lists(PIECES, min_size=1, max_size=6).map("".join)
ARRIVED = datetime(2026, 12, 1, tzinfo=UTC)


def _seconds(work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(2):  # the faster of two runs: a busy machine slows one, rarely both alike
        start = time.perf_counter()
        with contextlib.suppress(MailroomError):  # mailroom's own error is an answer; any other fails
            work()
        best = min(best, time.perf_counter() - start)
    return best


def _linear(parser: Callable[[str], object], unit: str) -> None:
    small = (unit * (SMALL // len(unit) + 1))[:SMALL]
    large = (unit * (LARGE // len(unit) + 1))[:LARGE]
    small_time = _seconds(lambda: parser(small))
    large_time = _seconds(lambda: parser(large))
    assert large_time <= 40 * small_time + 0.5, (
        f"{len(large)} characters took {large_time:.2f} s against {small_time:.3f} s for {len(small)}: not linear"
    )


# No shrinking: a slow failing example is reported as found, not minimised for minutes.
PROPERTY = settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY
@given(UNITS)
def test_authentication_results_are_read_in_linear_time(unit: str) -> None:
    _linear(lambda text: parse_header("mx.example.com; " + text), unit)


@PROPERTY
@given(UNITS)
def test_quoted_history_is_found_in_linear_time(unit: str) -> None:
    _linear(new_text, unit)


@PROPERTY
@given(UNITS)
@example('<div class="gmail_quote"><blockquote type="cite">On 1 Dec wrote:')
def test_html_history_is_marked_in_linear_time(unit: str) -> None:
    _linear(lambda markup: new_text(html_to_text(mark_history(markup))), unit)


@PROPERTY
@given(UNITS)
@example('<blockquote type="cite"><div>On 1 Dec 2026, a@b.example wrote:</div>x</blockquote>y<br>')
@example("<hr>__<a</div>,")  # elements named "a<", never closed: nested 66,000 deep in a megabyte
def test_the_html_relayed_is_cut_from_its_history_in_linear_time(unit: str) -> None:
    _linear(answer_html, unit)


@PROPERTY
@given(UNITS)
def test_commands_are_read_in_linear_time(unit: str) -> None:
    _linear(lambda text: parse_commands("#" + text, ["support", "billing"]), unit)


@PROPERTY
@given(UNITS)
@example("<blockquote>aa> =<div>")  # nesting without end: each line's quote marks must not grow with it
def test_html_becomes_text_in_linear_time(unit: str) -> None:
    _linear(html_to_text, unit)


@PROPERTY
@given(UNITS)
def test_encoded_words_are_decoded_in_linear_time(unit: str) -> None:
    _linear(decode_words, unit)


@PROPERTY
@given(UNITS)
def test_subject_tags_are_found_in_linear_time(unit: str) -> None:
    _linear(lambda text: tagged_ticket(text, "[Support #{id}]"), unit)


@PROPERTY
@given(UNITS, st.sampled_from(["To", "Cc", "References", "Authentication-Results", "Subject", "From"]))
def test_a_whole_mail_with_a_giant_header_parses_in_linear_time(unit: str, name: str) -> None:
    def whole(text: str) -> object:
        raw = f"From: a@example.org\r\n{name}: {text}\r\nSubject: hi\r\n\r\nbody\r\n".encode("utf-8", "replace")
        return parse(raw.replace(b"\n", b"\n ").replace(b"\r\n \r\n", b"\r\n\r\n"), ARRIVED)
    _linear(whole, unit)


FORWARD_PIECES = st.sampled_from([
    "From: ", "Von: ", "Subject: ", "Date: ", "---------- Forwarded message ---------", "Begin forwarded message:",
    "________________________________", "<a@b.c>", "[mailto:", "\n", "> ", " ", "-", ":", "Fwd: ", "a",
])


@PROPERTY
@given(st.lists(FORWARD_PIECES, min_size=1, max_size=6).map("".join))
@example("From: a <a@b.c>\n")  # a From line on every line: each looks ahead a bounded few lines only
def test_forwards_are_found_in_linear_time(unit: str) -> None:
    from dataclasses import replace

    from mailroom.mail.forward import find

    base = parse(b"From: e@example.com\r\nSubject: Fwd: x\r\n\r\nx\r\n", ARRIVED)
    _linear(lambda text: find(replace(base, subject="Fwd: " + text[:900], text=text)), unit)
