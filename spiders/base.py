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

Traps: listing paging ends at ``profile.max_listing_pages``, at a page that repeats the links of
an earlier page, and at a "next page" outside the profile's ``listing_url_pattern`` (a search, a
tag cloud, a calendar: counted as ``listings/stopped/off_pattern``). Articles are requested only
when their URL matches the article pattern; the listing pattern holds the pages paging follows
(the profile's own ``listing_urls`` are its starting points, requested as written).

Every request's failure goes to the failure report (``crawler/extensions/failures.py``). Requests
of discovery (sitemaps, feeds, listing pages: `is_discovery_request`) that fail are counted as
``discovery/failed/<reason>``: a crawl with any is not complete (``crawler/extensions/summary.py``).
Articles that earlier crawls failed to store are requested again when due (``failed_articles`` in
the store, ``crawler/extensions/retries.py``).

Images: completeness is per page and its assets. An article's images are recorded as owed in the
article store before the article is stored, and as archived once their response is (see
``spiders/assets.py``); every crawl starts by requesting the owed images of the site's stored
articles, so a crash, an incremental skip or a failed fetch loses none. An image archived once is
not fetched again; a failed one is retried with a backoff, then given up.

Settings, read once when the spider is built (`PortalSpider.from_crawler`): ``ARCHIVE_IMAGES`` -
also fetch each article's images (so the WARC replays the page); ``ARCHIVE_IMAGES_MAX_ATTEMPTS``;
``INCREMENTAL``; ``FAILED_ARTICLES_RETRY``; ``JOBDIR``; ``DOWNLOAD_MAXSIZE`` (gzip sitemaps);
the archive's paths (``crawler/paths.py``); ``ARTICLES_STORE_ENABLED`` and ``WARC_ENABLED`` (image
tracking, ``spiders/assets.py``).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

import scrapy
from lxml import etree
from scrapy import signals
from scrapy.http import Response, TextResponse
from scrapy.utils.gz import gzip_magic_number
from scrapy.utils.response import get_base_url

from crawler.cli import InputError
from crawler.extensions.failures import failure_reason, url_failed
from crawler.extensions.jobstate import interrupted_since
from crawler.fingerprints import FingerprintSet, UrlSet
from crawler.items import Article
from crawler.middlewares.warc_capture import WARC_METADATA
from crawler.origins import SiteOrigins, rewrite_onto, trust_canonical
from crawler.parsing.article import extract_with_profile
from crawler.parsing.profile import SiteProfile
from crawler.parsing.sitemaps import XmlEntitiesError, XmlError, parse_xml, sitemap_entries
from crawler.paths import ArchivePaths, default_jobdir
from spiders.assets import DEFAULT_MAX_ATTEMPTS, AssetLedger, LedgerSource
from spiders.history import CrawlHistory, HistorySource
from storage.payload import PayloadError, PayloadTooLarge, decode_content

logger = logging.getLogger(__name__)

# Failure reasons that mean a sitemap or feed answered but could not be read.
UNREADABLE_DISCOVERY = frozenset({"xml_entities", "invalid_sitemap", "invalid_feed"})

_FEED_LINKS = etree.XPath(
    "//*[local-name()='item']/*[local-name()='link']/text()"
    " | //*[local-name()='entry']/*[local-name()='link']/@href"
)


def resolve_links(base: str, links: list[str]) -> list[str]:
    """``urljoin(base, link)`` of each link; the same menus on every page are joined once.

    A link from the root (``/…``) or absolute (``http(s)://…``) joins the same way against any
    base of the same scheme and host, so its result is cached under those; others (``../x``,
    ``?page=2``, ``//host/x``) are joined against the page's own base.
    """
    scheme, found, rest = base.partition("://")
    if not found:
        return [urljoin(base, link) for link in links]
    origin = f"{scheme}://{rest.split('/', 1)[0].split('?', 1)[0].split('#', 1)[0]}/"
    return [
        _join_cached(origin, link)
        if (link[:1] == "/" and link[1:2] != "/") or link.startswith(("http://", "https://"))
        else urljoin(base, link)
        for link in links
    ]


