"""Politeness guards: robots.txt ``Crawl-delay`` kept, and an override of robots.txt said loudly.

``PolitenessGuardMiddleware`` reads every ``/robots.txt`` response that passes (Scrapy's
RobotsTxtMiddleware fetches them) and keeps its ``Crawl-delay`` for our User-Agent; from then on
the host's download slot never goes faster than that, whatever AutoThrottle computes (its own
ceiling, ``AUTOTHROTTLE_MAX_DELAY``, also caps the crawl-delay honoured, so a site cannot stall a
crawl with ``Crawl-delay: 86400``). When ``ROBOTSTXT_OBEY`` is off, a warning says so at the
start of the crawl, because an archive made against a site's wishes must be a deliberate choice.
Requests and redirects to other origins are the business of ``crawler/middlewares/origin.py``.

Settings: ``ROBOTSTXT_OBEY``, ``USER_AGENT``, ``AUTOTHROTTLE_MAX_DELAY``.

Stats: ``robotstxt/crawl_delay`` (the largest one honoured).
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from protego import Protego
from scrapy import signals

logger = logging.getLogger(__name__)


class PolitenessGuardMiddleware:
    """Apply robots.txt Crawl-delay per host; warn when robots.txt is not obeyed."""

    def __init__(self, crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.obey_robots = settings.getbool("ROBOTSTXT_OBEY")
        self.user_agent = settings.get("USER_AGENT") or ""
        self.max_delay = settings.getfloat("AUTOTHROTTLE_MAX_DELAY", 60.0)
        self.crawl_delays: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider) -> None:
        if not self.obey_robots:
            logger.warning(
                "ROBOTSTXT_OBEY is off: this crawl ignores the portals' robots.txt. Make sure "
                "you have the site's permission; the WARC files record 'robots: ignore'."
            )
        logger.info("Crawling as %r", self.user_agent)

    def process_response(self, request, response):
        host = urlsplit(response.url).netloc
        if urlsplit(response.url).path == "/robots.txt" and response.status == 200:
            self._read_crawl_delay(host, response.body)
        delay = self.crawl_delays.get(host)
        if delay:
            slot = self.crawler.engine.downloader.slots.get(request.meta.get("download_slot"))
            if slot is not None and slot.delay < delay:
                slot.delay = delay
        return response

    def _read_crawl_delay(self, host: str, body: bytes) -> None:
        try:
            rules = Protego.parse(body.decode("utf-8", "replace"))
            delay = rules.crawl_delay(self.user_agent)
        except Exception as error:  # a broken robots.txt is Scrapy's to judge, not ours
            logger.debug("Could not read Crawl-delay of %s: %s", host, error)
            return
        if delay:
            honoured = min(float(delay), self.max_delay)
            self.crawl_delays[host] = honoured
            self.crawler.stats.max_value("robotstxt/crawl_delay", honoured)
            logger.info("%s asks for Crawl-delay %s s; honouring %.1f s", host, delay, honoured)
