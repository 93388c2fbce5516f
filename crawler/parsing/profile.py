"""Site profiles: what a maintainer knows about one portal, kept as data.

A :class:`SiteProfile` holds the portal's domains, where discovery starts (sitemaps, feeds, listing
pages), which URLs are articles, and the CSS selectors for every Article field. The base spider
(`spiders/base.py`) and the extractor (`crawler.parsing.article`) hold all the logic; a site module
only fills in a profile. Selectors are ordered tuples: the first one that finds something wins, so
a redesign can be handled by adding the new selector in front of the old one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from crawler.parsing.selectors import CompiledSelector, compile_css

Selectors = tuple[str, ...]

__all__ = ["SiteProfile", "Selectors", "compile_css"]


def _path_and_query(url: str) -> str:
    """What the URL patterns are matched against: the path, with the query string if any."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass(frozen=True)
class SiteProfile:
    """Everything site-specific about one portal.

    URL patterns are regular expressions matched against the URL path (with the query string, if
    any). ``article_date_pattern`` has named groups ``year`` and ``month`` (and optionally
    ``day``) that give an article's publication month from its URL alone, so a date-bounded crawl
    skips out-of-range articles without fetching them. ``listing_url_pattern`` holds the listing
    pages the crawl follows (next pages, page templates) to the portal's paging scheme: a "next"
    link elsewhere (a search, a tag cloud, a calendar) ends paging. The ``listing_urls`` a
    maintainer wrote are requested whatever it says (the home page is a listing too).
    """

    site_id: str
    name: str
    domains: tuple[str, ...]
    base_url: str
    language: str = "vi"
    timezone: str = "Asia/Ho_Chi_Minh"

    # Discovery: paths relative to base_url.
    sitemap_urls: tuple[str, ...] = ()
    feed_urls: tuple[str, ...] = ()
    listing_urls: tuple[str, ...] = ()
    article_url_pattern: str = r"."
    article_date_pattern: str | None = None
    listing_url_pattern: str | None = None
    listing_article_links: Selectors = ("a[href]",)
    listing_next_page: Selectors = ()
    # Listings that page by script ("Xem thêm") rather than by links: the URL of page N, with
    # ``{page}`` and ``{zone}`` (the ``value`` or text of the first element ``listing_zone``
    # finds, e.g. the hidden ``#hdZoneId`` input of tuoitre.vn's and nld.com.vn's CMS).
    listing_page_template: str | None = None
    listing_zone: Selectors = ()
    max_listing_pages: int = 1000

    # Article fields.
    title: Selectors = ("h1",)
    lead: Selectors = ()
    body: Selectors = ("article",)
    published: Selectors = ()
    modified: Selectors = ()
    section: Selectors = ()
    tags: Selectors = ()
    byline: Selectors = ()
    image_blocks: Selectors = ("figure",)
    image_caption: Selectors = ("figcaption",)
    # Removed from the body container before text is read: share bars, ads, related boxes.
    remove: Selectors = ()
    title_suffixes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        # Compile now so a bad selector or pattern fails when the profile loads, not mid-crawl.
        _ = self.selectors, self.article_url_regex, self.listing_url_regex, self.article_date_regex

    @cached_property
    def article_url_regex(self) -> re.Pattern[str]:
        """Compiled article URL pattern."""
        return re.compile(self.article_url_pattern)

    @cached_property
    def listing_url_regex(self) -> re.Pattern[str] | None:
        """Compiled listing URL pattern, if the profile restricts listings."""
        return re.compile(self.listing_url_pattern) if self.listing_url_pattern else None

    def is_article_url(self, url: str) -> bool:
        """Whether the URL's path (and query) matches the article pattern."""
        return bool(self.article_url_regex.search(_path_and_query(url)))

    def is_listing_url(self, url: str) -> bool:
        """Whether the URL's path (and query) matches the listing pattern (always, without one)."""
        regex = self.listing_url_regex
        return regex is None or bool(regex.search(_path_and_query(url)))

    @cached_property
    def article_date_regex(self) -> re.Pattern[str] | None:
        """Compiled pattern giving year/month from an article URL."""
        return re.compile(self.article_date_pattern) if self.article_date_pattern else None

    @cached_property
    def selectors(self) -> dict[str, tuple[CompiledSelector, ...]]:
        """Every selector field compiled (checked in both engines), keyed by field name."""
        names = (
            "listing_article_links", "listing_next_page", "listing_zone", "title", "lead", "body",
            "published", "modified", "section", "tags", "byline", "image_blocks", "image_caption",
            "remove",
        )
        compiled = {}
        for name in names:
            try:
                compiled[name] = compile_css(getattr(self, name))
            except ValueError as error:
                raise ValueError(f"site profile {self.site_id!r}, {name}: {error}") from None
        return compiled
