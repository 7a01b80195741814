"""`./run.sh demo` end to end: every step of the story happens, it exits 0 and leaves no process behind."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailroom.demo.story import STEPS

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 180


def _processes_naming(*needles: str) -> list[str]:
    """`pid: command line` of every live process whose command line contains one of the needles."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue  # ended while we looked
        if state not in ("Z", "X") and any(needle in cmdline for needle in needles):
            found.append(f"{entry}: {cmdline.strip()}")
    return found


@pytest.fixture
def demo_folder() -> Iterator[Path]:
    """A fresh folder for the demo that Dovecot (running as nobody) can reach, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="mailroom-demo-"))
    folder.chmod(0o755)
    try:
        yield folder / "run"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_run_sh_demo_plays_every_step_and_cleans_up(demo_folder: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    assert not _processes_naming(str(demo_folder))
    # Its own session: on a timeout the demo gets SIGTERM (and cleans up) before anything is killed.
    proc = subprocess.Popen(
        [str(ROOT / "run.sh"), "demo", "--folder", str(demo_folder)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
        pytest.fail(f"./run.sh demo did not end within {TIMEOUT} s:\n{output}")

    # Nothing of the demo runs on, even after a failure: neither the daemon (its config is in the
    # folder) nor Dovecot (the master names its config in the folder, its children the port).
    needles = [str(demo_folder)]
    with contextlib.suppress(OSError, KeyError, tomllib.TOMLDecodeError):
        needles.append(f"test-dovecot-{tomllib.loads((demo_folder / 'mailroom.toml').read_text())['mailbox']['port']}/")
    left = _processes_naming(*needles)

    assert proc.returncode == 0, f"./run.sh demo exited {proc.returncode}:\n{output}"
    total = len(STEPS)
    for number, step in enumerate(STEPS, 1):
        assert f"[{number:>2}/{total}] ✓ {step.title}" in output, f"step {number} missing:\n{output}"
    assert not left, "left running:\n" + "\n".join(left)
