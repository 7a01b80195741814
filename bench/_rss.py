"""A process's resident memory, from /proc: its own peak, or what it holds now."""

from __future__ import annotations


def status_mb(field: str, pid: int | str = "self") -> float:
    """A memory line (VmHWM, VmRSS) of a process's /proc status, in MB; OSError when it is gone."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no {field} line")


def peak_rss_mb() -> float:
    """This process's peak RSS in MB (VmHWM): `ru_maxrss` keeps the parent's peak across fork and exec."""
    # A bench's parent holds every mail it appends (hundreds of MB): a child's ru_maxrss reported
    # that, not the child's own peak, whenever the child stayed below it.
    return status_mb("VmHWM")
