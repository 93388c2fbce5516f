"""Package an archive's WARC files as a WACZ, with the archived articles as its pages.

:func:`write_wacz` writes the WACZ 1.1.1 zip: ``archive/`` (the WARC files, stored),
``indexes/index.cdx.gz`` with ``indexes/index.idx`` (our CDXJ index in gzip blocks,
cdxj-indexer's compressed format, which ReplayWeb.page loads block by block),
``pages/pages.jsonl`` and ``datapackage.json`` / ``datapackage-digest.json`` with a
sha256 of every file; ``wacz validate`` (Webrecorder's reference implementation) then
judges it.  The pages are ours, not detected: one line per archived article with its
URL, capture time and title, so ReplayWeb.page opens the WACZ on a list of articles
rather than of every image and listing page.

Why not ``wacz create``: it indexes the WARC files itself, and its index lists each
``304 Not Modified`` revalidation as a capture of its own, which replays as a blank page;
ours points a revalidation at the page it confirmed (``storage/index.py``).  Writing the
zip here also streams the pages from the store instead of holding them, and needs no
temporary copy of the pages file.

The zip is written as a hidden ``.<name>.partial`` beside the output, validated, and
only then renamed (``storage/partial.py``): a killed or failed run never leaves a file
that looks like a WACZ, and the next run clears what a killed one left.

This module reads no settings and has no Scrapy imports.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import shutil
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import IO

from warcio.archiveiterator import ArchiveIterator

from storage.index import IndexCounts, current_index, replayable_lines, sorted_cdxj
from storage.partial import partial_file, partial_path, remove_leftovers, scratch_directory

logger = logging.getLogger(__name__)

PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "Archived articles"}
WACZ_VERSION = "1.1.1"
# Lines per gzip block of the index: cdxj-indexer's and py-wacz's default.
INDEX_BLOCK_LINES = 3000
_COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class Page:
    """One entry of pages.jsonl: an archived page and when it was captured (ISO 8601, UTC)."""

    url: str
    ts: str
    title: str | None = None


@dataclass(frozen=True)
class PackageCounts:
    """What a WACZ holds."""

    warc_files: int
    pages: int
    index: IndexCounts
    # Whether the index was copied from the archive's current CDXJ index (not made again).
    index_reused: bool = False


def capture_date(warc_directory: Path, pointer: dict | None) -> str | None:
    """Return the ``WARC-Date`` of the record a pointer names, or ``None`` if unreadable."""
    if not pointer:
        return None
    if pointer.get("date"):
        return pointer["date"]
    path = warc_directory / pointer["filename"]
    try:
        with path.open("rb") as stream:
            stream.seek(pointer["offset"])
            record = next(iter(ArchiveIterator(stream)))
            return record.rec_headers.get_header("WARC-Date")
    except (OSError, StopIteration, KeyError):
        return None


def article_pages(articles: Iterable[dict], warc_directory: Path) -> Iterable[Page]:
    """Pages for stored articles: the archived URL at its capture time (else the fetch time)."""
    for article in articles:
        pointer = article.get("warc")
        url = (pointer or {}).get("target_uri") or article["url"]
        ts = capture_date(warc_directory, pointer) or article.get("fetched")
        if ts and ts.endswith("+00:00"):
            ts = ts[: -len("+00:00")] + "Z"  # the WARC-Date form replay tools read
        if ts:
            yield Page(url=url, ts=ts, title=article.get("title"))


def write_pages_jsonl(pages: Iterable[Page], stream: io.TextIOBase) -> Page | None:
    """Write pages.jsonl (header line, then one page per line); return the newest page."""
    stream.write(json.dumps(PAGES_HEADER) + "\n")
    newest = None
    for number, page in enumerate(pages):
        line = {"id": f"article-{number}", "url": page.url, "ts": page.ts}
        if page.title:
            line["title"] = page.title
        stream.write(json.dumps(line, ensure_ascii=False) + "\n")
        if newest is None or page.ts > newest.ts:
            newest = page
    return newest


class _HashingWriter(io.RawIOBase):
    """A writable stream that hashes and counts what passes through it."""

    def __init__(self, target) -> None:
        super().__init__()
        self.target = target
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.sha256.update(data)
        self.size += len(data)
        self.target.write(data)
        return len(data)


class _WaczZip:
    """The zip being written: each entry streamed in, hashed and listed as a resource."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.resources: list[dict] = []

    def add(self, name: str, write: Callable[[IO[bytes]], None], compress: bool) -> None:
        """Add the entry ``name`` whose bytes ``write`` writes to the stream it is given."""
        info = zipfile.ZipInfo(name, datetime.now(timezone.utc).timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        with self.archive.open(info, "w", force_zip64=True) as entry:
            hashing = _HashingWriter(entry)
            write(hashing)
        self.resources.append({"name": Path(name).name.lower(), "path": name,
                               "hash": "sha256:" + hashing.sha256.hexdigest(),
                               "bytes": hashing.size})

    def add_file(self, name: str, path: Path) -> None:
        """Add the file at ``path`` as the entry ``name``, stored (WARC files are gzip already)."""
        def copy(stream: IO[bytes]) -> None:
            with path.open("rb") as source:
                shutil.copyfileobj(source, stream, _COPY_CHUNK)
        self.add(name, copy, compress=False)


def _add_index(wacz: _WaczZip, warc_files: Sequence[Path], warc_root: Path,
               output: Path, index_file: Path | None) -> tuple[IndexCounts, bool]:
    """Add ``indexes/index.cdx.gz`` (CDXJ in gzip blocks) and ``indexes/index.idx``.

    The lines are ``index_file``'s when it indexes exactly ``warc_files`` as they are now
    (`storage.index.current_index`: what ``scrapy index`` wrote), else the files are indexed.
    Returns what the index holds and whether ``index_file`` was used.
    """
    from cdxj_indexer.main import CompressedWriter  # not at import: see `validate_wacz`

    idx = io.StringIO()
    current = current_index(index_file, warc_files, warc_root) if index_file else None
    counts = current or IndexCounts()
    with scratch_directory(output) as scratch:
        if current is not None:
            def lines() -> Iterator[str]:
                with index_file.open(encoding="utf-8") as indexed:
                    yield from indexed
        else:
            sorted_path = sorted_cdxj(warc_files, warc_root, Path(scratch))

            def lines() -> Iterator[str]:
                with sorted_path.open(encoding="utf-8") as indexed:
                    yield from replayable_lines(indexed, counts)

        def write_index(stream: IO[bytes]) -> None:
            blocks = CompressedWriter(idx, data_out=stream, num_lines=INDEX_BLOCK_LINES,
                                      data_out_name="index.cdx.gz", digest_records=True)
            for line in lines():
                blocks.write(line)
            if blocks.block:
                blocks.flush()
        wacz.add("indexes/index.cdx.gz", write_index, compress=False)
    wacz.add("indexes/index.idx",
             lambda stream: stream.write(idx.getvalue().encode("utf-8")), compress=True)
    return counts, current is not None


def _add_pages(wacz: _WaczZip, pages: Iterable[Page]) -> tuple[int, Page | None]:
    """Add ``pages/pages.jsonl``; return how many pages it lists and the newest one."""
    count = 0
    newest: Page | None = None

    def counted(items: Iterable[Page]) -> Iterable[Page]:
        nonlocal count
        for page in items:
            count += 1
            yield page

    def write_pages(stream: IO[bytes]) -> None:
        nonlocal newest
        text = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
        newest = write_pages_jsonl(counted(pages), text)
        text.flush()
        text.detach()
    wacz.add("pages/pages.jsonl", write_pages, compress=True)
    return count, newest


def _add_datapackage(wacz: _WaczZip, title: str, newest: Page | None) -> None:
    """Add ``datapackage.json`` (every entry's sha256) and ``datapackage-digest.json``."""
    package = {
        "profile": "data-package",
        "resources": wacz.resources,
        "title": title,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "wacz_version": WACZ_VERSION,
        "software": f"provincial-news-archiver (py-wacz {version('wacz')} validates)",
    }
    if newest is not None:
        # The main page ReplayWeb.page opens first: the newest article.
        package["mainPageURL"] = newest.url
        package["mainPageDate"] = newest.ts
    package_bytes = json.dumps(package, indent=2).encode("utf-8")
    wacz.archive.writestr("datapackage.json", package_bytes)
    wacz.archive.writestr("datapackage-digest.json", json.dumps({
        "path": "datapackage.json",
        "hash": "sha256:" + hashlib.sha256(package_bytes).hexdigest(),
    }, indent=2))


def write_wacz(
    warc_files: Sequence[Path],
    pages: Iterable[Page],
    output: str | Path,
    *,
    title: str,
    warc_root: Path,
    index_file: Path | None = None,
) -> PackageCounts:
    """Write ``output`` (a ``.wacz``) holding ``warc_files`` with ``pages`` as its page list.

    ``warc_root`` is the directory the WARC files are in; ``index_file`` the archive's CDXJ
    index, used if it is current (see `_add_index`).  Raises ``ValueError`` (with
    ``wacz validate``'s report) when the result does not validate; nothing is left then.
    """
    output = Path(output)
    for leftover in remove_leftovers(output):
        logger.warning("Removed %s, left by an interrupted run", leftover)
    with partial_file(output, "w+b") as handle:
        with zipfile.ZipFile(handle, "w", allowZip64=True) as archive:
            wacz = _WaczZip(archive)
            for path in warc_files:
                wacz.add_file(f"archive/{path.name}", path)
            index_counts, reused = _add_index(wacz, warc_files, warc_root, output,
                                              index_file)
            page_count, newest = _add_pages(wacz, pages)
            _add_datapackage(wacz, title, newest)
        handle.flush()
        # Judged before it gets its name: a WACZ that does not validate is not kept.
        valid, report = validate_wacz(partial_path(output))
        if not valid:
            raise ValueError(f"{output} would not validate (wacz validate):\n{report[-2000:]}")
    return PackageCounts(len(warc_files), page_count, index_counts, reused)


def validate_wacz(path: str | Path) -> tuple[bool, str]:
    """Run ``wacz validate`` on ``path``; return whether it passed and what it printed."""
    # Imported here: wacz brings frictionless and pydantic, ~0.3 s that every scrapy command
    # (a crawl too: Scrapy imports every command module) would pay.
    from wacz.main import main as wacz_main

    with contextlib.redirect_stdout(io.StringIO()) as chatter:
        status = wacz_main(["validate", "--file", str(path)])
    return status == 0, chatter.getvalue()
