"""The portal spider: discovery, pagination and article dispatch for any news portal.

A site module subclasses :class:`PortalSpider` and sets ``name`` and ``profile`` (a
:class:`~crawler.parsing.profile.SiteProfile`); everything else lives here. Discovery starts from
the profile's sitemaps (sitemap indexes followed), RSS/Atom feeds and listing pages (followed
through their "next page" links). Only URLs matching the profile's article pattern become article
requests, and each article URL is requested once per crawl, before Scrapy's dupefilter sees it.

Spider arguments:

* ``base_url`` - crawl a mirror or the replica portal at this origin; paths stay the same and links
  to the profile's domains are rewritten to it.
* ``since`` / ``until`` - ``YYYY-MM-DD`` bounds on publication date (inclusive). Articles whose URL
  shows a month outside the range are not fetched; parsed articles outside it are skipped.

Settings: ``ARCHIVE_IMAGES`` - also fetch each article's images (so the WARC replays the page).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from typing import ClassVar
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

import scrapy
from lxml import etree
from scrapy.http import Response
from scrapy.utils.sitemap import Sitemap

from crawler.items import Article
from crawler.parsing.article import extract_with_profile
from crawler.parsing.profile import SiteProfile

logger = logging.getLogger(__name__)

_FEED_LINKS = etree.XPath(
    "//*[local-name()='item']/*[local-name()='link']/text()"
    " | //*[local-name()='entry']/*[local-name()='link']/@href"
)


def _parse_day(value: str | None, argument: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise ValueError(f"-a {argument}={value!r}: expected a date as YYYY-MM-DD") from error


class PortalSpider(scrapy.Spider):
    """Crawl one portal described by ``profile``."""

    profile: ClassVar[SiteProfile]

    def __init__(
        self,
        *args,
        base_url: str | None = None,
        since: str | None = None,
        until: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.base_url = (base_url or self.profile.base_url).rstrip("/") + "/"
        self.since = _parse_day(since, "since")
        self.until = _parse_day(until, "until")
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"-a since={self.since} is after -a until={self.until}")
        base_host = urlsplit(self.base_url).hostname or ""
        self.allowed_domains = sorted({*self.profile.domains, base_host})
        self._seen_articles: set[str] = set()
        self._seen_assets: set[str] = set()

    # --- URLs ----------------------------------------------------------------------------------

    def site_url(self, path: str) -> str:
        """A profile path (or absolute URL) as a URL on the crawled origin."""
        return self.rewrite(urljoin(self.base_url, path))

    def rewrite(self, url: str) -> str:
        """Move links to the profile's own domains onto ``base_url`` (mirrors, the replica)."""
        url = urldefrag(url)[0]
        parts = urlsplit(url)
        base = urlsplit(self.base_url)
        host = (parts.hostname or "").lower()
        if host != base.hostname and any(
            host == domain or host.endswith("." + domain) for domain in self.profile.domains
        ):
            return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))
        return url

    def is_article_url(self, url: str) -> bool:
        """True when the URL's path (and query) matches the profile's article pattern."""
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        return bool(self.profile.article_url_regex.search(target))

    def url_month_in_range(self, url: str) -> bool:
        """False only when the URL shows a month entirely outside since..until."""
        regex = self.profile.article_date_regex
        if regex is None or not (self.since or self.until):
            return True
        match = regex.search(urlsplit(url).path)
        if not match:
            return True
        year, month = int(match["year"]), int(match["month"])
        day = match.groupdict().get("day")
        if day:
            first = last = date(year, month, int(day))
        else:
            first = date(year, month, 1)
            last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        return not ((self.since and last < self.since) or (self.until and first > self.until))

    def published_in_range(self, published: str | None) -> bool:
        """True when the parsed publication date is within since..until (or unknown)."""
        if not published or not (self.since or self.until):
            return True
        day = date.fromisoformat(published[:10])
        return not ((self.since and day < self.since) or (self.until and day > self.until))

    # --- Discovery -----------------------------------------------------------------------------

    async def start(self):
        for path in self.profile.sitemap_urls:
            yield scrapy.Request(self.site_url(path), callback=self.parse_sitemap, priority=10)
        for path in self.profile.feed_urls:
            yield scrapy.Request(self.site_url(path), callback=self.parse_feed, priority=10)
        for path in self.profile.listing_urls:
            yield scrapy.Request(
                self.site_url(path), callback=self.parse_listing, cb_kwargs={"page": 1}
            )

    def article_request(self, url: str, source: str) -> scrapy.Request | None:
        """A request for an article URL not yet requested in this crawl, or None."""
        url = self.rewrite(url)
        if not self.is_article_url(url) or url in self._seen_articles:
            return None
        self._seen_articles.add(url)
        if not self.url_month_in_range(url):
            self.crawler.stats.inc_value("articles/skipped/out_of_range")
            return None
        self.crawler.stats.inc_value(f"articles/discovered/{source}")
        return scrapy.Request(url, callback=self.parse_article, priority=5)

    def parse_sitemap(self, response: Response):
        """Follow a sitemap index, or request the articles a urlset lists."""
        try:
            sitemap = Sitemap(response.body)
        except (etree.XMLSyntaxError, StopIteration) as error:
            self.crawler.stats.inc_value("pages/invalid/sitemap")
            logger.error("Unreadable sitemap %s: %s", response.url, error)
            return
        for entry in sitemap:
            loc = entry.get("loc")
            if not loc:
                continue
            if sitemap.type == "sitemapindex":
                if self._sitemap_may_hold_range(entry.get("lastmod")):
                    yield scrapy.Request(
                        self.rewrite(loc), callback=self.parse_sitemap, priority=10
                    )
            elif request := self.article_request(loc, "sitemap"):
                yield request

    def _sitemap_may_hold_range(self, lastmod: str | None) -> bool:
        # A sitemap last changed before `since` holds only older articles.
        if not (self.since and lastmod):
            return True
        try:
            return date.fromisoformat(lastmod[:10]) >= self.since
        except ValueError:
            return True

    def parse_feed(self, response: Response):
        """Request the articles an RSS or Atom feed links to."""
        try:
            tree = etree.fromstring(response.body, etree.XMLParser(resolve_entities=False,
                                                                   recover=True))
        except etree.XMLSyntaxError as error:
            self.crawler.stats.inc_value("pages/invalid/feed")
            logger.error("Unreadable feed %s: %s", response.url, error)
            return
        if tree is None:
            self.crawler.stats.inc_value("pages/invalid/feed")
            logger.error("Unreadable feed %s: empty document", response.url)
            return
        for link in _FEED_LINKS(tree):
            if request := self.article_request(urljoin(response.url, link.strip()), "feed"):
                yield request

    def parse_listing(self, response: Response, page: int = 1):
        """Request a listing's articles and follow its next page."""
        links = []
        for css in self.profile.listing_article_links:
            links = response.css(css).xpath("@href").getall()
            if links:
                break
        in_range = False
        for link in links:
            url = self.rewrite(response.urljoin(link))
            in_range = in_range or (self.is_article_url(url) and self.url_month_in_range(url))
            if request := self.article_request(url, "listing"):
                yield request
        # Listings run newest first: a page whose articles are all before `since` ends paging.
        if links and self.since and not in_range:
            return
        if page >= self.profile.max_listing_pages:
            self.crawler.stats.inc_value("listings/page_limit")
            return
        for css in self.profile.listing_next_page:
            next_url = response.css(css).xpath("@href").get()
            if next_url:
                yield scrapy.Request(
                    self.rewrite(response.urljoin(next_url)),
                    callback=self.parse_listing,
                    cb_kwargs={"page": page + 1},
                )
                break

    # --- Articles -------------------------------------------------------------------------------

    def parse_article(self, response: Response):
        """Parse an article page into an Article item (and request its images)."""
        fetched = datetime.now(timezone.utc).isoformat(timespec="seconds")
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        try:
            record = extract_with_profile(response.body, response.url, self.profile, content_type)
        except Exception as error:  # one broken page must never stop the crawl
            self.crawler.stats.inc_value("articles/dropped/parse_error")
            logger.exception("Could not parse article %s: %s", response.url, error)
            return
        if not self.published_in_range(record.get("published")):
            self.crawler.stats.inc_value("articles/skipped/out_of_range")
            return
        record["fetched"] = fetched
        record["warc"] = response.meta.get("warc")
        yield Article(**record)
        if self.settings.getbool("ARCHIVE_IMAGES"):
            for image in record["images"]:
                src = self.rewrite(image["src"])
                if src not in self._seen_assets:
                    self._seen_assets.add(src)
                    yield scrapy.Request(src, callback=self.parse_asset, priority=-5)

    def parse_asset(self, response: Response):
        """Assets are archived by the WARC middleware; nothing to parse."""
        self.crawler.stats.inc_value("assets/archived")
        return ()
