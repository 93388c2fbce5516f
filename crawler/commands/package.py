"""``scrapy package --output FILE.wacz``: package the archive as a WACZ.

Puts every closed WARC file of ``WARC_DIR`` (default ``<ARCHIVE_DIR>/warc``) into a
WACZ with its CDXJ index and ``pages/pages.jsonl`` listing the archived articles of
the article store (URL, capture time, title), then runs ``wacz validate`` on it before it
gets its name (``storage/package.py``): a WACZ that does not validate is not kept.
``--site ID`` keeps the pages of one site (the WARC files are always all included).

Settings: ``ARCHIVE_DIR``, ``WARC_DIR``, ``ARTICLES_DB``, ``WARC_IS_PART_OF`` (the title).
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterable
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands.index import warc_directory
from crawler.pipelines.store import articles_db_path
from storage.articles import ArticleStore
from storage.index import closed_warc_files
from storage.package import article_pages, remove_stale_partials, write_wacz


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

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not opts.output.endswith(".wacz"):
            raise UsageError(f"--output {opts.output}: a WACZ file name ends in .wacz")
        directory = warc_directory(self.settings)
        files = closed_warc_files(directory)
        if not files:
            raise UsageError(f"No closed WARC files in {directory}: crawl first")
        db = articles_db_path(self.settings)
        title = opts.title or self.settings.get("WARC_IS_PART_OF") or "provincial-news-archiver"
        for leftover in remove_stale_partials(Path(opts.output)):
            print(f"Removed {leftover}, left by an interrupted run")
        with contextlib.ExitStack() as stack:
            articles: Iterable[dict] = ()
            if db.exists():
                store = stack.enter_context(ArticleStore(db))
                articles = store.iter_articles(site=opts.site)
            try:
                counts = write_wacz(files, article_pages(articles, directory), opts.output,
                                    title=title, warc_root=directory)
            except ValueError as error:
                self.exitcode = 1
                print(error)
                return
        print(f"Wrote {opts.output}: {counts.warc_files} WARC files, {counts.pages} article "
              f"pages; wacz validate passed")
        if counts.index.unresolved_not_modified:
            print(f"Left out of its index {counts.index.unresolved_not_modified} 304 "
                  f"revalidations whose confirmed capture is not in these files")
