"""VnExpress (vnexpress.net), national news.

Articles live at ``/<slug>-<7 digit id>.html``; the date line reads ``Thứ bảy, 7/3/2026, 00:05
(GMT+7)``; the byline is the last, right-aligned paragraph of ``article.fck_detail``; section
listings page as ``/kinh-doanh-p2``.
"""

from __future__ import annotations

from crawler.parsing.profile import SiteProfile
from spiders.base import PortalSpider

PROFILE = SiteProfile(
    site_id="vnexpress",
    name="VnExpress",
    domains=("vnexpress.net",),
    base_url="https://vnexpress.net/",
    # Discovery: sections linked from the saved pages (which link no feed or sitemap).
    listing_urls=("/thoi-su", "/the-gioi", "/kinh-doanh", "/phap-luat", "/giao-duc"),
    article_url_pattern=r"^/[a-z0-9-]+-\d{6,}\.html$",
    listing_url_pattern=r"^/[a-z-]+(/[a-z-]+)?(-p\d+)?$",
    listing_article_links=(".item-news .title-news a",),
    listing_next_page=(".button-page a.next-page",),
    title=("h1.title-detail",),
    lead=("p.description",),
    body=("article.fck_detail",),
    section=("ul.breadcrumb li a",),
    tags=(".tags h4 a", ".tags a"),
    image_blocks=("figure", "table.tplCaption"),
    image_caption=("figcaption", "p.Image"),
    remove=(".box-tinlienquanv2", ".box_embed_video", ".width_common.box-tinlienquan", "script"),
)


class VnExpressSpider(PortalSpider):
    """Crawl vnexpress.net."""

    name = "vnexpress"
    profile = PROFILE
