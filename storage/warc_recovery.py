"""Recover WARC files left ``.open`` by a crashed crawl.

A writer killed mid-write (kill -9, power cut, full disk) leaves its file named
``….warc.gz.open``, possibly ending in a partial gzip member.  :func:`recover_directory`
finds such files, keeps every complete record (a gzip member that inflates to a
whole WARC record: version line, headers, exactly ``Content-Length`` bytes of block
and the closing CRLF CRLF), cuts the file right after the last one, fsyncs it and
renames it to its final name.  A file without a single complete record is removed.

Files still written by a live process are skipped: :class:`storage.warc.WarcWriter`
holds an exclusive ``flock`` on its open file, and the lock dies with the process.

This module reads no settings and has no Scrapy imports.
"""

from __future__ import annotations

import logging
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from storage.warc import OPEN_SUFFIX

try:
    import fcntl
except ImportError:  # Windows: no advisory locks.
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n", re.IGNORECASE)


@dataclass(frozen=True)
class RecoveredFile:
    """What recovery did to one ``.open`` file."""

    open_path: Path
    final_path: Path | None
    records: int
    kept_bytes: int
    cut_bytes: int

    @property
    def removed(self) -> bool:
        """Whether the file held no complete record and was deleted."""
        return self.final_path is None


def is_complete_record(data: bytes) -> bool:
    """Whether ``data`` (one inflated gzip member) is exactly one whole WARC record."""
    if not data.startswith(b"WARC/"):
        return False
    end_of_headers = data.find(b"\r\n\r\n")
    if end_of_headers < 0:
        return False
    match = _CONTENT_LENGTH.search(data, 0, end_of_headers + 2)
    if match is None:
        return False
    block = len(data) - (end_of_headers + 4)
    return block == int(match.group(1)) + 4 and data.endswith(b"\r\n\r\n")


def complete_prefix(path: Path) -> tuple[int, int]:
    """Return ``(bytes, records)`` of the longest run of complete records at the start of ``path``.

    Reads one gzip member at a time, so memory stays at one record.
    """
    kept = records = 0
    with path.open("rb") as stream:
        pending = b""
        while True:
            if not pending:
                pending = stream.read(_CHUNK)
                if not pending:
                    return kept, records
            inflater = zlib.decompressobj(31)
            member_bytes = 0
            parts: list[bytes] = []
            try:
                while True:
                    parts.append(inflater.decompress(pending))
                    if inflater.eof:
                        member_bytes += len(pending) - len(inflater.unused_data)
                        pending = inflater.unused_data
                        break
                    member_bytes += len(pending)
                    pending = stream.read(_CHUNK)
                    if not pending:
                        return kept, records  # the last member stops short
            except zlib.error:
                return kept, records  # garbage after the last good member
            if not is_complete_record(b"".join(parts)):
                return kept, records
            kept += member_bytes
            records += 1


def _locked_by_live_writer(handle: object) -> bool:
    if fcntl is None:
        return False
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # type: ignore[attr-defined]
    except BlockingIOError:
        return True
    return False


def recover_file(open_path: Path) -> RecoveredFile | None:
    """Cut ``open_path`` after its last complete record, then close and rename it.

    Returns ``None`` when a live writer still holds the file.
    """
    final_path = open_path.with_name(open_path.name[: -len(OPEN_SUFFIX)])
    if final_path.exists():
        raise FileExistsError(
            f"cannot recover {open_path}: {final_path} already exists; "
            f"compare the two and remove the wrong one"
        )
    with open_path.open("r+b") as handle:
        if _locked_by_live_writer(handle):
            return None
        size = os.fstat(handle.fileno()).st_size
        kept, records = complete_prefix(open_path)
        if records:
            handle.truncate(kept)
            os.fsync(handle.fileno())
    if not records:
        open_path.unlink()
        result = RecoveredFile(open_path, None, 0, 0, size)
    else:
        os.replace(open_path, final_path)
        result = RecoveredFile(open_path, final_path, records, kept, size - kept)
    if os.name == "posix":
        fd = os.open(open_path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return result


def recover_directory(directory: str | Path) -> list[RecoveredFile]:
    """Recover every ``*.warc.gz.open`` file in ``directory`` not held by a live writer."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    recovered = []
    for open_path in sorted(directory.glob(f"*.warc.gz{OPEN_SUFFIX}")):
        result = recover_file(open_path)
        if result is None:
            logger.info("WARC file %s is being written by a running crawl; left alone", open_path)
            continue
        if result.removed:
            logger.warning(
                "Removed %s left by an interrupted crawl: it held no complete record (%d bytes)",
                open_path, result.cut_bytes,
            )
        else:
            logger.warning(
                "Recovered %s left by an interrupted crawl as %s: %d complete records kept, "
                "%d bytes of a partial record cut",
                open_path, result.final_path, result.records, result.cut_bytes,
            )
        recovered.append(result)
    return recovered
