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

On-site means the crawl's origins (``crawler/origins.py``): in a normal crawl the profile's
domains and their subdomains over http and https on the default ports; in a mirror crawl the
``base_url`` origin (scheme, host, port) only. Every request to another origin is dropped and
counted (``crawler/middlewares/origin.py``). A page's canonical URL is trusted only on-site
(``trust_canonical``); the store refuses one that names a different article.

Incremental crawls (``INCREMENTAL``, default True): the article store says which articles are
already archived. A known article is fetched again only when a sitemap ``lastmod`` is newer than
what the store saw (its last ``lastmod`` and ``Last-Modified``), and then with ``If-None-Match`` /
``If-Modified-Since``: a 304 is counted, not parsed. Known articles found through feeds and
listings are left to the sitemap when the site has one, and revalidated the same conditional way
when it has none. A monthly sitemap whose ``lastmod`` is unchanged since the last complete crawl is
not fetched, and listing paging stops at a page holding only known articles published before the
last complete crawl started. ``-s INCREMENTAL=False`` fetches everything again.

Resume: ``JOBDIR`` defaults to ``<ARCHIVE_DIR>/jobs/<spider name>`` (see
``crawler/extensions/jobstate.py``). After a crash, the articles stored since the interrupted
crawl started are skipped even in a full recrawl, so the same command carries on.

Traps: listing paging ends at ``profile.max_listing_pages`` and at a page that repeats the links
of an earlier page; only URLs matching the profile's patterns are requested at all.

Every request's failure goes to the failure report (``crawler/extensions/failures.py``).

Images: completeness is per page and its assets. An article's images are recorded as owed in the
article store before the article is stored, and as archived once their response is (see
``spiders/assets.py``); every crawl starts by requesting the owed images of the site's stored
articles, so a crash, an incremental skip or a failed fetch loses none. An image archived once is
not fetched again; a failed one is retried with a backoff, then given up.

Settings: ``ARCHIVE_IMAGES`` - also fetch each article's images (so the WARC replays the page);
``ARCHIVE_IMAGES_MAX_ATTEMPTS``; ``INCREMENTAL``; ``JOBDIR``.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

import scrapy
from lxml import etree
from scrapy import signals
from scrapy.http import Response
from scrapy.utils.sitemap import Sitemap

