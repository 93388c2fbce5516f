"""Generic extraction for pages no site profile covers, and for fields a profile misses.

The article text comes from trafilatura (`main_text_blocks`), the field's reference extractor,
in the configuration that scores best per CPU second on the article-extraction benchmark
(``docs/extraction.md``); our own cleaning rules run on its output afterwards. `find_body` is the
small readability-like heuristic kept for the images and captions of the page and as the last
resort when trafilatura finds nothing: it scores every element by the text of its direct
paragraph children after removing the page furniture listed in ``REMOVE``.

Selectors are ordered data, compiled once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from lxml.etree import XPath
from lxml.html import HtmlElement
from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.parsing import noise
from crawler.parsing.document import element_text
from crawler.parsing.profile import compile_css
from crawler.parsing.text import normalize_space, text_key

# The visible sapo (standfirst) of Vietnamese news CMSs, most specific first: dantri.com.vn
# (data-slot), tuoitre.vn / nld.com.vn / baochinhphu.vn (detail-sapo), baodautu.vn (sapo_detail),
# cafef.vn (h2.sapo), vietnamnet.vn (content-detail-sapo), vnexpress.net (p.description).
LEADS = compile_css((
    "[data-slot=sapo]", ".detail-sapo", ".sapo_detail", ".content-detail-sapo", "h2.sapo",
    "p.sapo", "div.sapo", "p.description",
))
TITLES = compile_css(("article h1", "h1[itemprop=headline]", ".title-detail", "h1"))
DATES = compile_css((
    "[itemprop=datePublished]", "time[datetime]", ".date", ".time", ".publish-date",
))
# Visible date lines of unknown layouts, tried only when the page's metadata has no date. Class
# names vary by CMS ("post-time" on baodautu.vn, "date-time", "detail-time"), so they are matched
# by substring; only lines that read as a date with a time of day count (see `article._dates`),
# which keeps the date-only "today is …" line of a page header out.
class _DateClassed:
    """Elements whose class holds "time" or "date", outside navigation, headers and footers."""

    _OUTSIDE = frozenset({"nav", "header", "footer"})

    def __call__(self, scope: LexborHTMLParser | LexborNode) -> list[LexborNode]:
        return [
            element for element in scope.css("[class*=time], [class*=date]")
            if not self._inside_furniture(element)
        ]

    def _inside_furniture(self, element: LexborNode) -> bool:
        parent = element.parent
        while parent is not None:
            if parent.tag in self._OUTSIDE:
                return True
            parent = parent.parent
        return False


VISIBLE_DATES = DATES + (_DateClassed(),)
# How many elements of each date selector to read before giving up on it.
MAX_DATE_ELEMENTS = 5
# dantri.com.vn marks its body <div data-slot="content">.
BODIES = compile_css((
    "[itemprop=articleBody]", "[data-slot=content]", "article .content", ".article-body",
    ".article__body", ".detail-content", ".fck_detail", ".content-detail", "article",
))


class _PictureTables:
    """Small tables holding one picture and its caption row.

    Many Vietnamese CMSs write image blocks so (baodautu.vn: ``<table class="MASTERCMS_TPL_TABLE">``
    … ``<td class="media-caption">``).
    """

    def __call__(self, scope: LexborHTMLParser | LexborNode) -> list[LexborNode]:
        return [
            table for table in scope.css("table")
            if len(table.css("img")) == 1 and len(table.css("tr")) <= 3
        ]


IMAGE_BLOCKS = compile_css(("figure", "table.image", "table.tplCaption", ".image")) + (
    _PictureTables(),
)
IMAGE_CAPTIONS = compile_css((
    "figcaption", ".image-caption", ".caption", "td.caption", "p.Image", ".media-caption",
    "[class*=caption]", "[class*=chuthich]", "[class*=chu-thich]",
))
# One selector for all of them: a single walk of the page, the first in document order wins.
_AUTHOR_ELEMENTS = ", ".join(noise.AUTHOR_ELEMENTS)
REMOVE = compile_css((
    "nav", "aside", ".share", ".share-bar", ".social", ".related", ".related-news", ".tags",
    ".ads", ".advertisement", ".comment", ".comments", ".breadcrumb",
))

# The parents of paragraphs, in document order.
_PARAGRAPH_PARENTS = ":has(> p)"
MIN_BODY_CHARS = 200
# Less text than this from the extractor is a label ("Trang chủ"), not even a short post.
MIN_TEXT_CHARS = 40

logger = logging.getLogger(__name__)

# trafilatura's options: `fast` skips its readability/jusText fallbacks, which cost a third of
# its time for a lower F1 on the benchmark; comments are never article text.
TRAFILATURA_OPTIONS = {
    "fast": True,
    "include_comments": False,
    "include_tables": True,
    "include_images": False,
    "with_metadata": False,
}


def _class_token(name: str) -> str:
    if not name.strip():
        raise ValueError("empty class name in a prune rule")
    return f"contains(concat(' ', normalize-space(.), ' '), ' {name} ')"


def _class_words(*names: str) -> str:
    """An XPath test that a ``class`` attribute node holds one of ``names`` as a token.

    The cheap substring test comes first: the token test runs on the few attributes it keeps.
    """
    substring = " or ".join(f"contains(., '{name}')" for name in names)
    return f"[{substring}][{' or '.join(map(_class_token, names))}]"


# Page furniture removed before trafilatura reads the page. Footers by class or id, because
# trafilatura only knows the <footer> tag: baochinhphu.vn's footer is a <div class="footer">
# whose "Tải ứng dụng: BÁO ĐIỆN TỬ CHÍNH PHỦ" otherwise opens the body. "source" is the
# "Theo <paper>" line under a cafef.vn article, a credit and not text. The rules test the
# ``class`` and ``id`` attribute nodes and step to their element: libxml2 reads an attribute
# node's value for a third of what testing ``@class`` on every element of the page costs.
PRUNE_XPATHS = [
    "(//@class[contains(., 'footer')] | //@id[contains(., 'footer')])"
    "/parent::*[not(self::html or self::body)]",
    "//@class" + _class_words("source", "related", "related-news", "share", "social",
                              "breadcrumb") + "/parent::*",
]
# Each rule spares an element that holds half the page's text or more (``$page_chars``).
_PRUNE = [XPath(xpath + "[string-length(.) * 2 < $page_chars]") for xpath in PRUNE_XPATHS]
_BODY_CHARS = XPath("string-length(//body)")


def prune(tree: HtmlElement, page_chars: int | None) -> None:
    """Remove what `PRUNE_XPATHS` select from ``tree``, sparing elements with half the text.

    WordPress themes name the container of the whole article "entry themeform share": no rule
    may remove most of a page. ``page_chars`` is the length of the page's text (None: measured
    on ``tree``). The rules run in order, each on the tree the one before left; an element's
    text after it stays in the tree (lxml's ``drop_tree``), as trafilatura's own pruning does.
    """
    limit = page_chars or _BODY_CHARS(tree)
    for rule in _PRUNE:
        for element in rule(tree, page_chars=limit):
            element.drop_tree()
# trafilatura's fast pass skips its fallbacks (readability, jusText), and on some layouts keeps
# a sliver of a long article (15,337 characters read as 797) or reads a menu instead of a
# short article. When it keeps less than `FULL_PASS_BELOW_CHARS` of a page that holds
# `FULL_PASS_PAGE_RATIO` times as much text, or text that is mostly not prose (under
# `FULL_PASS_MIN_PROSE_SHARE` of it in lines of `PROSE_LINE_CHARS` or more), the full
# extraction may gain; it runs when the page holds `FULL_PASS_MIN_GAIN` times the prose the
# fast pass kept (else it cannot gain that much), and its text is taken when it holds
# `FULL_PASS_MIN_GAIN` times the prose, unless it is `FULL_PASS_MAX_SHARE` of the page's text
# (a dump of the page).
FULL_PASS_BELOW_CHARS = 1000
FULL_PASS_PAGE_RATIO = 10
FULL_PASS_MIN_PROSE_SHARE = 0.5
PROSE_LINE_CHARS = 80
FULL_PASS_MIN_GAIN = 1.5
FULL_PASS_MAX_SHARE = 2 / 3
# Links whose text is at least this many words are headlines of other articles: a block that is
# nothing but one of them is a "related articles" entry that the extractor kept.
LINK_HEADLINE_MIN_WORDS = 5
# trafilatura's text output writes a list item as "- item".
_LIST_MARKER_RE = re.compile(r"^\s*-\s+")
# ... and a table row as "| cell | cell | " (trailing space included).
_TABLE_ROW_RE = re.compile(r"^\|\s*(.*?)\s*\|\s*$")


def main_text_blocks(
    html: str, url: str, page_chars: int | None = None,
    page_prose: Callable[[], int] | None = None,
) -> list[str]:
    """Return the article's text blocks (paragraphs, headings, list items), read by trafilatura.

    ``html`` is the decoded page (our decoding, so every path reads the same characters),
    parsed once with trafilatura's own loader and pruned (`prune`); both of trafilatura's passes
    read that tree. The fast pass runs first; the full extraction when the fast pass keeps
    little text or little prose (`FULL_PASS_BELOW_CHARS`) and the page holds enough prose for
    it to gain (``page_prose``: the characters of the page's prose lines, asked only then). A
    short post is kept whole. An empty list means trafilatura found no article text, or less
    than `MIN_TEXT_CHARS`. ``page_chars`` is the length of the page's visible text, when known:
    prune rules spare an element holding half of it, and a full pass that keeps
    `FULL_PASS_MAX_SHARE` of it or more dumped the page rather than read an article.
    """
    tree = _lxml_tree(html, url)
    if tree is None:
        return []
    prune(tree, page_chars)
    text = _trafilatura_text(tree, url, fast=True)
    prose = _prose_chars(text)
    short = len(text) < FULL_PASS_BELOW_CHARS and not (
        page_chars and page_chars < FULL_PASS_PAGE_RATIO * len(text)
    )
    if (short or prose < FULL_PASS_MIN_PROSE_SHARE * len(text)) and (
        page_prose is None or _may_gain(prose, page_prose())
    ):
        full = _trafilatura_text(tree, url, fast=False)
        full_prose = _prose_chars(full)
        if full_prose > prose and full_prose >= FULL_PASS_MIN_GAIN * prose and not (
            page_chars and len(full) >= FULL_PASS_MAX_SHARE * page_chars
        ):
            text = full
    if len(text) < MIN_TEXT_CHARS:
        return []
    return [_table_row_text(line) for line in text.split("\n")]


def _may_gain(prose: int, page_prose: int) -> bool:
    """Whether a page with ``page_prose`` characters of prose can give the full pass its gain."""
    return page_prose > prose and page_prose >= FULL_PASS_MIN_GAIN * prose


def _prose_chars(text: str) -> int:
    """Characters of ``text`` in lines long enough to be sentences (not menus or labels)."""
    return sum(len(line) for line in text.split("\n") if len(line) >= PROSE_LINE_CHARS)


def prose_chars(blocks: Iterable[str]) -> int:
    """`_prose_chars` of a page's blocks (`document.block_texts`), whitespace runs made one."""
    return sum(
        len(line) for line in (" ".join(block.split()) for block in blocks)
        if len(line) >= PROSE_LINE_CHARS
    )


def _lxml_tree(html: str, url: str) -> HtmlElement | None:
    """The page as trafilatura parses it (None when it cannot)."""
    try:
        # Imported here, not at the top: trafilatura and what it loads (courlan, htmldate, …)
        # cost every `scrapy` command ~0.2 s of CPU at start-up, and a profiled site's crawl
        # rarely needs it (measured: bench/bench_crawl_cpu.py, docs/scale.md).
        import trafilatura

        return trafilatura.load_html(html)
    except Exception as error:  # a library failure must fall back to find_body, not crash
        logger.warning("trafilatura failed on %s: %s", url, error)
        return None


def _trafilatura_text(tree: HtmlElement, url: str, *, fast: bool) -> str:
    """trafilatura's text of the page ("" when it finds none or fails); ``tree`` is left as is."""
    try:
        import trafilatura  # see _lxml_tree

        text = trafilatura.extract(tree, url=url, **{**TRAFILATURA_OPTIONS, "fast": fast})
    except Exception as error:  # a library failure must fall back to find_body, not crash
        logger.warning("trafilatura failed on %s: %s", url, error)
        return ""
    return text or ""


def _table_row_text(line: str) -> str:
    """A table row of trafilatura's text ("| a | b |") as plain text ("a | b")."""
    match = _TABLE_ROW_RE.match(line)
    return match.group(1) if match else line


def find_body(tree: LexborHTMLParser) -> LexborNode | None:
    """Return the element most likely to hold the article text, or None."""
    for selector in BODIES:
        for element in selector(tree):
            if len(element_text(element).strip()) >= MIN_BODY_CHARS:
                return element
    best, best_score = None, 0
    for parent in tree.css(_PARAGRAPH_PARENTS):
        score = sum(len(element_text(p).strip()) for p in parent.iter() if p.tag == "p")
        if score > best_score:
            best, best_score = parent, score
    return best if best_score >= MIN_BODY_CHARS else None


def _own_prefixes(url: str | None) -> tuple[str, ...]:
    """The absolute-URL prefixes of the page's own site (with and without ``www.``)."""
    host = (urlsplit(url).hostname or "") if url else ""
    if not host:
        return ()
    bare = host.removeprefix("www.")
    return tuple(
        f"{scheme}://{name}" for scheme in ("http", "https") for name in (bare, "www." + bare)
    )


def link_headlines(tree: LexborHTMLParser, url: str | None = None) -> set[str]:
    """The `text_key` of every link on the page long enough to be another article's headline.

    Links within the page (``href="#…"``, a table of contents) point at this article's own
    headings, and links to other sites (``url``'s host differs) are not the site's articles:
    their text stays.
    """
    own = _own_prefixes(url)
    headlines = set()
    for link in tree.css("a"):
        # Most links are menu entries of a word or two: their text rules them out before their
        # attributes are read.
        text = element_text(link)
        if len(text.split()) < LINK_HEADLINE_MIN_WORDS:
            continue
        href = link.attributes.get("href") or ""
        if href.startswith("#"):
            continue
        if own and href.startswith(("http://", "https://")) and not href.startswith(own):
            continue
        headlines.add(text_key(text))
    return headlines


def drop_link_headlines(blocks: list[str], headlines: set[str]) -> list[str]:
    """Remove blocks (list items included, "- " marker and all) that are only a link's text."""
    return [
        block for block in blocks
        if text_key(_LIST_MARKER_RE.sub("", block)) not in headlines
    ]


# A link headline followed only by its date, as other-news lists print it: "- Title (15/01/2024)".
_TRAILING_DATE_RE = re.compile(r"[\s\-–(]*\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}\)?[\s.]*$")
# Layout tables: opening and closing tags of tables, rows and cells.
_TABLE_TAG_RE = re.compile(r"<(/?)(?:table|tbody|thead|tfoot|tr|td|th)(?=[\s>/])", re.IGNORECASE)
# A page whose paragraphs sit in table cells for more than this share of their text is laid out
# with tables.
LAYOUT_TABLE_SHARE = 0.5


def without_link_headlines(blocks: list[str], headlines: set[str]) -> list[str]:
    """`drop_link_headlines`, also for a headline followed only by its date."""
    kept = []
    for block in blocks:
        line = _LIST_MARKER_RE.sub("", block)
        if text_key(line) in headlines:
            continue
        dateless = _TRAILING_DATE_RE.sub("", line)
        if dateless != line and text_key(dateless) in headlines:
            continue
        kept.append(block)
    return kept


def cut_trailer(blocks: list[str]) -> list[str]:
    """The blocks before the first trailer heading (`noise.TRAILER_HEADINGS`) in the second half.

    Portals end an article with boxes of other articles, reader comments and polls; their
    teasers are text like the article's. A heading in the first half (an inline "Tin liên
    quan" box) is left to the line rules.
    """
    total = sum(len(block) for block in blocks)
    seen = 0
    for index, block in enumerate(blocks):
        if seen * 2 >= total and text_key(_LIST_MARKER_RE.sub("", block)) in (
            noise.TRAILER_HEADINGS
        ):
            return blocks[:index]
        seen += len(block)
    return blocks


def layout_tables_as_blocks(html: str, tree: LexborHTMLParser) -> str:
    """The page with its tables made plain blocks, when tables lay out its paragraphs.

    Legacy provincial CMSs put the whole article in a table cell; an extractor reads a table as
    data and joins the cell's paragraphs into one row. Only a page whose paragraphs sit in
    table cells for most of their text is changed.
    """
    in_cells = sum(len(element_text(p)) for p in tree.css("td p"))
    if not in_cells:
        return html
    total = sum(len(element_text(p)) for p in tree.css("p"))
    if in_cells < LAYOUT_TABLE_SHARE * total:
        return html
    return _TABLE_TAG_RE.sub(r"<\1div", html)


def author_element_text(tree: LexborHTMLParser) -> str | None:
    """The text of the first author element outside comments and page furniture."""
    from crawler.parsing.pagedates import outside_furniture

    for element in tree.css(_AUTHOR_ELEMENTS):
        text = normalize_space(element_text(element))
        if text and len(text) <= noise.MAX_AUTHOR_ELEMENT_CHARS and outside_furniture(element):
            return text
    return None


def without_site_name(title: str, headline: str | None, site_name: str | None) -> str:
    """The title without the site's name before or after it (``BÁO LÀO CAI - …``).

    The headline (the page's ``<h1>``) inside the title with only a separator and other words
    around it is the title; else a known site name (``og:site_name``) at either end, after or
    before a separator, is cut.
    """
    if headline and len(headline) < len(title):
        start = title.casefold().find(headline.casefold())
        if start != -1:
            before, after = title[:start], title[start + len(headline):]
            if _separated(before, after):
                return title[start:start + len(headline)].strip()
    if site_name:
        for separator in noise.TITLE_SEPARATORS:
            if title.startswith(site_name + separator):
                return title[len(site_name + separator):].strip() or title
            if title.endswith(separator + site_name):
                return title[:-len(separator + site_name)].strip() or title
    return title


def _separated(before: str, after: str) -> bool:
    """Whether the text around a headline in a title is a site name joined by a separator."""
    if not before.strip() and not after.strip():
        return False
    if before.strip() and not (before.rstrip() + " ").endswith(_SEPARATOR_ENDS):
        return False
    return not after.strip() or (" " + after.lstrip()).startswith(_SEPARATOR_STARTS)


_SEPARATOR_ENDS = tuple(sep.rstrip() + " " for sep in noise.TITLE_SEPARATORS)
_SEPARATOR_STARTS = tuple(" " + sep.lstrip() for sep in noise.TITLE_SEPARATORS)
