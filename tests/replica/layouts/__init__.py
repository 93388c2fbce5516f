"""Other portal layouts the replica can serve (``python -m tests.replica --layout NAME``).

The default layout (``baonamdinh``) is the one ``pages.py`` renders and ``server.Router`` routes;
it is untouched by this package. Each other layout takes the same generated content
(``content.build_site``: articles, sections, ground truth) and serves it the way one CMS family
of Vietnamese provincial papers does, with its own URLs, discovery routes, traps and noise:

| name | module | modelled on |
| --- | --- | --- |
* ``legacy-asp`` (``legacy_asp.py``): old table-based ASP/PHP portals: ``?NewsID=`` URLs,
  windows-1258 and mislabelled charsets, no sitemap and no feed, "Các tin khác" lists, polls,
  an endless calendar, session ids in links;
* ``modern-cms`` (``modern_cms.py``): a modern CMS: JSON-LD and OpenGraph, gzip sitemaps, RSS,
  "Xem thêm" AJAX paging, tag × search facets, a tag listing whose paging never ends;
* ``wordpress`` (``wordpress.py``): a WordPress news theme: ``/yyyy/mm/dd/slug/``, ``<time
  datetime>``, wp-sitemap, feeds, comment form, share bar, teaser lists, tag cloud, calendar.

A layout renders a target (path with its query string) on one origin into a `Page`, or None
(404). `Layout.ground_truth()` gives what a perfect crawl stores: one `Expected` per article, at
the path this layout serves it under; `Layout.not_article_paths()` names pages that must never be
stored as articles (listings, tags, search, static pages).
"""

from __future__ import annotations

from tests.replica.content import Site
from tests.replica.layouts.common import Expected, Layout, Page
from tests.replica.layouts.legacy_asp import LegacyAspLayout
from tests.replica.layouts.modern_cms import ModernCmsLayout
from tests.replica.layouts.wordpress import WordPressLayout

DEFAULT_LAYOUT = "baonamdinh"
LAYOUTS: dict[str, type[Layout]] = {
    "legacy-asp": LegacyAspLayout,
    "modern-cms": ModernCmsLayout,
    "wordpress": WordPressLayout,
}
LAYOUT_NAMES = (DEFAULT_LAYOUT, *LAYOUTS)


def make_layout(name: str, site: Site) -> Layout | None:
    """The layout called ``name`` serving ``site``; None for the default layout."""
    if name == DEFAULT_LAYOUT:
        return None
    try:
        return LAYOUTS[name](site)
    except KeyError:
        choices = ", ".join(LAYOUT_NAMES)
        raise ValueError(f"unknown layout {name!r}; choose from {choices}") from None


__all__ = ["DEFAULT_LAYOUT", "LAYOUTS", "LAYOUT_NAMES", "Expected", "Layout", "Page", "make_layout"]
