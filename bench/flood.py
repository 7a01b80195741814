"""A flood: 20 new support mails a second for 5 minutes into a daemon on IDLE; acknowledgement latency and memory.

Starts Dovecot and an SMTP server (tests.harness), then, as the baseline, a plain imapclient IDLE
loop on a second mailbox fed at the same rate: the time from each APPEND returning to the loop
having FETCHed that mail's Message-ID after Dovecot announced it (the floor IDLE itself sets).
Then `python -m mailroom --config … run` as a process with `poll_interval = "300s"`, so IDLE alone
drives ingestion, fed RATE mails a second for MINUTES minutes, each from a distinct customer,
measuring for each the time from the APPEND returning to its acknowledgement's arrival at the SMTP
server, and the daemon's resident memory (VmRSS of /proc/PID/status) every second.

Targets: p99 under 1 s; every mail acknowledged; the last minute's mean RSS within 10% of the first's.

    .venv/bin/python bench/flood.py [--rate 20] [--minutes 5] [--baseline-minutes 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _rss import status_mb  # noqa: E402
from _sandbox import Daemon, Mail, Sandbox, one_mail, percentile  # noqa: E402
from latency import Acks, fail  # noqa: E402

from mailroom.demo.dovecot import Dovecot  # noqa: E402

TARGET_P99 = 1.0  # seconds
TARGET_RSS_DRIFT = 0.10  # the last minute's mean RSS against the first's
POLL = 300  # seconds: longer than any run, so that IDLE alone drives ingestion
SETTLE = 90.0  # seconds the bench waits after the last APPEND for the last acknowledgements
WARM_UP = 3


def feed(dovecot: Dovecot, user: str, mails: list[Mail], rate: float, stop: threading.Event) -> dict[str, float]:
    """APPEND each mail on schedule, RATE a second; the epoch second each APPEND returned, by Message-ID."""
    appended: dict[str, float] = {}
    start = time.monotonic()
    for n, mail in enumerate(mails):
        time.sleep(max(0.0, start + n / rate - time.monotonic()))  # behind schedule: the next goes at once
        if stop.is_set():
            break
        dovecot.append(user, mail.raw)
        appended[mail.message_id] = time.time()
    return appended


class IdleReader(threading.Thread):
    """The baseline: IDLE on a mailbox, and on each announcement FETCH the Message-IDs of the new mail."""

    def __init__(self, dovecot: Dovecot, user: str) -> None:
        super().__init__(name="idle-reader", daemon=True)
        self.imap = dovecot.client(user)
        self.imap.select_folder("INBOX", readonly=True)
        self.stop = threading.Event()
        self.seen: dict[str, float] = {}  # Message-ID -> epoch second it was fetched

    def run(self) -> None:
        last_uid = 0
        while not self.stop.is_set():
            self.imap.idle()
            announced = self.imap.idle_check(timeout=1.0)
            self.imap.idle_done()
            if not any(len(r) > 1 and r[1] == b"EXISTS" for r in announced):
                continue
            # `N:*` names the last message even when it is older than N.
            new = [uid for uid in self.imap.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid]
            fetched = self.imap.fetch(new, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]) if new else {}
            now = time.time()
            for uid, data in fetched.items():
                last_uid = max(last_uid, uid)
                header = data[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode(errors="replace")
                self.seen.setdefault(header.partition(":")[2].strip(), now)
        self.imap.logout()


class RssSampler(threading.Thread):
    """A process's VmRSS in MB, read from /proc once a second, with when it was read."""

    def __init__(self, pid: int) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.pid = pid
        self.stop = threading.Event()
        self.samples: list[tuple[float, float]] = []  # (monotonic second, MB)

    def run(self) -> None:
        while not self.stop.wait(1.0):
            try:
                mb = status_mb("VmRSS", self.pid)
            except OSError:
                return  # the process is gone
            self.samples.append((time.monotonic(), mb))

    def minute_means(self) -> tuple[float, float]:
        """The mean RSS over the first minute of samples and over the last minute."""
        start, end = self.samples[0][0], self.samples[-1][0]
        first = [mb for t, mb in self.samples if t < start + 60]
        last = [mb for t, mb in self.samples if t > end - 60]
        return statistics.fmean(first), statistics.fmean(last)


def _end_with(daemon: Daemon, stop: threading.Event) -> None:
    """Set `stop` when the daemon's process ends."""
    daemon.process.wait()
    stop.set()


