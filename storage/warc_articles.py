"""Article responses read back from WARC files, offline: what ``sitecheck`` and ``reparse`` parse.

`iter_latest_captures` yields, for each URL a caller wants, its latest ``200`` response record:
its ``Content-Type`` and a pointer to the record in the same shape as the one a crawl stores on
the article (`storage.warc.WarcPointer`), one URL at a time in URL order. Payloads are not kept
(an archive can be far larger than memory) but read one at a time with `read_payload`, decoded
as the crawl decoded them and no larger than its ``DOWNLOAD_MAXSIZE`` (`storage.payload`).
Revisit records hold no payload and are skipped: the original response stands for them.

Records are found through the archive's CDXJ index (``scrapy index``, `storage.index`) where it
covers a file: a file the index names and that has not changed since it was written. Only
those files' wanted records are then read, at their offsets. Files the index does not cover
(written or closed after it, ``.open`` ones, all of them when there is no index) are scanned.
The candidates (URL, time, file, offset) are sorted on disk in runs merged with
``heapq.merge``, so memory does not grow with the archive: one URL's captures at a time.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.timeutils import iso_date_to_timestamp

from storage.partial import remove_leftovers, scratch_directory
from storage.payload import record_payload
from storage.warc import WarcPointer

logger = logging.getLogger(__name__)

# Candidates sorted in memory before a run goes to disk (~150 bytes each).
SORT_RUN_CANDIDATES = 100_000
# Named like the output of a command, for `storage.partial.scratch_directory`: the scratch folder
# is ``ARCHIVE_DIR/.captures.<pid>.<random>.tmp``.
CAPTURES_SCRATCH = "captures"


@dataclass(frozen=True)
class Capture:
    """One archived response: when, what came back, and where the record is."""

    url: str
    date: str  # WARC-Date, ISO 8601 UTC
    content_type: str | None
    pointer: dict


class IndexMismatch(Exception):
    """The CDXJ index points at a record that is not the capture it lists (rebuild the index)."""


def latest_captures(warc_dir: Path, wanted: Callable[[str], bool]) -> dict[str, Capture]:
    """URL -> its latest 200 `Capture`, for every URL ``wanted`` accepts (all in memory)."""
    return {capture.url: capture for capture in iter_latest_captures(warc_dir, wanted)}


def iter_latest_captures(
    warc_dir: Path, wanted: Callable[[str], bool], index_file: Path | None = None,
    run_size: int = SORT_RUN_CANDIDATES,
) -> Iterator[Capture]:
    """The latest 200 `Capture` of every URL ``wanted`` accepts, in URL order.

    ``index_file`` is the archive's CDXJ index, if any: the files it covers are not scanned.
    A file that cannot be read to its end (one still being written ends mid-record) counts
    for what was read, and is logged with the reason. Raises `IndexMismatch` when the index
    points at another record than the one it lists.
    """
    files = sorted(warc_dir.glob("*.warc.gz*"))
    with _sorting_scratch(warc_dir) as scratch:
        indexed: set[str] = set()
        candidates = itertools.chain(
            _indexed_candidates(index_file, files, wanted, indexed),
            # Evaluated once the index is read: only the files it did not name are scanned.
            itertools.chain.from_iterable(
                _scanned_candidates(path, wanted) for path in files
                if path.name not in indexed),
        )
        by_url = itertools.groupby(_external_sort(candidates, Path(scratch), run_size),
                                   key=lambda candidate: candidate[0])
        for url, group in by_url:
            yield _latest(warc_dir, url, group)


def _sorting_scratch(warc_dir: Path) -> tempfile.TemporaryDirectory:
    """Where the sorting runs (~150 bytes a capture) go: beside the WARC directory, not in the
    system's temporary folder (often in RAM), unless the archive may not be written there."""
    scratch_for = warc_dir.parent / CAPTURES_SCRATCH
    try:
        remove_leftovers(scratch_for)  # a killed run's
        return scratch_directory(scratch_for)
    except OSError:
        return tempfile.TemporaryDirectory(prefix="captures-")


def _indexed_candidates(index_file: Path | None, files: list[Path],
                        wanted: Callable[[str], bool], indexed: set[str]) -> Iterator[list]:
    """``[url, timestamp, file, offset, length]`` of the index's 200 responses ``wanted``.

    Only files written before the index are taken from it; the name of each is added to
    ``indexed``. A 304 revalidation resolved to the capture it confirms repeats that
    capture's place; `_latest` keeps the capture.
    """
    if index_file is None or not index_file.is_file():
        return
    written = index_file.stat().st_mtime
    eligible = {path.name for path in files if path.stat().st_mtime <= written}
    if not eligible:
        return
    with index_file.open(encoding="utf-8") as lines:
        for line in lines:
            fields = line.split(" ", 2)
            if len(fields) < 3:
                continue
            try:
                entry = json.loads(fields[2])
            except ValueError:
                continue
            name = entry.get("filename")
            if name not in eligible:
                continue
            indexed.add(name)
            url = entry.get("url", "")
            if (entry.get("status") != "200" or entry.get("mime") == "warc/revisit"
                    or not wanted(url)):
                continue
            yield [url, fields[1], name, int(entry["offset"]), int(entry["length"])]


