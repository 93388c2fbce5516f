"""One portal's request rate shared by every worker of a crawl (``REDIS_URL``), not N times it.

Scrapy spaces the requests of one download slot (a portal's host) by the slot's delay:
``DOWNLOAD_DELAY``, what AutoThrottle makes of it, or a robots.txt ``Crawl-delay``
(``crawler/middlewares/guards.py``). That is per process: N workers on one frontier
(``crawler/frontier.py``) would ask a small provincial server N times as often as one crawl does.
With ``REDIS_URL`` set, the ``RedisFrontier`` add-on adds this middleware, and before each request
leaves for the downloader it reserves the next free moment of its host in Redis: a Lua script
reads the host's next free time, takes the later of it and now (Redis's own clock, the same for
every machine), and moves it on by the slot's current delay. The request waits until its moment,
then goes through Scrapy's slot as before (which only ever adds to the spacing). So the workers
together keep the pace one crawl keeps; the delay is the asking worker's, and AutoThrottle and
Crawl-delay act as they do alone.

Several requests of one worker may wait at once (``CONCURRENT_REQUESTS``: the slot's own
per-domain limit applies after this), each at its own moment. A worker that dies leaves at most
the moments it reserved unused. The keys (``politeness:<host>``, under ``POLITENESS_KEY_PREFIX``)
expire a little after their moment, so Redis keeps nothing for portals no longer crawled.

Settings: ``REDIS_URL`` (switched on by the add-on), ``DOWNLOAD_DELAY`` (a host without a
slot yet), ``POLITENESS_KEY_PREFIX`` (default ``provincial-news-archiver``), ``SHARED_POLITENESS``
(default on; off: each worker paces itself alone, as before).

Stats: ``politeness/shared_waits``, ``politeness/shared_wait_seconds``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# KEYS[1]: the host's next free moment (microseconds of Redis's clock); ARGV[1]: the delay (µs).
# Returns how long the caller waits (µs) before its moment.
_RESERVE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local start = math.max(now, free)
local delay = tonumber(ARGV[1])
redis.call('SET', KEYS[1], start + delay, 'PX', math.floor((start + delay - now) / 1000) + 60000)
return start - now
"""


class SharedPolitenessMiddleware:
    """Wait for the host's next free moment, reserved in Redis, before each request."""

    def __init__(self, crawler: Crawler, client, prefix: str) -> None:
        self.crawler = crawler
        self.default_delay = crawler.settings.getfloat("DOWNLOAD_DELAY")
        self.prefix = prefix
        self._reserve = client.register_script(_RESERVE)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedPolitenessMiddleware:
        settings = crawler.settings
        url = settings.get("REDIS_URL")
        if not url or not settings.getbool("SHARED_POLITENESS", True):
            raise NotConfigured  # (silently: a reason would be logged as a WARNING)
        import redis  # only crawls with REDIS_URL import it (crawler/addons.py)

        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        prefix = settings.get("POLITENESS_KEY_PREFIX") or "provincial-news-archiver"
        return cls(crawler, client, prefix)

    def delay_of(self, request: Request) -> tuple[str, float]:
        """The request's download slot and that slot's current delay in this worker."""
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        return key, (slot.delay if slot is not None else self.default_delay)

    async def process_request(self, request: Request) -> None:
        key, delay = self.delay_of(request)
        if delay <= 0:
            return
        wait = self._reserve(keys=[f"{self.prefix}:politeness:{key}"],
                             args=[int(delay * 1_000_000)]) / 1_000_000
        if wait > 0:
            stats = self.crawler.stats
            stats.inc_value("politeness/shared_waits")
            stats.inc_value("politeness/shared_wait_seconds", wait)
            await asyncio.sleep(wait)
