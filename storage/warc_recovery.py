"""Recover WARC files left ``.open`` by a crashed crawl, without destroying a byte.

A writer killed mid-write (kill -9, power cut, full disk) leaves its file named
``….warc.gz.open``, usually ending in a partial record; a disk or a copy may also damage
a file in the middle.  :func:`recover_directory` finds such files (``*.warc.gz.open``
and ``*.warc.open``) and for each:

* reads it as a sequence of units: gzip members, one record each (``.warc.gz``, as
  :class:`storage.warc.WarcWriter` writes them), or uncompressed records (``.warc``);
  which of the two is told from the bytes, not from the name;
* keeps every unit that warcio reads as exactly one whole WARC record: well-formed
  headers with the mandatory fields, the ``Content-Length`` block all there, and the
  block and payload digests, when given, matching (so ``warcio check`` passes on the
  result);
* after a unit it cannot read, resynchronises on the next gzip member
  (``1f 8b 08``) or the next ``WARC/`` record line that starts a readable record, so
  damage costs only the records it touches;
* writes the readable records, byte for byte, to the file's final name (the name
  without ``.open``: cut in place when the damage is only at the end, the normal
  crash, else copied), and moves every unreadable span, byte for byte, to
  ``quarantine/<final name>.<offset>.damaged`` in the WARC directory, where
  ``<offset>`` is where the span started in the ``.open`` file.  A partial record at
  the end of the file is quarantined too, not dropped: it may still hold part of a
  page.  Nothing is deleted, so the kept records and the quarantined spans together
  are the ``.open`` file, and the ``.open`` file is removed only once they are fsynced;
* appends one JSON line per damaged span to ``recovery-report.jsonl`` in the WARC
  directory (see :data:`REPORT_NAME`).

A file in which no WARC record is readable at all (an ARC file, a file compressed as
a single gzip stream, anything else) is left exactly as it is, ``.open`` name
included, and reported.  An empty file, having nothing to lose, is removed.

Files still written by a live process are skipped: :class:`storage.warc.WarcWriter`
holds an exclusive ``flock`` on its open file, and the lock dies with the process.
Recovery takes the same lock while it works.  Memory stays at about one record (a
record's header and a read buffer); the file is streamed.

This module reads no settings and has no Scrapy imports.
"""

from __future__ import annotations

import json
import logging
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.limitreader import LimitReader

from storage.files import fsync_directory, try_lock
from storage.warc import EXTENSION, OPEN_SUFFIX

logger = logging.getLogger(__name__)

#: The recovery report, one JSON object per line, in the WARC directory.  Fields:
#: ``time``, ``file`` (the ``.open`` file's name), ``recovered_as`` (the final name, or
#: ``null``), ``action`` (``quarantined``, ``left untouched`` or ``removed``),
#: ``offset`` and ``length`` (the span in the ``.open`` file), ``reason`` and
#: ``quarantine`` (the quarantine file, relative to the WARC directory, or ``null``).
REPORT_NAME = "recovery-report.jsonl"
#: Subdirectory of the WARC directory that holds the damaged spans.  Not beside the WARC
#: files themselves: readers glob ``*.warc.gz*`` there, and a span is no WARC file.
QUARANTINE_DIR = "quarantine"
DAMAGED_SUFFIX = ".damaged"
#: The globs of files a crashed writer leaves: compressed (ours) and uncompressed WARC.
OPEN_PATTERNS = (f"*{EXTENSION}{OPEN_SUFFIX}", f"*.warc{OPEN_SUFFIX}")

GZIP_MAGIC = b"\x1f\x8b\x08"
WARC_MAGIC = b"WARC/"
ARC_MAGIC = b"filedesc://"
#: The headers WARC 1.0 and 1.1 require of every record.
MANDATORY_HEADERS = ("WARC-Record-ID", "Content-Length", "WARC-Date", "WARC-Type")
#: A WARC header block longer than this is taken for damage (real ones are about 1 KB).
MAX_HEADER_BYTES = 1 << 20

_READ_SIZE = 1 << 16
# Output of one inflate step: bounds memory on a member that compresses very well.
_INFLATE_STEP = 1 << 20
_VERSION_LINE = re.compile(rb"WARC/\d+\.\d+\r\n")
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n", re.IGNORECASE)
_HEADER_END = b"\r\n\r\n"
# A field line (RFC 9110 token, colon, value without control characters) or a folded one.
_FIELD_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ \t]*:[^\x00-\x08\x0a-\x1f\x7f]*\Z")
_CONTINUATION_LINE = re.compile(rb"[ \t][^\x00-\x08\x0a-\x1f\x7f]*\Z")


