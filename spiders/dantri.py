"""Dân trí (dantri.com.vn), national news.

Articles live at ``/<section>/<slug>-<yyyymmddhhmmss + 3 digits>.htm``. The layout's classes are
utility classes (``dt-text-lg``…) that change with every restyle, so the selectors use the
``data-slot`` names of the article template (``title``, ``sapo``, ``content``). Section listings
page as ``/kinh-doanh/trang-2.htm``.
"""

from __future__ import annotations

from crawler.parsing.profile import SiteProfile
from spiders.base import PortalSpider

PROFILE = SiteProfile(
    site_id="dantri",
    name="Dân trí",
    domains=("dantri.com.vn",),
    base_url="https://dantri.com.vn/",
    # Discovery: feeds and sections linked from the saved pages; no sitemap is linked there.
    feed_urls=("/rss/kinh-doanh.rss",),
    listing_urls=("/thoi-su.htm", "/the-gioi.htm", "/kinh-doanh.htm", "/phap-luat.htm"),
    article_url_pattern=r"^/[a-z0-9-]+/[a-z0-9-]+-\d{17}\.htm$",
    article_date_pattern=r"-(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})\d{9}\.htm$",
    listing_url_pattern=r"^/[a-z-]+(/[a-z-]+)?(/trang-\d+)?\.htm$",
    listing_article_links=("h3.article-title a",),
    listing_next_page=(".pagination a.next",),
    title=("article[data-slot=container] h1[data-slot=title]",),
    lead=("h2[data-slot=sapo]",),
    body=("div[data-slot=content]",),
    section=("a[data-content-name=article-breadcrumb]",),
    byline=("article[data-slot=container] a[href*='/tac-gia/']",),
    image_blocks=("figure",),
    image_caption=("figcaption",),
    remove=("[data-slot=related]", ".article-related", "script"),
)


class DanTriSpider(PortalSpider):
    """Crawl dantri.com.vn."""

    name = "dantri"
    profile = PROFILE
