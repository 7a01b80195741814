"""Rules engine throughput: 200 rules (a from_domain list and a subject regex each), none matching.

Prints messages/second for `decide()` and for a baseline measured in the same run: the same
compiled regexes and domain sets in a plain loop, i.e. the floor any interpreter pays.

    .venv/bin/python bench/rules.py [--rules 200] [--messages 20000]
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailroom.mail.message import Inbound  # noqa: E402
from mailroom.rules.engine import decide  # noqa: E402
from mailroom.rules.ruleset import parse_rules  # noqa: E402

WORDS = ["account", "export", "report", "dashboard", "question", "help", "access", "slow", "chart", "upgrade", "team", "user", "setting"]


def rules_text(count: int) -> str:
    """A valid rules file: each rule names five customer domains and a subject regex."""
    lines = ["version: 1", "teams: {general: {}}", "rules:"]
    for n in range(count):
        domains = ", ".join(f'"c{n}-{k}.example"' for k in range(5))
        lines += [
            f"  - name: customer group {n}",
            f'    if: {{from_domain: [{domains}], subject: "(?i)\\\\b(contract{n}|renewal{n}|sku-{n}\\\\d+)\\\\b"}}',
            f"    then: {{tags: [group-{n}], priority: P2}}",
        ]
    return "\n".join(lines) + "\n"


def messages(count: int, rule_count: int, seed: int = 7) -> list[Inbound]:
    """Half from customers some rule names (so its regex runs), half from strangers; no subject matches."""
    rng = random.Random(seed)
    arrived = datetime(2026, 1, 12, 17, 0, tzinfo=UTC)
    found = []
    for i in range(count):
        if i % 2:
            sender = f"user{i}@eu.c{rng.randrange(rule_count)}-{rng.randrange(5)}.example"
        else:
            sender = f"user{i}@stranger{rng.randrange(10_000)}.example.org"
        subject = " ".join(rng.choice(WORDS) for _ in range(6))
        found.append(
            Inbound(
                message_id=f"<{i}@bench>", in_reply_to=None, references=(), from_addr=sender, from_name="",
                reply_to=None, to=("support@example.com",), cc=(), subject=subject, date=arrived,
                arrived_at=arrived, text=subject, new_text=subject, headers=(("From", sender),),
            )
        )
    return found


def baseline(pairs: list[tuple[frozenset[str], re.Pattern[str]]], batch: list[Inbound]) -> int:
    """The bare work: per message, the sender's domain suffixes; per rule, a set lookup and maybe a search."""
    matched = 0
    for message in batch:
        labels = message.from_addr.rpartition("@")[2].split(".")
        suffixes = {".".join(labels[i:]) for i in range(len(labels))}
        subject = message.subject
        for domains, rx in pairs:
            if not domains.isdisjoint(suffixes) and rx.search(subject):
                matched += 1
                break
    return matched


def timed(run, repeat: int = 3) -> float:
    """Best wall time of `repeat` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=200)
    parser.add_argument("--messages", type=int, default=20_000)
    args = parser.parse_args()

    text = rules_text(args.rules)
    load_seconds = timed(lambda: parse_rules(text), repeat=1)
    rules = parse_rules(text)
    batch = messages(args.messages, args.rules)
    assert not any(decide(rules, m).matched for m in batch[:500]), "the bench messages must match no rule"

    pairs = []
    for n in range(args.rules):
        domains = frozenset(f"c{n}-{k}.example" for k in range(5))
        pairs.append((domains, re.compile(rf"(?i)\b(contract{n}|renewal{n}|sku-{n}\d+)\b")))
    assert baseline(pairs, batch) == 0

    engine_seconds = timed(lambda: [decide(rules, m) for m in batch])
    base_seconds = timed(lambda: baseline(pairs, batch))
    engine_rate = args.messages / engine_seconds
    base_rate = args.messages / base_seconds
    print(f"rules file: {args.rules} rules, {len(text) // 1024} KiB, loaded and validated in {load_seconds * 1000:.0f} ms")
    print(f"decide():   {engine_rate:>9,.0f} messages/s  ({args.messages:,} messages, none matching)")
    print(f"baseline:   {base_rate:>9,.0f} messages/s  (same regexes and domain sets in a plain loop)")
    print(f"ratio:      {engine_rate / base_rate:.2f} of baseline; target 2,000 messages/s: "
          f"{'met' if engine_rate >= 2000 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
