"""Store articles in the article store (SQLite by default).

Settings:

* ``ARTICLES_DB`` - path of the SQLite file (default ``<ARCHIVE_DIR>/articles.sqlite3``,
  ``crawler/paths.py``).
* ``ARTICLES_STORE_ENABLED`` - turn storing off (default True).

Counts ``articles/stored`` and ``articles/new``, ``articles/updated``, ``articles/unchanged``.
A page whose canonical URL names a different article is stored under its own URL (see
``storage/articles.py``), counted as ``articles/canonical_rejected/collision`` and logged.
A record the store refuses is counted as ``articles/dropped/store_error`` and logged with its URL;
the crawl goes on.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from itemadapter import ItemAdapter
from scrapy import Item
from scrapy.exceptions import DropItem, NotConfigured

from crawler.paths import ArchivePaths
from storage.articles import ArticleStore

logger = logging.getLogger(__name__)


class ArticleStorePipeline:
    """Upsert every article by canonical URL; a changed article becomes a new version."""

    def __init__(self, path: Path, stats) -> None:
        self.path = path
        self.stats = stats
        self.store: ArticleStore | None = None

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("ARTICLES_STORE_ENABLED", True):
            raise NotConfigured("ARTICLES_STORE_ENABLED is off")
        return cls(ArchivePaths.from_settings(crawler.settings).articles_db, crawler.stats)

    def open_spider(self) -> None:
        self.store = ArticleStore(self.path)
        logger.info("Storing articles in %s", self.path)

    def close_spider(self) -> None:
        if self.store is not None:
            self.store.close()

    def process_item(self, item):
        adapter = ItemAdapter(item)
        # A shallow copy will do (the store changes no nested value); asdict's deep one cost ~1%
        # of a crawl's CPU.
        record = dict(item) if isinstance(item, (dict, Item)) else adapter.asdict()
        try:
            result = self.store.upsert(record)
        except (sqlite3.Error, ValueError, TypeError) as error:
            self.stats.inc_value("articles/dropped/store_error")
            logger.error("Could not store article %s: %s", adapter.get("url"), error)
            dropped = DropItem(f"{adapter.get('url')}: store error: {error}")
            dropped.reason = "store_error"  # the failure report's reason
            raise dropped from error
        adapter["version"] = result.version
        if result.canonical_rejected == "collision":
            claimed = adapter.get("canonical_url")
            adapter.update({"canonical_url": result.canonical_url,
                            "canonical_rejected": "collision", "canonical_claimed": claimed})
            self._collision(adapter["url"], claimed)
        if result.moved:
            self._collision(result.moved, adapter["url"])
        self.stats.inc_value("articles/stored")
        self.stats.inc_value(f"articles/{result.status}")
        return item

    def _collision(self, url: str, claimed: str) -> None:
        self.stats.inc_value("articles/canonical_rejected/collision")
        logger.warning("%s names %s, a different article, as its canonical URL; stored under "
                       "its own URL", url, claimed)