def figures(latencies: list[float]) -> str:
    """p50, p99, max and how many took 1 s or more, in milliseconds."""
    late = sum(x >= TARGET_P99 for x in latencies)
    return (f"p50 {percentile(latencies, 50) * 1000:5.0f} ms   p99 {percentile(latencies, 99) * 1000:5.0f} ms   "
            f"max {max(latencies) * 1000:5.0f} ms   over 1 s: {late}")


def baseline(box: Sandbox, rate: float, minutes: float) -> list[float]:
    """The plain IDLE loop's latencies over `minutes` at `rate`."""
    reader = IdleReader(box.dovecot, "baseline")
    reader.start()
    mails = [one_mail(i, seed=11) for i in range(int(rate * minutes * 60))]
    appended = feed(box.dovecot, "baseline", mails, rate, threading.Event())
    deadline = time.monotonic() + SETTLE
    while time.monotonic() < deadline and not all(m in reader.seen for m in appended):
        time.sleep(0.1)
    reader.stop.set()
    reader.join(5)
    return [reader.seen[m] - t for m, t in appended.items() if m in reader.seen]


def main() -> int:
    """The baseline, then the daemon under the flood; print both and the memory figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="mails a second (default 20)")
    parser.add_argument("--minutes", type=float, default=5.0, help="minutes of flood (default 5)")
    parser.add_argument("--baseline-minutes", type=float, default=1.0, help="minutes of the baseline (default 1)")
    args = parser.parse_args()

    with Sandbox(poll_interval=f"{POLL}s") as box:
        base = baseline(box, args.rate, min(args.baseline_minutes, args.minutes))
        with Daemon(box) as daemon:
            acks = Acks(box.recorder)
            warm = [one_mail(50_000 + i) for i in range(WARM_UP)]
            for mail in warm:
                box.dovecot.append("support", mail.raw)
            if not acks.wait([m.message_id for m in warm], 60):
                return fail(daemon, "the warm-up mails were never acknowledged")
            sampler = RssSampler(daemon.pid)
            sampler.start()
            mails = [one_mail(i) for i in range(int(args.rate * args.minutes * 60))]
            stop = threading.Event()
            # A daemon that dies ends the flood at once.
            threading.Thread(target=_end_with, args=(daemon, stop), daemon=True).start()
            appended = feed(box.dovecot, "support", mails, args.rate, stop)
            acks.wait(list(appended), SETTLE)
            sampler.stop.set()
            sampler.join(5)
            if daemon.exited():
                return fail(daemon, f"the daemon exited with {daemon.stop()} during the flood")
            status = daemon.stop()
    latencies = [acks.arrived[m] - t for m, t in appended.items() if m in acks.arrived]
    missing = len(appended) - len(latencies)
    if not latencies or not base:
        print("flood bench: no acknowledgement (or no baseline fetch) arrived")
        return 1
    p99 = percentile(latencies, 99)
    first, last = sampler.minute_means()
    drift = last / first - 1
    print(f"{len(appended):,} new mails at {args.rate:g}/s for {args.minutes:g} min into `mailroom run` on IDLE "
          f"(poll_interval {POLL}s); 2 cores, shared with other work")
    print(f"  mailroom, APPEND to acknowledgement   {figures(latencies)}   ({len(latencies):,} acknowledged)")
    print(f"  baseline, APPEND to IDLE + FETCH      {figures(base)}   ({len(base):,} mails over "
          f"{min(args.baseline_minutes, args.minutes):g} min)")
    print(f"  daemon RSS  first minute {first:.0f} MB, last minute {last:.0f} MB: {drift:+.1%} "
          f"(max {max(mb for _, mb in sampler.samples):.0f} MB over {len(sampler.samples)} samples)")
    print(f"p99 target < {TARGET_P99 * 1000:.0f} ms: {'met' if p99 < TARGET_P99 else 'NOT met'}; "
          f"none lost: {'met' if not missing else f'NOT met ({missing} never acknowledged)'}; "
          f"RSS flat within {TARGET_RSS_DRIFT:.0%}: {'met' if abs(drift) <= TARGET_RSS_DRIFT else 'NOT met'}")
    print(f"daemon stopped by SIGTERM, exit status {status}")
    return 0 if status == 0 and not missing else 1


if __name__ == "__main__":
    sys.exit(main())
