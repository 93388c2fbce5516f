"""Scrapy's log formatter, building the per-page DEBUG lines only when the crawl logs DEBUG.

For every response and every item Scrapy asks the formatter for a DEBUG line ("Crawled (200)
…", "Scraped from …") and logs it; Scrapy's log handler then drops it at our ``LOG_LEVEL``
(INFO), after the record was made: about 1% of a crawl's CPU (``docs/scale.md``). This formatter
returns nothing for them unless the crawl logs DEBUG (Scrapy then logs nothing); with
``-L DEBUG`` the lines are Scrapy's own.

Settings (Scrapy's): ``LOG_FORMATTER`` switches it on; ``LOG_LEVEL``, ``LOG_ENABLED``.
"""

from __future__ import annotations

import logging

from scrapy.logformatter import LogFormatter


class CrawlLogFormatter(LogFormatter):
    """``LogFormatter`` that skips the per-page DEBUG lines the log handler would drop."""

    def __init__(self, debug: bool = True) -> None:
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        level = settings.get("LOG_LEVEL", "DEBUG")
        if not isinstance(level, int):
            level = logging.getLevelName(str(level).upper())
        debug = isinstance(level, int) and level <= logging.DEBUG
        return cls(debug=settings.getbool("LOG_ENABLED", True) and debug)

    def crawled(self, request, response, spider):
        return super().crawled(request, response, spider) if self.debug else None

    def scraped(self, item, response, spider):
        return super().scraped(item, response, spider) if self.debug else None
