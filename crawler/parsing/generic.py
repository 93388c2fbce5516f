"""Generic extraction for pages no site profile covers, and for fields a profile misses.

Selectors are ordered data, compiled once. The body finder scores every element by the text of
its direct paragraph children, the long-standing readability heuristic, after removing the page
furniture listed in ``REMOVE``.
"""

from __future__ import annotations

from lxml import etree

from crawler.parsing.document import element_text
from crawler.parsing.profile import compile_css

TITLES = compile_css(("article h1", "h1[itemprop=headline]", ".title-detail", "h1"))
DATES = compile_css((
    "[itemprop=datePublished]", "time[datetime]", ".date", ".time", ".publish-date",
))
BODIES = compile_css((
    "[itemprop=articleBody]", "article .content", ".article-body", ".article__body",
    ".detail-content", ".fck_detail", ".content-detail", "article",
))
IMAGE_BLOCKS = compile_css(("figure", "table.image", "table.tplCaption", ".image"))
IMAGE_CAPTIONS = compile_css(("figcaption", ".image-caption", ".caption", "td.caption", "p.Image"))
REMOVE = compile_css((
    "nav", "aside", ".share", ".share-bar", ".social", ".related", ".related-news", ".tags",
    ".ads", ".advertisement", ".comment", ".comments", ".breadcrumb",
))

_PARAGRAPH_PARENTS = etree.XPath("//p/..")
_MIN_BODY_CHARS = 200


def find_body(tree: etree._Element) -> etree._Element | None:
    """Return the element most likely to hold the article text, or None."""
    for xpath in BODIES:
        found = xpath(tree)
        for element in found:
            if len(element_text(element).strip()) >= _MIN_BODY_CHARS:
                return element
    best, best_score = None, 0
    for parent in _PARAGRAPH_PARENTS(tree):
        score = sum(len(element_text(p).strip()) for p in parent if p.tag == "p")
        if score > best_score:
            best, best_score = parent, score
    return best if best_score >= _MIN_BODY_CHARS else None
