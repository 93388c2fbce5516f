"""The replica portal's HTTP server: a `twisted.web` resource that routes paths to `pages.py`.

Every response carries `Content-Length`, `Last-Modified`, a strong `ETag`, `Date` and
`Server: replica-nginx`; conditional requests (`If-None-Match`, `If-Modified-Since`) get 304, and
text is sent gzip-compressed when the client accepts it. Pages are rendered and compressed once per
(origin, path) and then served from memory, because crawls and benchmarks request them many times.

`/__replica__/stats` reports how often each path was requested since start (or the last
`/__replica__/reset`); requests under `/__replica__/` are not counted.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from twisted.internet.interfaces import IListeningPort
from twisted.web import resource
from twisted.web import server as web_server

from tests.replica import pages
from tests.replica.content import ArticleSpec, Site

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

    def __init__(self, site: Site) -> None:
        """Index what the site serves; nothing is rendered yet."""
        self.site = site
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
        site = self.site
        article = site.article_by_path(path)
        if article is not None:
            content_type = HTML if article.layout.header_charset else "text/html"
            body = pages.render_article(site, article, origin)
            return self._text(content_type, article.modified, body)
        owner = self.images.get(path)
        if owner is not None:
            body = pages.render_jpeg(f"replica {path}")
            return Representation.build(200, "image/jpeg", owner.modified, body, compress=False)
        static = self._static_routes().get(path)
        if static is not None:
            content_type, render = static
            return self._text(content_type, self.newest, render(origin))
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
            return self._text(HTML, self._newest_of(site.articles_in_section(section)), body)
        if match := _MONTH_SITEMAP.fullmatch(path):
            month_articles = site.articles_in_month(match[1])
            if not month_articles:
                return None
            body = pages.render_month_sitemap(site, match[1], origin)
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

    def __init__(self, site: Site) -> None:
        """Serve `site`; request counts start at zero."""
        super().__init__()
        self.router = Router(site)
        self.requests: Counter[str] = Counter()

    def render(self, request: web_server.Request) -> int:
        """Answer any method; content paths allow GET and HEAD only."""
        path = request.path.decode("utf-8", "replace")
        if path.startswith("/__replica__/"):
            return self._control(request, path)
        self.requests[path] += 1
        if request.method not in (b"GET", b"HEAD"):
            request.setResponseCode(405)
            request.setHeader(b"allow", b"GET, HEAD")
            return self._send(request, b"", "text/plain", self._newest_http_date)
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
        """Request counts by path and their total."""
        return {"requests": dict(sorted(self.requests.items())), "total": self.requests.total()}

    @property
    def _newest_http_date(self) -> str:
        return pages.http_date(self.router.newest)

    def _control(self, request: web_server.Request, path: str) -> int:
        if path == "/__replica__/reset":
            self.requests.clear()
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


def make_factory(site: Site) -> QuietSite:
    """Return the protocol factory serving `site`."""
    factory = QuietSite(ReplicaResource(site))
    factory.displayTracebacks = False
    return factory


def listen(site: Site, port: int = 0, host: str = "127.0.0.1") -> IListeningPort:
    """Start listening on `host:port` (0 = any free port); the reactor must run to serve."""
    # Imported here: importing the reactor installs the default one, which would stop a test
    # process that imports this module from installing Scrapy's asyncio reactor later.
    from twisted.internet import reactor

    return reactor.listenTCP(port, make_factory(site), interface=host)


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
