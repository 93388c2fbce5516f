"""``scrapy index``: write a CDXJ index of the archive's WARC files.

Indexes every closed WARC file in ``WARC_DIR`` (default ``<ARCHIVE_DIR>/warc``) into
``<ARCHIVE_DIR>/index.cdxj`` (``--output`` to change), sorted, with file names
relative to the WARC directory: the index pywb's ``cdx-server``/``wayback`` and other
CDXJ readers use to find a capture by URL and time.  A 304 revalidation is indexed at
its time with the place of the page it confirmed (``storage/index.py``).

Settings: ``ARCHIVE_DIR``, ``WARC_DIR``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from storage.index import closed_warc_files, write_cdxj_counted


def warc_directory(settings) -> Path:
    """Where the crawl writes WARC files, from ``WARC_DIR`` or ``ARCHIVE_DIR``."""
    return Path(settings.get("WARC_DIR") or Path(settings.get("ARCHIVE_DIR") or "archive") / "warc")


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def short_desc(self) -> str:
        return "Write a CDXJ index of the archive's WARC files (cdxj-indexer)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--output", "-O", help="CDXJ file (default <ARCHIVE_DIR>/index.cdxj)")

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        directory = warc_directory(self.settings)
        files = closed_warc_files(directory)
        if not files:
            raise UsageError(f"No closed WARC files in {directory}: crawl first")
        output = Path(opts.output or Path(self.settings.get("ARCHIVE_DIR") or "archive")
                      / "index.cdxj")
        counts = write_cdxj_counted(files, output, directory)
        print(f"Indexed {len(files)} WARC files from {directory}: {counts.lines} captures in "
              f"{output}")
        if counts.unresolved_not_modified:
            print(f"Left out {counts.unresolved_not_modified} 304 revalidations whose confirmed "
                  f"capture is not in these files")