@dataclass(frozen=True)
class DamagedSpan:
    """Bytes of an ``.open`` file that hold no readable record, and where they went."""

    offset: int
    length: int
    reason: str
    quarantine: Path | None = None


@dataclass(frozen=True)
class RecoveredFile:
    """What recovery did to one ``.open`` file.

    ``final_path`` is ``None`` when the file was left untouched (``untouched_reason``
    says why), could not be recovered (``error``) or, being empty, was removed.
    """

    open_path: Path
    final_path: Path | None
    records: int
    kept_bytes: int
    damaged: tuple[DamagedSpan, ...] = ()
    untouched_reason: str | None = None
    removed: bool = False
    error: str | None = None

    @property
    def quarantined_bytes(self) -> int:
        """Bytes moved to quarantine files."""
        return sum(span.length for span in self.damaged)


@dataclass(frozen=True)
class _Run:
    """A stretch of the ``.open`` file: readable records (``reason`` empty) or damage."""

    start: int
    end: int
    reason: str = ""


class _Reader:
    """Random access to the ``.open`` file in small reads, with a substring search."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self.stream = stream
        self.size = size

    def read_at(self, offset: int, length: int) -> bytes:
        self.stream.seek(offset)
        return self.stream.read(length)

    def find(self, needle: bytes, start: int) -> int | None:
        """Return the first offset at or after ``start`` where ``needle`` begins."""
        overlap = len(needle) - 1
        while start < self.size:
            chunk = self.read_at(start, _READ_SIZE + overlap)
            found = chunk.find(needle)
            if found >= 0:
                return start + found
            if len(chunk) <= overlap:
                return None
            start += len(chunk) - overlap
        return None


def _warcio_reads_one_record(reader: _Reader, start: int, end: int) -> str:
    """Return ``""`` if warcio reads ``[start, end)`` as exactly one valid WARC record.

    Else the reason it does not.  Valid: the headers parse and include the mandatory
    ones, ``Content-Length`` is a number and that many bytes of block follow, digests
    (when given) match, and nothing but blank lines follows the record.
    """
    reader.stream.seek(start)
    records = ArchiveIterator(LimitReader(reader.stream, end - start), check_digests=True)
    count = 0
    try:
        for record in records:
            count += 1
            if count > 1:
                return "more than one record in one gzip member"
            if record.format != "warc":
                return f"an {record.format.upper()} record, not WARC"
            headers = record.rec_headers
            missing = [name for name in MANDATORY_HEADERS if not headers.get_header(name)]
            if missing:
                return f"no {', '.join(missing)} header"
            if not headers.get_header("Content-Length").strip().isdigit():
                return "no valid Content-Length"
            while record.raw_stream.read(_READ_SIZE):
                pass
            if getattr(record.raw_stream, "limit", 0):
                return "record block shorter than its Content-Length"
            if record.digest_checker.passed is False:
                return "; ".join(record.digest_checker.problems)
    except Exception as error:  # noqa: BLE001 - warcio raises many kinds on garbage
        message = " ".join(str(error).split())  # some of warcio's span a paragraph
        return f"not a readable WARC record ({type(error).__name__}: {message})"
    if count == 0:
        return "no record"
    if records.err_count:
        return "record not followed by a blank line"
    return ""


def _header_problem(head: bytes) -> tuple[int, int, str]:
    """Check the WARC header at the start of ``head`` against the WARC grammar.

    Returns ``(header length, Content-Length, "")``, or ``(0, 0, reason)``.  warcio
    silently drops a header line without a colon, so without this a record whose
    header took in garbage (a zeroed or inserted block) would pass for valid.
    """
    if not _VERSION_LINE.match(head):
        return 0, 0, "no WARC version line"
    header_end = head.find(_HEADER_END)
    if header_end < 0:
        return 0, 0, "WARC header without an end"
    for line in head[:header_end].split(b"\r\n")[1:]:
        if not (_FIELD_LINE.match(line) or _CONTINUATION_LINE.match(line)):
            return 0, 0, "malformed WARC header line"
    match = _CONTENT_LENGTH.search(head, 0, header_end + 2)
    if match is None:
        return 0, 0, "WARC header without Content-Length"
    return header_end + len(_HEADER_END), int(match.group(1)), ""


def _gzip_member_end(reader: _Reader, start: int) -> tuple[int | None, str, bytes]:
    """Return ``(end, "", head)`` of the intact gzip member at ``start``, or ``(None, why, b"")``.

    zlib checks the member's CRC-32 and length, so an intact member holds exactly the
    bytes that were compressed.  ``head`` is the start of the inflated record, up to the
    end of its header (at most :data:`MAX_HEADER_BYTES`); the rest is discarded.
    """
    magic = reader.read_at(start, len(GZIP_MAGIC))
    if magic != GZIP_MAGIC:
        if GZIP_MAGIC.startswith(magic) and start + len(magic) == reader.size:
            return None, "gzip member cut short by the end of the file", b""
        return None, "not a gzip member", b""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    head = b""
    collecting = True
    position = start
    while True:
        chunk = reader.read_at(position, _READ_SIZE)
        if not chunk:
            return None, "gzip member cut short by the end of the file", b""
        data = chunk
        try:
            while data and not inflater.eof:
                output = inflater.decompress(data, _INFLATE_STEP)
                if collecting:
                    head += output[:MAX_HEADER_BYTES]
                    collecting = (
                        len(head) < MAX_HEADER_BYTES and _HEADER_END not in head
                        and WARC_MAGIC.startswith(head[: len(WARC_MAGIC)])
                    )
                data = inflater.unconsumed_tail
        except zlib.error as error:
            return None, f"corrupt gzip member ({error})", b""
        if inflater.eof:
            return position + len(chunk) - len(inflater.unused_data), "", head
        position += len(chunk)


def _gzip_unit(reader: _Reader, start: int) -> tuple[int | None, str]:
    """The end of the gzip member at ``start`` if it holds one valid WARC record."""
    end, reason, head = _gzip_member_end(reader, start)
    if end is None:
        return None, reason
    reason = _header_problem(head)[2] or _warcio_reads_one_record(reader, start, end)
    if reason:
        return None, f"gzip member holds no valid WARC record: {reason}"
    return end, ""


def _plain_unit(reader: _Reader, start: int) -> tuple[int | None, str]:
    """The end of the uncompressed record at ``start`` (with its blank lines) if valid."""
    head = reader.read_at(start, _READ_SIZE)
    if not head.startswith(WARC_MAGIC):
        if WARC_MAGIC.startswith(head) and start + len(head) == reader.size:
            return None, "WARC record cut short by the end of the file"
        return None, "no WARC record line"
    while _HEADER_END not in head and len(head) < MAX_HEADER_BYTES:
        more = reader.read_at(start + len(head), _READ_SIZE)
        if not more:
            return None, "WARC record cut short by the end of the file"
        head += more
    header_length, content_length, reason = _header_problem(head)
    if reason:
        return None, reason
    block_end = start + header_length + content_length
    if block_end + len(_HEADER_END) > reader.size:
        return None, "WARC record cut short by the end of the file"
    if reader.read_at(block_end, len(_HEADER_END)) != _HEADER_END:
        return None, "WARC record not followed by CRLF CRLF (wrong Content-Length?)"
    end = block_end + len(_HEADER_END)
    # warcio skips further blank lines between records; a lone CR would break it.
    while True:
        following = reader.read_at(end, 2)
        if following.startswith(b"\n"):
            end += 1
        elif following == b"\r\n":
            end += 2
        else:
            break
    reason = _warcio_reads_one_record(reader, start, end)
    if reason:
        return None, reason
    return end, ""


def _units(reader: _Reader, compressed: bool) -> Iterator[_Run]:
    """Yield the readable records and the damaged spans between them, in file order."""
    unit = _gzip_unit if compressed else _plain_unit
    magic = GZIP_MAGIC if compressed else WARC_MAGIC
    position = 0
    while position < reader.size:
        end, reason = unit(reader, position)
        if end is not None:
            yield _Run(position, end)
            position = end
            continue
        # Resynchronise: the next place where a readable record starts.
        candidate = position + 1
        while (candidate := reader.find(magic, candidate)) is not None:
            end, _ = unit(reader, candidate)
            if end is not None:
                break
            candidate += 1
        damage_end = reader.size if candidate is None else candidate
        if damage_end == reader.size and reason.endswith("cut short by the end of the file"):
            reason = f"{reason} (the write a crash interrupted)"
        yield _Run(position, damage_end, reason)
        if candidate is None:
            return
        yield _Run(candidate, end)
        position = end


def _plan(reader: _Reader, compressed: bool) -> tuple[list[_Run], int]:
    """Return the file as runs (adjacent records merged, adjacent damage merged) and records."""
    runs: list[_Run] = []
    records = 0
    for unit in _units(reader, compressed):
        if not unit.reason:
            records += 1
        if runs and bool(runs[-1].reason) == bool(unit.reason):
            runs[-1] = _Run(runs[-1].start, unit.end, runs[-1].reason)
        else:
            runs.append(unit)
    return runs, records


def _untouched_reason(reader: _Reader) -> str:
    head = reader.read_at(0, _READ_SIZE)
    if head.startswith(GZIP_MAGIC):
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, len(ARC_MAGIC))
        except zlib.error:
            pass
    if head.startswith(ARC_MAGIC):
        return "an ARC file, not WARC"
    if head.startswith(WARC_MAGIC):
        return "no WARC record in it is whole and readable (cut short, or one gzip stream)"
    return "no readable WARC record (not a WARC file, or damaged throughout)"


def _copy(source: BinaryIO, start: int, end: int, target: BinaryIO) -> None:
    source.seek(start)
    remaining = end - start
    while remaining:
        chunk = source.read(min(remaining, 1 << 20))
        if not chunk:
            raise OSError(f"{source.name} shrank while being recovered")
        target.write(chunk)
        remaining -= len(chunk)


def _write_durably(path: Path, source: BinaryIO, runs: list[_Run], scratch: Path) -> None:
    """Write ``runs`` of ``source`` to ``path`` through a temporary file in ``scratch``, fsynced.

    The temporary file stays out of the WARC directory: readers glob ``*.warc.gz*`` there.
    """
    partial = scratch / f"{path.name}.part"
    with partial.open("wb") as target:
        for run in runs:
            _copy(source, run.start, run.end, target)
        target.flush()
        os.fsync(target.fileno())
    os.replace(partial, path)


def _quarantine_path(directory: Path, final_name: str, offset: int) -> Path:
    path = directory / f"{final_name}.{offset}{DAMAGED_SUFFIX}"
    serial = 1
    while path.exists():  # left by an earlier recovery of this file that was interrupted
        path = directory / f"{final_name}.{offset}-{serial}{DAMAGED_SUFFIX}"
        serial += 1
    return path


def _report(directory: Path, lines: list[dict[str, object]]) -> None:
    if not lines:
        return
    time = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with (directory / REPORT_NAME).open("a", encoding="utf-8") as report:
        for line in lines:
            report.write(json.dumps({"time": time, **line}, ensure_ascii=False) + "\n")
        report.flush()
        os.fsync(report.fileno())


def _plan_either_kind(reader: _Reader) -> tuple[list[_Run], int]:
    """Plan the file as gzip members, or else as uncompressed records: the kind that reads.

    Returns ``([], 0)`` when neither finds a readable record.
    """
    # Our writer's files are gzip; try the other kind first when it starts like one.
    plain_start = reader.read_at(0, len(WARC_MAGIC)) == WARC_MAGIC
    for compressed in (not plain_start, plain_start):
        runs, records = _plan(reader, compressed)
        if records:
            return runs, records
    return [], 0


def _remove_empty(open_path: Path) -> RecoveredFile:
    """Remove an empty ``.open`` file: it has nothing to lose."""
    open_path.unlink()
    fsync_directory(open_path.parent)
    _report(open_path.parent, [{
        "file": open_path.name, "recovered_as": None, "action": "removed",
        "offset": 0, "length": 0, "reason": "empty file", "quarantine": None,
    }])
    return RecoveredFile(open_path, None, 0, 0, removed=True)


def _leave_untouched(open_path: Path, reader: _Reader) -> RecoveredFile:
    """Report a file without a readable WARC record, and leave it exactly as it is."""
    reason = _untouched_reason(reader)
    _report(open_path.parent, [{
        "file": open_path.name, "recovered_as": None, "action": "left untouched",
        "offset": 0, "length": reader.size, "reason": reason, "quarantine": None,
    }])
    return RecoveredFile(open_path, None, 0, 0, untouched_reason=reason)


def _quarantine(
    handle: BinaryIO, runs: list[_Run], open_path: Path, final_path: Path
) -> list[DamagedSpan]:
    """Copy every damaged run of ``handle`` to its own quarantine file, fsynced; report them."""
    damaged_runs = [run for run in runs if run.reason]
    if not damaged_runs:
        return []
    directory = open_path.parent
    quarantine_dir = directory / QUARANTINE_DIR
    quarantine_dir.mkdir(exist_ok=True)
    damaged = []
    for run in damaged_runs:
        target = _quarantine_path(quarantine_dir, final_path.name, run.start)
        _write_durably(target, handle, [run], quarantine_dir)
        damaged.append(DamagedSpan(run.start, run.end - run.start, run.reason, target))
    fsync_directory(quarantine_dir)
    _report(directory, [{
        "file": open_path.name, "recovered_as": final_path.name, "action": "quarantined",
        "offset": span.offset, "length": span.length, "reason": span.reason,
        "quarantine": target.relative_to(directory).as_posix(),
    } for span in damaged if (target := span.quarantine) is not None])
    return damaged


def _keep(handle: BinaryIO, kept: list[_Run], open_path: Path, final_path: Path) -> None:
    """Give the readable ``kept`` runs of ``handle`` the final name; remove the ``.open`` file.

    Called only once the damaged runs are safe in quarantine.
    """
    directory = open_path.parent
    if len(kept) == 1 and kept[0].start == 0:
        # Records, then at most damage at the end (the normal crash): cut in place.
        handle.truncate(kept[0].end)
        os.fsync(handle.fileno())
        os.replace(open_path, final_path)
    else:
        _write_durably(final_path, handle, kept, directory / QUARANTINE_DIR)
        # Both names exist for a moment: a crash here loses nothing, and the next
        # recovery refuses to guess which one to keep.
        fsync_directory(directory)
        open_path.unlink()
    fsync_directory(directory)


def recover_file(open_path: Path) -> RecoveredFile | None:
    """Keep the readable records of ``open_path`` under its final name, quarantine the rest.

    Returns ``None`` when a live writer still holds the file.  Raises
    ``FileExistsError`` when the final name is taken (and leaves everything as it is).
    """
    final_path = open_path.with_name(open_path.name.removesuffix(OPEN_SUFFIX))
    with open_path.open("r+b") as handle:
        # The writer holds this lock until it closes the file, or dies.
        if not try_lock(handle.fileno()):
            return None
        reader = _Reader(handle, os.fstat(handle.fileno()).st_size)
        if reader.size == 0:
            return _remove_empty(open_path)
        runs, records = _plan_either_kind(reader)
        if not records:
            return _leave_untouched(open_path, reader)
        if final_path.exists():
            raise FileExistsError(
                f"cannot recover {open_path}: {final_path} already exists (an interrupted "
                f"recovery?); compare the two and remove the wrong one"
            )
        damaged = _quarantine(handle, runs, open_path, final_path)
        kept = [run for run in runs if not run.reason]
        _keep(handle, kept, open_path, final_path)
    kept_bytes = sum(run.end - run.start for run in kept)
    return RecoveredFile(open_path, final_path, records, kept_bytes, tuple(damaged))


def recover_directory(directory: str | Path) -> list[RecoveredFile]:
    """Recover every ``.open`` WARC file in ``directory`` not held by a live writer.

    A file that cannot be recovered (its final name is taken, a disk error) is logged
    and returned with ``error`` set; the others are still recovered.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    recovered = []
    open_paths = sorted({path for pattern in OPEN_PATTERNS for path in directory.glob(pattern)})
    for open_path in open_paths:
        try:
            result = recover_file(open_path)
        except OSError as error:
            logger.error("Could not recover %s: %s", open_path, error)
            recovered.append(RecoveredFile(open_path, None, 0, 0, error=str(error)))
            continue
        if result is None:
            logger.info("WARC file %s is being written by a running crawl; left alone", open_path)
            continue
        _log(result, directory)
        recovered.append(result)
    return recovered


def _log(result: RecoveredFile, directory: Path) -> None:
    report = directory / REPORT_NAME
    if result.removed:
        logger.warning("Removed %s left by an interrupted crawl: it was empty", result.open_path)
    elif result.final_path is None:
        logger.warning(
            "Left %s as it is: %s; see %s", result.open_path, result.untouched_reason, report
        )
    elif not result.damaged:
        logger.warning(
            "Recovered %s left by an interrupted crawl as %s: %d records, nothing damaged",
            result.open_path, result.final_path, result.records,
        )
    else:
        logger.warning(
            "Recovered %s left by an interrupted crawl as %s: %d records kept; %d damaged or "
            "partial span(s), %d bytes, moved to %s; see %s",
            result.open_path, result.final_path, result.records, len(result.damaged),
            result.quarantined_bytes, directory / QUARANTINE_DIR, report,
        )
