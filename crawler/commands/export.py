"""``scrapy export --format jsonl|csv|parquet --output FILE``: the article store for researchers.

Options slice the export by site and publication date (``--since``/``--until`` as YYYY-MM-DD,
inclusive). Reads ``ARTICLES_DB`` (default ``<ARCHIVE_DIR>/articles.sqlite3``), read-only. A bad
date, an unknown site, an output that is a directory or cannot be written, a store that is not
one: one line naming it, exit code 2, no file written (``crawler/cli.py``).
"""

from __future__ import annotations

import argparse

from crawler.cli import (
    InputError,
    OfflineCommand,
    cannot_write,
    date_range,
    one_line_errors,
    output_file,
    store_of_site,
)
from crawler.paths import ArchivePaths
from storage.export import FORMATS, export


class Command(OfflineCommand):
    def syntax(self) -> str:
        return ("--output FILE [--format jsonl|csv|parquet] [--site ID] [--since DATE] "
                "[--until DATE]")

    def short_desc(self) -> str:
        return "Export stored articles as JSON Lines or CSV"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--format", default="jsonl", choices=FORMATS)
        parser.add_argument("-o", "--output", required=True, help="file to write")
        parser.add_argument("--site", help="only this site id")
        parser.add_argument("--since", help="only articles published on or after YYYY-MM-DD")
        parser.add_argument("--until", help="only articles published on or before YYYY-MM-DD")

    @one_line_errors
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        since, until = date_range(opts.since, opts.until)
        output = output_file(opts.output)
        path = ArchivePaths.from_settings(self.settings).articles_db
        if not path.exists():
            raise InputError(f"no article store at {path} (run a crawl first, or set "
                             "ARCHIVE_DIR / ARTICLES_DB)")
        try:
            with store_of_site(path, opts.site) as store:
                records = store.iter_articles(site=opts.site, since=since, until=until)
                count = export(records, output, opts.format)
        except OSError as error:
            raise cannot_write(output, error) from error
        print(f"Exported {count} articles from {path} to {output} ({opts.format})")
