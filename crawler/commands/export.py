"""``scrapy export --format jsonl|csv|parquet --output FILE``: the article store for researchers.

Options slice the export by site and publication date (``--since``/``--until`` as YYYY-MM-DD,
inclusive). Reads ``ARTICLES_DB`` (default ``<ARCHIVE_DIR>/articles.sqlite3``).
"""

from __future__ import annotations

import argparse
import sys

from scrapy.commands import ScrapyCommand

from crawler.pipelines.store import articles_db_path
from storage.articles import ArticleStore
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

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        path = articles_db_path(self.settings)
        if not path.exists():
            print(f"scrapy export: no article store at {path} (run a crawl first, or set "
                  "ARCHIVE_DIR / ARTICLES_DB)", file=sys.stderr)
            self.exitcode = 2
            return
        with ArticleStore(path) as store:
            records = store.iter_articles(site=opts.site, since=opts.since, until=opts.until)
            count = export(records, opts.output, opts.format)
        print(f"Exported {count} articles from {path} to {opts.output} ({opts.format})")