@lru_cache(maxsize=4096)
def _join_cached(origin: str, link: str) -> str:
    return urljoin(origin, link)


def _parse_day(value: str | None, argument: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise InputError(f"-a {argument}={value!r}: expected a date as YYYY-MM-DD") from error


def _parse_base_url(value: str) -> str:
    """``-a base_url`` checked: an http(s) URL with a host, ending in ``/``."""
    try:
        parts = urlsplit(value)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        valid = False
    if not valid:
        raise InputError(f"-a base_url={value!r}: expected an http(s) URL with a host, "
                         "e.g. http://127.0.0.1:8765/")
    return value.rstrip("/") + "/"


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
        self.base_url = _parse_base_url(base_url or self.profile.base_url)
        self.since = _parse_day(since, "since")
        self.until = _parse_day(until, "until")
        if self.since and self.until and self.since > self.until:
            raise InputError(f"-a since={self.since} is after -a until={self.until}")
        base_host = urlsplit(self.base_url).hostname or ""
        # Host names, for Scrapy components that read them; what is requested is held to the
        # stricter `origins` (scheme, host and port) by crawler/middlewares/origin.py.
        self.allowed_domains = sorted({*self.profile.domains, base_host})
        self.origins = SiteOrigins.for_crawl(self.base_url, self.profile.domains)
        # Compact sets (crawler/fingerprints.py): a long crawl's memory does not grow with them.
        self._seen_articles = UrlSet()
        self._seen_assets = UrlSet()
        # Fingerprints of the listing pages' sets of article links.
        self._listing_pages_seen = FingerprintSet()
        # Read from the article store when the crawl starts.
        self.history = CrawlHistory()
        self._known_skipped = UrlSet()
        # Opened when the crawl starts; until then nothing is tracked.
        self.assets = AssetLedger()

    @classmethod
    def update_settings(cls, settings) -> None:
        """Give every portal crawl a job directory of its own under ARCHIVE_DIR by default."""
        super().update_settings(settings)
        if settings.get("JOBDIR") is None:
            settings.set("JOBDIR", str(default_jobdir(settings, cls.name)), priority="spider")

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        """Build the spider and read every setting it uses, once (see the module docstring).

        The job directory's marker is read here, as the last crawl left it: the job-state
        extension rewrites it only when the spider opens, after every component is built
        (``crawler/extensions/jobstate.py``).
        """
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        paths = ArchivePaths.from_settings(settings)
        spider.archive_images = settings.getbool("ARCHIVE_IMAGES")
        # Not `download_maxsize`: Scrapy reads a spider attribute of that name as its own setting.
        spider.payload_max_size = settings.getint("DOWNLOAD_MAXSIZE")
        spider.history_source = HistorySource(
            paths.articles_db,
            incremental=settings.getbool("INCREMENTAL", True),
            retry_failures=settings.getbool("FAILED_ARTICLES_RETRY", True),
            interrupted_since=interrupted_since(paths.jobdir) if paths.jobdir else None,
        )
        # Images are tracked in the store, and only when their responses are archived.
        tracked = (settings.getbool("ARTICLES_STORE_ENABLED", True)
                   and settings.getbool("WARC_ENABLED", True))
        spider.ledger_source = LedgerSource(
            paths.articles_db if tracked else None, paths.digest_db,
            settings.getint("ARCHIVE_IMAGES_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS),
        )
        return spider

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
        return self.profile.is_article_url(url)

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
        for url in self.history.due_failures(self.name):
            if request := self.retry_request(url):
                yield request

    def load_history(self) -> None:
        """Read what earlier crawls left in the article store (`spiders/history.py`)."""
        self.history = CrawlHistory.load(self.history_source, self.profile.site_id, self.name)

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
        known = history.is_known(url)
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

    def retry_request(self, url: str) -> scrapy.Request | None:
        """A request for an article an earlier crawl failed to store, or None.

        A stored article (its refresh failed) is asked for conditionally, as a revalidation is.
        """
        url = self.rewrite(url)
        if url in self._seen_articles or not self.url_month_in_range(url):
            return None
        self._seen_articles.add(url)
        self.crawler.stats.inc_value("failed_articles/retried")
        meta: dict = {"fetch_state": {"lastmod": None}}
        headers = {}
        if self.history.is_known(url):
            headers = self.history.conditional_headers(url)
            meta["handle_httpstatus_list"] = [304]
            meta["warc_confirms"] = self.history.archived_capture(url)
        return scrapy.Request(
            url, callback=self.parse_article, errback=self.request_failed, priority=5,
            headers=headers, meta=meta,
        )

    def is_discovery_request(self, request: scrapy.Request) -> bool:
        """Whether a request is part of discovery: a complete crawl needs its answer.

        Sitemaps (the index and the sitemaps it lists), feeds and the first page of each listing;
        on a site without sitemaps, the listings are the only full discovery, so every page.
        """
        if request.callback in (self.parse_sitemap, self.parse_feed):
            return True
        if request.callback == self.parse_listing:
            return request.cb_kwargs.get("page", 1) == 1 or not self.profile.sitemap_urls
        return False

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
        self.report_failure(url, reason, attempts, failure.getErrorMessage(),
                            discovery=self.is_discovery_request(request))

    def report_failure(
        self, url: str, reason: str, attempts: int = 1, detail: str = "",
        discovery: bool | None = None,
    ) -> None:
        """Put a URL in the failure report (``crawler/extensions/failures.py``).

        ``discovery``: the URL was a discovery request (see `is_discovery_request`); by default,
        when the reason says a sitemap or feed could not be read.
        """
        if discovery is None:
            discovery = reason in UNREADABLE_DISCOVERY
        if discovery:
            self.crawler.stats.inc_value(f"discovery/failed/{reason}")
        self.crawler.signals.send_catch_log(
            signal=url_failed, url=url, reason=reason, attempts=attempts, detail=detail,
            discovery=discovery,
        )

    def parse_sitemap(self, response: Response):
        """Follow a sitemap index, or request the articles a urlset lists.

        A gzip file (``sitemap.xml.gz`` served without Content-Encoding) is inflated up to
        ``DOWNLOAD_MAXSIZE``; the XML is parsed with no entity, DTD or network access
        (`crawler.parsing.sitemaps`), and one declaring entities is refused.
        """
        try:
            root = parse_xml(self._sitemap_body(response))
        except PayloadTooLarge as error:
            self._refuse_xml(response, "sitemap", "too_large", error)
            return
        except XmlEntitiesError as error:
            self._refuse_xml(response, "sitemap", "xml_entities", error)
            return
        except (XmlError, PayloadError) as error:
            self._refuse_xml(response, "sitemap", "invalid_sitemap", error)
            return
        sitemap_type, entries = sitemap_entries(root)
        if sitemap_type not in ("urlset", "sitemapindex"):
            # An error page served as 200 (HTML, a feed): no article can come of it.
            self._refuse_xml(response, "sitemap", "invalid_sitemap",
                             ValueError(f"a <{sitemap_type}> document, not a sitemap"))
            return
        # Read out before the first request is yielded: the parsed tree (~1.3 KB a URL) would
        # otherwise live until the scheduler took the last one, for every sitemap in flight.
        urls = [(entry["loc"], entry.get("lastmod")) for entry in entries]
        del root, entries
        for loc, lastmod in urls:
            if sitemap_type == "sitemapindex":
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

    def _sitemap_body(self, response: Response) -> bytes:
        """The sitemap's XML: a gzip file (magic number, whatever the type) is inflated."""
        if not gzip_magic_number(response):
            return response.body
        # As Scrapy's SitemapSpider: the crawl's cap, or the request's own.
        max_size = response.meta.get("download_maxsize", self.payload_max_size)
        return decode_content(response.body, ["gzip"], max_size)

    def _refuse_xml(self, response: Response, kind: str, reason: str, error: Exception) -> None:
        """Count, log and report a sitemap or feed that is not read."""
        self.crawler.stats.inc_value(f"pages/invalid/{kind}")
        logger.error("%s %s not read (%s): %s", kind.capitalize(), response.url, reason, error)
        # Discovery failed: what this document lists is unknown, so the crawl is not complete.
        self.report_failure(response.url, reason, detail=str(error), discovery=True)

    def _sitemap_may_hold_range(self, lastmod: str | None) -> bool:
        # A sitemap last changed before `since` holds only older articles.
        if not (self.since and lastmod):
            return True
        try:
            return date.fromisoformat(lastmod[:10]) >= self.since
        except ValueError:
            return True

    def parse_feed(self, response: Response):
        """Request the articles an RSS or Atom feed links to (parsed as `parse_sitemap` does)."""
        try:
            tree = parse_xml(response.body)
        except XmlEntitiesError as error:
            self._refuse_xml(response, "feed", "xml_entities", error)
            return
        except XmlError as error:
            self._refuse_xml(response, "feed", "invalid_feed", error)
            return
        for link in _FEED_LINKS(tree):
            if request := self.article_request(urljoin(response.url, link.strip()), "feed"):
                yield request

    def parse_listing(self, response: Response, page: int = 1):
        """Request a listing's articles and follow its next page."""
        try:
            yield from self._listing_requests(response, page)
        finally:
            # The page and the selector it caches point at each other: a cycle that only
            # Python's occasional full collection frees, with the page's lxml tree (~0.5 MB),
            # so dozens of read listing pages waited for it (docs/scale.md).
            if isinstance(response, TextResponse):
                response._cached_selector = None

    def _listing_requests(self, response: Response, page: int):
        links = []
        for css in self.profile.listing_article_links:
            links = response.css(css).xpath("@href").getall()
            if links:
                break
        urls = [self.rewrite(response.urljoin(link)) for link in links]
        articles = [url for url in urls if self.is_article_url(url)]
        signature = hash(frozenset(articles))
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
            next_url = self.rewrite(response.urljoin(next_url))
            if not self.profile.is_listing_url(next_url):
                self.crawler.stats.inc_value("listings/stopped/off_pattern")
                logger.warning("Listing %s: next page %s is outside the profile's listing "
                               "pattern; paging stops", response.url, next_url)
                return
            yield scrapy.Request(
                next_url,
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
        # From the extractor's tree; a hook that does not list them costs a second parse.
        outlinks = record.pop("outlinks", None)
        if outlinks is None:
            outlinks = response.css("a::attr(href)").getall()
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
        # Resolved once: Response.urljoin looks the page's <base> up again for every link.
        base = get_base_url(response) if isinstance(response, TextResponse) else response.url
        self.archive_metadata(response, {
            "outlink": resolve_links(base, outlinks)
            + [image["src"] for image in record["images"]],
            "article-id": record["canonical_url"],
            "parse-result": f"article {record['content_hash']}",
        })
        if self.archive_images:
            if skipped := len(record["images"]) - len(images):
                # Archived already, given up, or failed and waiting for its retry.
                self.crawler.stats.inc_value("assets/skipped", skipped)
            for src in images:
                if request := self.asset_request(src):
                    yield request

    def extract_record(self, body: bytes, url: str, content_type: str | None) -> dict:
        """The Article fields of one page (a hook: the portal spider reads with what it learned).

        With ``outlinks``, the page's links, read from the extractor's tree: a hook that leaves
        them out costs `parse_article` a second parse of the page.
        """
        return extract_with_profile(body, url, self.profile, content_type, outlinks=True)

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
        self.assets = AssetLedger.open(self.ledger_source, self.profile.site_id)
        self.crawler.signals.connect(self.assets.close, signal=signals.spider_closed)

    async def owed_asset_requests(self):
        """Requests for the owed images of stored articles, read from the store page by page.

        Yielded only while the downloader has room (Scrapy's lazy start pattern), so a large debt
        (an archive upgraded from before images were tracked) never sits in memory at once.
        """
        if not self.archive_images:
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
