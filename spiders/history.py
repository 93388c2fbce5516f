"""What earlier crawls of a site left in the article store, read once when a crawl starts.

`CrawlHistory.load` reads the articles already archived, the fetch validators of every URL
(ETag, Last-Modified, sitemap lastmod) and the last complete crawl; the spider asks it whether a
known URL changed, which conditional headers to send, and whether a sitemap or a listing page
can be skipped (see the incremental rules in ``spiders/base.py``). Only a *complete* crawl counts
(its discovery read every sitemap, feed and listing it needed; ``docs/crawling.md``): a night
the portal was down never lets a later crawl skip anything. `CrawlHistory.due_failures` streams
the articles earlier crawls failed to store and that are due for another try.

Reads no settings: the spider resolves them when it is built (`HistorySource`, from
``ARTICLES_DB``, ``INCREMENTAL``, ``FAILED_ARTICLES_RETRY`` and the job directory's marker; see
``PortalSpider.from_crawler``) and loads the history when the crawl starts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

from storage.articles import ArticleStore, FetchState, KnownArticle

logger = logging.getLogger(__name__)


def moment(value: str | None) -> datetime | None:
    """An ISO 8601 date or time (or an HTTP date) as an aware datetime; None if unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class HistorySource:
    """Where a crawl's history is read from, and what the crawl may use it for."""

    # The article store (it may not exist yet: a first crawl).
    store: Path
    # INCREMENTAL: skip what is known and unchanged.
    incremental: bool = True
    # FAILED_ARTICLES_RETRY: request the articles earlier crawls failed to store.
    retry_failures: bool = True
    # When the killed crawl this one carries on started (the job directory's marker), or None.
    interrupted_since: str | None = None


@dataclass
class CrawlHistory:
    """Known articles, fetch validators and the last complete crawl of one site."""

    incremental: bool = True
    known: dict[str, KnownArticle] = field(default_factory=dict)
    fetch_states: dict[str, FetchState] = field(default_factory=dict)
    # (started, ended) of the last complete crawl.
    last_run: tuple[datetime, datetime] | None = None
    # The store, for point lookups during the crawl (opened on first use).
    store_path: Path | None = None
    _store: ArticleStore | None = field(default=None, repr=False)
    # The store to read failed articles from (None: none, or retries switched off).
    failures_from: Path | None = None

    @classmethod
    def load(cls, source: HistorySource, site_id: str, spider_name: str) -> CrawlHistory:
        """Read the store ``source`` names (nothing when it does not exist yet)."""
        history = cls(incremental=source.incremental)
        path = source.store
        if path.exists() and source.retry_failures:
            history.failures_from = path
        interrupted_since = moment(source.interrupted_since)
        if not path.exists() or not (history.incremental or interrupted_since):
            return history
        history.store_path = path
        with ArticleStore(path) as store:
            known = store.known_articles(site_id)
            history.fetch_states = store.fetch_states()
            last_run = store.last_complete_run(spider_name)
        if history.incremental:
            history.known = known
            if last_run and (started := moment(last_run[0])) and (ended := moment(last_run[1])):
                history.last_run = (started, ended)
        else:
            # A full recrawl resumed after a crash: skip what the interrupted crawl stored.
            # Stored fetch times have whole seconds, so compare in whole seconds.
            interrupted_since = interrupted_since.replace(microsecond=0)
            history.known = {
                url: article for url, article in known.items()
                if (fetched := moment(article.fetched)) and fetched >= interrupted_since
            }
        logger.info(
            "%s: %s articles known from %s; last complete crawl %s", spider_name,
            len({article.url for article in history.known.values()}), path,
            history.last_run[0].isoformat() if history.last_run else "none",
        )
        return history

    def due_failures(self, spider_name: str) -> Iterator[str]:
        """URLs of articles earlier crawls failed to store whose next try is due now.

        Streamed from the store in small batches (``ArticleStore.due_failures``), so the list
        may be long without costing memory.
        """
        if self.failures_from is None:
            return
        with ArticleStore(self.failures_from) as store:
            yield from store.due_failures(spider_name, datetime.now(timezone.utc))

    def changed_since_fetch(self, url: str, lastmod: str | None, *, has_sitemaps: bool) -> bool:
        """Whether the portal says a known URL changed since the store last saw it."""
        if lastmod is None:
            # No date here; a site with sitemaps will tell through their lastmod.
            return not has_sitemaps
        state = self.fetch_states.get(url)
        seen = [
            value for value in (
                moment(state.lastmod) if state else None,
                moment(state.last_modified) if state else None,
            ) if value is not None
        ]
        new = moment(lastmod)
        return not seen or new is None or new > max(seen)

    def known_and_old(self, url: str) -> bool:
        """A stored article published before the last complete crawl started."""
        known = self.known.get(url)
        if known is None or self.last_run is None:
            return False
        published = moment(known.published)
        return published is not None and published < self.last_run[0]

    def archived_capture(self, url: str) -> dict | None:
        """The WARC pointer of the page last archived from ``url``: what a 304 would confirm."""
        if self.store_path is None:
            return None
        if self._store is None:
            self._store = ArticleStore(self.store_path)
        return self._store.capture_of(url)

    def close(self) -> None:
        """Close the store connection opened by `archived_capture`, if any."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def conditional_headers(self, url: str) -> dict[str, str]:
        """``If-None-Match`` / ``If-Modified-Since`` for a URL fetched before."""
        state = self.fetch_states.get(url)
        headers = {}
        if state and state.etag:
            headers["If-None-Match"] = state.etag
        if state and state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        return headers

    def sitemap_unchanged(self, url: str, lastmod: str | None) -> bool:
        """A sitemap whose lastmod a complete crawl already read: every article in it is handled.

        A sitemap read by a crawl that died later is read again.
        """
        if not self.incremental or self.last_run is None or not lastmod:
            return False
        state = self.fetch_states.get(url)
        fetched = moment(state.fetched) if state else None
        return (
            state is not None and state.lastmod == lastmod and fetched is not None
            and fetched <= self.last_run[1]
        )
