"""Where an unknown portal lists its articles, and where its links lead nowhere (no Scrapy here).

* `robots_sitemaps`: the ``Sitemap:`` lines of robots.txt.
* `feed_links`: the feeds a page names (``<link rel=alternate>`` of RSS/Atom type).
* `page_links`: every link of a page with its text and whether it sits in a menu.
* `next_pages`: the continuation of a listing: ``rel=next``, a "next"/"Trang sau"/"Tiếp" link,
  the link to page N+1 by URL (``?page=``, ``&Page=``, ``/page/N/``, ``/trang-N``), and the
  endpoint a "Xem thêm" (load more) button names in a ``data-*`` attribute.
* `trap_reason`: links a crawler must not follow: calendars (date parameters, date-only archive
  paths), search pages and search × tag/sort facet combinations.

``COMMON_FEED_PATHS`` and ``COMMON_SITEMAP_PATHS`` are tried only when a site names none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

COMMON_SITEMAP_PATHS = ("/sitemap.xml",)
COMMON_FEED_PATHS = ("/rss", "/feed/")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")
# Files that are never pages.
NOT_PAGES = re.compile(
    r"\.(?:jpe?g|png|gif|webp|svg|ico|bmp|pdf|docx?|xlsx?|pptx?|zip|rar|7z|gz|mp[34]|avi|mov|"
    r"wmv|flv|swf|css|js|xml|rss|json|txt)$", re.IGNORECASE)
NEXT_TEXTS = frozenset({
    "next", "next page", "trang sau", "trang tiếp", "tiếp", "tiếp theo", "sau", "»", "›", ">",
    ">>", "tiếp »", "trang sau »", "xem tiếp", "older posts", "bài cũ hơn",
})
LOAD_MORE_TEXTS = ("xem thêm", "tải thêm", "load more", "xem tiếp")
LOAD_MORE_ATTRIBUTES = ("data-url", "data-href", "data-next", "data-next-url", "data-src",
                        "data-api", "data-link")
_PAGE_IN_URL = re.compile(
    r"(?P<pre>[?&](?:page|p|pg|trang|pageindex|paged|pagenumber)=)(?P<n>\d+)"
    r"|(?P<pre2>/(?:page|trang|p)[/-])(?P<n2>\d+)(?=/|$|\.)"
    r"|(?P<pre3>/trang-)(?P<n3>\d+)", re.IGNORECASE)

CALENDAR_PARAMS = frozenset({"date", "ngay", "day", "month", "thang", "year", "nam", "d", "m",
                             "y", "time", "calendar", "lich"})
SEARCH_PARAMS = frozenset({"q", "s", "keyword", "keywords", "key", "tukhoa", "tu-khoa", "search",
                           "query", "k", "searchword", "txtsearch"})
FACET_PARAMS = frozenset({"tag", "tags", "sort", "order", "orderby", "filter", "type", "view",
                          "from", "to", "author", "format"})
SEARCH_PATHS = re.compile(r"/(?:tim-?kiem|search|tag-search|ket-qua-tim-kiem)(?:[/.?]|$)",
                          re.IGNORECASE)
_DATE_VALUE = re.compile(r"^(?:\d{4}[-/.]\d{1,2}(?:[-/.]\d{1,2})?|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|"
                         r"\d{8})$")
_DATE_ONLY_PATH = re.compile(r"^(?:/[a-z-]+)*/(?:19|20)\d{2}/\d{1,2}(?:/\d{1,2})?/?$", re.I)


@dataclass(frozen=True)
class Link:
    """A link of a page: absolute URL, its text, and whether it sits in a menu."""

    url: str
    text: str
    in_menu: bool


def robots_sitemaps(text: str, base_url: str) -> list[str]:
    """The sitemap URLs a robots.txt names."""
    found = []
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "sitemap" and value.strip():
            url = urljoin(base_url, value.strip())
            if url not in found:
                found.append(url)
    return found


def feed_links(tree: LexborHTMLParser, page_url: str) -> list[str]:
    """The RSS/Atom feeds the page names in ``<link rel=alternate>``."""
    found = []
    for link in tree.css("link[rel=alternate][href]"):
        kind = (link.attributes.get("type") or "").lower()
        if kind in FEED_TYPES:
            url = urljoin(page_url, link.attributes["href"].strip())
            if url not in found:
                found.append(url)
    return found


def _inside_menu(node) -> bool:
    parent = node.parent
    while parent is not None and parent.tag not in ("body", "html"):
        if parent.tag == "nav":
            return True
        attrs = parent.attributes
        marks = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
        if re.search(r"menu|nav", marks, re.IGNORECASE):
            return True
        parent = parent.parent
    return False


def page_links(tree: LexborHTMLParser, page_url: str) -> list[Link]:
    """Every ``<a href>`` of the page, absolute, in document order (scripts and mail left out)."""
    links = []
    for anchor in tree.css("a[href]"):
        href = (anchor.attributes.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        text = " ".join((anchor.text(deep=True, separator=" ") or "").split())
        links.append(Link(urljoin(page_url, href), text, _inside_menu(anchor)))
    return links


def page_number(url: str) -> int | None:
    """The page number a listing URL carries (``?page=3``, ``/page/3/``, ``/trang-3``), if any."""
    match = _PAGE_IN_URL.search(url)
    if not match:
        return None
    return int(match["n"] or match["n2"] or match["n3"])


def _with_page(url: str, number: int) -> str | None:
    match = _PAGE_IN_URL.search(url)
    if not match:
        return None
    prefix = match["pre"] or match["pre2"] or match["pre3"]
    return url[:match.start()] + prefix + str(number) + url[match.end():]


def next_pages(tree: LexborHTMLParser, page_url: str, links: list[Link]) -> list[str]:
    """URLs continuing this listing (see the module docstring), best first."""
    found: list[str] = []

    def add(url: str | None) -> None:
        if url and url != page_url and url not in found:
            found.append(url)

    for node in tree.css("link[rel=next][href], a[rel=next][href]"):
        add(urljoin(page_url, node.attributes["href"].strip()))
    for link in links:
        if link.text.lower() in NEXT_TEXTS:
            add(link.url)
    for node in tree.css("a[href][class*=next]"):
        add(urljoin(page_url, node.attributes["href"].strip()))
    current = page_number(page_url)
    wanted = (current or 1) + 1
    for link in links:
        number = page_number(link.url)
        if number == wanted and (current is not None or _same_listing(link.url, page_url)):
            add(link.url)
    for node in tree.css("*"):
        attrs = node.attributes
        if not any(attrs.get(name) for name in LOAD_MORE_ATTRIBUTES):
            continue
        text = " ".join((node.text(deep=True, separator=" ") or "").split()).lower()
        marks = f"{attrs.get('class') or ''} {attrs.get('id') or ''}".lower()
        if any(word in text for word in LOAD_MORE_TEXTS) or re.search(r"more|xem-?them", marks):
            for name in LOAD_MORE_ATTRIBUTES:
                if value := (attrs.get(name) or "").strip():
                    add(urljoin(page_url, value))
                    break
    return found


def _same_listing(candidate: str, page_url: str) -> bool:
    """Whether ``candidate`` is a numbered page of the listing at ``page_url`` (page 1)."""
    first = _with_page(candidate, 1)
    if first is None:
        return False
    a, b = urlsplit(first), urlsplit(page_url)
    base_a = a.path.rstrip("/").removesuffix("/page/1").removesuffix("/trang-1")
    base_b = b.path.rstrip("/")
    query_a = {k: v for k, v in parse_qsl(a.query) if k.lower() not in ("page", "p", "pg", "trang",
                                                                       "pageindex", "paged")}
    query_b = {k: v for k, v in parse_qsl(b.query) if k.lower() not in ("page", "p", "pg", "trang",
                                                                       "pageindex", "paged")}
    return base_a == base_b and query_a == query_b


def trap_reason(url: str) -> str | None:
    """``calendar``, ``search`` or ``facets`` for a URL a crawler must not follow, else None."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    names = {name.lower() for name, _ in params}
    for name, value in params:
        if name.lower() in CALENDAR_PARAMS and _DATE_VALUE.match(value.strip()):
            return "calendar"
    if _DATE_ONLY_PATH.match(parts.path):
        return "calendar"
    if re.search(r"/(?:calendar|lich|lichtin)[^/]*\.(?:asp|aspx|php)$", parts.path, re.I) or (
            "calendar" in parts.path.lower() and params):
        return "calendar"
    if names & SEARCH_PARAMS and names & FACET_PARAMS:
        return "facets"
    if names & SEARCH_PARAMS or SEARCH_PATHS.search(parts.path):
        return "search"
    if len(names & FACET_PARAMS) >= 2:
        return "facets"
    return None
