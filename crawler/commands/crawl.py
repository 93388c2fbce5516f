"""``scrapy crawl SPIDER``: Scrapy's command, with bad input refused in one line and an exit code
that tells a scheduler whether the crawl worked.

Bad input: an unknown spider name, a spider argument the spider refuses (``-a base_url=foo``,
``-a since=2020-13-45``) or a setting a component refuses when the crawl starts (a live crawl
without ``CONTACT_URL``, see ``crawler/extensions/contact.py``) raises
:class:`~crawler.cli.InputError` before any extension or middleware writes a file. Scrapy would
print its traceback and exit 1 (or, for a spider, log it and go on); this command prints
``scrapy crawl: <message>`` and exits 2 instead. Other errors keep their traceback.

Exit codes: Scrapy's own command exits 0 whenever the crawl ran, even when the portal was down
all night. This one runs the crawl the same way, then judges it
(``crawler.extensions.summary.crawl_outcome``) and exits with:

* 0 - complete, bounded by ``-a since``/``until``, or interrupted to be resumed;
* 1 - the crawl could not run (Scrapy's own failure), 2 - wrong usage or refused input;
* 3 - incomplete: some sitemap, feed or listing page failed (see the crawl's failure report);
* 4 - failed: the portal gave nothing usable (down, unreachable, refusing every page).
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.crawler import Crawler
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from crawler.cli import InputError, print_error
from crawler.extensions.summary import crawl_outcome

logger = logging.getLogger(__name__)


class Command(ScrapyCrawlCommand):
    """Run a spider; refuse bad input in one line; exit 3 if incomplete, 4 if it failed."""

    refused: InputError | None = None
    _crawler: Crawler | None = None

    def short_desc(self) -> str:
        return "Run a spider of the current project; exit 3 if incomplete, 4 if it failed"

    def _create_crawler(self, spidercls) -> Crawler:
        self._crawler = super()._create_crawler(spidercls)
        return self._crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            super().run(args, opts)  # Scrapy's usage errors
            return
        assert self.crawler_process is not None
        known = self.crawler_process.spider_loader.list()
        if args[0] not in known:
            self._refuse(InputError(f"no spider named {args[0]!r}; `scrapy list` shows the "
                                    f"{len(known)} there are: {', '.join(sorted(known))}"))
            return
        started = self.crawler_process.crawl(self._create_crawler(args[0]), **opts.spargs)
        if isinstance(started, Deferred):
            started.addErrback(self._deferred_failed)
        else:
            started.add_done_callback(self._task_done)
        self.crawler_process.start()
        if self.refused is not None:
            self.exitcode = 2
        elif self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        else:
            self._judge()

    def _judge(self) -> None:
        crawler = self._crawler
        if crawler is None or crawler.spider is None or crawler.stats is None:
            return
        stats = crawler.stats.get_stats()
        reason = stats.get("finish_reason")
        if reason is None:  # the spider never opened
            return
        self.exitcode = crawl_outcome(stats, reason, crawler.spider).exit_code

    def _refuse(self, error: InputError) -> None:
        self.refused = error
        self.exitcode = 2
        print_error("crawl", error)

    def _task_done(self, task: asyncio.Task) -> None:
        if task.cancelled():
            return
        # Asking for the exception marks it seen: asyncio no longer logs it.
        error = task.exception()
        if isinstance(error, InputError):
            self._refuse(error)
        elif error is not None:
            logger.error("The crawl could not start", exc_info=error)

    def _deferred_failed(self, failure: Failure) -> Failure | None:
        if failure.check(InputError):
            self._refuse(failure.value)
            return None
        return failure
