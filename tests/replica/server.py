"""The replica portal's HTTP server: a `twisted.web` resource that routes paths to `pages.py`.

Every response carries `Content-Length`, `Last-Modified`, a strong `ETag`, `Date` and
`Server: replica-nginx`; conditional requests (`If-None-Match`, `If-Modified-Since`) get 304, and
text is sent gzip-compressed when the client accepts it. Pages are rendered and compressed once per
(origin, path) and then served from memory, because crawls and benchmarks request them many times.

`/__replica__/stats` reports how often each path was requested since start (or the last
`/__replica__/reset`), and how often each origin (the scheme and `Host` a client used); requests
under `/__replica__/` are not counted. `/__replica__/faults` shows the switched-on faults (see
`faults.py`) with a log of the requests of every path a fault hit (monotonic seconds, fault or
null) and, on POST of `{"rules": [...], "burst": n, "slow_seconds": s}`, replaces them;
`/__replica__/edition?n=N` (POST) switches the portal to edition N (see `content.build_site`), as
if it had published between two crawls. With a `HostilePlan` (`hostile.py`), pages also lead to
other origins and some articles redirect there.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs

from twisted.internet.interfaces import IListeningPort
from twisted.web import resource
from twisted.web import server as web_server

from tests.replica import faults as fault_pages
from tests.replica import pages
from tests.replica.content import ArticleSpec, Site
from tests.replica.faults import FaultPlan
from tests.replica.hostile import HostilePlan
from tests.replica.layouts import DEFAULT_LAYOUT, make_layout

SERVER_NAME = b"replica-nginx"
HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
JSON = "application/json"

# Each origin costs a full set of rendered pages; a client inventing Host headers must not
# make the cache grow without bound.
MAX_CACHED_ORIGINS = 8

_SECTION_PAGE = re.compile(r"/channel/(\d+)/(?:page/(\d+)/)?")
_MONTH_SITEMAP_GZ = re.compile(r"/sitemaps/sitemap-(\d{4}-\d{2})\.xml\.gz")
_MONTH_SITEMAP_LOC = re.compile(rb"(/sitemaps/sitemap-\d{4}-\d{2}\.xml)<")
_MONTH_SITEMAP = re.compile(r"/sitemaps/sitemap-(\d{4}-\d{2})\.xml")
_SECTION_RSS = re.compile(r"/rss/(\d+)\.rss")
_TAG_PAGE = re.compile(r"/tag/([a-z0-9-]+)/")
_HOST_HEADER = re.compile(r"[A-Za-z0-9.-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


@dataclass(frozen=True)
class Representation:
    """A rendered response: identity bytes and, for text, the gzip variant."""

    status: int
    content_type: str
    last_modified: str
    body: bytes
    etag: str
    gzip_body: bytes | None = None
    gzip_etag: str | None = None

    @classmethod
    def build(
        cls, status: int, content_type: str, modified: datetime, body: bytes, compress: bool
    ) -> Representation:
        """Compute validators and, when `compress`, the gzip variant of `body`."""
        gzip_body = gzip.compress(body, compresslevel=6, mtime=0) if compress else None
        return cls(
            status=status,
            content_type=content_type,
            last_modified=pages.http_date(modified),
            body=body,
            etag=_etag(body),
            gzip_body=gzip_body,
            gzip_etag=_etag(gzip_body) if gzip_body is not None else None,
        )


class Router:
    """Maps a path to its representation on one origin; renders and caches on first use."""

    def __init__(
        self, site: Site, hostile: HostilePlan | None = None, layout: str = DEFAULT_LAYOUT
    ) -> None:
        """Index what the site serves; nothing is rendered yet."""
        self.site = site
        self.hostile = hostile
        # Another CMS family's pages for the same content (tests/replica/layouts/), if chosen.
        self.layout_name = layout
        self.layout = make_layout(layout, site)
        self.newest = max(article.modified for article in site.articles)
        self.images = {image.src: article for article in site.articles for image in article.images}
        self._cache: OrderedDict[str, dict[str | None, Representation]] = OrderedDict()

    def get(self, origin: str, path: str) -> Representation:
        """Return the representation of `path` as served on `origin` (404 page if none)."""
        pages_of_origin = self._cache.get(origin)
        if pages_of_origin is None:
            pages_of_origin = self._cache[origin] = {}
            if len(self._cache) > MAX_CACHED_ORIGINS:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(origin)
        cached = pages_of_origin.get(path)
        if cached is not None:
            return cached
        rendered = self._render(origin, path)
        if rendered is None:
            # Unknown paths share one cached 404 so random probing cannot fill the cache.
            not_found = pages_of_origin.get(None)
            if not_found is None:
                not_found = pages_of_origin[None] = self._not_found(origin)
            return not_found
        pages_of_origin[path] = rendered
        return rendered

    def _render(self, origin: str, path: str) -> Representation | None:
        if self.layout is not None:
            page = self.layout.render(origin, path)
            if page is None:
                return None
            return Representation.build(page.status, page.content_type, page.modified or
                                        self.newest, page.body, page.compress)
        site = self.site
        article = site.article_by_path(path)
        if article is not None:
            content_type = HTML if article.layout.header_charset else "text/html"
            body = pages.render_article(site, article, origin)
            if self.hostile is not None:
                body = self.hostile.article(body, site, article, origin)
            return self._text(content_type, article.modified, body)
        owner = self.images.get(path)
        if owner is not None:
            body = pages.render_jpeg(f"replica {path}")
            return Representation.build(200, "image/jpeg", owner.modified, body, compress=False)
        static = self._static_routes().get(path)
        if static is not None:
            content_type, render = static
            body = self._hostile(path, render(origin), origin)
            return self._text(content_type, self.newest, body)
        return self._render_pattern(origin, path)

    def _static_routes(self) -> dict[str, tuple[str, Callable[[str], str]]]:
        site = self.site
        return {
            "/": (HTML, lambda origin: pages.render_home(site, origin)),
            "/robots.txt": (TEXT, pages.render_robots),
            "/sitemap.xml": (XML, lambda origin: pages.render_sitemap_index(site, origin)),
            "/rss/home.rss": (RSS, lambda origin: pages.render_rss(site, origin)),
            "/tim-kiem/": (
                HTML,
                lambda origin: pages.render_message_page(
                    site, origin, "Tìm kiếm", "Nhập từ khóa cần tìm."
                ),
            ),
        }

    def _render_pattern(self, origin: str, path: str) -> Representation | None:
        site = self.site
        if match := _SECTION_PAGE.fullmatch(path):
            section = site.section_by_id(int(match[1]))
            page = int(match[2] or 1)
            # Page 1 lives only at the bare section path, so every listing has one URL.
            if section is None or match[2] == "1" or page > pages.section_page_count(site, section):
                return None
            body = pages.render_section_page(site, section, page, origin)
            if page == 1:
                body = self._hostile(path, body, origin)
            return self._text(HTML, self._newest_of(site.articles_in_section(section)), body)
        if match := _MONTH_SITEMAP.fullmatch(path):
            month_articles = site.articles_in_month(match[1])
            if not month_articles:
                return None
            body = self._hostile(path, pages.render_month_sitemap(site, match[1], origin), origin)
            return self._text(XML, self._newest_of(month_articles), body)
        if match := _SECTION_RSS.fullmatch(path):
            section = site.section_by_id(int(match[1]))
            if section is None:
                return None
            body = pages.render_rss(site, origin, section)
            return self._text(RSS, self._newest_of(site.articles_in_section(section)), body)
        if (match := _TAG_PAGE.fullmatch(path)) and match[1] in site.tags():
            body = pages.render_tag_page(site, match[1], origin)
            return self._text(HTML, self._newest_of(site.articles_with_tag(match[1])), body)
        return None

    def _hostile(self, path: str, body: str, origin: str) -> str:
        """`body` with the hostile plan's additions for `path` (unchanged without a plan)."""
        hostile, site = self.hostile, self.site
        if hostile is None:
            return body
        if path == "/robots.txt":
            return hostile.robots(body, origin)
        if path == "/sitemap.xml":
            return hostile.sitemap_index(body, site, origin)
        if path == "/rss/home.rss":
            return hostile.feed(body, site, origin)
        if _MONTH_SITEMAP.fullmatch(path):
            return hostile.urlset(body, site, origin)
        if path == "/" or _SECTION_PAGE.fullmatch(path):
            return hostile.listing(body, site, origin, home=path == "/")
        return body

    def _not_found(self, origin: str) -> Representation:
        body = pages.render_message_page(
            self.site, origin, "Không tìm thấy trang", "Trang bạn yêu cầu không tồn tại."
        )
        return Representation.build(404, HTML, self.newest, body.encode("utf-8"), compress=True)

    def _newest_of(self, articles: list[ArticleSpec]) -> datetime:
        return max((article.modified for article in articles), default=self.newest)

    @staticmethod
    def _text(content_type: str, modified: datetime, body: str) -> Representation:
        return Representation.build(200, content_type, modified, body.encode("utf-8"), True)


