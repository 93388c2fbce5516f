"""Durable renames, advisory locks and live-process checks for the files storage writes.

Three rules every writer and every recovery in ``storage/`` follows, kept here once:

* a rename (or unlink) is durable only once its directory is fsynced
  (:func:`fsync_directory`);
* a file being written holds an exclusive ``flock``, so another process can tell a live
  file from a killed run's leftover, and the lock dies with its process (:func:`try_lock`);
* a leftover named after a process id belongs to a killed run when that process is gone
  (:func:`process_alive`).

Where the system has no ``fcntl`` (Windows) nothing is locked and every lock is taken:
callers then rely on file names alone.  This module reads no settings and has no Scrapy
imports.
"""

from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks.
    fcntl = None  # type: ignore[assignment]


def fsync_directory(directory: str | Path) -> None:
    """Make the renames and unlinks done in ``directory`` durable (POSIX; elsewhere a no-op)."""
    if os.name != "posix":
        return  # Windows cannot open a directory.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def try_lock(fd: int) -> bool:
    """Take the exclusive ``flock`` of the open file ``fd`` without waiting.

    Returns ``False`` when another open file (another process, or another ``open`` of the
    same file) holds it.  The lock lasts until ``fd`` is closed or the process dies.
    Without ``fcntl`` it returns ``True``.
    """
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def process_alive(pid: int) -> bool:
    """Whether a process with id ``pid`` runs (this one included), as far as we can see."""
    if pid == os.getpid() or os.name != "posix":
        return True  # on Windows os.kill(pid, 0) would end the process: never assume it gone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True
