"""What earlier crawls of a site left in the article store, looked up as the crawl needs it.

`CrawlHistory.load` opens the store and reads only the last complete crawl; the spider then asks,
URL by URL, whether an article is already archived (`is_known`), whether a known URL changed,
which conditional headers to send, and whether a sitemap or a listing page can be skipped (see
the incremental rules in ``spiders/base.py``). Each answer is an indexed point query on the store
(``ArticleStore.known_article`` and ``fetch_state``: the articles' ``url`` index and primary key,
``fetch_state``'s primary key), filtered to the crawled site, so start-up and memory do not grow
with the archive: with 1,000,000 stored articles an unchanged recrawl reads its history in
milliseconds (``docs/scale.md``). A small cache keeps the last URLs' answers, since one decision
asks about the same URL several times.

The history is what *earlier* crawls left: an article this crawl stores is not known to it (as
when the whole history was read at start-up), so a page naming an article stored minutes ago as
its canonical URL is fetched as it always was. Rows are told apart by ``first_fetched``, the
fetch time of their first version: one from the second this crawl started, or later, is this
crawl's own.

Only a *complete* crawl counts (its discovery read every sitemap, feed and listing it needed;
``docs/crawling.md``): a night the portal was down never lets a later crawl skip anything.
`CrawlHistory.due_failures` streams the articles earlier crawls failed to store and that are due
for another try.

Reads no settings: the spider resolves them when it is built (`HistorySource`, from
``ARTICLES_DB``, ``INCREMENTAL``, ``FAILED_ARTICLES_RETRY`` and the job directory's marker; see
``PortalSpider.from_crawler``) and loads the history when the crawl starts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

from storage.articles import ArticleStore, FetchState, KnownArticle

logger = logging.getLogger(__name__)

# Answers kept per kind of lookup: a decision asks about one URL a few times in a row.
CACHE_SIZE = 64
_MISSING = object()


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
    # The site whose articles count as known.
    site: str = ""
    # (started, ended) of the last complete crawl.
    last_run: tuple[datetime, datetime] | None = None
    # The store to look things up in (None: nothing is known, e.g. a first crawl).
    store_path: Path | None = None
    _store: ArticleStore | None = field(default=None, repr=False)
    # Articles first stored at or after this moment are this crawl's own, not history.
    opened: datetime | None = None
    # A full recrawl resumed after a crash knows only what the interrupted crawl stored.
    stored_since: datetime | None = None
    # The store to read failed articles from (None: none, or retries switched off).
    failures_from: Path | None = None
    _known_cache: dict[str, KnownArticle | None] = field(default_factory=dict, repr=False)
    _state_cache: dict[str, FetchState | None] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, source: HistorySource, site_id: str, spider_name: str) -> CrawlHistory:
        """Open the store ``source`` names (nothing is known when it does not exist yet)."""
        started = time.perf_counter()
        opened = datetime.now(timezone.utc).replace(microsecond=0)
        history = cls(incremental=source.incremental, site=site_id, opened=opened)
        path = source.store
        if path.exists() and source.retry_failures:
            history.failures_from = path
        interrupted_since = moment(source.interrupted_since)
        if not path.exists() or not (history.incremental or interrupted_since):
            return history
        history.store_path = path
        store = history.store
        if history.incremental:
            last_run = store.last_complete_run(spider_name)
            if last_run and (started_at := moment(last_run[0])) and (
                    ended := moment(last_run[1])):
                history.last_run = (started_at, ended)
        else:
            # A full recrawl resumed after a crash: skip what the interrupted crawl stored.
            # Stored fetch times have whole seconds, so compare in whole seconds.
            history.stored_since = interrupted_since.replace(microsecond=0)
        logger.info(
            "%s: %s articles of %s stored in %s (history read in %.3f s); last complete crawl %s",
            spider_name, store.count(site_id), site_id, path, time.perf_counter() - started,
            history.last_run[0].isoformat() if history.last_run else "none",
        )
        return history

    @property
    def store(self) -> ArticleStore:
        """The store the history is looked up in (opened on first use)."""
        if self._store is None:
            self._store = ArticleStore(self.store_path)
        return self._store

    def due_failures(self, spider_name: str) -> Iterator[str]:
        """URLs of articles earlier crawls failed to store whose next try is due now.

        Streamed from the store in small batches (``ArticleStore.due_failures``), so the list
        may be long without costing memory.
        """
        if self.failures_from is None:
            return
        with ArticleStore(self.failures_from) as store:
            yield from store.due_failures(spider_name, datetime.now(timezone.utc))

    def known_article(self, url: str) -> KnownArticle | None:
        """The site's stored article at ``url`` (its URL or canonical URL) an earlier crawl left."""
        if self.store_path is None:
            return None
        article = self._known_cache.get(url, _MISSING)
        if article is _MISSING:
            article = self.store.known_article(self.site, url)
            if article is not None and not self._earlier(article):
                article = None
            _remember(self._known_cache, url, article)
        return article

    def is_known(self, url: str) -> bool:
        """Whether an earlier crawl stored the article at ``url`` (see `known_article`)."""
        return self.known_article(url) is not None

    def _earlier(self, article: KnownArticle) -> bool:
        """Whether an earlier crawl stored the article (and, after a crash, which one)."""
        first = moment(article.first_fetched)
        if first is not None and self.opened is not None and first >= self.opened:
            return False
        if self.stored_since is not None:
            fetched = moment(article.fetched)
            return fetched is not None and fetched >= self.stored_since
        return True

    def fetch_state(self, url: str) -> FetchState | None:
        """How ``url`` was last fetched, as the store remembers it."""
        if self.store_path is None:
            return None
        state = self._state_cache.get(url, _MISSING)
        if state is _MISSING:
            state = self.store.fetch_state(url)
            _remember(self._state_cache, url, state)
        return state

    def changed_since_fetch(self, url: str, lastmod: str | None, *, has_sitemaps: bool) -> bool:
        """Whether the portal says a known URL changed since the store last saw it."""
        if lastmod is None:
            # No date here; a site with sitemaps will tell through their lastmod.
            return not has_sitemaps
        state = self.fetch_state(url)
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
        if self.last_run is None:
            return False
        known = self.known_article(url)
        if known is None:
            return False
        published = moment(known.published)
        return published is not None and published < self.last_run[0]

    def archived_capture(self, url: str) -> dict | None:
        """The WARC pointer of the page last archived from ``url``: what a 304 would confirm."""
        if self.store_path is None:
            return None
        return self.store.capture_of(url)

    def close(self) -> None:
        """Close the store connection, if one was opened."""
        if self._store is not None:
            self._store.close()
            self._store = None

    def conditional_headers(self, url: str) -> dict[str, str]:
        """``If-None-Match`` / ``If-Modified-Since`` for a URL fetched before."""
        state = self.fetch_state(url)
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
        state = self.fetch_state(url)
        fetched = moment(state.fetched) if state else None
        return (
            state is not None and state.lastmod == lastmod and fetched is not None
            and fetched <= self.last_run[1]
        )


def _remember(cache: dict, key: str, value: object) -> None:
    """Keep ``value`` in a cache of at most `CACHE_SIZE` entries (the oldest goes first)."""
    if len(cache) >= CACHE_SIZE:
        del cache[next(iter(cache))]
    cache[key] = value
