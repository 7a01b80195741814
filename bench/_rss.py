"""The peak resident memory of this process alone, for the benches' child processes."""

from __future__ import annotations


def peak_rss_mb() -> float:
    """This process's peak RSS in MB (VmHWM): `ru_maxrss` keeps the parent's peak across fork and exec."""
    # A bench's parent holds every mail it appends (hundreds of MB): a child's ru_maxrss reported
    # that, not the child's own peak, whenever the child stayed below it.
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("/proc/self/status has no VmHWM line")
