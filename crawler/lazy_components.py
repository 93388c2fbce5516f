"""Scrapy components a crawl switches off by a setting, imported only when it is switched on.

Scrapy imports every component listed in ``EXTENSIONS`` and ``DOWNLOADER_MIDDLEWARES`` before
the component itself reads its setting and declines (``NotConfigured``). Two built-ins the
project switches off cost a noticeable share of a crawl's start-up that way: the remote-control
HTTP server (``REMOTE_CONTROL_ENABLED``, aiohttp: ~150 ms of CPU to import) and the cookies
middleware (``COOKIES_ENABLED``, tldextract: ~60 ms), against ~6 s of CPU for a 1,000-article
crawl (``bench/bench_crawl_cpu.py``, docs/scale.md). ``crawler/settings.py`` lists these
stand-ins in their place: each reads the setting first and only then imports and builds the
real component, so ``-s COOKIES_ENABLED=True`` or ``-s REMOTE_CONTROL_ENABLED=True`` works as
with Scrapy's own entries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import build_from_crawler, load_object

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class _WhenEnabled:
    """Build ``component`` (a class path) when the boolean ``setting`` is on."""

    component: str
    setting: str

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        if not crawler.settings.getbool(cls.setting):
            raise NotConfigured  # no reason given: Scrapy would log one as a WARNING each crawl
        return build_from_crawler(load_object(cls.component), crawler)


class RemoteControl(_WhenEnabled):
    """Scrapy's remote-control HTTP server, when ``REMOTE_CONTROL_ENABLED``."""

    component = "scrapy.extensions.remote_control.RemoteControl"
    setting = "REMOTE_CONTROL_ENABLED"


class CookiesMiddleware(_WhenEnabled):
    """Scrapy's cookies middleware, when ``COOKIES_ENABLED``."""

    component = "scrapy.downloadermiddlewares.cookies.CookiesMiddleware"
    setting = "COOKIES_ENABLED"
