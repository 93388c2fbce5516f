"""``scrapy export --format jsonl|csv|parquet --output FILE``: the article store for researchers.

Options slice the export by site and publication date (``--since``/``--until`` as YYYY-MM-DD,
inclusive). Reads ``ARTICLES_DB`` (default ``<ARCHIVE_DIR>/articles.sqlite3``), read-only. A bad
date, an unknown site, an output that is a directory or cannot be written, a store that is not
one: one line naming it, exit code 2, no file written (``crawler/cli.py``).
"""

from __future__ import annotations

import argparse
import sqlite3

from scrapy.commands import ScrapyCommand

from crawler.cli import (
    InputError,
    cannot_write,
    check_site,
    date_range,
    one_line_errors,
    output_file,
    store_error,
    store_for_reading,
)
from crawler.pipelines.store import articles_db_path
from storage.export import FORMATS, export


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

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
        path = articles_db_path(self.settings)
        if not path.exists():
            raise InputError(f"no article store at {path} (run a crawl first, or set "
                             "ARCHIVE_DIR / ARTICLES_DB)")
        try:
            with store_for_reading(path) as store:
                check_site(opts.site, opts.site and store.count(opts.site))
                records = store.iter_articles(site=opts.site, since=since, until=until)
                count = export(records, output, opts.format)
        except sqlite3.Error as error:
            raise store_error(path, error) from error
        except OSError as error:
            raise cannot_write(output, error) from error
        print(f"Exported {count} articles from {path} to {output} ({opts.format})")
