"""Remember how each page was fetched, so the next crawl can ask the portal what changed.

``FetchStateMiddleware`` records, for every request that carries ``meta["fetch_state"]`` (the
portal spider sets it on article and sitemap requests, with the sitemap ``lastmod`` that led to
it), the response status, ``ETag``, ``Last-Modified`` and fetch time in the article store's
``fetch_state`` table; 304 answers to conditional requests are recorded too. It also records each
crawl run (start, end, finish reason, outcome) in ``crawl_runs``, which tells the next run when the
last complete crawl happened. Only a run judged ``complete`` by
:func:`crawler.extensions.summary.crawl_outcome` counts: not one bounded by ``-a since``/``until``,
stopped early, or whose discovery failed (a night the portal was down).

Settings:

* ``ARTICLES_DB`` / ``ARCHIVE_DIR`` - where the store lives (``crawler/paths.py``).
* ``ARTICLES_STORE_ENABLED`` - without a store there is nothing to remember (NotConfigured).

Stats: ``fetch_state/recorded``, ``fetch_state/not_modified``.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timezone

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.extensions.summary import crawl_outcome
from crawler.paths import ArchivePaths
from storage.articles import ArticleStore, FetchState

logger = logging.getLogger(__name__)


def utc_now() -> str:
    """The current time as ISO 8601 UTC, to the microsecond (runs are ordered by it)."""
    return datetime.now(timezone.utc).isoformat()


class FetchStateMiddleware:
    """Write validators and crawl runs to the article store."""

    def __init__(self, path, stats, spider) -> None:
        self.path = path
        self.stats = stats
        self.spider = spider
        # The portal spider crawls many sites under one name; its runs are kept per site.
        self.spider_name = getattr(spider, "crawl_key", None) or spider.name
        self.run_id = uuid.uuid4().hex
        self.store: ArticleStore | None = None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("ARTICLES_STORE_ENABLED", True):
            raise NotConfigured("ARTICLES_STORE_ENABLED is off")
        path = ArchivePaths.from_settings(crawler.settings).articles_db
        middleware = cls(path, crawler.stats, crawler.spider)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self) -> None:
        self.store = ArticleStore(self.path)
        self.store.start_run(self.run_id, self.spider_name, utc_now())
        # The crawl summary writes its figures into this run's row (storage/jobs.py).
        self.stats.set_value("crawl_runs/run_id", self.run_id)

    def spider_closed(self, reason: str) -> None:
        if self.store is None:
            return
        # Only a complete crawl may let the next one skip unchanged sitemaps and listing pages.
        outcome = crawl_outcome(self.stats.get_stats(), reason, self.spider)
        self.store.finish_run(self.run_id, utc_now(), reason, outcome.status, outcome.complete)
        self.store.close()
        self.store = None

    def process_response(self, request, response):
        state = request.meta.get("fetch_state")
        if state is None or self.store is None or response.status not in (200, 304):
            return response
        # After redirects, remember the URL the spider asked for: that is what it looks up.
        url = (request.meta.get("redirect_urls") or [request.url])[0]
        self.store.record_fetch(
            FetchState(
                url=url,
                status=response.status,
                etag=_header(response, b"ETag"),
                last_modified=_header(response, b"Last-Modified"),
                lastmod=state.get("lastmod"),
                fetched=utc_now(),
            )
        )
        self.stats.inc_value("fetch_state/recorded")
        if response.status == 304:
            self.stats.inc_value("fetch_state/not_modified")
        return response


def _header(response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
