"""How well mailroom reads engineers' replies: the corpus under tests/data/replies, against a naive reader.

    .venv/bin/python bench/replies.py [--show]

For every reply of the corpus it compares what mailroom's parser reads as the new text (the whole
path a mail takes: MIME, HTML structure, quoted history, signatures) with the text the case says
the engineer wrote, whitespace aside. It prints, per folder and in all, the share read exactly and
the number lost (an answer read as empty, or with words of it dropped: the customer would miss
them), beside the same figures for a naive reader measured in the same run (the text above the
first `>` line, as a top-posting-only parser does), and the time per reply of both. --show prints
each case read wrongly.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailroom.mail.htmltext import html_to_text  # noqa: E402
from tests.corpus import Case, cases, same  # noqa: E402


def naive(case: Case) -> str:
    """The baseline: the text above the first quoted line."""
    content = case.path.read_text(encoding="utf-8")
    text = html_to_text(content) if case.path.suffix == ".html" else content
    kept = []
    for line in text.splitlines():
        if line.lstrip().startswith(">"):
            break
        kept.append(line)
    return "\n".join(kept).strip()


def _lost(read: str, expected: str) -> bool:
    """True when an answer was read as empty or with words of it dropped: the customer misses them."""
    if not expected.strip():
        return False
    words = set(read.split())
    return not read.strip() or any(word not in words for word in expected.split())


def main() -> int:
    """Read every case both ways and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print each case mailroom reads wrongly")
    args = parser.parse_args()
    corpus = cases()
    figures: dict[str, dict[str, list[int]]] = defaultdict(lambda: {"ours": [0, 0], "naive": [0, 0], "n": [0]})
    seconds = {"ours": 0.0, "naive": 0.0}
    wrong: list[tuple[Case, str]] = []
    for case in corpus:
        folder = case.name.split("/")[0] if "/" in case.name else "own"
        expected = case.expected
        for side, reader in (("ours", Case.read), ("naive", naive)):
            start = time.perf_counter()
            read = reader(case)
            seconds[side] += time.perf_counter() - start
            exact = same(read, expected)
            lost = _lost(read, expected)
            figures[folder][side][0] += exact
            figures[folder][side][1] += lost
            if side == "ours" and not exact:
                wrong.append((case, read))
        figures[folder]["n"][0] += 1
    print(f"{len(corpus)} replies; exact = the engineer's new text, whitespace aside; lost = read as empty "
          "or with words dropped")
    print(f"{'folder':<14}{'replies':>8}{'mailroom exact':>16}{'lost':>6}{'naive exact':>13}{'lost':>6}")
    totals = {"n": 0, "ours": [0, 0], "naive": [0, 0]}
    for folder in sorted(figures):
        row = figures[folder]
        n = row["n"][0]
        totals["n"] += n
        for side in ("ours", "naive"):
            totals[side][0] += row[side][0]
            totals[side][1] += row[side][1]
        print(f"{folder:<14}{n:>8}{row['ours'][0] / n:>16.1%}{row['ours'][1]:>6}"
              f"{row['naive'][0] / n:>13.1%}{row['naive'][1]:>6}")
    n = totals["n"]
    print(f"{'all':<14}{n:>8}{totals['ours'][0] / n:>16.1%}{totals['ours'][1]:>6}"
          f"{totals['naive'][0] / n:>13.1%}{totals['naive'][1]:>6}")
    ours_ms, naive_ms = 1000 * seconds["ours"] / n, 1000 * seconds["naive"] / n
    print(f"per reply: mailroom {ours_ms:.2f} ms (whole MIME parse), naive {naive_ms:.2f} ms, "
          f"ratio {ours_ms / naive_ms:.1f}x; target >= 97% exact, none lost")
    if args.show:
        for case, read in wrong:
            print(f"\n=== {case.name}\n--- read:\n{read}\n--- expected:\n{case.expected}")
    return 0 if totals["ours"][1] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
