"""The Article item: the researchers' contract (see docs/researcher.md for every field)."""

from __future__ import annotations

import scrapy


class Article(scrapy.Item):
    """One news article as parsed from one archived response.

    Text fields are clean (no layout noise); ``body`` holds paragraphs separated by blank lines.
    Dates are ISO 8601 with the page's UTC offset; without one when nothing tells it (see
    ``published_zone_source``). Fields a page lacks are None or empty, never guessed.
    """

    url = scrapy.Field()  # the URL fetched
    canonical_url = scrapy.Field()  # <link rel=canonical>, else url; the store's key
    canonical_rejected = scrapy.Field()  # "offsite" | "collision": the page's canonical not used
    canonical_claimed = scrapy.Field()  # the canonical URL the page named, when rejected
    site = scrapy.Field()  # site profile id, e.g. "baonamdinh"
    title = scrapy.Field()
    lead = scrapy.Field()  # the sapo
    body = scrapy.Field()
    published = scrapy.Field()  # "2020-02-12T19:29:00+07:00" (date only when the page has no time)
    # selector | meta | json-ld | visible | url | image-url | htmldate
    published_source = scrapy.Field()
    # where the offset came from: page | site | vietnam | none (local time, offset unknown)
    published_zone_source = scrapy.Field()
    modified = scrapy.Field()
    modified_source = scrapy.Field()
    modified_zone_source = scrapy.Field()
    dates_disagree = scrapy.Field()  # True when the page's date sources differ by over a day
    authors = scrapy.Field()  # ["Lam Hồng"]
    credit = scrapy.Field()  # "Tin, ảnh"
    section = scrapy.Field()
    tags = scrapy.Field()
    images = scrapy.Field()  # [{"src", "caption", "credit"}]
    language = scrapy.Field()
    title_source = scrapy.Field()
    lead_source = scrapy.Field()  # selector | meta | body
    body_source = scrapy.Field()  # selector | generic
    fallback = scrapy.Field()  # fields a site profile missed, taken generically: ["body"]
    fetched = scrapy.Field()  # UTC, when the response arrived
    warc = scrapy.Field()  # {"filename", "record_id", "offset", "length", "payload_digest", …}
    content_hash = scrapy.Field()
    version = scrapy.Field()  # assigned by the store
