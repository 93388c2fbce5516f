"""What every replica layout shares: the `Page` it renders, the `Expected` record, the base class.

A layout subclasses `Layout` and implements `article_path` (where an article lives), `route`
(a path and its query to a `Page`) and `not_article_paths`. Images are served by the base class
at the article's image paths, so every layout archives the same pictures.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from tests.replica import pages
from tests.replica.content import ArticleSpec, ImageSpec, Section, Site, slugify

HTML = "text/html; charset=utf-8"
XML = "application/xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
GZIP = "application/x-gzip"


@dataclass(frozen=True)
class Page:
    """A rendered response of a layout."""

    body: bytes
    content_type: str = HTML
    modified: datetime | None = None
    status: int = 200
    # Text is gzip-encoded on the wire when the client accepts it; files already gzip are not.
    compress: bool = True


@dataclass(frozen=True)
class Expected:
    """What a perfect crawl stores for one article of a layout."""

    path: str
    title: str
    lead: str
    paragraphs: tuple[str, ...]
    published: str
    authors: tuple[str, ...]
    credit: str | None

    @property
    def text(self) -> str:
        """The article's visible lead and body, as a reader sees them."""
        return "\n\n".join((self.lead, *self.paragraphs))


class Layout:
    """One CMS family's way of serving the replica's content."""

    name = ""
    # Shown by `python -m tests.replica --help`.
    summary = ""
    # Whether routing needs the query string (``?NewsID=``): the server then counts requests by
    # path and query.
    routes_query = False

    def __init__(self, site: Site) -> None:
        self.site = site
        self.newest = max(article.modified for article in site.articles)
        self.images = {image.src: article for article in site.articles for image in article.images}
        self.by_path = {self.article_path(article): article for article in site.articles}

    # --- to implement ---------------------------------------------------------------------------

    def article_path(self, article: ArticleSpec) -> str:
        """The path (and query) an article is served at."""
        raise NotImplementedError

    def route(self, origin: str, path: str, query: dict[str, list[str]]) -> Page | None:
        """The page at ``path`` with ``query``, or None (404)."""
        raise NotImplementedError

    def not_article_paths(self) -> list[str]:
        """Pages that are not articles (listings, tags, search, static pages)."""
        raise NotImplementedError

    # --- shared ---------------------------------------------------------------------------------

    def render(self, origin: str, target: str) -> Page | None:
        """The page at ``target`` (path and query) on ``origin``, or None."""
        parts = urlsplit(target)
        owner = self.images.get(parts.path)
        if owner is not None:
            body = pages.render_jpeg(f"replica {self.name} {parts.path}")
            return Page(body, "image/jpeg", owner.modified, compress=False)
        return self.route(origin, parts.path, parse_qs(parts.query))

    def not_found(self, origin: str) -> Page:
        """The 404 page."""
        body = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>404</title></head>"
                f"<body><h1>Không tìm thấy trang</h1><p><a href=\"{origin}/\">Trang chủ</a></p>"
                "</body></html>")
        return Page(body.encode("utf-8"), status=404, modified=self.newest)

    def ground_truth(self) -> list[Expected]:
        """Every article as a perfect crawl stores it, newest first."""
        return [
            Expected(
                path=self.article_path(article), title=article.title, lead=article.lead,
                paragraphs=tuple(article.paragraphs), published=article.published_iso,
                authors=tuple(article.authors), credit=article.credit,
            )
            for article in self.site.articles
        ]

    def section_slug(self, section: Section) -> str:
        """The section's name as a URL slug (``kinh-te``)."""
        return slugify(section.name)

    def section_by_slug(self, slug: str) -> Section | None:
        """The section whose slug is ``slug``."""
        return next((s for s in self.site.sections if self.section_slug(s) == slug), None)

    def newest_of(self, articles: list[ArticleSpec]) -> datetime:
        """The last modification among ``articles`` (the site's newest when there are none)."""
        return max((article.modified for article in articles), default=self.newest)

    def placed_images(self, article: ArticleSpec) -> dict[int, list[tuple[ImageSpec, bool]]]:
        """The article's images by the paragraph index they precede, with "caption repeated"."""
        placed: dict[int, list[tuple[ImageSpec, bool]]] = {}
        for image, position, repeated in zip(article.images, article.layout.image_positions,
                                             article.layout.repeated_captions, strict=True):
            placed.setdefault(position, []).append((image, repeated))
        return placed


def token(*parts: object) -> str:
    """A short stable hex token (session ids, poll ids), the same on every render."""
    return hashlib.sha1("/".join(map(str, parts)).encode("utf-8")).hexdigest()[:16]


def text(value: str) -> str:
    """Escape for an element body."""
    return pages.text(value)


def attr(value: str) -> str:
    """Escape for a double-quoted attribute."""
    return pages.attr(value)
