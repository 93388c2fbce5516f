"""CDXJ index of an archive's WARC files, written with cdxj-indexer.

:func:`write_cdxj` indexes closed WARC files (``response``, ``revisit`` and ``resource``
records; cdxj-indexer leaves out ``metadata`` and ``request`` records by default) into
one sorted CDXJ file, the format pywb and the WACZ ``indexes/`` folder read:
``<SURT> <14-digit timestamp> {json}`` with ``url``, ``mime``, ``status``, ``digest``,
``length``, ``offset`` and ``filename`` (relative to the WARC directory).  The file is
written under a hidden temporary name and renamed (``storage/partial.py``), so a reader
never sees half an index.

``304 Not Modified`` captures (answers to conditional requests of an incremental crawl)
are ``revisit`` records of the server-not-modified profile (see ``storage/warc.py``):
they hold no page, and replay tools resolve a revisit whose HTTP status is a 3xx to its
own empty body (pywb does), so a plain line would replay the revalidated article as a
blank page.  :func:`replayable_lines` gives each such line the place of the capture it
confirms (same URL and payload digest, captured earlier), keeping the revalidation's
time: the index says "at this time the page was this", and every tool replays it.  A
304 whose confirmed capture is not in the index is left out (and counted).

Sorting is cdxj-indexer's, which spills to temporary files past 32 MB, and the
resolution reads one URL's lines at a time, so memory does not grow with the archive.

Beside the index, ``<index>.sources.json`` names the WARC files it was made from (name, size,
modification time), its root and its counts. :func:`current_index` reads it: when the files are
still exactly those, ``scrapy package`` copies the index's lines instead of indexing every WARC
file again (at 1,000,000 articles, indexing is ~520 s of package's ~1,280 s: docs/scale.md).
A missing or unreadable description, or any file added, changed or removed, means indexing.

This module reads no settings and has no Scrapy imports.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from storage.partial import partial_file, remove_leftovers, scratch_directory
from storage.warc import EXTENSION

REVISIT_MIME = "warc/revisit"


def closed_warc_files(directory: str | Path) -> list[Path]:
    """Return the closed WARC files of ``directory`` (``.open`` ones are still written)."""
    return sorted(Path(directory).glob(f"*{EXTENSION}"))


@dataclass
class IndexCounts:
    """What an index holds: lines written, and 304 revalidations left out (unresolved)."""

    lines: int = 0
    unresolved_not_modified: int = 0


def sorted_cdxj(warc_files: Sequence[Path], root: str | Path, scratch: Path) -> Path:
    """Index ``warc_files`` with cdxj-indexer into a sorted CDXJ file in ``scratch``."""
    # Imported here: cdxj-indexer brings pyamf, ~0.2 s that every scrapy command (a crawl too:
    # Scrapy imports every command module) would pay.
    from cdxj_indexer.main import write_cdx_index

    path = scratch / "sorted.cdxj"
    with path.open("w", encoding="utf-8") as stream, _temporary_files_in(scratch):
        write_cdx_index(stream, [str(p) for p in warc_files], {"sort": True, "dir_root": str(root)})
    return path


@contextlib.contextmanager
def _temporary_files_in(directory: Path) -> Iterator[None]:
    """Make ``tempfile``'s default folder ``directory`` for a while.

    cdxj-indexer's sort writes its 32 MB runs with ``NamedTemporaryFile()``, no folder given:
    ~2 GB at 1,000,000 articles into the system's temporary folder, often a file system in RAM,
    where a killed run also left them. In the scratch directory beside the output they go with
    it (`storage.partial.remove_leftovers` clears a killed run's). The offline commands that
    index run nothing else meanwhile.
    """
    saved = tempfile.tempdir
    tempfile.tempdir = str(directory)
    try:
        yield
    finally:
        tempfile.tempdir = saved


def replayable_lines(lines: Iterable[str], counts: IndexCounts) -> Iterator[str]:
    """Sorted CDXJ lines with each 304 revalidation pointed at the capture it confirms."""
    group_key = None
    # Payload digest -> the latest earlier line of this URL that holds (or resolves to) it.
    holders: dict[str, dict] = {}
    for line in lines:
        key, timestamp, entry = _split(line)
        if entry is None:
            counts.lines += 1
            yield line
            continue
        if key != group_key:
            group_key, holders = key, {}
        if entry.get("status") == "304":
            holder = holders.get(entry.get("digest", ""))
            if holder is None:
                counts.unresolved_not_modified += 1
                continue
            resolved = {**holder, "url": entry.get("url", holder.get("url"))}
            counts.lines += 1
            yield f"{key} {timestamp} {json.dumps(resolved)}\n"
            continue
        if entry.get("digest") and (entry.get("status", "").startswith("2")
                                    or entry.get("mime") == REVISIT_MIME):
            holders[entry["digest"]] = entry
        counts.lines += 1
        yield line


def write_cdxj(warc_files: Sequence[Path], output: str | Path, root: str | Path) -> int:
    """Index ``warc_files`` into ``output`` (sorted CDXJ); return the number of lines.

    ``filename`` in each line is relative to ``root``, where a replay tool finds the files.
    """
    return write_cdxj_counted(warc_files, output, root).lines


def write_cdxj_counted(
    warc_files: Sequence[Path], output: str | Path, root: str | Path
) -> IndexCounts:
    """`write_cdxj`, returning what the index holds and what was left out."""
    output = Path(output)
    remove_leftovers(output)
    sources = sources_path(output)
    # Gone before the index changes: a crash in between leaves an index nobody takes as current.
    sources.unlink(missing_ok=True)
    counts = IndexCounts()
    with scratch_directory(output) as scratch:
        sorted_path = sorted_cdxj(warc_files, root, Path(scratch))
        with sorted_path.open(encoding="utf-8") as lines, partial_file(
            output, "w", encoding="utf-8"
        ) as stream:
            stream.writelines(replayable_lines(lines, counts))
    with partial_file(sources, "w", encoding="utf-8") as stream:
        json.dump(_description(output, warc_files, root, counts), stream, indent=1)
    return counts


def sources_path(index_file: Path) -> Path:
    """Where the description of ``index_file``'s sources is kept."""
    return index_file.with_name(index_file.name + ".sources.json")


def _description(index_file: Path, warc_files: Sequence[Path], root: str | Path,
                 counts: IndexCounts | None) -> dict:
    files = {}
    for path in warc_files:
        stat = path.stat()
        files[path.name] = [stat.st_size, stat.st_mtime_ns]
    stat = index_file.stat()
    return {"root": str(Path(root).absolute()), "files": files,
            "index": [stat.st_size, stat.st_mtime_ns],
            "counts": asdict(counts) if counts is not None else None}


def current_index(index_file: Path, warc_files: Sequence[Path],
                  root: str | Path) -> IndexCounts | None:
    """The counts of ``index_file`` if it indexes exactly ``warc_files`` as they are now, else
    None (no index, no description of its sources, or any file added, changed or removed)."""
    try:
        recorded = json.loads(sources_path(index_file).read_text(encoding="utf-8"))
        now = _description(index_file, warc_files, root, None)
        if {**recorded, "counts": None} != now:
            return None
        return IndexCounts(**recorded["counts"])
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _split(line: str) -> tuple[str, str, dict | None]:
    fields = line.rstrip("\n").split(" ", 2)
    if len(fields) < 3:
        return line, "", None
    try:
        return fields[0], fields[1], json.loads(fields[2])
    except ValueError:
        return fields[0], fields[1], None
