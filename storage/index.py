"""CDXJ index of an archive's WARC files, written with cdxj-indexer.

:func:`write_cdxj` indexes closed WARC files (``response``, ``revisit``,
``resource`` and ``metadata`` records) into one sorted CDXJ file, the format pywb
and the WACZ ``indexes/`` folder read: ``<SURT> <14-digit timestamp> {json}`` with
``url``, ``mime``, ``status``, ``digest``, ``length``, ``offset`` and ``filename``
(relative to the WARC directory).  The file is written under a hidden temporary name and
renamed (``storage/partial.py``), so a reader never sees half an index.

``304 Not Modified`` captures (answers to conditional requests of an incremental
crawl) stay in the WARC files but are left out of the index: they hold no page, and
pywb would replay the newest of them as an empty 304 instead of the page archived
before.

This module reads no settings and has no Scrapy imports.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path

from cdxj_indexer.main import write_cdx_index

from storage.partial import partial_file
from storage.warc import EXTENSION


def closed_warc_files(directory: str | Path) -> list[Path]:
    """Return the closed WARC files of ``directory`` (``.open`` ones are still written)."""
    return sorted(Path(directory).glob(f"*{EXTENSION}"))


def write_cdxj(warc_files: Sequence[Path], output: str | Path, root: str | Path) -> int:
    """Index ``warc_files`` into ``output`` (sorted CDXJ); return the number of lines.

    ``filename`` in each line is relative to ``root``, where a replay tool finds the files.
    """
    lines = io.StringIO()
    write_cdx_index(lines, [str(p) for p in warc_files], {"sort": True, "dir_root": str(root)})
    kept = [line for line in lines.getvalue().splitlines(keepends=True) if _replayable(line)]
    with partial_file(output, "w", encoding="utf-8") as stream:
        stream.writelines(kept)
    return len(kept)


def _replayable(line: str) -> bool:
    fields = line.split(" ", 2)
    if len(fields) < 3:
        return True
    try:
        return json.loads(fields[2]).get("status") != "304"
    except ValueError:
        return True
