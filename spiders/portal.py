"""The any-portal spider: ``scrapy crawl portal -a url=https://example-portal.vn/``.

Archives a news site nobody wrote a profile for, exactly as a profiled site is archived (the
shared `PortalSpider`: WARC capture, revisits, article store, images, failure report, summary,
incremental and resumable crawls, ``-a since/until``, ``-a base_url``). What a profile would say,
this spider learns while it crawls:

* **Discovery** (``spiders/discovery.py``): robots.txt and its ``Sitemap:`` lines (sitemap
  indexes and ``.xml.gz`` sitemaps, read by the shared ``parse_sitemap``), ``/sitemap.xml`` when
  robots.txt names none; the feeds a page names (``<link rel=alternate>``), ``/rss`` and
  ``/feed/`` when the home page names none; the home page, its menus and every listing, followed
  through next links, numbered pages (``?page=``, ``/page/N/``, ``/trang-N``) and "Xem thêm"
  endpoints; the links of article pages ("Các tin khác", related boxes).
* **Classification** (``spiders/classify.py``): every fetched page is judged by its own signals
  (JSON-LD/OpenGraph article types, a dated page whose paragraphs make one text, headline links
  of a listing); only an ``article`` is stored. The verdicts vote for the page's URL shape, and a
  shape decided as listing or other is not fetched as an article candidate again.
* **Extraction** (``spiders/learn.py``): the first article pages are read by the generic path
  and held back; the selectors they agree on become a learned profile, used when it reads those
  pages better than the generic path (fewer lines repeated across pages, no text lost). Then the
  held pages and all later ones are stored.
* **Traps**: calendars, search pages and search × tag facets, listings that repeat an earlier
  page or go past ``PORTAL_MAX_LISTING_PAGES``; session ids and reply/share switches are taken
  out of links. Every trap URL is listed in failures.jsonl (reason ``trap_<kind>``) and counted.

Arguments: ``url`` (the start page), or ``site`` (an id of ``spiders/catalogue.json``, whose home
URL, feeds and sitemaps are used); ``site_id`` (the records' ``site``; default the host, or the
catalogue id); ``base_url``, ``since``, ``until`` as for every portal spider. On-site is the start
URL's host and its subdomains over http/https (only the exact origin when the URL names a port or
an IP address, or when ``base_url`` names a mirror).

What it learned is kept in ``<ARCHIVE_DIR>/portal/<site_id>.json`` (URL shapes and their
verdicts, sitemaps, feeds, listings, pages that are not articles, the selectors): the next crawl
starts from it and is incremental (it revisits the home page, the listings it found through menus,
feeds and sitemaps, not every tag page), and ``scrapy addsite SITE_ID --from-crawl ARCHIVE_DIR``
turns it into a draft site profile. Job state: ``<ARCHIVE_DIR>/jobs/portal-<site_id>``; WARC
files are named ``portal-<site_id>-…``.

The crawl summary adds ``pages_classified`` (article/listing/other), ``articles_by_route``
(sitemap, feed, home, listing, article-link, pagination) and ``trap_stops``.

Settings: ``PORTAL_SAMPLE_PAGES`` (article pages read before the selectors are decided, default
6); ``PORTAL_MAX_LISTING_PAGES`` (pages followed in one listing, default 500); and those of
`PortalSpider`.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import scrapy
from protego import Protego
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.settings import SETTINGS_PRIORITIES
from selectolax.lexbor import LexborHTMLParser

from crawler.extensions.jobstate import interrupted_since
from crawler.origins import origin_of
from crawler.parsing.article import extract_with_profile
from crawler.parsing.document import decode_html
from crawler.parsing.profile import SiteProfile
from spiders.base import PortalSpider
from spiders.catalogue import catalogue_entry
from spiders.classify import ShapeModel, Verdict, classify_page, clean_url, looks_like_article_url
from spiders.discovery import (
    COMMON_FEED_PATHS,
    COMMON_SITEMAP_PATHS,
    NOT_PAGES,
    feed_links,
    next_pages,
    page_links,
    page_number,
    robots_sitemaps,
    trap_reason,
)
from spiders.learn import (
    LearnedSelectors,
    agree,
    better_than_generic,
    next_link_selector,
    page_selectors,
)

logger = logging.getLogger(__name__)

VIETNAM_TIMEZONE = "Asia/Ho_Chi_Minh"
SITE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
# URLs of pages found not to be articles (listings, static pages, polls), kept for the next
# crawl; beyond this many, their shapes' votes decide.
MAX_NOT_ARTICLES = 20000
STATE_VERSION = 1


def _learned_state_path(archive_dir: str | Path, site_id: str) -> Path:
    return Path(archive_dir) / "portal" / f"{site_id}.json"


def load_learned_state(archive_dir: str | Path, site_id: str) -> dict:
    """What earlier portal crawls of ``site_id`` learned (empty when none ran)."""
    path = _learned_state_path(archive_dir, site_id)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        logger.warning("Ignoring %s, unreadable (%s): learning the site again", path, error)
        return {}


def site_timezone(given: str | None, catalogued: bool, host: str) -> str | None:
    """The zone of a time printed without an offset on this portal, or None (never guessed).

    ``-a timezone=`` when given; Vietnam's for a catalogued provincial paper or a ``.vn`` host
    (the record's own URL may be a mirror's); otherwise none: such a time keeps no offset
    (``published_zone_source: none``, docs/researcher.md).
    """
    if given:
        try:
            ZoneInfo(given)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"-a timezone={given!r}: not a time zone name such as "
                             "Asia/Ho_Chi_Minh") from error
        return given
    if catalogued or host.endswith(".vn"):
        return VIETNAM_TIMEZONE
    return None


def _exact_origin_only(url: str) -> bool:
    """A URL naming a port or an IP address: only that exact origin is on-site."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None or host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class AnyPortalSpider(PortalSpider):
    """Crawl a portal without a profile, learning its URLs and selectors (module docstring)."""

    name = "portal"

    def __init__(
        self,
        *args,
        url: str | None = None,
        site: str | None = None,
        site_id: str | None = None,
        base_url: str | None = None,
        timezone: str | None = None,
        **kwargs,
    ) -> None:
        entry = catalogue_entry(site) if site else {}
        start = url or entry.get("home")
        if not start:
            raise ValueError("give -a url=<the portal's home page> or -a site=<a catalogue id>")
        if origin_of(start) is None:
            raise ValueError(f"-a url={start!r}: expected an http(s) URL with a host")
        host = (urlsplit(start).hostname or "").lower()
        key = (site_id or site or host).lower()
        if not SITE_ID_RE.match(key):
            raise ValueError(f"-a site_id={key!r}: lower-case letters, digits, '.', '-', '_'")
        domains = () if _exact_origin_only(start) else (host.removeprefix("www."),)
        parts = urlsplit(start)
        self.profile = SiteProfile(
            site_id=key, name=entry.get("name") or host, domains=domains,
            base_url=f"{parts.scheme}://{parts.netloc}/",
            sitemap_urls=tuple(entry.get("sitemaps") or ()),
            feed_urls=tuple(entry.get("feeds") or ()),
            listing_urls=(parts.path or "/",),
        )
        super().__init__(*args, base_url=base_url, **kwargs)
        self.site_key = key
        self.site_timezone = site_timezone(timezone, bool(entry), host)
        # Crawl runs, job state and WARC names are kept per site (fetch_state, jobstate).
        self.crawl_key = f"portal:{key}"
        self.start_url = self.site_url(parts.path + (f"?{parts.query}" if parts.query else ""))
        self.model = ShapeModel()
        self.learned: LearnedSelectors | None = None
        self.extraction: str | None = None  # "generic" or "profile" once decided
        self.extraction_profile: SiteProfile | None = None
        self.samples: list[tuple[Response, dict, dict]] = []
        self.sample_pages = 6
        self.max_listing_pages = 500
        self.sitemaps: list[str] = []
        self.feeds: list[str] = []
        self.listings: list[str] = []
        self.not_articles: set[str] = set()
        self.missing: list[str] = []
        # The CSS selectors of the "next page" links followed, for the draft profile.
        self.next_selectors: Counter[str] = Counter()
        self.sample_urls: list[str] = []
        self.revisit_only_known_listings = False
        self.robots: Protego | None = None
        self._routed: set[str] = set()
        self._requested: set[str] = set()
        self._signatures: dict[str, set[frozenset[str]]] = {}
        self._feeds_probed = False
        self._trapped: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        """Give the crawl its own job directory and WARC prefix per site (unless set)."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        slug = re.sub(r"[^a-z0-9_.-]", "-", spider.site_key)
        if settings.get("JOBDIR") and settings.getpriority("JOBDIR") == SETTINGS_PRIORITIES[
                "spider"]:
            jobdir = Path(settings["ARCHIVE_DIR"]) / "jobs" / f"portal-{slug}"
            settings.set("JOBDIR", str(jobdir), priority="spider")
            # The base spider read the marker of the default job directory: this one's counts.
            spider.history_source = replace(spider.history_source,
                                            interrupted_since=interrupted_since(str(jobdir)))
        if not settings.get("WARC_PREFIX"):
            settings.set("WARC_PREFIX", f"portal-{slug}", priority="spider")
        spider.archive_dir = settings["ARCHIVE_DIR"]
        spider.obey_robots = settings.getbool("ROBOTSTXT_OBEY", True)
        spider.user_agent = settings.get("USER_AGENT") or "*"
        spider.sample_pages = settings.getint("PORTAL_SAMPLE_PAGES", 6)
        spider.max_listing_pages = settings.getint("PORTAL_MAX_LISTING_PAGES", 500)
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        return spider

    # --- learned state ---------------------------------------------------------------------------

    def load_history(self) -> None:
        """Read the store's history of this site (runs kept per site) and the learned state."""
        from spiders.history import CrawlHistory

        self.history = CrawlHistory.load(self.history_source, self.profile.site_id, self.crawl_key)
        state = load_learned_state(self.archive_dir, self.site_key)
        if not state:
            return
        self.model = ShapeModel.from_json(state.get("shapes") or {})
        self.learned = LearnedSelectors.from_json(state.get("selectors"))
        if state.get("extraction") in ("generic", "profile"):
            self.extraction = state["extraction"]
            if self.extraction == "profile" and self.learned:
                self.extraction_profile = self.learned_profile(self.learned)
        self.sitemaps = list(state.get("sitemaps") or [])
        self.feeds = list(state.get("feeds") or [])
        self.listings = list(state.get("listings") or [])
        self.not_articles = set(state.get("not_articles") or [])
        # Guessed paths that were missing are not guessed again.
        self.missing = list(state.get("missing") or [])
        self.sample_urls = list(state.get("sample_urls") or [])
        self.next_selectors.update({s: 1 for s in state.get("next_page_selectors") or []})
        # After a complete crawl, listings outside those found through menus are not revisited.
        self.revisit_only_known_listings = bool(self.history.incremental
                                                and self.history.last_run and self.listings)

    def save_learned_state(self) -> None:
        """Write what this crawl learned (atomically) for the next crawl and the draft profile."""
        path = _learned_state_path(self.archive_dir, self.site_key)
        state = {
            "version": STATE_VERSION,
            "site_id": self.site_key,
            "name": self.profile.name,
            "start_url": self.start_url,
            "base_url": self.base_url,
            "domains": list(self.profile.domains),
            "sitemaps": self.sitemaps,
            "feeds": self.feeds,
            "listings": self.listings,
            "extraction": self.extraction,
            "selectors": self.learned.to_json() if self.learned else None,
            "sample_urls": self.sample_urls,
            "article_shapes": self.model.shapes_of("article"),
            "listing_shapes": self.model.shapes_of("listing"),
            "shapes": self.model.to_json(),
            "missing": self.missing,
            "next_page_selectors": [s for s, _ in self.next_selectors.most_common(3)],
            "not_articles": sorted(self.not_articles)[:MAX_NOT_ARTICLES],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(state, indent=1, ensure_ascii=False) + "\n",
                           encoding="utf-8")
        os.replace(partial, path)

    def closed(self, reason: str) -> None:
        """Keep what was learned, then close the history."""
        if self.samples:
            # Only when the crawl stopped while article pages were held back for learning: their
            # URLs are left out of the learned state, so the next crawl fetches them again.
            logger.warning("%s article pages held back for learning were not stored (crawl %s)",
                           len(self.samples), reason)
        try:
            self.save_learned_state()
        except OSError as error:
            logger.error("Could not save what the crawl learned about %s: %s", self.site_key,
                         error)
        super().closed(reason)

    def learned_profile(self, learned: LearnedSelectors) -> SiteProfile:
        """A site profile of the learned selectors."""
        zone = {"timezone": self.site_timezone} if self.site_timezone else {}
        return learned.profile(self.site_key, self.profile.name, self.profile.domains,
                               self.profile.base_url, **zone)

    # --- discovery -------------------------------------------------------------------------------

    async def start(self):
        """robots.txt, the start page, and what earlier crawls found (sitemaps, feeds, listings)."""
        self.load_history()
        self.open_assets()
        yield scrapy.Request(self.site_url("/robots.txt"), callback=self.parse_robots,
                             errback=self.robots_failed, priority=20)
        yield self.page_request(self.start_url, "home", priority=15)
        for url in dict.fromkeys([*map(self.site_url, self.profile.sitemap_urls), *self.sitemaps]):
            if request := self.sitemap_request(self.site_url(url)):
                yield request
        for url in dict.fromkeys([*map(self.site_url, self.profile.feed_urls), *self.feeds]):
            if request := self.feed_request(self.site_url(url)):
                yield request
        for url in self.listings:
            if request := self.page_request(self.site_url(url), "listing"):
                yield request
        async for request in self.owed_asset_requests():
            yield request

    def page_request(self, url: str, route: str, priority: int = 0) -> scrapy.Request | None:
        """A request for a page to classify (home, listing, probe), once per crawl."""
        if url in self._requested:
            return None
        self._requested.add(url)
        return scrapy.Request(url, callback=self.parse_page, errback=self.request_failed,
                              priority=priority, meta={"portal_route": route})

    def sitemap_request(self, url: str, probe: bool = False) -> scrapy.Request | None:
        """A request for a sitemap (a guessed one fails quietly, and is not guessed again)."""
        if probe and url in self.missing:
            return None
        if url not in self.sitemaps and not probe:
            self.sitemaps.append(url)
        return scrapy.Request(url, callback=self.parse_sitemap, priority=10,
                              errback=self.probe_missing if probe else self.request_failed,
                              meta={"portal_probe": probe})

    def feed_request(self, url: str, probe: bool = False) -> scrapy.Request | None:
        """A request for a feed, once per crawl (a guessed one fails quietly)."""
        if url in self._requested or (probe and url in self.missing):
            return None
        self._requested.add(url)
        if url not in self.feeds and not probe:
            self.feeds.append(url)
        return scrapy.Request(url, callback=self.parse_feed, priority=10,
                              errback=self.probe_missing if probe else self.request_failed,
                              meta={"portal_probe": probe})

    def parse_robots(self, response: Response):
        """Read the sitemaps robots.txt names, and its rules for the links to follow."""
        text = response.text if response.status == 200 else ""
        self.robots = Protego.parse(text)
        sitemaps = [self.rewrite(url) for url in robots_sitemaps(text, response.url)]
        for url in sitemaps:
            if url not in self.sitemaps and (request := self.sitemap_request(url)):
                yield request
        if not sitemaps and not self.sitemaps:
            for path in COMMON_SITEMAP_PATHS:
                if request := self.sitemap_request(self.site_url(path), probe=True):
                    yield request

    def robots_failed(self, failure) -> None:
        """No robots.txt: nothing forbidden, no sitemap named; probe the common sitemap path."""
        self.robots = Protego.parse("")
        self.crawler.stats.inc_value("portal/robots_missing")
        if not self.sitemaps:
            for path in COMMON_SITEMAP_PATHS:
                if request := self.sitemap_request(self.site_url(path), probe=True):
                    self.crawler.engine.crawl(request)

    def probe_missing(self, failure) -> None:
        """A guessed sitemap or feed path that the site does not have: counted, not a failure."""
        self.crawler.stats.inc_value("portal/probes/missing")
        if failure.request.url not in self.missing:
            self.missing.append(failure.request.url)
        logger.debug("No %s on this site", failure.request.url)

    def parse_sitemap(self, response: Response):
        """Read a sitemap with the shared reader (``.xml.gz`` inflated there, under the cap)."""
        if response.meta.get("portal_probe") and response.url not in self.sitemaps:
            self.sitemaps.append(response.url)
        yield from super().parse_sitemap(response)

    def parse_feed(self, response: Response):
        """Read a feed with the shared reader (a guessed feed path that answered is kept)."""
        if response.meta.get("portal_probe") and response.url not in self.feeds:
            if not response.body.lstrip()[:1] == b"<" or b"<html" in response.body[:512].lower():
                return
            self.feeds.append(response.url)
        yield from super().parse_feed(response)

    # --- URLs ------------------------------------------------------------------------------------

    def is_article_url(self, url: str) -> bool:
        """Every on-site page may be an article: the page itself decides (`parse_page`)."""
        return True

    def known_article_changed(self, url: str, lastmod: str | None) -> bool:
        """A stored article is fetched again only when a sitemap says it changed.

        Without a sitemap ``lastmod`` the portal gives no sign of a change; revalidating every
        known article a listing shows would cost a request each, night after night.
        """
        return lastmod is not None and self.history.changed_since_fetch(
            url, lastmod, has_sitemaps=True)

    def robots_allow(self, url: str) -> bool:
        """Whether robots.txt lets us fetch ``url`` (unknown until robots.txt is read: yes)."""
        if self.robots is None or not self.obey_robots:
            return True
        return self.robots.can_fetch(url, self.user_agent)

    def trap(self, url: str, kind: str, detail: str) -> None:
        """Count a trap stop and list the URL in the failure report (once per URL)."""
        if url in self._trapped:
            return
        self._trapped.add(url)
        self.crawler.stats.inc_value(f"portal/traps/{kind}")
        self.report_failure(url, f"trap_{kind}", detail=detail)

    def article_request(self, url: str, source: str, lastmod: str | None = None):
        """An article candidate from a sitemap, a feed or a page, unless it is a trap or its
        URL shape is decided as not an article."""
        url, had_session = clean_url(self.rewrite(url))
        if had_session:
            self.crawler.stats.inc_value("portal/links/session_id_removed")
        if not self.origins.allows(url):
            self.crawler.stats.inc_value("portal/links/offsite")
            return None
        if reason := trap_reason(url):
            self.trap(url, reason, f"a {source} URL")
            return None
        kind = self.model.kind_of(url)
        if kind == "other" or (url in self.not_articles and url not in self.listings):
            self.crawler.stats.inc_value("portal/links/skipped_not_article")
            return None
        if kind == "listing":
            return self.listing_request(url, "listing")
        request = super().article_request(url, source, lastmod)
        if request is not None:
            self._requested.add(url)
            request.meta["portal_route"] = source
        return request

    def listing_request(self, url: str, route: str, paging: bool = False) -> scrapy.Request | None:
        """A listing (or a page of unknown kind) to fetch and classify.

        After a complete crawl only the listings found through the home page's menus are
        revisited, with their next pages (``paging``), and no other page known not to be an
        article.
        """
        if self.revisit_only_known_listings and url not in self.listings and not paging:
            self.crawler.stats.inc_value("portal/links/listing_not_revisited")
            return None
        return self.page_request(url, route)

    def route_link(self, link_url: str, route: str) -> scrapy.Request | None:
        """Where a link found on a page goes: an article candidate, a listing, or nowhere.

        ``route`` names the kind of page the link is on (``home``, ``listing``,
        ``article-link``): an article it leads to is counted as found by that route.
        """
        url, had_session = clean_url(self.rewrite(link_url))
        if url in self._routed:
            return None
        self._routed.add(url)
        if had_session:
            self.crawler.stats.inc_value("portal/links/session_id_removed")
        if not self.origins.allows(url):
            self.crawler.stats.inc_value("portal/links/offsite")
            return None
        if NOT_PAGES.search(urlsplit(url).path):
            self.crawler.stats.inc_value("portal/links/not_a_page")
            return None
        if reason := trap_reason(url):
            self.trap(url, reason, f"linked from a {route} page")
            return None
        if not self.robots_allow(url):
            self.crawler.stats.inc_value("portal/links/robots")
            return None
        if url in self._requested:
            return None
        if (page_number(url) or 1) > 1:
            # Page N of a listing: followed from page N-1 only (`follow_listing`), where an
            # endless or repeating listing is stopped.
            self.crawler.stats.inc_value("portal/links/left_to_paging")
            return None
        kind = self.model.kind_of(url)
        if kind == "other" or (url in self.not_articles and url not in self.listings):
            self.crawler.stats.inc_value("portal/links/skipped_not_article")
            return None
        if kind == "article" or (kind is None and looks_like_article_url(url)):
            return self.article_request(url, route)
        return self.listing_request(url, "pagination" if page_number(url) is not None
                                    else "listing")

    # --- pages -----------------------------------------------------------------------------------

    def parse_article(self, response: Response):
        """An article candidate's page: classified like any page (`parse_page`)."""
        return self.parse_page(response)

    def parse_page(self, response: Response):
        """Classify a page; store it if it is an article, follow its links and its next pages."""
        if response.status == 304:
            yield from super().parse_article(response)
            return
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        if content_type and not re.search(r"html|xml|text/plain", content_type, re.I):
            self.crawler.stats.inc_value("portal/pages/not_html")
            return
        html = decode_html(response.body, content_type)
        tree = LexborHTMLParser(html)
        route = response.meta.get("portal_route", "link")
        links = page_links(tree, response.url)
        verdict = classify_page(tree)
        if verdict.kind == "other" and route == "pagination" and links:
            # A "Xem thêm" fragment with its last few stories continues a listing.
            verdict = Verdict("listing", "continues a listing", verdict.body_chars)
        self.crawler.stats.inc_value(f"portal/classified/{verdict.kind}")
        self.model.vote(response.url, verdict.kind)
        logger.debug("%s: %s (%s)", response.url, verdict.kind, verdict.reason)
        for feed in feed_links(tree, response.url):
            if request := self.feed_request(self.rewrite(feed)):
                yield request
        if route == "home" and not self.feeds and not self._feeds_probed:
            self._feeds_probed = True
            for path in COMMON_FEED_PATHS:
                if request := self.feed_request(self.site_url(path), probe=True):
                    yield request
        if verdict.kind == "article":
            self.crawler.stats.inc_value(f"portal/articles_by_route/{route}")
            yield from self.article_found(response, html)
            link_route = "article-link"
        elif verdict.kind == "listing":
            self.not_articles.add(response.url)
            if response.url not in self.listings and (
                    response.url == self.start_url or response.meta.get("portal_menu")):
                # The home page and the sections its menus name: what the next crawl revisits.
                self.listings.append(response.url)
            self.archive_metadata(response, {"outlink": [link.url for link in links],
                                             "parse-result": f"listing ({verdict.reason})"})
            yield from self.follow_listing(response, tree, links)
            link_route = "listing"
        else:
            self.not_articles.add(response.url)
            link_route = "other"
        for link in links:
            request = self.route_link(link.url, "home" if response.url == self.start_url
                                      else link_route)
            if request is not None:
                if link.in_menu and response.url == self.start_url:
                    request.meta["portal_menu"] = True
                yield request

    def follow_listing(self, response: Response, tree: LexborHTMLParser, links) -> list:
        """Requests for a listing's next pages, or a trap stop (repeats, endless, known)."""
        url = response.url
        number = page_number(url) or 1
        chain = re.sub(r"([?&](?:page|p|pg|trang|pageindex|paged)=)\d+|/(?:page|trang)[/-]\d+/?"
                       r"|/trang-\d+", "", url, flags=re.I)
        candidates = []
        for link in links:
            candidate = clean_url(self.rewrite(link.url))[0]
            if self.origins.allows(candidate) and (
                    self.model.kind_of(candidate) == "article"
                    or looks_like_article_url(candidate)):
                candidates.append(candidate)
        signature = frozenset(candidates)
        seen = self._signatures.setdefault(chain, set())
        nexts = []
        for next_url in next_pages(tree, url, links):
            next_url = clean_url(self.rewrite(next_url))[0]
            if not self.origins.allows(next_url) or next_url in self._requested:
                continue
            if reason := trap_reason(next_url):
                self.trap(next_url, reason, "the next page of a listing")
                continue
            nexts.append(next_url)
        if signature and signature in seen:
            self.trap(url, "paging", "repeats the links of an earlier page of this listing")
            return []
        seen.add(signature)
        history = self.history
        if candidates and history.incremental and all(
                history.known_and_old(u) for u in candidates):
            self.crawler.stats.inc_value("listings/stopped/known")
            return []
        if number >= self.max_listing_pages and nexts:
            self.trap(nexts[0], "paging", f"page {number + 1}: PORTAL_MAX_LISTING_PAGES reached")
            return []
        if nexts and (selector := next_link_selector(tree, url, nexts[0])):
            self.next_selectors[selector] += 1
        requests = []
        for next_url in nexts:
            self._routed.add(next_url)
            if request := self.listing_request(next_url, "pagination", paging=True):
                requests.append(request)
        return requests

    # --- articles --------------------------------------------------------------------------------

    def article_found(self, response: Response, html: str):
        """Store an article page, or hold it back while the selectors are being learned."""
        if self.extraction is not None:
            yield from super().parse_article(response)
            return
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        record = extract_with_profile(response.body, response.url, None, content_type)
        self.samples.append((response, record, page_selectors(html, record)))
        if len(self.samples) >= self.sample_pages:
            yield from self.decide_extraction()

    def decide_extraction(self):
        """Choose the learned profile or the generic path, then store the held-back pages."""
        samples, self.samples = self.samples, []
        learned = agree([selectors for _, _, selectors in samples])
        mode = "generic"
        if learned is not None:
            profile = self.learned_profile(learned)
            readings = [
                extract_with_profile(response.body, response.url, profile,
                                     response.headers.get("Content-Type", b"").decode("latin-1")
                                     or None)
                for response, _, _ in samples
            ]
            if better_than_generic(readings, [record for _, record, _ in samples]):
                mode = "profile"
                self.extraction_profile = profile
        self.learned = learned
        self.extraction = mode
        self.sample_urls = [response.url for response, _, _ in samples]
        logger.info("%s: articles read with %s (selectors learned from %s pages: %s)",
                    self.site_key, "the learned profile" if mode == "profile" else
                    "the generic path", len(samples), learned.to_json() if learned else "none")
        self.crawler.stats.set_value("portal/extraction", mode)
        for response, _, _ in samples:
            yield from super().parse_article(response)

    def extract_record(self, body: bytes, url: str, content_type: str | None) -> dict:
        """Read with the learned profile when it won, else the generic path; ``site`` is ours."""
        record = extract_with_profile(body, url, self.extraction_profile, content_type,
                                      timezone=self.site_timezone, outlinks=True)
        record["site"] = self.site_key
        return record

    def spider_idle(self) -> None:
        """Store pages still held back for learning when nothing else is left to fetch."""
        if not self.samples:
            return
        # A request to carry the held pages through a callback (items are yielded from one).
        request = scrapy.Request(self.site_url("/robots.txt"), callback=self.flush_samples,
                                 dont_filter=True, priority=100, meta={"dont_archive": True})
        self.crawler.engine.crawl(request)
        raise DontCloseSpider

    def flush_samples(self, response: Response):
        """Decide the extraction with the pages there are, and store them."""
        if self.samples:
            yield from self.decide_extraction()
