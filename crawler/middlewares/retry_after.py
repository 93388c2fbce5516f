"""Honour ``Retry-After`` on 429 and 503: wait as long as the portal asks before retrying.

``RetryAfterMiddleware`` sits just above Scrapy's RetryMiddleware (550). When a 429 or 503 answer
carries ``Retry-After`` (seconds or an HTTP date), it holds the response for that long before
handing it on to be retried, so the retry never comes early; the request keeps its place in the
per-host download slot meanwhile, so the host sees fewer requests while it is overloaded. With
AutoThrottle on, the slot's delay is also raised to the asked pause (AutoThrottle lowers it again
as answers come back fast).

Settings:

* ``RETRY_AFTER_ENABLED`` - default True.
* ``RETRY_AFTER_MAX`` - longest pause honoured, seconds (default 120); a longer one is capped and
  logged, since a crawl should not hang for hours on one header.
* ``RETRY_TIMES``, ``AUTOTHROTTLE_ENABLED``, ``AUTOTHROTTLE_MAX_DELAY`` - Scrapy's, read to know
  whether a retry follows and how far the slot's delay may be raised.

Stats: ``retry_after/honoured``, ``retry_after/seconds``, ``retry_after/capped``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)

RETRY_AFTER_STATUSES = frozenset({429, 503})


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` value asks for (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class RetryAfterMiddleware:
    """Delay the retry of a 429/503 answer by its ``Retry-After``."""

    def __init__(self, max_delay: float, stats, crawler) -> None:
        self.max_delay = max_delay
        self.retry_times = crawler.settings.getint("RETRY_TIMES")
        self.autothrottle = crawler.settings.getbool("AUTOTHROTTLE_ENABLED")
        self.autothrottle_max_delay = crawler.settings.getfloat("AUTOTHROTTLE_MAX_DELAY", 60.0)
        self.stats = stats
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("RETRY_AFTER_ENABLED", True):
            raise NotConfigured("RETRY_AFTER_ENABLED is off")
        return cls(crawler.settings.getfloat("RETRY_AFTER_MAX", 120.0), crawler.stats, crawler)

    async def process_response(self, request, response):
        if response.status not in RETRY_AFTER_STATUSES:
            return response
        header = response.headers.get(b"Retry-After")
        delay = retry_after_seconds(header.decode("latin-1") if header else None)
        retries_left = request.meta.get("max_retry_times", self.retry_times) - request.meta.get(
            "retry_times", 0
        )
        if delay is None or retries_left <= 0 or request.meta.get("dont_retry"):
            # No retry follows: waiting would only hold the slot.
            return response
        if delay > self.max_delay:
            self.stats.inc_value("retry_after/capped")
            logger.warning(
                "%s asked to retry after %.0f s; waiting RETRY_AFTER_MAX %.0f s instead",
                request.url, delay, self.max_delay,
            )
            delay = self.max_delay
        self._slow_down_slot(request, delay)
        logger.info("%s answered %s; retrying after %.1f s as asked", request.url,
                    response.status, delay)
        self.stats.inc_value("retry_after/honoured")
        self.stats.inc_value("retry_after/seconds", delay)
        await asyncio.sleep(delay)
        return response

    def _slow_down_slot(self, request, delay: float) -> None:
        # Only under AutoThrottle: it owns the slot delay and brings it back down; without it
        # a raised delay would stay for the rest of the crawl.
        if not self.autothrottle:
            return
        downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(request.meta.get("download_slot"))
        if slot is not None:
            slot.delay = max(slot.delay, min(delay, self.autothrottle_max_delay))
