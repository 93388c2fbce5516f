"""Package an archive's WARC files as a WACZ, with the archived articles as its pages.

:func:`write_wacz` calls the ``wacz`` package (Webrecorder's reference
implementation) to build the zip: ``archive/`` (the WARC files), ``indexes/``
(a compressed CDXJ index), ``pages/pages.jsonl`` and ``datapackage.json`` with a
sha256 of every file.  The pages are ours, not detected: one line per archived
article with its URL, capture time and title, so ReplayWeb.page opens the WACZ on a
list of articles rather than of every image and listing page.

This module reads no settings and has no Scrapy imports.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from wacz.main import main as wacz_main
from warcio.archiveiterator import ArchiveIterator
from warcio.timeutils import iso_date_to_timestamp

PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "Archived articles"}


@dataclass(frozen=True)
class Page:
    """One entry of pages.jsonl: an archived page and when it was captured (ISO 8601, UTC)."""

    url: str
    ts: str
    title: str | None = None


def capture_date(warc_directory: Path, pointer: dict | None) -> str | None:
    """Return the ``WARC-Date`` of the record a pointer names, or ``None`` if unreadable."""
    if not pointer:
        return None
    path = warc_directory / pointer["filename"]
    try:
        with path.open("rb") as stream:
            stream.seek(pointer["offset"])
            record = next(iter(ArchiveIterator(stream)))
            return record.rec_headers.get_header("WARC-Date")
    except (OSError, StopIteration, KeyError):
        return None


def article_pages(articles: Iterable[dict], warc_directory: Path) -> list[Page]:
    """Pages for stored articles: the archived URL at its capture time (else the fetch time)."""
    pages = []
    for article in articles:
        pointer = article.get("warc")
        url = (pointer or {}).get("target_uri") or article["url"]
        ts = capture_date(warc_directory, pointer) or article.get("fetched")
        if ts:
            pages.append(Page(url=url, ts=ts, title=article.get("title")))
    return pages


def write_pages_jsonl(pages: Iterable[Page], stream: io.TextIOBase) -> int:
    """Write pages.jsonl (header line, then one page per line); return the number of pages."""
    stream.write(json.dumps(PAGES_HEADER) + "\n")
    count = 0
    for number, page in enumerate(pages):
        line = {"id": f"article-{number}", "url": page.url, "ts": page.ts}
        if page.title:
            line["title"] = page.title
        stream.write(json.dumps(line, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_wacz(
    warc_files: Sequence[Path], pages: Sequence[Page], output: str | Path, *, title: str
) -> None:
    """Write ``output`` (a ``.wacz``) holding ``warc_files`` with ``pages`` as its page list."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with tempfile.TemporaryDirectory() as scratch:
        pages_file = Path(scratch) / "pages.jsonl"
        with pages_file.open("w", encoding="utf-8") as stream:
            write_pages_jsonl(pages, stream)
        arguments = ["create", "--output", str(partial), "--pages", str(pages_file),
                     "--copy-pages", "--title", title]
        if pages:
            # The main page ReplayWeb.page opens first: the newest article.
            newest = max(pages, key=lambda page: page.ts)
            arguments += ["--url", newest.url, "--ts", iso_date_to_timestamp(newest.ts)]
        # The wacz package reports progress with print(); keep the command's output ours.
        with contextlib.redirect_stdout(io.StringIO()) as chatter:
            status = wacz_main([*arguments, *map(str, warc_files)])
    if status:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"wacz create failed for {output}: {chatter.getvalue()[-2000:]}")
    os.replace(partial, output)


def validate_wacz(path: str | Path) -> tuple[bool, str]:
    """Run ``wacz validate`` on ``path``; return whether it passed and what it printed."""
    with contextlib.redirect_stdout(io.StringIO()) as chatter:
        status = wacz_main(["validate", "--file", str(path)])
    return status == 0, chatter.getvalue()