class ReplicaResource(resource.Resource):
    """The whole portal as one leaf resource: routing happens on the full path."""

    isLeaf = True

    def __init__(
        self,
        site: Site,
        faults: FaultPlan | None = None,
        editions: Callable[[int], Site] | None = None,
        hostile: HostilePlan | None = None,
    ) -> None:
        """Serve `site` with `faults`; `editions` builds another edition on request."""
        super().__init__()
        self.hostile = hostile
        self.router = Router(site, hostile)
        self.requests: Counter[str] = Counter()
        self.origins: Counter[str] = Counter()
        self.faults = faults or FaultPlan()
        self.editions = editions
        self._fault_bodies: dict[str, bytes] = {}
        # For each path a fault hit: (seconds since start, fault or None) of every request.
        self.fault_log: dict[str, list[tuple[float, str | None]]] = {}

    def render(self, request: web_server.Request) -> int:
        """Answer any method; content paths allow GET and HEAD only."""
        path = request.path.decode("utf-8", "replace")
        if path.startswith("/__replica__/"):
            return self._control(request, path)
        if self.router.layout is not None and b"?" in request.uri:
            # The other layouts route on the query too (`newsdetail.asp?NewsID=`).
            path = request.uri.decode("utf-8", "replace")
        self.requests[path] += 1
        self.origins[_origin(request)] += 1
        if request.method not in (b"GET", b"HEAD"):
            request.setResponseCode(405)
            request.setHeader(b"allow", b"GET, HEAD")
            return self._send(request, b"", "text/plain", self._newest_http_date)
        fault = self.faults.fault_for(path, self.requests[path])
        if fault is not None or path in self.fault_log:
            # Lets a test check how long a client waited before retrying (Retry-After).
            self.fault_log.setdefault(path, []).append((round(time.monotonic(), 3), fault))
        if fault is not None:
            served = self._serve_fault(request, path, fault)
            if served is not None:
                return served
        if self.hostile is not None:
            moved = self.hostile.redirect(self.router.site, path, _origin(request))
            if moved is not None:
                status, target = moved
                if status != 200:
                    return self._redirect(request, status, target)
                body = self.hostile.refresh_page(target).encode("utf-8")
                return self._send(request, body, HTML, self._newest_http_date)
        site_wide = self._site_wide_fault(request, path)
        if site_wide is not None:
            return site_wide
        return self._serve(request, path)

    def _serve(self, request: web_server.Request, path: str) -> int:
        """Answer with the page at `path`, honouring validators and Accept-Encoding."""
        representation = self.router.get(_origin(request), path)
        # Each variant: ETag -> (bytes, Content-Encoding); a client may hold either of them.
        variants: dict[str, tuple[bytes, bytes | None]] = {
            representation.etag: (representation.body, None)
        }
        selected = representation.etag
        if representation.gzip_body is not None and representation.gzip_etag is not None:
            request.setHeader(b"vary", b"Accept-Encoding")
            variants[representation.gzip_etag] = (representation.gzip_body, b"gzip")
            if _accepts_gzip(request.getHeader(b"accept-encoding")):
                selected = representation.gzip_etag
        if representation.status == 200:
            matched = _not_modified(request, representation, set(variants))
            if matched is not None:
                request.setResponseCode(304)
                selected = matched or selected
        else:
            request.setResponseCode(representation.status)
        body, encoding = variants[selected]
        if encoding is not None:
            request.setHeader(b"content-encoding", encoding)
        request.setHeader(b"etag", selected.encode("ascii"))
        # A 304 repeats the length of the representation it confirms (allowed by RFC 9110);
        # Twisted sends no body for 304 and HEAD whatever we write.
        return self._send(request, body, representation.content_type, representation.last_modified)

    def stats(self) -> dict[str, object]:
        """Request counts by path, by origin (scheme and `Host`), and their total."""
        return {
            "requests": dict(sorted(self.requests.items())),
            "origins": dict(sorted(self.origins.items())),
            "total": self.requests.total(),
        }

    @property
    def _newest_http_date(self) -> str:
        return pages.http_date(self.router.newest)

    def _serve_fault(self, request: web_server.Request, path: str, kind: str) -> int | None:
        """Serve fault `kind` for `path`; None when it does not apply (the page is served)."""
        last_modified = self._newest_http_date
        if kind in {"500", "503", "429"}:
            request.setResponseCode(int(kind))
            if kind != "500":
                request.setHeader(b"retry-after", b"1")
            body = b"<html><body><h1>Server busy</h1></body></html>"
            return self._send(request, body, HTML, last_modified)
        if kind == "drop":
            request.channel.transport.abortConnection()
            return web_server.NOT_DONE_YET
        if kind == "slow":
            from twisted.internet import reactor

            call = reactor.callLater(self.faults.slow_seconds, self._serve, request, path)
            request.notifyFinish().addErrback(lambda _: call.active() and call.cancel())
            return web_server.NOT_DONE_YET
        if kind == "truncate":
            body = self.router.get(_origin(request), path).body
            request.setHeader(b"server", SERVER_NAME)
            request.setHeader(b"content-type", HTML.encode("ascii"))
            request.setHeader(b"content-length", str(len(body)).encode("ascii"))
            request.write(body[: len(body) // 2])
            request.channel.transport.loseConnection()
            return web_server.NOT_DONE_YET
        query = parse_qs(request.uri.decode("latin-1").partition("?")[2])
        if kind == "redirect":
            hop = int(query.get("r", ["0"])[0])
            if hop >= 3:
                return None
            return self._redirect(request, 302 if hop % 2 else 301, f"{path}?r={hop + 1}")
        if kind == "redirect-loop":
            hop = int(query.get("loop", ["0"])[0])
            return self._redirect(request, 302, f"{path}?loop={hop + 1}")
        if kind == "offsite":
            return self._redirect(request, 302, f"http://offsite.invalid{path}")
        if kind == "huge":
            body = self._fault_body("huge", lambda: b"<html><body><p>" + b"x" * 50_000_000)
            return self._send(request, body, HTML, last_modified)
        if kind == "gzip-bomb":
            body = self._fault_body(
                "gzip-bomb", lambda: gzip.compress(b"<html>" + b" " * 64_000_000, 6, mtime=0)
            )
            request.setHeader(b"content-encoding", b"gzip")
            return self._send(request, body, HTML, last_modified)
        article = self.router.site.article_by_path(path)
        if article is None:
            return None
        html = pages.render_article(self.router.site, article, _origin(request))
        if kind == "layout-drift":
            body = fault_pages.layout_drift(html).encode("utf-8")
            return self._send(request, body, HTML, pages.http_date(article.modified))
        html = html.replace('<meta charset="utf-8">', "")
        if kind == "cp1258":
            html = html.replace("<head>", '<head>\n<meta charset="windows-1258">', 1)
            body, content_type = fault_pages.encode_cp1258(html), "text/html; charset=windows-1258"
        elif kind == "latin1-label":
            body, content_type = html.encode("utf-8"), "text/html; charset=iso-8859-1"
        else:
            body, content_type = fault_pages.malformed(html).encode("utf-8"), HTML
        return self._send(request, body, content_type, pages.http_date(article.modified))

    def _site_wide_fault(self, request: web_server.Request, path: str) -> int | None:
        """Serve the trap's endless listing pages, the entity bomb's sitemap and the gzip
        sitemaps, when on."""
        site = self.router.site
        if self.faults.enabled("trap") and (match := _SECTION_PAGE.fullmatch(path)):
            section = site.section_by_id(int(match[1]))
            page = int(match[2] or 1)
            if section is not None and page >= pages.section_page_count(site, section):
                last = pages.section_page_count(site, section)
                html = pages.render_section_page(site, section, last, _origin(request))
                next_link = (
                    f'<div class="paging"><a class="next" href="{section.page_path(page + 1)}">'
                    "Trang sau</a></div>"
                )
                html = re.sub(r'<div class="paging">.*?</div>', next_link, html, flags=re.S)
                return self._send(request, html.encode("utf-8"), HTML, self._newest_http_date)
        gzip_sitemaps = self.faults.enabled("gzip-sitemaps")
        entity_bomb = self.faults.enabled("entity-bomb")
        if path == "/sitemap.xml" and (gzip_sitemaps or entity_bomb):
            origin = _origin(request)
            index = self.router.get(origin, path).body
            if gzip_sitemaps:
                index = _MONTH_SITEMAP_LOC.sub(rb"\1.gz<", index)
            if entity_bomb:
                index = index.replace(
                    b"</sitemapindex>",
                    f"<sitemap><loc>{origin}/sitemaps/sitemap-extra.xml</loc></sitemap>\n"
                    "</sitemapindex>".encode(),
                )
            return self._send(request, index, XML, self._newest_http_date)
        if entity_bomb and path == "/sitemaps/sitemap-extra.xml":
            return self._send(request, fault_pages.entity_bomb(), XML, self._newest_http_date)
        if gzip_sitemaps and (match := _MONTH_SITEMAP_GZ.fullmatch(path)):
            # Saved sitemap files, as portals publish them: the gzip is the file, not a
            # transfer encoding, so there is no Content-Encoding; both types are seen.
            month = self.router.get(_origin(request), path.removesuffix(".gz"))
            if month.status != 200:
                return None
            content_type = "application/gzip" if int(match[1][-2:]) % 2 else "application/x-gzip"
            body = month.gzip_body or gzip.compress(month.body, compresslevel=6, mtime=0)
            return self._send(request, body, content_type, month.last_modified)
        return None

    def _fault_body(self, kind: str, build: Callable[[], bytes]) -> bytes:
        if kind not in self._fault_bodies:
            self._fault_bodies[kind] = build()
        return self._fault_bodies[kind]

    def _redirect(self, request: web_server.Request, status: int, location: str) -> int:
        request.setResponseCode(status)
        request.setHeader(b"location", location.encode("utf-8"))
        return self._send(request, b"", HTML, self._newest_http_date)

    def _control(self, request: web_server.Request, path: str) -> int:
        if path == "/__replica__/reset":
            self.requests.clear()
            self.origins.clear()
            self.fault_log.clear()
        elif path == "/__replica__/faults":
            if request.method == b"POST":
                config = json.loads(request.content.read() or b"{}")
                self.faults = FaultPlan.parse(
                    config.get("rules", []), int(config.get("burst", 2)),
                    float(config.get("slow_seconds", 3.0)),
                )
                self.requests.clear()
                self.origins.clear()
                self.fault_log.clear()
            body = json.dumps({**self.faults.describe(), "log": self.fault_log}).encode("utf-8")
            return self._send(request, body, JSON, self._newest_http_date)
        elif path == "/__replica__/edition" and self.editions is not None:
            edition = int(request.args.get(b"n", [b"1"])[0])
            self.router = Router(self.editions(edition), self.hostile, self.router.layout_name)
            self.requests.clear()
            self.origins.clear()
        elif path != "/__replica__/stats":
            request.setResponseCode(404)
        body = json.dumps(self.stats(), ensure_ascii=False).encode("utf-8")
        request.setHeader(b"cache-control", b"no-store")
        request.setHeader(b"etag", _etag(body).encode("ascii"))
        return self._send(request, body, JSON, self._newest_http_date)

    @staticmethod
    def _send(
        request: web_server.Request, body: bytes, content_type: str, last_modified: str
    ) -> int:
        """Write headers and body ourselves, so HEAD and 304 keep the real Content-Length."""
        request.setHeader(b"server", SERVER_NAME)
        request.setHeader(b"content-type", content_type.encode("ascii"))
        request.setHeader(b"content-length", str(len(body)).encode("ascii"))
        request.setHeader(b"last-modified", last_modified.encode("ascii"))
        request.write(body)
        request.finish()
        return web_server.NOT_DONE_YET


class QuietSite(web_server.Site):
    """A twisted Site without access logging (the stats endpoint replaces it, and it is faster)."""

    def log(self, request: web_server.Request) -> None:
        """Skip the access log line."""


def make_factory(
    site: Site,
    faults: FaultPlan | None = None,
    editions: Callable[[int], Site] | None = None,
    hostile: HostilePlan | None = None,
    layout: str = DEFAULT_LAYOUT,
) -> QuietSite:
    """Return the protocol factory serving `site` in `layout`."""
    resource_ = ReplicaResource(site, faults, editions, hostile)
    if layout != DEFAULT_LAYOUT:
        resource_.router = Router(site, hostile, layout)
    factory = QuietSite(resource_)
    factory.displayTracebacks = False
    return factory


def listen(
    site: Site,
    port: int = 0,
    host: str = "127.0.0.1",
    faults: FaultPlan | None = None,
    editions: Callable[[int], Site] | None = None,
    hostile: HostilePlan | None = None,
    layout: str = DEFAULT_LAYOUT,
) -> IListeningPort:
    """Start listening on `host:port` (0 = any free port); the reactor must run to serve."""
    # Imported here: importing the reactor installs the default one, which would stop a test
    # process that imports this module from installing Scrapy's asyncio reactor later.
    from twisted.internet import reactor

    factory = make_factory(site, faults, editions, hostile, layout)
    return reactor.listenTCP(port, factory, interface=host)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:16] + '"'


def _origin(request: web_server.Request) -> str:
    """Scheme, host and port the client used, from the Host header when it is well formed."""
    host = (request.getHeader(b"host") or b"").decode("latin-1")
    if not _HOST_HEADER.fullmatch(host):
        address = request.getHost()
        host = f"[{address.host}]" if ":" in address.host else address.host
        host = f"{host}:{address.port}"
    return f"http://{host}"


def _accepts_gzip(header: bytes | None) -> bool:
    """Whether an Accept-Encoding value allows gzip (an explicit `q=0` refuses it)."""
    for part in (header or b"").decode("latin-1").split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() not in {"gzip", "x-gzip", "*"}:
            continue
        quality = re.search(r"q\s*=\s*([0-9.]+)", params)
        try:
            return quality is None or float(quality[1]) > 0
        except ValueError:
            return False
    return False


def _not_modified(
    request: web_server.Request, representation: Representation, etags: set[str]
) -> str | None:
    """Decide whether a GET or HEAD is answered with 304.

    Returns None for a full response, the matching ETag when `If-None-Match` names one of
    `etags`, or "" for a 304 by `*` or by date. `If-None-Match` uses weak comparison and takes
    precedence over `If-Modified-Since` (RFC 9110, 13.1.2 and 13.2.2).
    """
    if_none_match = request.getHeader(b"if-none-match")
    if if_none_match is not None:
        for candidate in if_none_match.decode("latin-1").split(","):
            tag = candidate.strip().removeprefix("W/")
            if tag == "*":
                return ""
            if tag in etags:
                return tag
        return None
    if_modified_since = request.getHeader(b"if-modified-since")
    if if_modified_since is None:
        return None
    try:
        since = parsedate_to_datetime(if_modified_since.decode("latin-1"))
        modified = parsedate_to_datetime(representation.last_modified)
    except (TypeError, ValueError):
        return None
    if since.tzinfo is None or since < modified:
        return None
    return ""