from crawler.extensions.failures import failure_reason, url_failed
from crawler.items import Article
from crawler.middlewares.warc_capture import WARC_METADATA
from crawler.origins import SiteOrigins, rewrite_onto, trust_canonical
from crawler.parsing.article import extract_with_profile
from crawler.parsing.profile import SiteProfile
from spiders.assets import AssetLedger
from spiders.history import CrawlHistory

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
        # Host names, for Scrapy components that read them; what is requested is held to the
        # stricter `origins` (scheme, host and port) by crawler/middlewares/origin.py.
        self.allowed_domains = sorted({*self.profile.domains, base_host})
        self.origins = SiteOrigins.for_crawl(self.base_url, self.profile.domains)
        self._seen_articles: set[str] = set()
        self._seen_assets: set[str] = set()
        self._listing_pages_seen: set[frozenset[str]] = set()
        # Read from the article store when the crawl starts.
        self.history = CrawlHistory()
        self._known_skipped: set[str] = set()
        # Opened when the crawl starts; until then nothing is tracked.
        self.assets = AssetLedger()

    @classmethod
    def update_settings(cls, settings) -> None:
        """Give every portal crawl a job directory of its own under ARCHIVE_DIR by default."""
        super().update_settings(settings)
        if settings.get("JOBDIR") is None:
            jobdir = Path(settings["ARCHIVE_DIR"]) / "jobs" / cls.name
            settings.set("JOBDIR", str(jobdir), priority="spider")

    # --- URLs ----------------------------------------------------------------------------------

    def site_url(self, path: str) -> str:
        """A profile path (or absolute URL) as a URL on the crawled origin."""
        return self.rewrite(urljoin(self.base_url, path))

    def rewrite(self, url: str) -> str:
        """Move links to the profile's own domains onto ``base_url`` (mirrors, the replica).

        Links elsewhere stay as they are; the origin guard drops those off-site, including
        another port or scheme of ``base_url``'s own host.
        """
        return rewrite_onto(url, self.base_url, self.profile.domains)

    def trust_canonical(self, record: dict) -> None:
        """Keep a page's canonical URL only when it is on the crawled site; record why not.

        The canonical URL is a link like any other: moved onto a mirror by `rewrite`. One on
        another origin gives way to the fetched URL, and ``canonical_rejected`` (``offsite``)
        and ``canonical_claimed`` (the URL the page named) say so. Whether an on-site canonical
        names a different article is the store's to tell (``storage/articles.py``).
        """
        if trust_canonical(record, self.base_url, self.profile.domains, self.origins):
            self.crawler.stats.inc_value("articles/canonical_rejected/offsite")
            logger.warning("%s names %s, on another origin, as its canonical URL; stored under "
                           "its own URL", record["url"], record["canonical_claimed"])

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
        self.load_history()
        self.open_assets()
        for path in self.profile.sitemap_urls:
            yield scrapy.Request(
                self.site_url(path), callback=self.parse_sitemap, errback=self.request_failed,
                priority=10,
            )
        for path in self.profile.feed_urls:
            yield scrapy.Request(
                self.site_url(path), callback=self.parse_feed, errback=self.request_failed,
                priority=10,
            )
        for path in self.profile.listing_urls:
            yield scrapy.Request(
                self.site_url(path), callback=self.parse_listing, errback=self.request_failed,
                cb_kwargs={"page": 1},
            )
        async for request in self.owed_asset_requests():
            yield request

    def load_history(self) -> None:
        """Read what earlier crawls left in the article store (`spiders/history.py`)."""
        self.history = CrawlHistory.load(self.settings, self.profile.site_id, self.name)

    def closed(self, reason: str) -> None:
        """Let go of the article store the crawl history reads from."""
        self.history.close()

    # --- Requests ---------------------------------------------------------------------------------

    def article_request(
        self, url: str, source: str, lastmod: str | None = None
    ) -> scrapy.Request | None:
        """A request for an article URL not yet requested in this crawl, or None.

        A known article (see the module docstring) is requested only when the portal says it
        changed, and then conditionally.
        """
        url = self.rewrite(url)
        if not self.is_article_url(url) or url in self._seen_articles:
            return None
        history = self.history
        known = url in history.known
        if known and not (history.incremental and self.known_article_changed(url, lastmod)):
            if url not in self._known_skipped:
                self._known_skipped.add(url)
                self.crawler.stats.inc_value("articles/skipped/known")
            return None
        self._seen_articles.add(url)
        if not self.url_month_in_range(url):
            self.crawler.stats.inc_value("articles/skipped/out_of_range")
            return None
        self.crawler.stats.inc_value(f"articles/discovered/{source}")
        meta: dict = {"fetch_state": {"lastmod": lastmod}}
        headers = {}
        if known:
            self.crawler.stats.inc_value("articles/revalidated")
            headers = history.conditional_headers(url)
            meta["handle_httpstatus_list"] = [304]
            # A 304 is archived as a revisit of this capture (crawler/middlewares/warc_capture.py).
            meta["warc_confirms"] = history.archived_capture(url)
        return scrapy.Request(
            url, callback=self.parse_article, errback=self.request_failed, priority=5,
            headers=headers, meta=meta,
        )

    def known_article_changed(self, url: str, lastmod: str | None) -> bool:
        """Whether an article already stored may have changed (a hook: see the module docstring)."""
        return self.history.changed_since_fetch(
            url, lastmod, has_sitemaps=bool(self.profile.sitemap_urls))

    def request_failed(self, failure) -> None:
        """Count and report a request that yielded nothing (after any retries)."""
        request = failure.request
        reason = failure_reason(failure)
        attempts = request.meta.get("retry_times", 0) + 1
        # Report the URL the spider asked for, not the last hop of a redirect chain.
        url = (request.meta.get("redirect_urls") or [request.url])[0]
        self.crawler.stats.inc_value(f"pages/failed/{reason}")
        logger.warning("Gave up on %s after %s attempt(s): %s (%s)", url, attempts, reason,
                       failure.getErrorMessage())
        self.report_failure(url, reason, attempts, failure.getErrorMessage())

    def report_failure(self, url: str, reason: str, attempts: int = 1, detail: str = "") -> None:
        """Put a URL in the failure report (``crawler/extensions/failures.py``)."""
        self.crawler.signals.send_catch_log(
            signal=url_failed, url=url, reason=reason, attempts=attempts, detail=detail
        )

    def parse_sitemap(self, response: Response):
        """Follow a sitemap index, or request the articles a urlset lists."""
        if b"<!ENTITY" in response.body[:65536]:
            # Sitemaps never need entity declarations; they are how "billion laughs" bombs work.
            self.crawler.stats.inc_value("pages/invalid/sitemap")
            logger.error("Refused sitemap %s: it declares XML entities", response.url)
            self.report_failure(response.url, "xml_entities", detail="<!ENTITY in the DTD")
            return
        try:
            sitemap = Sitemap(response.body)
        except (etree.XMLSyntaxError, StopIteration) as error:
            self.crawler.stats.inc_value("pages/invalid/sitemap")
            logger.error("Unreadable sitemap %s: %s", response.url, error)
            self.report_failure(response.url, "invalid_sitemap", detail=str(error))
            return
        for entry in sitemap:
            loc = entry.get("loc")
            if not loc:
                continue
            lastmod = entry.get("lastmod")
            if sitemap.type == "sitemapindex":
                loc = self.rewrite(loc)
                if not self._sitemap_may_hold_range(lastmod):
                    continue
                if self.history.sitemap_unchanged(loc, lastmod):
                    self.crawler.stats.inc_value("sitemaps/skipped/unchanged")
                    continue
                yield scrapy.Request(
                    loc, callback=self.parse_sitemap, errback=self.request_failed, priority=10,
                    meta={"fetch_state": {"lastmod": lastmod}},
                )
            elif request := self.article_request(loc, "sitemap", lastmod):
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
            self.report_failure(response.url, "invalid_feed", detail=str(error))
            return
        if tree is None:
            self.crawler.stats.inc_value("pages/invalid/feed")
            logger.error("Unreadable feed %s: empty document", response.url)
            self.report_failure(response.url, "invalid_feed", detail="empty document")
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
        urls = [self.rewrite(response.urljoin(link)) for link in links]
        articles = [url for url in urls if self.is_article_url(url)]
        signature = frozenset(articles)
        if articles and signature in self._listing_pages_seen:
            # An endless calendar or paging trap serves the same links again and again.
            self.crawler.stats.inc_value("listings/stopped/repeated")
            logger.warning("Listing %s repeats an earlier page; paging stops", response.url)
            return
        self._listing_pages_seen.add(signature)
        self.archive_metadata(response, {"outlink": urls, "parse-result": f"listing page {page}"})
        in_range = False
        for url in urls:
            in_range = in_range or (self.is_article_url(url) and self.url_month_in_range(url))
            if request := self.article_request(url, "listing"):
                yield request
        # Listings run newest first: a page whose articles are all before `since` ends paging.
        if links and self.since and not in_range:
            return
        # …and a page of articles all stored before the last complete crawl ends it too.
        history = self.history
        if articles and history.incremental and all(history.known_and_old(u) for u in articles):
            self.crawler.stats.inc_value("listings/stopped/known")
            return
        if page >= self.profile.max_listing_pages:
            self.crawler.stats.inc_value("listings/page_limit")
            logger.warning("Listing %s: page limit %s reached", response.url,
                           self.profile.max_listing_pages)
            return
        if next_url := self.next_listing_url(response, page):
            yield scrapy.Request(
                self.rewrite(response.urljoin(next_url)),
                callback=self.parse_listing,
                errback=self.request_failed,
                cb_kwargs={"page": page + 1},
                meta={"listing_zone": self.listing_zone(response)},
            )

    def next_listing_url(self, response: Response, page: int) -> str | None:
        """The listing's next page: its "next" link, else the profile's page template."""
        for css in self.profile.listing_next_page:
            if next_url := response.css(css).xpath("@href").get():
                return next_url
        template = self.profile.listing_page_template
        if template is None:
            return None
        zone = self.listing_zone(response)
        if "{zone}" in template and not zone:
            return None
        return template.format(page=page + 1, zone=zone)

    def listing_zone(self, response: Response) -> str | None:
        """The zone id of a script-paged listing: on its first page, carried to the next ones."""
        for css in self.profile.listing_zone:
            element = response.css(css)
            zone = (element.xpath("@value").get() or element.xpath("string()").get() or "").strip()
            if zone:
                return zone
        # Page 2 on (/timelinelist/<zone>/2.htm) is a bare fragment without the hidden input.
        return response.meta.get("listing_zone")

    # --- Articles -------------------------------------------------------------------------------

    def parse_article(self, response: Response):
        """Parse an article page into an Article item (and request its images)."""
        if response.status == 304:
            # The portal confirms our stored copy; nothing to parse or store.
            self.crawler.stats.inc_value("articles/not_modified")
            return
        fetched = datetime.now(timezone.utc).isoformat(timespec="seconds")
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        try:
            record = self.extract_record(response.body, response.url, content_type)
        except Exception as error:  # one broken page must never stop the crawl
            self.crawler.stats.inc_value("articles/dropped/parse_error")
            logger.exception("Could not parse article %s: %s", response.url, error)
            self.report_failure(response.url, "parse_error", detail=repr(error))
            return
        self.trust_canonical(record)
        if record.get("fallback"):
            # The profile's selectors missed: a layout change a maintainer should see.
            self.crawler.stats.inc_value(f"articles/fallback/{self.profile.site_id}")
            logger.warning("Profile %s missed %s on %s; generic extraction used",
                           self.profile.site_id, ", ".join(record["fallback"]), response.url)
        if not self.published_in_range(record.get("published")):
            self.crawler.stats.inc_value("articles/skipped/out_of_range")
            return
        record["fetched"] = fetched
        record["warc"] = response.meta.get("warc")
        # Owed before the article is stored: a crash in between costs a refetch, never an image.
        images = self.assets.expect(record["canonical_url"] or response.url,
                                    [image["src"] for image in record["images"]])
        yield Article(**record)
        self.archive_metadata(response, {
            "outlink": [response.urljoin(u) for u in response.css("a::attr(href)").getall()]
            + [image["src"] for image in record["images"]],
            "article-id": record["canonical_url"],
            "parse-result": f"article {record['content_hash']}",
        })
        if self.settings.getbool("ARCHIVE_IMAGES"):
            if skipped := len(record["images"]) - len(images):
                # Archived already, given up, or failed and waiting for its retry.
                self.crawler.stats.inc_value("assets/skipped", skipped)
            for src in images:
                if request := self.asset_request(src):
                    yield request

    def extract_record(self, body: bytes, url: str, content_type: str | None) -> dict:
        """The Article fields of one page (a hook: the portal spider reads with what it learned)."""
        return extract_with_profile(body, url, self.profile, content_type)

    def archive_metadata(self, response: Response, fields: dict) -> None:
        """Ask the WARC writer for a ``metadata`` record about this response (outlinks, …)."""
        pointer = response.meta.get("warc") or {}
        if pointer.get("record_type") == "revisit":
            # Same payload as the original capture, so the same outlinks: an unchanged portal's
            # recrawl stays kilobytes.
            return
        self.crawler.signals.send_catch_log(WARC_METADATA, response=response, fields=fields)

    # --- Assets ---------------------------------------------------------------------------------

    def open_assets(self) -> None:
        """Open the asset ledger (``spiders/assets.py``) and close it with the spider."""
        self.assets = AssetLedger.open(self.settings, self.profile.site_id)
        self.crawler.signals.connect(self.assets.close, signal=signals.spider_closed)

    async def owed_asset_requests(self):
        """Requests for the owed images of stored articles, read from the store page by page.

        Yielded only while the downloader has room (Scrapy's lazy start pattern), so a large debt
        (an archive upgraded from before images were tracked) never sits in memory at once.
        """
        if not self.settings.getbool("ARCHIVE_IMAGES"):
            return
        owed = 0
        for url in self.assets.owed():
            if self.crawler.engine.needs_backout():
                await self.crawler.signals.wait_for(signals.scheduler_empty)
            if request := self.asset_request(url):
                owed += 1
                self.crawler.stats.inc_value("assets/owed")
                yield request
        if owed:
            logger.info("Requested %s images of stored articles that earlier crawls did not "
                        "archive", owed)

    def asset_request(self, url: str) -> scrapy.Request | None:
        """A request for an asset (an article's image URL) not yet requested in this crawl."""
        src = self.rewrite(url)
        if src in self._seen_assets:
            return None
        self._seen_assets.add(src)
        return scrapy.Request(
            src, callback=self.parse_asset, errback=self.asset_failed, priority=-5,
            cb_kwargs={"asset": url},
        )

    def parse_asset(self, response: Response, asset: str | None = None):
        """Record the archived asset (the WARC middleware archived it); nothing to parse."""
        pointer = response.meta.get("warc")
        if self.assets.active and not pointer:
            # The WARC write failed (logged by the middleware): still owed, tried next crawl.
            self.crawler.stats.inc_value("assets/not_archived")
            self.report_failure(response.url, "not_archived", detail="the WARC write failed")
            return ()
        self.assets.archived(asset or response.url, pointer)
        self.crawler.stats.inc_value("assets/archived")
        return ()

    def asset_failed(self, failure) -> None:
        """Report a failed asset, and record the attempt so it is retried with a backoff."""
        request = failure.request
        reason = failure_reason(failure)
        outcome = self.assets.failed(request.cb_kwargs.get("asset") or request.url, reason)
        self.crawler.stats.inc_value("assets/failed")
        if outcome.endswith("given up"):
            self.crawler.stats.inc_value("assets/given_up")
        url = (request.meta.get("redirect_urls") or [request.url])[0]
        # Reported here first, with the retry rule's outcome; request_failed's line is then the
        # same URL again, which the failure report keeps once.
        self.report_failure(url, reason, request.meta.get("retry_times", 0) + 1,
                            "; ".join(filter(None, (failure.getErrorMessage(), outcome))))
        self.request_failed(failure)
