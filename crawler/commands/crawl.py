"""``scrapy crawl``, with an exit code that tells a scheduler whether the crawl worked.

Scrapy's own command exits 0 whenever the crawl ran, even when the portal was down all night.
This one runs the crawl the same way, then judges it (``crawler.extensions.summary.crawl_outcome``)
and exits with:

* 0 - complete, bounded by ``-a since``/``until``, or interrupted to be resumed;
* 1 - the crawl could not run (Scrapy's own failure), 2 - wrong usage (Scrapy's);
* 3 - incomplete: some sitemap, feed or listing page failed (see the crawl's failure report);
* 4 - failed: the portal gave nothing usable (down, unreachable, refusing every page).
"""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.crawler import Crawler

from crawler.extensions.summary import crawl_outcome


class Command(ScrapyCrawlCommand):
    """Run a spider; exit non-zero when its crawl was incomplete or failed."""

    _crawler: Crawler | None = None

    def short_desc(self) -> str:
        return "Run a spider of the current project; exit 3 if incomplete, 4 if it failed"

    def _create_crawler(self, spidercls) -> Crawler:
        self._crawler = super()._create_crawler(spidercls)
        return self._crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(args, opts)
        crawler = self._crawler
        if self.exitcode or crawler is None or crawler.spider is None or crawler.stats is None:
            return
        stats = crawler.stats.get_stats()
        reason = stats.get("finish_reason")
        if reason is None:  # the spider never opened
            return
        self.exitcode = crawl_outcome(stats, reason, crawler.spider).exit_code
