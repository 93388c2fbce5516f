"""VietNamNet (vietnamnet.vn), national news.

Articles live at ``/<slug>-<7 digit id>.html``; the date line reads ``07/03/2026 08:52
(GMT+07:00)`` and the metadata writes ``2026-03-07T08:52:11.000 +07:00`` (a space before the
offset); the author is ``.article-detail-author__main``. Section listings page as
``/kinh-doanh-page1`` (page numbers start at 0).
"""

from __future__ import annotations

from crawler.parsing.profile import SiteProfile
from spiders.base import PortalSpider

PROFILE = SiteProfile(
    site_id="vietnamnet",
    name="VietNamNet",
    domains=("vietnamnet.vn",),
    base_url="https://vietnamnet.vn/",
    # Discovery: feeds and sections linked from the saved pages; no sitemap is linked there.
    feed_urls=("/kinh-doanh.rss", "/kinh-doanh/tai-chinh.rss"),
    listing_urls=("/thoi-su", "/kinh-doanh", "/the-gioi", "/giao-duc"),
    article_url_pattern=r"^/[a-z0-9-]+-\d{6,}\.html$",
    listing_url_pattern=r"^/[a-z-]+(-page\d+)?$",
    listing_article_links=(".horizontalPost__main-title a, .verticalPost__main-title a",),
    listing_next_page=(".pagination__list-item.pagination-next a",),
    title=("h1.content-detail-title",),
    lead=("h2.content-detail-sapo",),
    body=("div#maincontent",),
    section=(".bread-crumb-detail ul li a",),
    byline=(".article-detail-author__main",),
    image_blocks=("figure",),
    image_caption=("figcaption",),
    remove=(".insert-wiki-content", ".related-news", ".vnn-share-bar", "script"),
)


class VietNamNetSpider(PortalSpider):
    """Crawl vietnamnet.vn."""

    name = "vietnamnet"
    profile = PROFILE
