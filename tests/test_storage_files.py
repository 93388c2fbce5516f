"""Tests for storage.files: the lock that tells a live file from a leftover, and dead processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage.files import fsync_directory, process_alive, try_lock


@pytest.mark.skipif(os.name != "posix", reason="flock is POSIX")
def test_a_locked_file_refuses_a_second_lock_until_its_holder_closes_it(tmp_path: Path) -> None:
    path = tmp_path / "a.warc.gz.open"
    path.write_bytes(b"")
    holder = os.open(path, os.O_RDWR)
    other = os.open(path, os.O_RDWR)
    try:
        assert try_lock(holder)
        assert not try_lock(other)
        os.close(holder)
        holder = -1
        assert try_lock(other)
    finally:
        for fd in (holder, other):
            if fd >= 0:
                os.close(fd)


def test_a_finished_process_is_not_alive_and_this_one_is(tmp_path: Path) -> None:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    assert not process_alive(int(child.stdout))
    assert process_alive(os.getpid())
    fsync_directory(tmp_path)  # a directory can be fsynced (a no-op off POSIX)
