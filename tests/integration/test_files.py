"""The files under data_dir: written whole, private, and safe when two workers write the same one."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from mailroom.store import files


def test_a_kept_file_is_whole_private_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    path = files.attachment_path(tmp_path, "ab" + "0" * 62)
    files.keep(path, b"first")
    files.keep(path, b"second")
    assert path.read_bytes() == b"second"
    assert stat.S_IMODE(path.stat().st_mode) == files.FILE_MODE
    assert os.listdir(path.parent) == [path.name]


def test_a_content_addressed_file_is_written_once(tmp_path: Path) -> None:
    path = files.attachment_path(tmp_path, "ef" + "2" * 62)
    files.keep(path, b"first", once=True)
    files.keep(path, b"other", once=True)
    assert path.read_bytes() == b"first"


def test_workers_keeping_the_same_attachment_at_once_all_succeed_and_leave_it_whole(tmp_path: Path) -> None:
    # Content-addressed: two mails with the same attachment, stored at the same moment by two
    # workers (or a worker and an import), write the same path.
    path = files.attachment_path(tmp_path, "cd" + "1" * 62)
    data = os.urandom(256 * 1024)
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(once: bool) -> None:
        start.wait()
        for _ in range(40):
            try:
                files.keep(path, data, once=once)
            except BaseException as exc:  # noqa: BLE001 - every failure is reported below
                failures.append(exc)
            if path.exists() and path.read_bytes() != data:
                failures.append(AssertionError("a reader saw the file cut"))

    # Some rewrite it each time (a plain keep), some store it only when missing (as the ingest does).
    threads = [threading.Thread(target=worker, args=(i % 2 == 0,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert path.read_bytes() == data
    assert os.listdir(path.parent) == [path.name]
