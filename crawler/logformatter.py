"""Scrapy's log formatter, building the per-page DEBUG lines only when DEBUG is logged.

For every response and every item Scrapy asks the formatter for a DEBUG line ("Crawled (200)
…", "Scraped from …") and hands it to the logger, which drops it at our ``LOG_LEVEL`` (INFO):
about 1% of a crawl's CPU (``docs/scale.md``). This formatter returns nothing for them unless
the engine's or the scraper's logger would emit DEBUG, which Scrapy takes as "log nothing";
with ``-L DEBUG`` the lines are Scrapy's own.

Settings (Scrapy's): ``LOG_FORMATTER`` switches it on; ``LOG_LEVEL``.
"""

from __future__ import annotations

import logging

from scrapy.logformatter import LogFormatter

# The loggers Scrapy writes these lines to.
_ENGINE = logging.getLogger("scrapy.core.engine")
_SCRAPER = logging.getLogger("scrapy.core.scraper")


class CrawlLogFormatter(LogFormatter):
    """``LogFormatter`` that skips the per-page DEBUG lines nobody will see."""

    def crawled(self, request, response, spider):
        if not _ENGINE.isEnabledFor(logging.DEBUG):
            return None
        return super().crawled(request, response, spider)

    def scraped(self, item, response, spider):
        if not _SCRAPER.isEnabledFor(logging.DEBUG):
            return None
        return super().scraped(item, response, spider)
