"""``scrapy package --output FILE.wacz``: package the archive as a WACZ.

Puts every closed WARC file of ``WARC_DIR`` (default ``<ARCHIVE_DIR>/warc``) into a
WACZ with its CDXJ index and ``pages/pages.jsonl`` listing the archived articles of
the article store (URL, capture time, title), then runs ``wacz validate`` on it.
``--site ID`` keeps the pages of one site (the WARC files are always all included).

An output that does not end in ``.wacz``, is a directory or cannot be written, no closed WARC
file or one that is not a WARC file, an unknown ``--site``, a store that is not one: one line
naming it, exit code 2 (``crawler/cli.py``).

Settings: ``ARCHIVE_DIR``, ``WARC_DIR``, ``ARTICLES_DB``, ``WARC_IS_PART_OF`` (the title).
"""

from __future__ import annotations

import argparse
import sqlite3

from scrapy.commands import ScrapyCommand

from crawler.cli import (
    InputError,
    cannot_write,
    check_site,
    one_line_errors,
    output_file,
    store_error,
    store_for_reading,
)
from crawler.commands.index import warc_directory, warc_files_to_read
from crawler.pipelines.store import articles_db_path
from storage.package import article_pages, validate_wacz, write_wacz


class Command(ScrapyCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}

    def syntax(self) -> str:
        return "--output FILE.wacz [--site ID] [--title TEXT]"

    def short_desc(self) -> str:
        return "Package the WARC files and the article list as a WACZ (validated)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--output", "-O", required=True, help="the .wacz file to write")
        parser.add_argument("--site", help="list only this site's articles as pages")
        parser.add_argument("--title", help="the collection's title (default: WARC_IS_PART_OF)")

    @one_line_errors
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        output = output_file(opts.output)
        if output.suffix != ".wacz":
            raise InputError(f"--output {opts.output}: a WACZ file name ends in .wacz")
        directory = warc_directory(self.settings)
        files = warc_files_to_read(directory)
        db = articles_db_path(self.settings)
        articles = []
        if db.exists():
            try:
                with store_for_reading(db) as store:
                    check_site(opts.site, opts.site and store.count(opts.site))
                    articles = list(store.iter_articles(site=opts.site))
            except sqlite3.Error as error:
                raise store_error(db, error) from error
        else:
            check_site(opts.site, 0)
        pages = article_pages(articles, directory)
        title = opts.title or self.settings.get("WARC_IS_PART_OF") or "provincial-news-archiver"
        try:
            write_wacz(files, pages, opts.output, title=title)
        except OSError as error:
            raise cannot_write(opts.output, error) from error
        valid, report = validate_wacz(opts.output)
        if not valid:
            self.exitcode = 1
            print(f"{opts.output} was written but does not validate:\n{report}")
            return
        print(f"Wrote {opts.output}: {len(files)} WARC files, {len(pages)} article pages; "
              f"wacz validate passed")
