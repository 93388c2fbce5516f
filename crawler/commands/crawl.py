"""``scrapy crawl SPIDER``: Scrapy's command, with bad input refused in one line.

An unknown spider name, a spider argument the spider refuses (``-a base_url=foo``,
``-a since=2020-13-45``) or a setting a component refuses when the crawl starts (a live crawl
without ``CONTACT_URL``, see ``crawler/extensions/contact.py``) raises
:class:`~crawler.cli.InputError` before any extension or middleware writes a file. Scrapy would
print its traceback and exit 1 (or, for a spider, log it and go on); this command prints
``scrapy crawl: <message>`` and exits 2 instead. Other errors keep their traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from crawler.cli import InputError, print_error

logger = logging.getLogger(__name__)


class Command(ScrapyCrawlCommand):
    refused: InputError | None = None

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

