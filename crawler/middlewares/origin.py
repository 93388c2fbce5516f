"""Keep every request of a crawl on the crawled site's origins (``crawler/origins.py``).

Scrapy's OffsiteMiddleware compares host names only: another port or scheme of the portal's
host passed, and so did robots.txt of wherever a request went. This middleware replaces it (in
``DOWNLOADER_MIDDLEWARES`` Scrapy's is switched off and this one takes its place, 50, ahead of
RobotsTxtMiddleware at 100) and compares origins, at two points that every request passes:

* when the scheduler receives it (Scrapy's ``request_scheduled`` signal): links found on pages
  (listings, sitemaps, feeds, images), start requests, and the targets of redirects, which
  RedirectMiddleware (``Location``) and MetaRefreshMiddleware (``<meta http-equiv=refresh>``)
  hand back to the scheduler. A request to another origin is dropped before it is queued, so
  nothing is fetched for it, not even robots.txt. A link is counted (``offsite/links``) and the
  first one to each origin logged; a start URL is also listed in the failure report (reason
  ``offsite``), and a redirect target is reported against the URL that redirected (reason
  ``offsite_redirect``, the target in ``detail``);
* when it reaches the downloader without the scheduler (robots.txt, which RobotsTxtMiddleware
  fetches for every origin a request goes to, and ``engine.download``): a request to another
  origin is refused with ``IgnoreRequest`` (``offsite/downloads``).

``OriginRedirectMiddleware`` (620, just above RedirectMiddleware at 600, so it sees the 3xx
first) refuses a ``Location`` on another origin with ``IgnoreRequest("offsite redirect to
…")``: the request's errback runs, so the spider reports the URL (reason ``offsite_redirect``)
and its bookkeeping (a failed article retried with a backoff, an owed image) sees the failure,
which a request dropped at the scheduler never tells it. The scheduler check above stays for
what this one cannot see (``<meta http-equiv=refresh>``, read after decompression).

The spider names what is on-site with its ``origins`` attribute (a ``SiteOrigins``); a spider
without one is held to its ``allowed_domains`` on the default ports, and a spider without
either is not held at all. No setting; switch it off in ``DOWNLOADER_MIDDLEWARES`` (None).

Stats: ``offsite/links``, ``offsite/origins`` (distinct origins whose links were skipped),
``offsite/start``, ``offsite/redirects``, ``offsite/downloads``.
"""

from __future__ import annotations

import logging
from urllib.parse import urljoin

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from w3lib.url import safe_url_string

from crawler.extensions.failures import url_failed
from crawler.origins import SiteOrigins, origin_of, origin_text

logger = logging.getLogger(__name__)


def spider_origins(spider) -> SiteOrigins | None:
    """What the spider counts as on-site: its ``origins``, else its ``allowed_domains``."""
    origins = getattr(spider, "origins", None)
    if origins is None and getattr(spider, "allowed_domains", None):
        origins = SiteOrigins(tuple(d.lower() for d in spider.allowed_domains))
    return origins


class OriginGuardMiddleware:
    """Drop, count and (for start URLs and redirects) report requests to other origins."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.origins: SiteOrigins | None = None
        self._skipped_origins: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.request_scheduled, signal=signals.request_scheduled)
        return middleware

    def spider_opened(self, spider) -> None:
        self.origins = spider_origins(spider)
        if self.origins is not None:
            logger.info("On-site: %s", self.origins.describe())

    def request_scheduled(self, request) -> None:
        """Drop a request to another origin before the scheduler queues it."""
        if self.origins is None or self.origins.allows(request.url):
            return
        meta = request.meta
        if redirected_from := meta.get("redirect_urls"):
            self.stats.inc_value("offsite/redirects")
            self._report(redirected_from[0], "offsite_redirect",
                         f"redirects to {request.url}, another origin")
            logger.warning("%s redirects to another origin, %s; not followed",
                           redirected_from[0], request.url)
        elif meta.get("is_start_request"):
            self.stats.inc_value("offsite/start")
            self._report(request.url, "offsite", "start URL on another origin")
            logger.warning("Start URL %s is on another origin than the crawl (%s); not fetched",
                           request.url, self.origins.describe())
        else:
            self.stats.inc_value("offsite/links")
            origin = origin_of(request.url)
            key = origin_text(origin) if origin else request.url.split(":", 1)[0]
            if key not in self._skipped_origins:
                self._skipped_origins.add(key)
                self.stats.inc_value("offsite/origins")
                logger.info("Not following links to %s (another origin; on-site: %s); "
                            "counted as offsite/links", key, self.origins.describe())
        raise IgnoreRequest(f"offsite request to {request.url}")

    def process_request(self, request) -> None:
        """Refuse a request to another origin that did not come through the scheduler."""
        if self.origins is None or self.origins.allows(request.url):
            return
        self.stats.inc_value("offsite/downloads")
        logger.info("Refused %s: another origin than the crawl", request.url)
        raise IgnoreRequest(f"offsite request to {request.url}")

    def _report(self, url: str, reason: str, detail: str) -> None:
        self.crawler.signals.send_catch_log(
            signal=url_failed, url=url, reason=reason, attempts=1, detail=detail
        )


REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class OriginRedirectMiddleware:
    """Fail a request whose redirect leads to another origin, through its errback."""

    def __init__(self, stats) -> None:
        self.stats = stats
        self.origins: SiteOrigins | None = None

    @classmethod
    def from_crawler(cls, crawler):
        middleware = cls(crawler.stats)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider) -> None:
        self.origins = spider_origins(spider)

    def process_response(self, request, response):
        if (
            self.origins is None or response.status not in REDIRECT_STATUSES
            or request.meta.get("dont_redirect")
        ):
            return response
        location = response.headers.get(b"Location")
        if not location:
            return response
        target = urljoin(response.url, safe_url_string(location.decode("latin-1")))
        if self.origins.allows(target):
            return response
        self.stats.inc_value("offsite/redirects")
        logger.warning("%s redirects to another origin, %s; not followed", response.url, target)
        raise IgnoreRequest(f"offsite redirect: redirects to {target}, another origin")