def _scanned_candidates(path: Path, wanted: Callable[[str], bool]) -> Iterator[list]:
    """``[url, timestamp, file, offset, length]`` of a file's 200 responses ``wanted``."""
    try:
        with open(path, "rb") as stream:
            records = ArchiveIterator(stream)
            for record in records:
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                if record.http_headers.get_statuscode() != "200" or not wanted(url):
                    continue
                date = record.rec_headers.get_header("WARC-Date") or ""
                records.read_to_end(record)
                yield [url, iso_date_to_timestamp(date) if date else "", path.name,
                       records.get_record_offset(), records.get_record_length()]
    except (OSError, EOFError, ArchiveLoadFailed) as error:
        logger.warning("Stopped reading %s: %s", path, error)


def _external_sort(items: Iterable[list], scratch: Path, run_size: int) -> Iterator[list]:
    """``items`` in order: sorted runs of ``run_size`` written to ``scratch``, then merged."""
    runs: list[Path] = []
    batch: list[list] = []
    for item in items:
        batch.append(item)
        if len(batch) >= run_size:
            runs.append(_write_run(sorted(batch), scratch / f"run-{len(runs)}.jsonl"))
            batch = []
    batch.sort()
    if not runs:
        yield from batch
        return
    if batch:
        runs.append(_write_run(batch, scratch / f"run-{len(runs)}.jsonl"))
    del batch
    streams = [path.open(encoding="utf-8") for path in runs]
    try:
        yield from heapq.merge(*(map(json.loads, stream) for stream in streams))
    finally:
        for stream in streams:
            stream.close()


def _write_run(batch: list[list], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as stream:
        stream.writelines(json.dumps(item) + "\n" for item in batch)
    return path


def _latest(warc_dir: Path, url: str, group: Iterable[list]) -> Capture:
    """The latest capture among one URL's candidates (sorted by time, file and offset).

    Candidates of the latest second are read; the latest ``WARC-Date`` wins, then the later
    file and offset, as a scan in file order would find.
    """
    seen: set[tuple[str, int]] = set()
    newest: list[list] = []
    for candidate in group:
        place = (candidate[2], candidate[3])
        if place in seen:  # a resolved 304 of the index, pointing at a capture listed before
            continue
        seen.add(place)
        if newest and newest[0][1] != candidate[1]:
            newest = []
        newest.append(candidate)
    captures = [_read_capture(warc_dir, url, *candidate[2:]) for candidate in newest]
    return max(enumerate(captures), key=lambda item: (item[1].date, item[0]))[1]


def _read_capture(warc_dir: Path, url: str, name: str, offset: int, length: int) -> Capture:
    """The `Capture` of the response record at ``offset`` of the file ``name``."""
    path = warc_dir / name
    with open(path, "rb") as stream:
        stream.seek(offset)
        record = next(iter(ArchiveIterator(stream)), None)
        if (record is None or record.rec_type != "response" or record.http_headers is None
                or record.rec_headers.get_header("WARC-Target-URI") != url):
            raise IndexMismatch(f"no response for {url} at offset {offset} of {path}: the "
                                "index is out of date; run `scrapy index` again")
        pointer = WarcPointer(
            filename=name.removesuffix(".open"),
            record_id=record.rec_headers.get_header("WARC-Record-ID") or "",
            offset=offset,
            length=length,
            payload_digest=record.rec_headers.get_header("WARC-Payload-Digest") or "",
            target_uri=url,
        )
        return Capture(url, record.rec_headers.get_header("WARC-Date") or "",
                       record.http_headers.get_header("Content-Type") or None,
                       pointer.as_dict())


def read_payload(warc_dir: Path, capture: Capture, max_size: int) -> bytes:
    """The payload of the record a capture points to, its Content-Encoding undone.

    ``max_size`` is the crawl's ``DOWNLOAD_MAXSIZE`` (0: no cap). Raises OSError or
    ``ArchiveLoadFailed`` when the file or the record cannot be read, and
    `storage.payload.PayloadError` when the payload is larger than ``max_size`` (archived or
    decoded) or cannot be decoded; the messages name nothing, the caller names the record.
    """
    path = warc_dir / capture.pointer["filename"]
    if not path.exists():
        path = path.with_name(path.name + ".open")  # the crawl writing it has not closed it yet
    with open(path, "rb") as stream:
        stream.seek(capture.pointer["offset"])
        for record in ArchiveIterator(stream):
            return record_payload(record, max_size)
    raise ArchiveLoadFailed(f"no record at offset {capture.pointer['offset']} of {path}")
