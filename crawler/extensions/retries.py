"""Remember the articles a crawl failed to store, so later crawls try them again until one does.

An article URL reported failed (the :data:`~crawler.extensions.failures.url_failed` signal: HTTP
errors after Scrapy's retries, ``too_large``, timeouts, ``parse_error``…) or dropped by a pipeline
(``no_title``, ``store_error``…) is written to the store's ``failed_articles`` table with its
reason and how many crawls in a row it failed; its next try is due at the next crawl, then 1, 2,
4… days after each further failure, at most ``FAILED_ARTICLES_MAX_DAYS``
(``storage.articles.retry_delay``). The portal spider requests the due ones when it starts
(``CrawlHistory.due_failures``, streamed from the store); an article stored (or confirmed by a
304) leaves the table. Only article URLs (the profile's article pattern) are kept: sitemaps,
feeds and listings are read by every crawl anyway, and images come with their article.

Settings:

* ``FAILED_ARTICLES_RETRY`` - keep and retry failed articles (default True).
* ``FAILED_ARTICLES_MAX_DAYS`` - the longest wait between two tries (default 32 days).
* ``ARTICLES_DB`` / ``ARCHIVE_DIR``, ``ARTICLES_STORE_ENABLED`` - the store (NotConfigured
  without one).

Stats: ``failed_articles/new``, ``failed_articles/failed_again``, ``failed_articles/recovered``
and, when the crawl ends, ``failed_articles/pending/<reason>`` (still waiting); the spider counts
``failed_articles/retried``. The crawl summary lists them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.extensions.failures import url_failed
from crawler.paths import ArchivePaths
from storage.articles import ArticleStore

logger = logging.getLogger(__name__)


class FailedArticleRetries:
    """Record failed articles in the store and forget them once stored."""

    def __init__(self, path, stats, spider, max_days: float) -> None:
        self.path = path
        self.stats = stats
        self.spider = spider
        self.max_days = max_days
        self.store: ArticleStore | None = None
        # Failed URLs recorded in this crawl: a URL counts one failure per crawl.
        self._recorded: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("ARTICLES_STORE_ENABLED", True):
            raise NotConfigured("ARTICLES_STORE_ENABLED is off")
        if not settings.getbool("FAILED_ARTICLES_RETRY", True):
            raise NotConfigured("FAILED_ARTICLES_RETRY is off")
        if not hasattr(crawler.spider, "is_article_url"):
            raise NotConfigured("the spider does not tell article URLs")
        path = ArchivePaths.from_settings(settings).articles_db
        extension = cls(path, crawler.stats, crawler.spider,
                        settings.getfloat("FAILED_ARTICLES_MAX_DAYS", 32.0))
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(extension.url_failed, signal=url_failed)
        crawler.signals.connect(extension.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(extension.response_received, signal=signals.response_received)
        return extension

    def spider_opened(self) -> None:
        self.store = ArticleStore(self.path)

    def spider_closed(self) -> None:
        if self.store is None:
            return
        for reason, count in self.store.failed_articles(self.spider.name).items():
            self.stats.set_value(f"failed_articles/pending/{reason}", count)
        self.store.close()
        self.store = None

    def url_failed(self, url: str, reason: str, detail: str = "", discovery: bool = False) -> None:
        """Record an article URL that failed (other URLs are left to the failure report)."""
        if self.store is None or discovery or url in self._recorded:
            return
        if not self.spider.is_article_url(url):
            return
        self._recorded.add(url)
        failed = self.store.record_failure(
            url, self.spider.name, reason, detail[:500] or None, datetime.now(timezone.utc),
            self.max_days,
        )
        if failed.failures == 1:
            self.stats.inc_value("failed_articles/new")
        else:
            self.stats.inc_value("failed_articles/failed_again")
            logger.info("%s failed again (%s, %s crawls in a row); next try after %s", url,
                        reason, failed.failures, failed.next_attempt)

    def item_dropped(self, item, response, exception) -> None:
        url = item.get("url") or getattr(response, "url", "")
        self.url_failed(url, getattr(exception, "reason", "dropped"), str(exception))

    def item_scraped(self, item, response) -> None:
        """An article is stored: it needs no further try."""
        urls = [item.get("url"), item.get("canonical_url")]
        if response is not None:
            urls += [response.url, *response.meta.get("redirect_urls", ())]
        self._recovered([url for url in dict.fromkeys(urls) if url])

    def response_received(self, response, request) -> None:
        # 304: the portal confirms the stored copy of an article whose refresh had failed.
        if response.status == 304:
            self._recovered([request.url, *request.meta.get("redirect_urls", ())])

    def _recovered(self, urls: list[str]) -> None:
        if self.store is not None and self.store.clear_failures(urls):
            self.stats.inc_value("failed_articles/recovered")
            logger.info("%s is stored now; it had failed before", urls[0])
