"""Write a file under a hidden, locked temporary name and rename it into place when complete.

``with partial_file(output) as handle:`` writes ``.<name>.partial`` in the output's folder and
renames it to ``<name>`` only when the block ends without an error (after an fsync), so a reader
never sees half a file. The temporary name is hidden (``ls`` and globs such as ``*.jsonl`` skip
it) and ends in ``.partial``, so what a killed run leaves cannot pass for a result. It is locked
(``flock``) while written: the next run for the same output takes a leftover over (truncates and
rewrites it), and a run while another one writes the same output is refused with an ``OSError``
rather than writing over it. An error inside the block removes the temporary file. A leftover of
the earlier naming (``<name>.partial``, visible) is removed too.
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def partial_path(output: Path) -> Path:
    """Where ``output`` is written before it is complete."""
    return output.with_name(f".{output.name}.partial")


def _open_locked(path: Path) -> int:
    """Open ``path`` (created if missing) holding its exclusive lock; refuse if another has it."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise BlockingIOError(
                errno.EAGAIN, f"another process is writing it ({path} is locked)") from None
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
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    finally:
        handle.close()
