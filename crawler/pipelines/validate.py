"""Drop articles that lack a required field, counting each drop by its reason.

Settings:

* ``ARTICLES_REQUIRED_FIELDS`` - fields an article must have to be stored (default: title, body).

A dropped article is counted as ``articles/dropped/no_<field>`` and logged with its URL; its
response is already in the WARC archive, so a later ``scrapy reparse <site>`` can still recover it.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import DropItem

logger = logging.getLogger(__name__)


class ValidateArticlePipeline:
    """Refuse articles missing a required field."""

    def __init__(self, required_fields: list[str], stats) -> None:
        self.required_fields = required_fields
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getlist("ARTICLES_REQUIRED_FIELDS"), crawler.stats)

    def process_item(self, item):
        for name in self.required_fields:
            if not item.get(name):
                reason = f"no_{name}"
                self.stats.inc_value(f"articles/dropped/{reason}")
                logger.warning("Dropped article %s: no %s found", item.get("url"), name)
                error = DropItem(f"{item.get('url')}: no {name}")
                error.reason = reason  # the failure report's reason
                raise error
        return item
