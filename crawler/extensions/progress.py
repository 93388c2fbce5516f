"""Log a progress line with rates every ``PROGRESS_INTERVAL`` seconds (0 turns it off).

Pages and articles, each as a total and a rate since the previous line, plus drops and WARC bytes:
enough for an archivist watching a long crawl to see whether it is moving.
"""

from __future__ import annotations

import logging
import time

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

logger = logging.getLogger(__name__)


def dropped_total(stats: dict) -> int:
    """All articles dropped, whatever the reason."""
    return sum(v for k, v in stats.items() if k.startswith("articles/dropped/"))


class CrawlProgress:
    """Periodic progress line."""

    def __init__(self, stats, interval: float) -> None:
        self.stats = stats
        self.interval = interval
        self._task: task.LoopingCall | None = None
        self._last = (time.monotonic(), 0, 0)

    @classmethod
    def from_crawler(cls, crawler):
        interval = crawler.settings.getfloat("PROGRESS_INTERVAL")
        if not interval:
            raise NotConfigured("PROGRESS_INTERVAL is 0")
        extension = cls(crawler.stats, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        self._last = (time.monotonic(), 0, 0)
        self._task = task.LoopingCall(self.log)
        self._task.start(self.interval, now=False)

    def log(self) -> None:
        stats = self.stats.get_stats()
        now = time.monotonic()
        pages = stats.get("response_received_count", 0)
        articles = stats.get("articles/stored", 0)
        then, last_pages, last_articles = self._last
        elapsed = max(now - then, 1e-9)
        logger.info(
            "Progress: %d pages (%.1f/s), %d articles stored (%.1f/s), %d dropped, "
            "%d requests queued, WARC %.1f MB",
            pages, (pages - last_pages) / elapsed, articles, (articles - last_articles) / elapsed,
            dropped_total(stats), stats.get("scheduler/enqueued", 0)
            - stats.get("scheduler/dequeued", 0), stats.get("warc/bytes", 0) / 1e6,
        )
        self._last = (now, pages, articles)

    def spider_closed(self) -> None:
        if self._task and self._task.running:
            self._task.stop()
