"""Write a file under a hidden, locked temporary name and rename it into place when complete.

``with partial_file(output) as handle:`` writes ``.<name>.partial`` in the output's folder and
renames it to ``<name>`` only when the block ends without an error (the file fsynced before the
rename, its folder after it: ``storage/files.py``), so a reader never sees half a file, nor loses
a finished one to a power cut. The temporary name is hidden (``ls`` and globs such as ``*.jsonl``
skip it) and ends in ``.partial``, so what a killed run leaves cannot pass for a result. It is
locked (``flock``) while written: the next run for the same output takes a leftover over
(truncates and rewrites it), and a run while another one writes the same output is refused with an
``OSError`` rather than writing over it. An error inside the block removes the temporary file. A
leftover of the earlier naming (``<name>.partial``, visible) is removed too.

`scratch_directory` gives a run a temporary directory beside the output, and
`remove_leftovers` clears what killed runs left (their temporary file and directories).
"""

from __future__ import annotations

import errno
import glob
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from storage.files import fsync_directory, process_alive, try_lock


def partial_path(output: Path) -> Path:
    """Where ``output`` is written before it is complete."""
    return output.with_name(f".{output.name}.partial")


def _open_locked(path: Path) -> int:
    """Open ``path`` (created if missing) holding its exclusive lock; refuse if another has it."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if not try_lock(fd):
            os.close(fd)
            raise BlockingIOError(
                errno.EAGAIN, f"another process is writing it ({path} is locked)")
        # The previous holder may have renamed the file into place between our open and lock:
        # then the lock is on the finished output, which must not be truncated. Open again.
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


@contextmanager
def partial_file(output: str | Path, mode: str = "w", **open_args) -> Iterator[IO]:
    """Yield a handle on ``output``'s temporary file (``mode`` "w" or "wb", ``open`` keywords)."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_name(output.name + ".partial").unlink(missing_ok=True)
    partial = partial_path(output)
    fd = _open_locked(partial)
    os.ftruncate(fd, 0)
    handle = os.fdopen(fd, mode, **open_args)
    try:
        try:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
            os.replace(partial, output)
            fsync_directory(output.parent)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    finally:
        handle.close()


def scratch_directory(output: str | Path) -> tempfile.TemporaryDirectory:
    """A temporary directory beside ``output`` for this run's work files (a sorted index).

    Named ``.<name>.<pid>.<random>.tmp``: hidden, and known as this process's, so a later run
    can tell what a killed one left (`remove_leftovers`). It sits beside the output rather than
    in the system's temporary folder, which is often a small in-memory file system.
    """
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=f".{output.name}.{os.getpid()}.", suffix=".tmp",
                                       dir=output.parent)


def remove_leftovers(output: str | Path) -> list[Path]:
    """Remove what killed runs left for ``output``; return what was removed.

    That is a temporary file nobody holds locked, the visible ``<name>.partial`` of earlier
    versions, and the scratch directories of processes that are gone.
    """
    output = Path(output)
    removed = []
    partial = partial_path(output)
    if partial.is_file():
        try:
            fd = _open_locked(partial)
        except BlockingIOError:
            pass  # another run is writing it right now
        else:
            partial.unlink(missing_ok=True)
            os.close(fd)
            removed.append(partial)
    legacy = output.with_name(output.name + ".partial")
    if legacy.is_file():
        legacy.unlink(missing_ok=True)
        removed.append(legacy)
    prefix = f".{output.name}."
    for scratch in output.parent.glob(f"{glob.escape(prefix)}*.tmp"):
        pid = scratch.name[len(prefix):].partition(".")[0]
        if scratch.is_dir() and pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(scratch, ignore_errors=True)
            removed.append(scratch)
    return removed
