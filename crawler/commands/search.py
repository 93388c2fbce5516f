"""``scrapy search "QUERY" [--site ID] [--since DATE] [--until DATE] [--limit N]``: full text.

Prints the best-ranked stored articles matching QUERY (FTS5 syntax: words, ``"a phrase"``,
``prefix*``, ``OR``, ``NOT``; case and diacritics ignored, ``đ`` matching ``d``), each as its
publication date, site and title, a snippet with the matches in ``[…]``, and its URL. Reads
``ARTICLES_DB`` (default ``<ARCHIVE_DIR>/articles.sqlite3``); ``storage/search.py`` holds the
index. A query FTS5 cannot read, a bad date, an unknown site, a missing store: one line, exit 2.
"""

from __future__ import annotations

import argparse
import textwrap

from scrapy.exceptions import UsageError

from crawler.cli import InputError, OfflineCommand, date_range, one_line_errors, store_of_site
from crawler.paths import ArchivePaths
from storage.search import NoIndexError, SearchHit, SearchSyntaxError


class Command(OfflineCommand):
    def syntax(self) -> str:
        return '"QUERY" [--site ID] [--since DATE] [--until DATE] [--limit N]'

    def short_desc(self) -> str:
        return "Search the stored articles' text (diacritics optional)"

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--site", help="only this site id")
        parser.add_argument("--since", help="only articles published on or after YYYY-MM-DD")
        parser.add_argument("--until", help="only articles published on or before YYYY-MM-DD")
        parser.add_argument("--limit", type=int, default=20, help="how many hits (default 20)")

    @one_line_errors
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError('give one QUERY (quote it: scrapy search "nong thon moi")')
        if opts.limit < 1:
            raise InputError(f"--limit {opts.limit}: give a number of hits, 1 or more")
        since, until = date_range(opts.since, opts.until)
        path = ArchivePaths.from_settings(self.settings).articles_db
        if not path.exists():
            raise InputError(f"no article store at {path} (run a crawl first, or set "
                             "ARCHIVE_DIR / ARTICLES_DB)")
        try:
            with store_of_site(path, opts.site) as store:
                hits = store.search(args[0], opts.site, since, until, opts.limit)
        except (SearchSyntaxError, NoIndexError) as error:
            raise InputError(str(error)) from error
        for number, hit in enumerate(hits, 1):
            print(format_hit(number, hit))
        print(f"{len(hits)} {'hit' if len(hits) == 1 else 'hits'} for {args[0]!r}"
              + (f" (the best {opts.limit})" if len(hits) == opts.limit else ""))


def format_hit(number: int, hit: SearchHit) -> str:
    """One hit as a few lines: number, date, site and title; snippet; URL."""
    snippet = textwrap.fill(" ".join(hit.snippet.split()), width=96,
                            initial_indent="    ", subsequent_indent="    ")
    return (f"{number:>3}. {hit.published or 'undated'}  {hit.site}  {hit.title or '(no title)'}\n"
            f"{snippet}\n    {hit.url}\n")
